"""Tests for ecanfhir.definitions.packages.load: FHIR packages, the package cache, loose
conformance files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from ecanfhir._exceptions import PackageError
from ecanfhir.definitions.packages import load as _package
from ecanfhir.definitions.packages.load import (
    PackageInfo,
    load_conformance,
    load_ig,
    load_package,
    package_cache_dir,
)
from ecanfhir.definitions.registry import Registry

BASE = "http://example.org/fhir"


def sd(name: str, version: str = "1.0.0", base: str = BASE) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "id": name,
        "url": f"{base}/StructureDefinition/{name}",
        "version": version,
        "name": name,
        "type": "Patient",
        "kind": "resource",
        "derivation": "constraint",
    }


def vs(name: str, version: str = "1.0.0") -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": name, "url": f"{BASE}/ValueSet/{name}",
            "version": version, "status": "active"}


def write_package(
    root: Path,
    name: str,
    version: str,
    resources: dict[str, Any],
    *,
    fhir_versions: list[str] | None = None,
    dependencies: dict[str, str] | None = None,
    raw: dict[str, str] | None = None,
) -> Path:
    """Write ``root/package/`` with a manifest, JSON resources and raw text files."""
    folder = root / "package"
    folder.mkdir(parents=True)
    manifest: dict[str, Any] = {"name": name, "version": version, "canonical": BASE,
                                "fhirVersions": fhir_versions or ["4.0.1"]}
    if dependencies is not None:
        manifest["dependencies"] = dependencies
    (folder / "package.json").write_text(json.dumps(manifest))
    for rel, resource in resources.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(resource))
    for rel, text in (raw or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return root


def make_tgz(folder: Path, target: Path) -> Path:
    """Pack ``folder/package`` as an npm-style ``.tgz`` (members under ``package/``)."""
    with tarfile.open(target, "w:gz") as archive:
        archive.add(folder / "package", arcname="package")
    return target


def add_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(folder))
    return folder


def cached(cache: Path, name: str, version: str, resources: dict[str, Any], **kw: Any) -> Path:
    return write_package(cache / f"{name}#{version}", name, version, resources, **kw)


# -- packages ------------------------------------------------------------------------------


def test_folder_package_registers_conformance_resources(tmp_path: Path, registry: Registry) -> None:
    """A package folder's profiles and value sets are found by url and by url|version."""
    root = write_package(tmp_path / "ig", "example.ig", "1.0.0", {
        "StructureDefinition-p.json": sd("p"), "ValueSet-v.json": vs("v"),
    })
    info = load_package(registry, root, load_dependencies=False)
    assert info == PackageInfo(
        name="example.ig", version="1.0.0", canonical=BASE, fhir_versions=("4.0.1",),
        dependencies={}, path=str(root), resource_count=2,
    )
    url = f"{BASE}/StructureDefinition/p"
    found = registry.structure_definition(url)
    assert found is not None and found["id"] == "p"
    assert registry.structure_definition(f"{url}|1.0.0") is found
    assert registry.structure_definition(f"{url}|2.0.0") is None
    assert registry.value_set(f"{BASE}/ValueSet/v|1.0.0") is not None
    assert registry.source_of(found) == "example.ig#1.0.0"
    assert registry.packages == ["example.ig#1.0.0"]


def test_package_subfolder_itself_loads(tmp_path: Path, registry: Registry) -> None:
    """The ``package/`` folder itself is accepted as the source."""
    root = write_package(tmp_path, "example.ig", "1.0.0", {"a.json": sd("a")})
    info = load_package(registry, root / "package")
    assert info.resource_count == 1
    assert registry.structure_definition(f"{BASE}/StructureDefinition/a") is not None


def test_side_folders_instances_and_non_json_are_skipped(
    tmp_path: Path, registry: Registry
) -> None:
    """example/, other/, openapi/, .index.json, non-JSON and non-conformance files are ignored."""
    root = write_package(
        tmp_path, "example.ig", "1.0.0",
        {
            "a.json": sd("a"),
            "Patient-x.json": {"resourceType": "Patient", "id": "x"},
            "example/StructureDefinition-ex.json": sd("ex"),
            "other/StructureDefinition-other.json": sd("other"),
            "openapi/StructureDefinition-oa.json": sd("oa"),
        },
        raw={".index.json": "{broken", "notes.txt": "{not json", "openapi/x.json": "{broken"},
    )
    info = load_package(registry, root)
    assert info.resource_count == 1
    for name in ("ex", "other", "oa"):
        assert registry.structure_definition(f"{BASE}/StructureDefinition/{name}") is None


