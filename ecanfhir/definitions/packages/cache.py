"""Write the user FHIR package cache safely: a lock per package, atomic placement, safe unpacking.

The cache (``~/.fhir/packages`` or ``$FHIR_PACKAGE_CACHE``) is shared by the HL7 validator,
Firely Terminal, SUSHI and ecanfhir, laid out as ``<cache>/<id>#<version>/package/...``.
Writing it follows the HL7 validator's protocol (``FilesystemPackageCacheManagerLocks``): the
writer of ``<id>#<version>`` holds an OS record lock on ``<cache>/<id>#<version>.lock`` and
deletes that file before releasing the lock, so a reader that finds the file locked waits.

What a run killed half-way leaves behind never looks like a package:

* a package is unpacked into a hidden folder of the cache (``.ecanfhir-install-*``, which no
  cache reader lists) and moved into place with one :func:`os.replace`;
* a lock file left by a killed run is free (the OS drops record locks with their process), so
  the next run takes it; where there are no record locks, a lock file older than
  :data:`STALE_LOCK_SECONDS` is taken as stale;
* hidden install folders older than a day are removed by the next install.

Archives are untrusted: members with absolute paths, ``..`` or links are refused, devices and
FIFOs skipped, and sizes and member counts bounded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ..._exceptions import PackageError
from .load import _parse_json

__all__ = [
    "LOCK_TIMEOUT_SECONDS",
    "STALE_LOCK_SECONDS",
    "is_installed",
    "package_lock",
    "place",
    "staging_folder",
    "unpack",
]

LOCK_TIMEOUT_SECONDS = 600.0
STALE_LOCK_SECONDS = 600.0
STALE_STAGING_SECONDS = 24 * 3600.0
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 100_000
STAGING_PREFIX = ".ecanfhir-install-"


def is_installed(folder: Path) -> bool:
    """Whether a cache folder ``<id>#<version>`` holds a complete package."""
    return (folder / "package" / "package.json").is_file()


@contextlib.contextmanager
def package_lock(cache: Path, label: str, *,
                 timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[Path]:
    """Hold ``<cache>/<label>.lock`` while writing ``<cache>/<label>``; yield the lock file.

    Raises:
        PackageError: Another process held the lock for ``timeout`` seconds, or the cache
            cannot be written.
    """
    path = cache / f"{label}.lock"
    _make_cache(cache)
    deadline = time.monotonic() + timeout
    while (fd := _try_lock(path)) is None:
        if time.monotonic() >= deadline:
            raise PackageError(
                f"{path}: another install of {label} has held this lock for {timeout:.0f} s; "
                "if no install is running, delete the file")
        time.sleep(0.05)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        # Delete before releasing, as the HL7 validator does: a free lock file means a writer
        # died. (Windows deletes no open file: there the lock is the file, closed first.)
        if sys.platform == "win32":
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        if sys.platform != "win32":
            os.close(fd)


@contextlib.contextmanager
def staging_folder(cache: Path) -> Iterator[Path]:
    """A hidden folder in the cache (same file system, so :func:`place` is one rename),
    removed with whatever is left in it at exit."""
    _make_cache(cache)
    _sweep_stale(cache)
    try:
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=cache))
    except OSError as exc:
        raise PackageError(f"{cache}: cannot write the package cache: "
                           f"{exc.strerror or exc}") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def place(staged: Path, target: Path, *, replace: bool = False) -> bool:
    """Move a staged ``<id>#<version>`` folder into the cache with one rename.

    The caller holds :func:`package_lock`. Returns False when ``target`` already holds a
    complete package and ``replace`` is false (the staged copy is then left to be discarded).
    """
    if target.exists():
        if is_installed(target) and not replace:
            return False
        # An incomplete folder (another tool died writing it) or a reinstall: move it aside
        # first; the rename below is what makes the new package appear whole.
        aside = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target.parent))
        os.replace(target, aside / "old")
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(staged, target)
    except OSError as exc:
        raise PackageError(f"{target}: cannot write the package cache: "
                           f"{exc.strerror or exc}") from exc
    return True


