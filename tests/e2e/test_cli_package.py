"""`ecanfhir package build` end to end: the pilot package's sources become a standard package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Registry, Validator, load_ig, load_package
from ecanfhir.definitions.pilot import pilot_source, pilot_url

ROOT = Path(__file__).resolve().parents[2]


def ecanfhir(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    done = ecanfhir("package", "build", ROOT / "profiles", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s)" in done.stdout
    return out


def test_build_writes_a_folder_and_an_archive(built: Path) -> None:
    """package/ holds the manifest, one file per resource and .index.json; the .tgz the same."""
    folder = built / "package"
    manifest = json.loads((folder / "package.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("ecanfhir.pilot", "0.1.0")
    index = json.loads((folder / ".index.json").read_text())
    names = {f["filename"] for f in index["files"]}
    assert names == {p.name for p in folder.glob("*.json")} - {"package.json", ".index.json"}
    with tarfile.open(built / "ecanfhir.pilot-0.1.0.tgz") as tar:
        members = {m.name for m in tar.getmembers()}
    assert members == {f"package/{p.name}" for p in folder.iterdir()}


def test_built_profiles_carry_snapshots_and_the_real_canonical(built: Path) -> None:
    """No {{canonical}} token is left; every StructureDefinition has a snapshot and a version."""
    for path in (built / "package").glob("StructureDefinition-*.json"):
        text = path.read_text()
        assert "{{canonical}}" not in text, path.name
        sd = json.loads(text)
        assert sd["snapshot"]["element"][0]["id"] == sd["type"], path.name
        assert sd["version"] == "0.1.0" or "medcom" in sd["url"]
        assert sd["url"].startswith("https://ecanfhir.example/fhir/") or "medcom" in sd["url"]


def test_archive_loads_from_a_file_and_from_the_package_cache(built: Path,
                                                              tmp_path: Path) -> None:
    """The .tgz loads as it is, and unpacked in ~/.fhir/packages/<id>#<version> by id#version."""
    registry = Registry()
    info = load_package(registry, built / "ecanfhir.pilot-0.1.0.tgz")
    assert info.label == "ecanfhir.pilot#0.1.0"
    cache = tmp_path / "packages"
    target = cache / "ecanfhir.pilot#0.1.0"
    target.mkdir(parents=True)
    with tarfile.open(built / "ecanfhir.pilot-0.1.0.tgz") as tar:
        tar.extractall(target, filter="data")
    cached = Registry()
    assert load_ig(cached, "ecanfhir.pilot#0.1.0", cache_dir=cache)
    url = pilot_url("StructureDefinition", "ecan-patient")
    assert cached.structure_definition(url) is not None
    assert registry.structure_definition(url) is not None


def _patient_without_name() -> dict[str, Any]:
    return {"resourceType": "Patient", "meta": {"profile": [
        pilot_url("StructureDefinition", "ecan-patient")]}, "gender": "female"}


def test_built_package_and_sources_give_the_same_issues(built: Path) -> None:
    """Generated snapshots (sources) and written snapshots (built) check an instance alike."""
    from_sources, from_build = Registry(), Registry()
    load_package(from_sources, pilot_source())
    load_package(from_build, built / "package")
    a = Validator(from_sources).validate(_patient_without_name())
    b = Validator(from_build).validate(_patient_without_name())
    assert a.errors, "the profile requires a name"
    assert [(i.code, i.expression) for i in a.issues] == [(i.code, i.expression)
                                                           for i in b.issues]


def test_a_profile_loosening_its_base_fails_the_build(tmp_path: Path) -> None:
    """A differential that lowers a core minimum is reported with its file and element; exit 1."""
    source = tmp_path / "src"
    (source / "StructureDefinition").mkdir(parents=True)
    shutil.copy(ROOT / "profiles" / "package.json", source / "package.json")
    (source / "StructureDefinition" / "loose.json").write_text(json.dumps({
        "resourceType": "StructureDefinition", "id": "loose", "url": "{{canonical}}/"
        "StructureDefinition/loose", "name": "Loose", "status": "draft", "kind": "resource",
        "abstract": False, "type": "Observation", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "differential": {"element": [{"id": "Observation.status",
                                      "path": "Observation.status", "min": 0}]}}))
    done = ecanfhir("package", "build", source, "--out", tmp_path / "out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "StructureDefinition-loose.json: Observation.status" in done.stderr


def test_not_a_package_is_a_usage_error(tmp_path: Path) -> None:
    """A folder without package.json: exit 2 and a message, no traceback."""
    done = ecanfhir("package", "build", tmp_path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "package.json" in done.stderr and "Traceback" not in done.stderr
