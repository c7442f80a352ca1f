"""``scripts/make_counterparts.py`` copies exactly a profile's dependency closure: its base,
the value sets of its checked (required, extensible) bindings and their code systems, not the
example or preferred ones; each copy without narrative, mappings or a published snapshot, in a
package cache ecanfhir loads."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

from _scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_counterparts.py"
DK = "http://hl7.dk/fhir/core/StructureDefinition/"
EX = "http://example.org/"


def _script() -> ModuleType:
    return load_script("make_counterparts", SCRIPT)


def _sd(url: str, base: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": url, "baseDefinition": base,
            "text": {"status": "generated", "div": "<div>dropped</div>"},
            "mapping": [{"identity": "dropped"}],
            "differential": {"element": [{"id": "Patient", "path": "Patient"}, *elements]}}


def _write(folder: Path, name: str, resource: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(resource), encoding="utf-8")


def test_copies_the_closure_of_a_counterpart(tmp_path: Path) -> None:
    """dk-core-patient → its base profile, the required binding's value set and code system;
    the example binding's value set and an unrelated profile stay behind."""
    igs = tmp_path / "real-igs" / "igs" / "dk-core"
    _write(igs, "StructureDefinition-dk-core-patient.json", _sd(
        DK + "dk-core-patient", EX + "base",
        {"id": "Patient.gender", "path": "Patient.gender",
         "binding": {"strength": "required", "valueSet": EX + "vs-required|1.0"}},
        {"id": "Patient.language", "path": "Patient.language",
         "binding": {"strength": "example", "valueSet": EX + "vs-example"}}))
    _write(igs, "StructureDefinition-base.json", _sd(EX + "base", "http://hl7.org/fhir/Patient"))
    _write(igs, "StructureDefinition-other.json", _sd(EX + "other", EX + "base"))
    _write(igs, "ValueSet-required.json", {"resourceType": "ValueSet", "url": EX + "vs-required",
                                           "compose": {"include": [{"system": EX + "cs"}]}})
    _write(igs, "ValueSet-example.json", {"resourceType": "ValueSet", "url": EX + "vs-example"})
    _write(igs, "CodeSystem-cs.json", {"resourceType": "CodeSystem", "url": EX + "cs"})
    ips = tmp_path / "ips.tgz"
    with tarfile.open(ips, "w:gz"):
        pass
    done = subprocess.run([sys.executable, str(SCRIPT), "--real-igs", str(tmp_path / "real-igs"),
                           "--ips", str(ips), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    package = tmp_path / "out" / "hl7.fhir.dk.core#3.8.0" / "package"
    assert sorted(p.name for p in package.iterdir()) == [
        "CodeSystem-cs.json", "StructureDefinition-base.json",
        "StructureDefinition-dk-core-patient.json", "ValueSet-required.json", "package.json"]
    copied = json.loads((package / "StructureDefinition-dk-core-patient.json").read_text())
    assert "text" not in copied and "mapping" not in copied and "differential" in copied
    manifest = json.loads((package / "package.json").read_text())
    assert (manifest["name"], manifest["version"], manifest["license"]) == (
        "hl7.fhir.dk.core", "3.8.0", "CC0-1.0")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "`hl7.fhir.dk.core#3.8.0` | 4 |" in readme
    assert f"- `{DK}dk-core-organization`" in readme   # named by the table, not in this source


def test_published_snapshots_are_dropped_when_a_differential_exists() -> None:
    """slim() keeps what validation reads: the differential, not the published snapshot."""
    slim = _script().slim
    sd = {"resourceType": "StructureDefinition", "snapshot": {"element": []},
          "differential": {"element": []}, "text": {}}
    assert slim(sd) == {"resourceType": "StructureDefinition", "differential": {"element": []}}
