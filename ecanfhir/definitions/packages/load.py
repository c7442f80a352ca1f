"""Load FHIR packages and loose conformance resources into a :class:`~ecanfhir.Registry`.

Implementation guides are distributed as NPM-style FHIR packages (FHIR R4 §3.3.0 "Packages"
and the HL7 "NPM Package Specification"): a ``package/`` folder holding ``package.json`` and one
resource per JSON file, published as a ``.tgz``. Tools share a user cache laid out as
``<cache>/<id>#<version>/package/...`` (the HL7 validator, Firely Terminal, SUSHI); we read it
to resolve ``dependencies`` and ``--ig id#version``.

Only conformance resources (:data:`~ecanfhir.definitions.registry.CONFORMANCE_TYPES`) are
registered;
examples (``package/example/``) and other side folders are never read. Archives are read in
memory with :mod:`tarfile`, never extracted. Every failure is a :class:`PackageError` whose
message names the file and says what to do.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._exceptions import PackageError
from ..core import FHIR_VERSION
from ..registry import CONFORMANCE_TYPES, Registry

__all__ = [
    "PackageInfo",
    "load_conformance",
    "load_ig",
    "load_package",
    "package_cache_dir",
]

MAX_MEMBER_BYTES = 50 * 1024 * 1024
CANONICAL_TOKEN = b"{{canonical}}"
# Side folders of the package spec: examples, test cases, OpenAPI, "other" files (not resources).
SKIPPED_FOLDERS = frozenset({"example", "examples", "other", "openapi", "tests"})
_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")
_PACKAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What :func:`load_package` loaded: the manifest plus what happened to its dependencies."""

    name: str
    version: str
    canonical: str | None
    fhir_versions: tuple[str, ...]
    dependencies: Mapping[str, str]
    path: str
    resource_count: int  # conformance resources of this package itself, not of its dependencies
    missing_dependencies: tuple[str, ...] = ()  # "id#version", transitive, not in the cache
    loaded_dependencies: tuple[str, ...] = ()  # "id#version", transitive, loaded from the cache

    @property
    def label(self) -> str:
        """The package as ``id#version``, the form of ``Registry.packages``."""
        return f"{self.name}#{self.version}"


@dataclass(slots=True)
class _Loading:
    """State shared by one :func:`load_package` call and its dependency loads."""

    cache: Path
    dependencies: bool
    seen: set[str] = field(default_factory=set)