def unpack(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack a package archive into ``into/package/`` and return its ``package.json``.

    The archive's package root (``package/``, the one top folder, or the archive root) becomes
    ``package/``; members outside it are ignored.

    Raises:
        PackageError: The archive is unreadable, unsafe or too large, or has no package.json.
    """
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = _members(tar, archive)
            root = _package_root([name for name, _ in members], archive)
            total = 0
            for name, member in members:
                if not member.isfile() or not name.startswith(root):
                    continue  # folders are made as needed; devices and FIFOs are skipped
                total += member.size
                if member.size > MAX_MEMBER_BYTES or total > MAX_UNPACKED_BYTES:
                    raise PackageError(f"{archive}: refusing {name!r}: the package unpacks to "
                                       f"more than the limit ({MAX_MEMBER_BYTES} bytes a file, "
                                       f"{MAX_UNPACKED_BYTES} in all)")
                _write_member(tar, member, into / "package" / name[len(root):])
        manifest = _parse_json((into / "package" / "package.json").read_bytes(),
                               f"{archive}: package.json")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise PackageError(f"{archive} is not a readable FHIR package archive (.tgz): "
                           f"{exc}") from exc
    except OSError as exc:
        raise PackageError(f"{archive}: cannot unpack: {exc.strerror or exc}") from exc
    if not isinstance(manifest, dict):
        raise PackageError(f"{archive}: package.json is not a JSON object")
    return manifest


# -- locks -----------------------------------------------------------------------------------


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding the lock on ``path``, or None when another process holds it."""
    try:
        if sys.platform == "win32":
            return _try_exclusive_create(path)
        else:
            return _try_record_lock(path)
    except OSError as exc:
        raise PackageError(f"{path}: cannot lock: {exc.strerror or exc}") from exc


if sys.platform != "win32":
    import fcntl

    def _try_record_lock(path: Path) -> int | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # flock excludes other descriptors (threads, ecanfhir processes); lockf is the POSIX
            # record lock the HL7 validator's FileChannel.tryLock takes and tests.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder deletes the file before releasing: locking a deleted file locks nothing.
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except (BlockingIOError, PermissionError, FileNotFoundError):
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return None


def _try_exclusive_create(path: Path, *, stale_after: float = STALE_LOCK_SECONDS) -> int | None:
    """The lock where there are no record locks: whoever creates the file holds it; a file
    older than ``stale_after`` seconds was left by a run that died, and is taken over."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            if time.time() - path.stat().st_mtime > stale_after:
                path.unlink()
        except FileNotFoundError:
            pass
        return None


# -- archives --------------------------------------------------------------------------------


def _members(tar: tarfile.TarFile, archive: Path) -> list[tuple[str, tarfile.TarInfo]]:
    """Every member with its normalised name; an unsafe path or any link refuses the archive."""
    members: list[tuple[str, tarfile.TarInfo]] = []
    for member in tar:
        if len(members) >= MAX_MEMBERS:
            raise PackageError(f"{archive}: more than {MAX_MEMBERS} members, refused")
        name = member.name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        parts = PurePosixPath(name).parts
        if (name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts
                or "\x00" in name):
            raise PackageError(f"{archive}: refusing archive member with unsafe path {name!r}")
        if member.issym() or member.islnk():
            raise PackageError(f"{archive}: refusing link {name!r} -> {member.linkname!r} "
                               "(a FHIR package holds plain files)")
        if parts:
            members.append(("/".join(parts) + ("/" if member.isdir() else ""), member))
    return members


def _package_root(names: list[str], archive: Path) -> str:
    """``package/`` as the spec writes it; else the one top folder holding package.json
    (some npm tarballs name it after the package); else the archive root."""
    files = set(names)
    if "package/package.json" in files:
        return "package/"
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1 and f"{next(iter(tops))}/package.json" in files:
        return f"{next(iter(tops))}/"
    if "package.json" in files:
        return ""
    raise PackageError(f"{archive} is not a FHIR package: the archive has no package/package.json")


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    if source is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)


# -- the cache folder ------------------------------------------------------------------------


def _make_cache(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackageError(f"{cache}: cannot create the package cache: "
                           f"{exc.strerror or exc}") from exc


def _sweep_stale(cache: Path) -> None:
    """Remove hidden install folders that runs killed more than a day ago left behind."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in cache.iterdir():
            if not entry.name.startswith(STAGING_PREFIX):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STALE_STAGING_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)