def test_tgz_is_read_without_extracting(tmp_path: Path, registry: Registry) -> None:
    """A .tgz loads from memory and leaves nothing new on disk."""
    root = write_package(tmp_path / "src", "example.ig", "2.0.0", {
        "a.json": sd("a", "2.0.0"), "example/b.json": sd("b"),
    })
    tgz = make_tgz(root, tmp_path / "package.tgz")
    before = sorted(tmp_path.rglob("*"))
    info = load_package(registry, tgz)
    assert sorted(tmp_path.rglob("*")) == before
    assert (info.name, info.version, info.resource_count) == ("example.ig", "2.0.0", 1)
    assert registry.structure_definition(f"{BASE}/StructureDefinition/a|2.0.0") is not None
    assert registry.structure_definition(f"{BASE}/StructureDefinition/b") is None


def test_tgz_with_dotdot_member_is_refused(tmp_path: Path, registry: Registry) -> None:
    """An archive member whose path climbs out with ``..`` is refused before anything loads."""
    manifest = json.dumps({"name": "evil", "version": "1.0.0"}).encode()
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        add_member(archive, "package/package.json", manifest)
        add_member(archive, "package/../../escape.json", json.dumps(sd("e")).encode())
    with pytest.raises(PackageError, match=r"unsafe path 'package/\.\./\.\./escape\.json'"):
        load_package(registry, tgz)
    assert registry.packages == []