def package_cache_dir() -> Path:
    """The user FHIR package cache: ``$FHIR_PACKAGE_CACHE``, else ``~/.fhir/packages``."""
    configured = os.environ.get("FHIR_PACKAGE_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".fhir" / "packages"


def load_package(
    registry: Registry,
    source: str | os.PathLike[str],
    *,
    load_dependencies: bool = True,
    cache_dir: Path | None = None,
) -> PackageInfo:
    """Register the conformance resources of one FHIR package (and of its dependencies).

    Args:
        registry: Receives the resources; ``registry.packages`` gets ``id#version``.
        source: A package folder (the one holding ``package/``, or ``package/`` itself),
            or a ``.tgz`` / ``.tar.gz`` archive.
        load_dependencies: Also load ``dependencies`` found in the package cache. Core R4
            packages (``hl7.fhir.r4.*``) are skipped: core is embedded.
        cache_dir: Where to look for dependencies; defaults to :func:`package_cache_dir`.

    Returns:
        The manifest and counts. Dependencies absent from the cache do not raise: they are
        listed in ``missing_dependencies`` so the caller can warn.

    Raises:
        PackageError: The source is missing, is not a package, holds invalid JSON, or the
            package is for another FHIR version than R4.

    >>> load_package(Registry(), "no/such/package.tgz")
    Traceback (most recent call last):
    ...
    ecanfhir._exceptions.PackageError: no/such/package.tgz: no such file or folder
    """
    cache = cache_dir if cache_dir is not None else package_cache_dir()
    return _load_package(registry, Path(source), _Loading(cache, load_dependencies))


def load_conformance(registry: Registry, path: str | os.PathLike[str]) -> int:
    """Register loose conformance resources from a JSON or XML file or a folder of them.

    A file holds one resource, a Bundle of them, or a JSON array of them; FHIR XML is told
    from JSON by content. A folder is read recursively (``*.json`` and ``*.xml``, hidden
    folders skipped). Resources that are not conformance
    resources (a Patient, an example Bundle's entries) are ignored. A file of a source package
    (such as ``profiles/``) that writes ``{{canonical}}`` gets the canonical of the nearest
    ``package.json`` above it, as when the whole package is loaded.

    Returns:
        How many conformance resources were registered.

    Raises:
        PackageError: The path is missing or unreadable, or a file holds invalid JSON or
            XML that is no FHIR resource.

    >>> import json, pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> vs = {"resourceType": "ValueSet", "url": "http://example.org/vs", "version": "1"}
    >>> _ = (pathlib.Path(tmp.name) / "vs.json").write_text(json.dumps(vs))
    >>> reg = Registry()
    >>> load_conformance(reg, tmp.name)
    1
    >>> reg.value_set("http://example.org/vs|1")["url"]
    'http://example.org/vs'
    >>> tmp.cleanup()
    """
    root = Path(path)
    if root.is_dir():
        files: Iterable[Path] = _json_files(root, suffixes=(".json", ".xml"))
    elif root.is_file():
        files = (root,)
    else:
        raise PackageError(f"{root}: no such file or folder")
    added = 0
    for file in files:
        data = _read_file(file)
        if CANONICAL_TOKEN in data and (canonical := _source_canonical(file)) is not None:
            data = data.replace(CANONICAL_TOKEN, canonical)
        document = _parse_document(data, str(file))
        for resource in _resources_in(document):
            registry.add(resource, source=str(file))
            added += 1
    return added


def load_ig(registry: Registry, spec: str, *, cache_dir: Path | None = None) -> str:
    """Load what the CLI's repeatable ``--ig`` names, and describe it in one line.

    ``spec`` is a package folder, a ``.tgz``, a package from the user cache as ``id#version``
    (or ``id@version``, or a bare ``id`` for the newest cached version), or a loose
    conformance file or folder.

    Raises:
        PackageError: Nothing matches ``spec``, or what matches cannot be loaded.
    """
    cache = cache_dir if cache_dir is not None else package_cache_dir()
    path = Path(spec).expanduser()
    if path.exists():
        if _looks_like_package(path):
            return _describe(load_package(registry, path, cache_dir=cache))
        count = load_conformance(registry, path)
        return f"{count} conformance resource{'' if count == 1 else 's'} from {path}"
    if not _is_package_spec(spec):
        raise PackageError(f"{spec}: no such file or folder")
    pkg_id, _, version = _split_spec(spec)
    found = _find_cached(cache, pkg_id, version or None)
    if found is None:
        # Loading never downloads (the HL7 validator's would): say how to install it instead.
        wanted = f"{pkg_id}#{version}" if version else pkg_id
        env = "" if cache == package_cache_dir() else f"FHIR_PACKAGE_CACHE={cache} "
        raise PackageError(
            f"package {wanted} is not in the FHIR package cache (no folder "
            f"{cache / (wanted if version else pkg_id + '#*')}; nothing is downloaded while "
            f"loading): install it with `{env}ecanfhir package install {wanted}` (Python: "
            f"ecanfhir.install_package({wanted!r})), or pass the path of its folder or .tgz"
        )
    return _describe(load_package(registry, found, cache_dir=cache))


# -- packages ------------------------------------------------------------------------------


def _load_package(registry: Registry, path: Path, ctx: _Loading) -> PackageInfo:
    manifest, files = _open_package(path)
    where = f"{path} (package.json)"
    name, version = _text(manifest, "name", where), _text(manifest, "version", where)
    label = f"{name}#{version}"
    dependencies = _dependencies(manifest, where)
    fhir_versions = _fhir_versions(manifest, dependencies, where)
    if fhir_versions and not any(_is_r4(v) for v in fhir_versions):
        raise PackageError(
            f"package {label} is for FHIR {', '.join(fhir_versions)}; "
            f"ecanfhir validates FHIR R4 ({FHIR_VERSION})"
        )
    # A source package (like ecanfhir's own profiles/) may write {{canonical}} for the
    # manifest's canonical, so that the canonical lives in one place; built packages never do.
    canonical = manifest.get("canonical")
    token = CANONICAL_TOKEN if isinstance(canonical, str) and canonical else None
    # Parse everything before registering anything: a bad file leaves the registry untouched.
    resources = [
        document
        for rel, data in files
        if isinstance(document := _parse_json(
            data.replace(token, str(canonical).encode()) if token else data, f"{path}: {rel}"),
            dict)
        and document.get("resourceType") in CONFORMANCE_TYPES
    ]
    ctx.seen.add(name)
    missing: list[str] = []
    loaded: list[str] = []
    if ctx.dependencies:
        for info in _load_dependencies(registry, label, dependencies, ctx, missing):
            loaded += [info.label, *info.loaded_dependencies]
            missing += info.missing_dependencies
    # Dependencies go in first, so this package wins where both define the same url|version.
    for resource in resources:
        registry.add(resource, source=label)
    if label not in registry.packages:
        registry.packages.append(label)
    return PackageInfo(
        name=name,
        version=version,
        canonical=canonical if isinstance(canonical, str) else None,
        fhir_versions=fhir_versions,
        dependencies=dependencies,
        path=str(path),
        resource_count=len(resources),
        missing_dependencies=tuple(dict.fromkeys(missing)),
        loaded_dependencies=tuple(dict.fromkeys(loaded)),
    )


def _load_dependencies(
    registry: Registry,
    label: str,
    dependencies: Mapping[str, str],
    ctx: _Loading,
    missing: list[str],
) -> Iterator[PackageInfo]:
    """Load each cached dependency once; append the absent ones to ``missing``."""
    for dep_id, dep_version in dependencies.items():
        if dep_id in ctx.seen or dep_id.startswith("hl7.fhir.r4."):
            continue  # already loaded in this call (or a cycle); core R4 is embedded
        found = _find_cached(ctx.cache, dep_id, dep_version)
        if found is None:
            # THO (hl7.terminology*) is a dependency of almost every IG but optional for us.
            if not dep_id.startswith("hl7.terminology"):
                missing.append(f"{dep_id}#{dep_version}")
            continue
        if found.name in registry.packages:
            ctx.seen.add(dep_id)
            continue
        try:
            yield _load_package(registry, found, ctx)
        except PackageError as error:
            raise PackageError(f"dependency {dep_id}#{dep_version} of {label}: {error}") from error


def _open_package(path: Path) -> tuple[dict[str, Any], Iterable[tuple[str, bytes]]]:
    """The parsed ``package.json`` and the candidate resource files ``(relative path, bytes)``."""
    if path.is_dir():
        root = path / "package" if (path / "package" / "package.json").is_file() else path
        manifest_file = root / "package.json"
        if not manifest_file.is_file():
            raise PackageError(
                f"{path} is not a FHIR package: it has no package/package.json "
                "(for a folder of loose conformance resources use load_conformance)"
            )
        manifest = _parse_json(_read_file(manifest_file), str(manifest_file))
        files: Iterable[tuple[str, bytes]] = (
            (file.relative_to(root).as_posix(), _read_file(file))
            for file in _json_files(root, skip=SKIPPED_FOLDERS)
            if file != manifest_file
        )
    elif path.is_file():
        manifest, files = _read_archive(path)
    else:
        raise PackageError(f"{path}: no such file or folder")
    if not isinstance(manifest, dict):
        raise PackageError(f"{path}: package.json is not a JSON object")
    return manifest, files


def _read_archive(path: Path) -> tuple[Any, list[tuple[str, bytes]]]:
    """Read a package ``.tgz`` in memory: its manifest and resource files, nothing extracted."""
    import tarfile  # (here: a run that loads no archive, the pilot's alone, needs none)

    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                name = member.name.removeprefix("./")
                if name.startswith("/") or ".." in re.split(r"[\\/]", name):
                    raise PackageError(f"{path}: refusing archive member with unsafe path {name!r}")
                in_package = name.removeprefix("package/")
                if (not member.isfile() or not _is_resource_file(name)
                        or in_package.split("/", 1)[0] in SKIPPED_FOLDERS):
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise PackageError(
                        f"{path}: refusing archive member {name!r} of {member.size} bytes "
                        f"(limit {MAX_MEMBER_BYTES})"
                    )
                stream = archive.extractfile(member)
                if stream is not None:
                    contents[name] = stream.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise PackageError(
            f"{path} is not a readable FHIR package archive (.tgz): {error}"
        ) from error
    prefix = "package/" if "package/package.json" in contents else ""
    if prefix + "package.json" not in contents:
        raise PackageError(f"{path} is not a FHIR package: the archive has no package/package.json")
    manifest = _parse_json(contents.pop(prefix + "package.json"), f"{path}: package.json")
    files = [(name.removeprefix(prefix), data) for name, data in contents.items()
             if name.startswith(prefix)]
    return manifest, files


def _text(manifest: Mapping[str, Any], key: str, where: str) -> str:
    value = manifest.get(key)
    if not isinstance(value, str) or not value:
        raise PackageError(f"{where}: {key!r} is missing or not a string")
    return value


def _dependencies(manifest: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = manifest.get("dependencies") or {}
    if not isinstance(raw, dict):
        raise PackageError(f"{where}: 'dependencies' must be an object of id -> version")
    return {str(dep_id): str(version) for dep_id, version in raw.items()}


def _fhir_versions(
    manifest: Mapping[str, Any], deps: Mapping[str, str], where: str
) -> tuple[str, ...]:
    raw = manifest.get("fhirVersions") or manifest.get("fhir-version-list") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise PackageError(f"{where}: 'fhirVersions' must be a list of versions")
    versions = tuple(str(v) for v in raw)
    if versions:
        return versions
    # Old manifests omit fhirVersions; the core package they depend on tells the version.
    core = {"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.r4b.core": "4.3.0", "hl7.fhir.r5.core": "5.0.0"}
    return tuple(version for dep, version in core.items() if dep in deps)


def _is_r4(version: str) -> bool:
    return version == "4.0" or version.startswith("4.0.")


# -- the package cache ---------------------------------------------------------------------


def _find_cached(cache: Path, pkg_id: str, version: str | None) -> Path | None:
    """The cache folder of ``pkg_id`` at ``version`` (``1.0.x``; ``latest``, ``current``,
    ``dev`` or None: newest, as ``ecanfhir package install`` resolves them to the newest)."""
    if re.search(r"[\\/]|\.\.", pkg_id + "#" + (version or "")):
        return None  # a manifest naming a path, not a version: never leave the cache folder
    if version and (cache / f"{pkg_id}#{version}").is_dir():
        return cache / f"{pkg_id}#{version}"
    try:
        cached = {
            entry.name.partition("#")[2]: entry
            for entry in cache.iterdir()
            if entry.name.startswith(pkg_id + "#") and entry.is_dir()
        }
    except OSError:
        return None
    if version and version not in ("latest", "current", "dev"):
        if not version.endswith(".x"):
            return None
        stem = version.removesuffix(".x")
        cached = {v: p for v, p in cached.items() if v == stem or v.startswith(stem + ".")}
    if not cached:
        return None
    return cached[max(cached, key=_release_order)]


def _release_order(version: str) -> tuple[bool, tuple[tuple[int, int | str], ...]]:
    # Numbered releases rank above "current"/"dev" builds, whatever the string comparison says.
    parts = re.split(r"[.\-+]", version)
    return version[:1].isdigit(), tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def _is_package_spec(spec: str) -> bool:
    pkg_id, _, version = _split_spec(spec)
    looks_like_file = spec.lower().endswith((".json", ".xml", *_ARCHIVE_SUFFIXES))
    return bool(_PACKAGE_ID.fullmatch(pkg_id)) and "/" not in version and not looks_like_file


def _split_spec(spec: str) -> tuple[str, str, str]:
    """``id#version`` or ``id@version`` (or a bare ``id``) as ``(id, separator, version)``."""
    cut = min((i for i in (spec.find("#"), spec.find("@")) if i >= 0), default=len(spec))
    return spec[:cut], spec[cut:cut + 1], spec[cut + 1:]


def _looks_like_package(path: Path) -> bool:
    if path.is_dir():
        return (path / "package" / "package.json").is_file() or (path / "package.json").is_file()
    if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    import tarfile

    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False  # unreadable: load_conformance reports it with the file name


def _describe(info: PackageInfo) -> str:
    count = info.resource_count
    text = f"package {info.label}: {count} conformance resource{'' if count == 1 else 's'}"
    if info.loaded_dependencies:
        text += f"; dependencies loaded: {', '.join(info.loaded_dependencies)}"
    if info.missing_dependencies:
        text += f"; dependencies not in the package cache: {', '.join(info.missing_dependencies)}"
    return text


# -- files and JSON ------------------------------------------------------------------------


def _json_files(root: Path, *, skip: frozenset[str] = frozenset(),
                suffixes: tuple[str, ...] = (".json",)) -> Iterator[Path]:
    """``*.json`` (or other ``suffixes``) under ``root``, recursively, in a stable order;
    hidden entries skipped."""
    def fail(error: OSError) -> None:
        raise PackageError(f"{error.filename}: cannot read folder: {error.strerror}") from error

    for folder, dirs, files in os.walk(root, onerror=fail):
        top = Path(folder) == root
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (top and d in skip))
        for name in sorted(files):
            if _is_resource_file(name, suffixes):
                yield Path(folder, name)


def _is_resource_file(name: str, suffixes: tuple[str, ...] = (".json",)) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(suffixes) and not base.startswith(".")


def _source_canonical(file: Path) -> bytes | None:
    """The canonical of the source package a loose file belongs to: the ``canonical`` of the
    nearest ``package.json`` above it, which its ``{{canonical}}`` stands for (as when the
    package is loaded whole); None outside a package or when that manifest names none."""
    for folder in file.resolve().parents:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                canonical = json.loads(manifest.read_bytes().decode("utf-8-sig")).get("canonical")
            except (OSError, ValueError, AttributeError):
                return None
            return canonical.encode() if isinstance(canonical, str) and canonical else None
    return None


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise PackageError(f"{path}: cannot read: {error.strerror or error}") from error


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        detail = f"{error.reason} at byte {error.start}"
        raise PackageError(f"{where}: not UTF-8 text ({detail})") from error
    except json.JSONDecodeError as error:
        raise PackageError(
            f"{where}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


def _parse_document(data: bytes, where: str) -> Any:
    """A loose file's content: FHIR XML (told by content) or JSON."""
    from ...formats._sniff import looks_like_xml

    if not looks_like_xml(data):
        return _parse_json(data, where)
    from ...formats.xml_read import parse_xml

    resource, issues = parse_xml(data)
    if resource is None:
        raise PackageError(f"{where}: {issues[0].message}")
    return resource


def _resources_in(document: Any) -> Iterator[dict[str, Any]]:
    """Conformance resources in a loose file: the resource itself, a Bundle's, or an array's."""
    if isinstance(document, list):
        for item in document:
            yield from _resources_in(item)
    elif isinstance(document, dict):
        resource_type = document.get("resourceType")
        if resource_type == "Bundle":
            for entry in document.get("entry") or ():
                if isinstance(entry, dict):
                    yield from _resources_in(entry.get("resource"))
        elif resource_type in CONFORMANCE_TYPES:
            yield document
