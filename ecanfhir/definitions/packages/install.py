"""Install FHIR packages into the user package cache, with their dependencies, as FHIR users do.

The HL7 validator, Firely Terminal and SUSHI fill ``~/.fhir/packages`` (or
``$FHIR_PACKAGE_CACHE``) from the FHIR package registries; ``ecanfhir package install`` does
the same, so that ``ecanfhir validate --ig id#version`` (which never downloads) finds them.
The registry protocol is :mod:`ecanfhir.definitions.packages.npm`; writing the cache (locks, atomic
placement, safe unpacking) is :mod:`ecanfhir.definitions.packages.cache`.

Each wanted package, the one asked for and then its ``dependencies`` transitively:

==========================================  =================================================
wanted                                      done
==========================================  =================================================
core R4 (``hl7.fhir.r4.*``)                 skipped: R4 core is embedded in ecanfhir (the
                                            loader skips it too)
the exact version is in the cache           nothing fetched; its dependencies still checked
a dependency whose ``1.0.x`` / ``latest``   that cached version, the one the loader picks
matches a cached version
otherwise                                   resolved on the registries, downloaded, checked
                                            against its digests, unpacked, moved into place
not on the registries, or unreachable       a problem (with the versions they do have);
                                            the other packages still install
==========================================  =================================================
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._frozen import frozen

if TYPE_CHECKING:
    import httpx  # imported where used: `ecanfhir validate` does not need an HTTP client

from ..._exceptions import PackageError
from ..._version import __version__
from .cache import is_installed, package_lock, place, staging_folder, unpack
from .load import (
    _ARCHIVE_SUFFIXES,
    _PACKAGE_ID,
    _dependencies,
    _find_cached,
    _parse_json,
    _read_file,
    _split_spec,
    package_cache_dir,
)
from .npm import (
    RegistryFailure,
    Release,
    configured_registries,
    download,
    find_release,
)

__all__ = ["InstallProblem", "InstalledPackage", "PackageInstall", "install_package",
           "is_core_package"]

_VERSION = re.compile(r"[A-Za-z0-9*][A-Za-z0-9.\-+$*]*")


@frozen
class InstalledPackage:
    """A package that is in the cache after the install."""

    label: str  # "id#version"
    path: Path  # <cache>/<id>#<version>
    fresh: bool  # written by this install (False: it was in the cache already)
    source: str  # the tarball URL or .tgz file it came from; the cache folder when it was there
    required_by: str | None = None  # "id#version" of the package needing it; None: asked for


@frozen
class InstallProblem:
    """A package that could not be installed, and why."""

    wanted: str  # "id#version" as it was asked for ("1.0.x" and "latest" included)
    message: str
    kind: str  # "unreachable", "not-found", "integrity" or "invalid"
    required_by: str | None = None
    available: tuple[str, ...] = ()  # the versions the registries have, when they have the id

    def __str__(self) -> str:
        needed = f" (needed by {self.required_by})" if self.required_by else ""
        return f"{self.wanted}{needed}: {self.message}"


@dataclass(frozen=True, slots=True)
class PackageInstall:
    """What :func:`install_package` did: packages in the cache, problems, core packages skipped."""

    spec: str
    cache: Path
    packages: tuple[InstalledPackage, ...]
    problems: tuple[InstallProblem, ...]
    skipped: tuple[str, ...]  # "id#version" of core packages, embedded in ecanfhir

    @property
    def ok(self) -> bool:
        """Everything asked for, dependencies included, is in the cache."""
        return not self.problems

    @property
    def installed(self) -> tuple[InstalledPackage, ...]:
        """The packages this install wrote (not those the cache already had)."""
        return tuple(p for p in self.packages if p.fresh)


def install_package(
    spec: str | os.PathLike[str],
    *,
    registry: str | Sequence[str] | None = None,
    cache_dir: Path | None = None,
    dependencies: bool = True,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
    timeout: float = 60.0,
) -> PackageInstall:
    """Install a package and its dependencies into the user FHIR package cache.

    Args:
        spec: ``id``, ``id#version`` (or ``id@version``; ``1.0.x`` and ``latest`` allowed), or
            the path of a package ``.tgz`` (its package.json gives the id and version).
        registry: npm-compatible registries to ask, in order; default
            ``$FHIR_PACKAGE_REGISTRY``, else the FHIR community's package servers.
        cache_dir: The cache; defaults to :func:`~ecanfhir.package_cache_dir`.
        dependencies: Also install what the package's ``dependencies`` name, transitively.
        replace: Reinstall the package asked for even when the cache has that version.
        progress: Called with a line before each download.
        timeout: Seconds to wait for a registry's answer.

    Returns:
        The packages now in the cache, and the problems: a dependency the registries lack (with
        the versions they have), an unreachable registry, a download that fails its digest.
        A problem leaves nothing of that package in the cache; the others still install.

    Raises:
        PackageError: ``spec`` is neither a package id nor a file, the ``.tgz`` is not a safe,
            readable package, or the cache cannot be written.

    >>> install_package("no/such/package.tgz")
    Traceback (most recent call last):
    ...
    ecanfhir._exceptions.PackageError: no/such/package.tgz: no such file
    """
    cache = cache_dir if cache_dir is not None else package_cache_dir()
    text = os.fspath(spec)
    archive = Path(text).expanduser()
    wanted = None if archive.is_file() else _parse_spec(text)
    import httpx

    headers = {"User-Agent": f"ecanfhir/{__version__} (FHIR package install)"}
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
                      follow_redirects=True, headers=headers) as client:
        run = _Run(cache, configured_registries(registry), client, progress or _quiet)
        label: str | None
        manifest: Mapping[str, Any] | None
        if wanted is None:
            label, manifest = run.install_archive(archive, replace=replace)
        else:
            label, manifest = run.want(*wanted, required_by=None, replace=replace)
        if dependencies and label is not None and manifest is not None:
            run.dependencies_of(label, manifest)
    return PackageInstall(text, cache, tuple(run.packages), tuple(run.problems),
                          tuple(run.skipped))


def is_core_package(package_id: str) -> bool:
    """Core R4 packages, embedded in ecanfhir and skipped as dependencies (as the loader does).

    >>> is_core_package("hl7.fhir.r4.core"), is_core_package("hl7.fhir.uv.ips")
    (True, False)
    """
    return package_id.startswith("hl7.fhir.r4.")


def _quiet(_line: str) -> None:
    """The default progress callback: say nothing."""


def _parse_spec(spec: str) -> tuple[str, str]:
    if spec.lower().endswith(_ARCHIVE_SUFFIXES):
        raise PackageError(f"{spec}: no such file")
    pkg_id, _, version = _split_spec(spec)
    if not _PACKAGE_ID.fullmatch(pkg_id) or (version and not _VERSION.fullmatch(version)):
        raise PackageError(f"{spec}: neither a package id[#version] (e.g. hl7.fhir.uv.ips#2.0.0) "
                           "nor a package .tgz file")
    return pkg_id, version


@dataclass(slots=True)
class _Run:
    """One install: the cache, the registries, and what happened so far."""

    cache: Path
    registries: tuple[str, ...]
    client: httpx.Client
    progress: Callable[[str], None]
    dead: dict[str, str] = field(default_factory=dict)  # registries found unreachable
    packages: list[InstalledPackage] = field(default_factory=list)
    problems: list[InstallProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    done: set[tuple[str, str]] = field(default_factory=set)

    def dependencies_of(self, label: str, manifest: Mapping[str, Any]) -> None:
        """Install the dependencies of ``label``, breadth first, each (id, version) once."""
        queue = deque([(label, manifest)])
        while queue:
            by, current = queue.popleft()
            try:
                wanted = _dependencies(current, f"{by} (package.json)")
            except PackageError as exc:
                self.problems.append(InstallProblem(by, str(exc), "invalid"))
                continue
            for dep_id, dep_version in wanted.items():
                dep_label, dep_manifest = self.want(dep_id, dep_version, required_by=by)
                if dep_label is not None and dep_manifest is not None:
                    queue.append((dep_label, dep_manifest))

    def want(self, pkg_id: str, version: str, *, required_by: str | None,
             replace: bool = False) -> tuple[str | None, Mapping[str, Any] | None]:
        """Make ``pkg_id`` at ``version`` be in the cache; its label and manifest, or Nones."""
        asked = f"{pkg_id}#{version or 'latest'}"
        if (pkg_id, version) in self.done:
            return None, None
        self.done.add((pkg_id, version))
        if is_core_package(pkg_id):
            self.skipped.append(asked)
            return None, None
        cached = None if replace else self._cached(pkg_id, version, required_by)
        if cached is not None:
            return self._record(cached, fresh=False, source=str(cached), required_by=required_by)
        try:
            release = find_release(self.client, self.registries, pkg_id, version, dead=self.dead)
        except RegistryFailure as failure:
            self._problem(asked, failure, required_by)
            return None, None
        self.done.add((pkg_id, release.version))
        target = self.cache / release.label
        if is_installed(target) and not replace:
            return self._record(target, fresh=False, source=str(target), required_by=required_by)
        try:
            with package_lock(self.cache, release.label):
                # Another run may have installed it while this one waited for the lock.
                fresh = (replace or not is_installed(target)) and self._fetch(release, replace)
        except PackageError as exc:
            self._problem(release.label, exc, required_by)
            return None, None
        return self._record(target, fresh=fresh, source=release.tarball if fresh else str(target),
                            required_by=required_by)

    def _fetch(self, release: Release, replace: bool) -> bool:
        """Download, check, unpack and place one release; the caller holds its lock."""
        self.progress(f"downloading {release.label} from {release.tarball}")
        with staging_folder(self.cache) as stage:
            tgz = stage / "package.tgz"
            with open(tgz, "wb") as out:
                download(self.client, release, out)
            manifest = unpack(tgz, stage / release.label)
            _check_identity(manifest, release.package_id, release.version, release.tarball)
            return place(stage / release.label, self.cache / release.label, replace=replace)

    def install_archive(self, archive: Path, *,
                        replace: bool) -> tuple[str, Mapping[str, Any]]:
        """Put a local package ``.tgz`` in the cache under its package.json's id#version."""
        with staging_folder(self.cache) as stage:
            manifest = unpack(archive, stage / "unpacked")
            name, version = manifest.get("name"), manifest.get("version")
            if not isinstance(name, str) or not isinstance(version, str):
                raise PackageError(f"{archive}: package.json has no 'name' and 'version'")
            _check_identity(manifest, name, version, str(archive))
            label = f"{name}#{version}"
            with package_lock(self.cache, label):
                fresh = place(stage / "unpacked", self.cache / label, replace=replace)
        self.done.add((name, version))
        self._record(self.cache / label, fresh=fresh, source=str(archive), required_by=None)
        return label, manifest

    def _cached(self, pkg_id: str, version: str, required_by: str | None) -> Path | None:
        """The cache folder to use as it is: the exact version, or, for a dependency, the
        cached match of a wildcard or ``latest`` (what the loader will pick)."""
        exact = self.cache / f"{pkg_id}#{version}"
        if version and is_installed(exact):
            return exact
        if required_by is None or not version:
            return None  # asked for by name or wildcard: the registry's newest, not the cache's
        found = _find_cached(self.cache, pkg_id, version)
        return found if found is not None and is_installed(found) else None

    def _record(self, folder: Path, *, fresh: bool, source: str,
                required_by: str | None) -> tuple[str | None, Mapping[str, Any] | None]:
        """List a package now in the cache, once; its label and manifest, for its dependencies
        (Nones when it was listed already: its dependencies are on their way)."""
        if any(p.path == folder for p in self.packages):
            return None, None
        self.packages.append(InstalledPackage(folder.name, folder, fresh, source, required_by))
        try:
            manifest = _read_manifest(folder)
        except PackageError as exc:
            self.problems.append(InstallProblem(folder.name, str(exc), "invalid", required_by))
            return None, None
        return folder.name, manifest

    def _problem(self, wanted: str, error: PackageError, required_by: str | None) -> None:
        kind = error.kind if isinstance(error, RegistryFailure) else "invalid"
        message = str(error)
        if kind == "unreachable":
            pkg_id, _, version = wanted.partition("#")
            message += (f"; without a network, copy {pkg_id}-{version}.tgz to this machine and "
                        "run: ecanfhir package install FILE.tgz")
        available = error.available if isinstance(error, RegistryFailure) else ()
        self.problems.append(InstallProblem(wanted, message, kind, required_by, available))


def _check_identity(manifest: Mapping[str, Any], pkg_id: str, version: str, source: str) -> None:
    """The package is the one asked for, and its id and version are safe folder names."""
    name, got = manifest.get("name"), manifest.get("version")
    if not _PACKAGE_ID.fullmatch(pkg_id) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-+$]*",
                                                             version) or ".." in version:
        raise PackageError(f"{source}: {pkg_id}#{version} is not a valid package id#version")
    # Registries differ in case (the HL7 validator compares ids ignoring it).
    if not isinstance(name, str) or name.lower() != pkg_id.lower() or got != version:
        raise PackageError(f"{source} holds {name}#{got}, not {pkg_id}#{version}; refused")


def _read_manifest(folder: Path) -> Mapping[str, Any]:
    manifest = _parse_json(_read_file(folder / "package" / "package.json"),
                           f"{folder / 'package' / 'package.json'}")
    if not isinstance(manifest, dict):
        raise PackageError(f"{folder}: package.json is not a JSON object")
    return manifest