def test_tgz_with_oversized_member_is_refused(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member larger than the size limit is refused."""
    monkeypatch.setattr(_package, "MAX_MEMBER_BYTES", 10)
    root = write_package(tmp_path / "src", "big", "1.0.0", {"a.json": sd("a")})
    with pytest.raises(PackageError, match=r"refusing archive member .* bytes"):
        load_package(registry, make_tgz(root, tmp_path / "big.tgz"))


def test_corrupt_tgz_is_a_package_error(tmp_path: Path, registry: Registry) -> None:
    """Bytes that are not a gzip tar give a PackageError, not a tarfile exception."""
    tgz = tmp_path / "broken.tgz"
    tgz.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(PackageError, match=r"broken\.tgz is not a readable FHIR package"):
        load_package(registry, tgz)


def test_tgz_without_manifest_is_not_a_package(tmp_path: Path, registry: Registry) -> None:
    """An archive with no package/package.json is rejected with that reason."""
    tgz = tmp_path / "x.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        add_member(archive, "package/a.json", json.dumps(sd("a")).encode())
    with pytest.raises(PackageError, match=r"no package/package\.json"):
        load_package(registry, tgz)


def test_bad_json_names_the_file_and_position(tmp_path: Path, registry: Registry) -> None:
    """Invalid JSON is reported with the file name, line and column; nothing is registered."""
    root = write_package(tmp_path, "example.ig", "1.0.0", {"a.json": sd("a")},
                         raw={"broken.json": '{\n  "resourceType": "ValueSet",\n  oops\n}'})
    with pytest.raises(PackageError, match=r"broken\.json: invalid JSON at line 3, column 3"):
        load_package(registry, root)
    assert registry.structure_definition(f"{BASE}/StructureDefinition/a") is None
    assert registry.packages == []


def test_bad_manifest_json_names_package_json(tmp_path: Path, registry: Registry) -> None:
    """A broken package.json is named in the error."""
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "package.json").write_text("{")
    with pytest.raises(PackageError, match=r"package\.json: invalid JSON at line 1"):
        load_package(registry, tmp_path)


def test_manifest_without_version_is_refused(tmp_path: Path, registry: Registry) -> None:
    """package.json must name the package and its version."""
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "package.json").write_text('{"name": "x"}')
    with pytest.raises(PackageError, match="'version' is missing"):
        load_package(registry, tmp_path)


def test_r5_package_is_refused(tmp_path: Path, registry: Registry) -> None:
    """A package for FHIR 5.0.0 is refused with a message naming both versions."""
    root = write_package(tmp_path, "r5.ig", "1.0.0", {"a.json": sd("a")},
                         fhir_versions=["5.0.0"])
    message = r"package r5\.ig#1\.0\.0 is for FHIR 5\.0\.0; ecanfhir validates FHIR R4 \(4\.0\.1\)"
    with pytest.raises(PackageError, match=message):
        load_package(registry, root)
    assert registry.structure_definition(f"{BASE}/StructureDefinition/a") is None


def test_fhir_version_from_old_manifest_fields(tmp_path: Path, registry: Registry) -> None:
    """``fhir-version-list`` is read; without versions, a core dependency decides."""
    old = tmp_path / "old" / "package"
    old.mkdir(parents=True)
    (old / "package.json").write_text(json.dumps(
        {"name": "old", "version": "1", "fhir-version-list": ["4.0.1"]}))
    assert load_package(registry, old).fhir_versions == ("4.0.1",)
    r5 = tmp_path / "r5" / "package"
    r5.mkdir(parents=True)
    (r5 / "package.json").write_text(json.dumps(
        {"name": "r5", "version": "1", "dependencies": {"hl7.fhir.r5.core": "5.0.0"}}))
    with pytest.raises(PackageError, match=r"is for FHIR 5\.0\.0"):
        load_package(registry, r5)


def test_missing_path_and_non_package_folder(tmp_path: Path, registry: Registry) -> None:
    """A missing path and a folder without package.json are PackageErrors saying so."""
    with pytest.raises(PackageError, match="no such file or folder"):
        load_package(registry, tmp_path / "nope")
    with pytest.raises(PackageError, match=r"not a FHIR package: it has no package/package\.json"):
        load_package(registry, tmp_path)


# -- dependencies and the cache ------------------------------------------------------------


def test_dependencies_are_loaded_from_the_cache(
    tmp_path: Path, registry: Registry, cache: Path
) -> None:
    """A cached dependency loads; core R4 and uncached terminology are silently skipped."""
    cached(cache, "dep.a", "1.0.0", {"b.json": sd("base", base="http://dep.org")})
    root = write_package(tmp_path / "ig", "main.ig", "1.0.0", {"a.json": sd("a")}, dependencies={
        "hl7.fhir.r4.core": "4.0.1", "hl7.terminology.r4": "5.0.0", "dep.a": "1.0.0",
    })
    info = load_package(registry, root)
    assert info.loaded_dependencies == ("dep.a#1.0.0",)
    assert info.missing_dependencies == ()
    assert info.resource_count == 1
    assert registry.structure_definition("http://dep.org/StructureDefinition/base|1.0.0")
    assert registry.packages == ["dep.a#1.0.0", "main.ig#1.0.0"]


def test_missing_dependency_is_reported_not_raised(
    tmp_path: Path, registry: Registry, cache: Path
) -> None:
    """Dependencies absent from the cache, even transitive ones, come back as missing."""
    cached(cache, "dep.a", "1.0.0", {}, dependencies={"dep.deep": "3.0.0"})
    root = write_package(tmp_path, "main.ig", "1.0.0", {}, dependencies={
        "dep.a": "1.0.0", "dep.gone": "2.0.0",
    })
    info = load_package(registry, root)
    assert info.missing_dependencies == ("dep.deep#3.0.0", "dep.gone#2.0.0")
    assert info.loaded_dependencies == ("dep.a#1.0.0",)


def test_dependency_cycle_terminates(tmp_path: Path, registry: Registry, cache: Path) -> None:
    """Packages that depend on each other load once each."""
    cached(cache, "cyc.a", "1.0.0", {"a.json": sd("a")}, dependencies={"cyc.b": "1.0.0"})
    cached(cache, "cyc.b", "1.0.0", {"b.json": sd("b")}, dependencies={"cyc.a": "1.0.0"})
    info = load_package(registry, cache / "cyc.a#1.0.0")
    assert info.loaded_dependencies == ("cyc.b#1.0.0",)
    assert registry.packages == ["cyc.b#1.0.0", "cyc.a#1.0.0"]
    assert registry.structure_definition(f"{BASE}/StructureDefinition/b") is not None


def test_shared_dependency_loads_once(tmp_path: Path, registry: Registry, cache: Path) -> None:
    """A dependency already in the registry is not loaded again by a second package."""
    cached(cache, "shared", "1.0.0", {"s.json": sd("s")})
    one = write_package(tmp_path / "one", "one", "1.0.0", {}, dependencies={"shared": "1.0.0"})
    two = write_package(tmp_path / "two", "two", "1.0.0", {}, dependencies={"shared": "1.0.0"})
    load_package(registry, one)
    assert load_package(registry, two).loaded_dependencies == ()
    assert registry.packages == ["shared#1.0.0", "one#1.0.0", "two#1.0.0"]


def test_wildcard_dependency_picks_newest_match(
    tmp_path: Path, registry: Registry, cache: Path
) -> None:
    """A ``1.0.x`` dependency resolves to the newest cached 1.0 patch release."""
    for version in ("1.0.2", "1.0.10", "1.1.0"):
        cached(cache, "dep", version, {"a.json": sd("a", version)})
    root = write_package(tmp_path, "main", "1.0.0", {}, dependencies={"dep": "1.0.x"})
    assert load_package(registry, root).loaded_dependencies == ("dep#1.0.10",)


def test_dependencies_can_be_turned_off(tmp_path: Path, registry: Registry, cache: Path) -> None:
    """With load_dependencies=False nothing is read from the cache or reported missing."""
    cached(cache, "dep", "1.0.0", {"a.json": sd("a")})
    root = write_package(tmp_path, "main", "1.0.0", {}, dependencies={"dep": "1.0.0", "x": "1"})
    info = load_package(registry, root, load_dependencies=False)
    assert (info.loaded_dependencies, info.missing_dependencies) == ((), ())
    assert info.dependencies == {"dep": "1.0.0", "x": "1"}
    assert registry.packages == ["main#1.0.0"]


def test_broken_dependency_error_names_the_dependency(
    tmp_path: Path, registry: Registry, cache: Path
) -> None:
    """An unloadable cached dependency is reported with the package that needs it."""
    cached(cache, "dep", "1.0.0", {}, fhir_versions=["5.0.0"])
    root = write_package(tmp_path, "main", "1.0.0", {}, dependencies={"dep": "1.0.0"})
    with pytest.raises(PackageError, match=r"dependency dep#1\.0\.0 of main#1\.0\.0: .*5\.0\.0"):
        load_package(registry, root)


def test_package_cache_dir_honours_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$FHIR_PACKAGE_CACHE wins; otherwise ~/.fhir/packages."""
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path))
    assert package_cache_dir() == tmp_path
    monkeypatch.delenv("FHIR_PACKAGE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert package_cache_dir() == tmp_path / ".fhir" / "packages"


# -- loose conformance resources -----------------------------------------------------------


def test_loose_folder_is_read_recursively(tmp_path: Path, registry: Registry) -> None:
    """Nested JSON files load; hidden folders, instances and non-JSON files are ignored."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.json").write_text(json.dumps(sd("a")))
    (tmp_path / "sub" / "deeper" / "v.json").write_text(json.dumps(vs("v")))
    (tmp_path / "sub" / "patient.json").write_text(json.dumps({"resourceType": "Patient"}))
    (tmp_path / ".git" / "h.json").write_text(json.dumps(sd("hidden")))
    (tmp_path / "readme.md").write_text("{not json")
    assert load_conformance(registry, tmp_path) == 2
    assert registry.value_set(f"{BASE}/ValueSet/v|1.0.0") is not None
    assert registry.structure_definition(f"{BASE}/StructureDefinition/hidden") is None


def test_bundle_and_array_of_resources(tmp_path: Path, registry: Registry) -> None:
    """Conformance entries of a Bundle and items of a JSON array are registered."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": sd("b1")}, {"resource": vs("v1")}, {"resource": {"resourceType": "Patient"}},
    ]}
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "list.json").write_text(json.dumps([sd("l1", "2.0.0"), {"x": 1}]))
    assert load_conformance(registry, tmp_path / "bundle.json") == 2
    assert load_conformance(registry, tmp_path / "list.json") == 1
    found = registry.structure_definition(f"{BASE}/StructureDefinition/b1")
    assert found is not None and registry.source_of(found) == str(tmp_path / "bundle.json")
    assert registry.structure_definition(f"{BASE}/StructureDefinition/l1|2.0.0") is not None


