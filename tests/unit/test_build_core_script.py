"""``scripts/build_core.py`` builds the embedded core zip from HL7's R4 package
(``hl7.fhir.r4.examples``), given as its ``.tgz`` or as the folder it was unpacked in, with the
same bytes either way; only the core definitions are kept."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_core.py"
STRING = {"resourceType": "StructureDefinition", "id": "string",
          "url": "http://hl7.org/fhir/StructureDefinition/string", "version": "4.0.1",
          "name": "string", "status": "active", "kind": "primitive-type", "abstract": False,
          "type": "string", "fhirVersion": "4.0.1",
          "text": {"status": "generated", "div": "<div>dropped</div>"},
          "snapshot": {"element": [{"id": "string", "path": "string", "min": 0, "max": "*",
                                    "comment": "dropped"}]}}
FILES: dict[str, dict[str, Any]] = {
    "package/package.json": {"name": "hl7.fhir.r4.examples", "version": "4.0.1"},
    "package/StructureDefinition-string.json": STRING,
    # An example profile of the spec's examples: no fhirVersion, not core.
    "package/StructureDefinition-example-composition.json": {
        **{k: v for k, v in STRING.items() if k not in ("fhirVersion", "version")},
        "id": "example-composition",
        "url": "http://hl7.org/fhir/StructureDefinition/example-composition"},
    "package/ValueSet-vs.json": {
        "resourceType": "ValueSet", "id": "vs", "version": "4.0.1",
        "url": "http://hl7.org/fhir/ValueSet/vs", "name": "Vs", "status": "active",
        "compose": {"include": [{"system": "http://hl7.org/fhir/cs"}]}},
    "package/CodeSystem-cs.json": {
        "resourceType": "CodeSystem", "id": "cs", "version": "4.0.1",
        "url": "http://hl7.org/fhir/cs", "name": "Cs", "status": "active",
        "content": "complete", "concept": [{"code": "a", "display": "A"}]},
    "package/Patient-example.json": {"resourceType": "Patient", "id": "example"},
    "package/other/ValueSet-elsewhere.json": {
        "resourceType": "ValueSet", "id": "elsewhere", "url": "http://example.org/vs"},
}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def write_folder(folder: Path) -> Path:
    for name, resource in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(resource))
    return folder


def write_tgz(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, resource in reversed(FILES.items()):  # not in name order
            data = json.dumps(resource).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_help() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "SOURCE" in done.stdout and "--out" in done.stdout
    assert "hl7.fhir.r4.examples@4.0.1" in done.stdout


def test_the_package_tgz_and_its_folder_give_the_same_zip(tmp_path: Path) -> None:
    packed = run(write_tgz(tmp_path / "p.tgz"), "--out", tmp_path / "a.zip")
    assert packed.returncode == 0, packed.stderr
    folder = run(write_folder(tmp_path / "unpacked"), "--out", tmp_path / "b.zip")
    assert folder.returncode == 0, folder.stderr
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        rows = json.loads(zf.read("index.json"))["resources"]
        string = json.loads(zf.read(rows[0][3]))
    assert sorted(r[0] for r in rows) == ["http://hl7.org/fhir/StructureDefinition/string",
                                          "http://hl7.org/fhir/ValueSet/vs",
                                          "http://hl7.org/fhir/cs"]
    assert "text" not in string and "comment" not in string["snapshot"]["element"][0]


def test_a_folder_without_the_definitions_is_exit_2(tmp_path: Path) -> None:
    done = run(tmp_path, "--out", tmp_path / "x.zip")
    assert done.returncode == 2
    assert "StructureDefinition-*.json" in done.stderr
    assert not (tmp_path / "x.zip").exists()