def test_loose_file_errors(tmp_path: Path, registry: Registry) -> None:
    """A missing path and invalid JSON in a loose file are PackageErrors naming the file."""
    with pytest.raises(PackageError, match="no such file or folder"):
        load_conformance(registry, tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"resourceType": ')
    with pytest.raises(PackageError, match=r"bad\.json: invalid JSON at line 1, column 18"):
        load_conformance(registry, tmp_path)


# -- load_ig: what --ig accepts ------------------------------------------------------------


def test_load_ig_accepts_folder_tgz_and_loose_file(tmp_path: Path, registry: Registry) -> None:
    """Folders, archives and loose files are each loaded and described in one line."""
    root = write_package(tmp_path / "ig", "example.ig", "1.0.0", {"a.json": sd("a")})
    tgz = make_tgz(root, tmp_path / "ig.tgz")
    (tmp_path / "v.json").write_text(json.dumps(vs("v")))
    assert load_ig(registry, str(root)) == "package example.ig#1.0.0: 1 conformance resource"
    assert load_ig(registry, str(tgz)).startswith("package example.ig#1.0.0")
    assert load_ig(registry, str(tmp_path / "v.json")) == (
        f"1 conformance resource from {tmp_path / 'v.json'}"
    )
    assert registry.packages == ["example.ig#1.0.0"]


@pytest.mark.parametrize("spec", ["ig.x#1.0.0", "ig.x@1.0.0", "ig.x"])
def test_load_ig_from_cache(spec: str, registry: Registry, cache: Path) -> None:
    """``id#version``, ``id@version`` and a bare id (newest release) come from the cache."""
    cached(cache, "ig.x", "0.9.0", {"a.json": sd("a", "0.9.0")})
    cached(cache, "ig.x", "1.0.0", {"a.json": sd("a", "1.0.0")})
    cached(cache, "ig.x", "current", {"a.json": sd("a", "9.9.9")})
    cached(cache, "ig.xy", "5.0.0", {})
    assert load_ig(registry, spec) == "package ig.x#1.0.0: 1 conformance resource"
    found = registry.structure_definition(f"{BASE}/StructureDefinition/a")
    assert found is not None and found["version"] == "1.0.0"


def test_load_ig_reports_dependencies(tmp_path: Path, registry: Registry, cache: Path) -> None:
    """The description lists loaded and missing dependencies."""
    cached(cache, "dep", "1.0.0", {})
    root = write_package(tmp_path, "main", "1.0.0", {}, dependencies={"dep": "1.0.0", "x": "2"})
    assert load_ig(registry, str(root)) == (
        "package main#1.0.0: 0 conformance resources; dependencies loaded: dep#1.0.0; "
        "dependencies not in the package cache: x#2"
    )


def test_load_ig_not_in_cache_says_where_it_looked(registry: Registry, cache: Path) -> None:
    """An uncached id#version names the package and the cache folder searched."""
    with pytest.raises(PackageError) as raised:
        load_ig(registry, "hl7.fhir.us.core#6.1.0")
    message = str(raised.value)
    assert "package hl7.fhir.us.core#6.1.0 is not in the FHIR package cache" in message
    assert str(cache / "hl7.fhir.us.core#6.1.0") in message


def test_load_ig_unknown_path(tmp_path: Path, registry: Registry, cache: Path) -> None:
    """A spec that is neither a path nor a package id is reported as a missing path."""
    with pytest.raises(PackageError, match="no such file or folder"):
        load_ig(registry, str(tmp_path / "profiles"))
    with pytest.raises(PackageError, match=r"^profile\.json: no such file or folder"):
        load_ig(registry, "profile.json")
