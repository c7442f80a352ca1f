"""The ``ecanfhir snapshot`` command as a user runs it: a subprocess, exit codes, files.

``snapshot FILE`` writes the StructureDefinition with the snapshot generated from its
differential (as HL7's tools do); problems in the profile go to stderr. Exit codes: 0 done,
1 the profile has errors (e.g. it loosens its base), 2 usage or unreadable input. All data is
synthetic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Registry

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "tests" / "fixtures" / "profiles"
IDENTIFIERS = PROFILES / "patient-identifiers.json"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
BASE_URL = EXAMPLE + "patient-identifiers"
CPR = "urn:oid:1.2.208.176.1.2"


def ecanfhir(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def derived(name: str, *elements: dict[str, Any], base: str = BASE_URL) -> dict[str, Any]:
    """A differential-only Patient profile on ``base``."""
    return {"resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name,
            "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": "Patient", "baseDefinition": base,
            "derivation": "constraint", "differential": {"element": list(elements)}}


def by_id(sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in sd["snapshot"]["element"]}


def assert_clean_stderr(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# -- the snapshot ----------------------------------------------------------------------------

def test_snapshot_on_stdout_has_hl7_element_ids(env: dict[str, str]) -> None:
    """Exit 0; slices and their children get ids like Patient.identifier:cpr.system."""
    done = ecanfhir(env, "snapshot", IDENTIFIERS)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    sd = json.loads(done.stdout)
    ids = [e["id"] for e in sd["snapshot"]["element"]]
    assert len(ids) == len(set(ids))
    wanted = ["Patient", "Patient.identifier", "Patient.identifier:cpr",
              "Patient.identifier:cpr.system", "Patient.identifier:cpr.value",
              "Patient.identifier:passport", "Patient.identifier:passport.system",
              "Patient.active"]
    assert [i for i in ids if i in wanted] == wanted
    for element in sd["snapshot"]["element"]:
        path = ".".join(part.split(":", 1)[0] for part in element["id"].split("."))
        assert element["path"] == path, element["id"]


def test_snapshot_carries_the_differential_rules_and_the_base(env: dict[str, str]) -> None:
    """The slice rules are merged in; every element of the core Patient is there."""
    sd = json.loads(ecanfhir(env, "snapshot", IDENTIFIERS).stdout)
    elements = by_id(sd)
    assert elements["Patient.identifier"]["slicing"]["discriminator"] == [
        {"type": "value", "path": "system"}]
    cpr = elements["Patient.identifier:cpr"]
    assert (cpr["sliceName"], cpr["min"], cpr["max"]) == ("cpr", 1, "1")
    system = elements["Patient.identifier:cpr.system"]
    assert (system["min"], system["fixedUri"]) == (1, CPR)
    assert system["base"]["path"] == "Identifier.system"
    assert elements["Patient.identifier:cpr.value"]["maxLength"] == 10
    assert elements["Patient.identifier:passport.system"]["patternUri"] == \
        "urn:oid:1.2.208.176.1.6"
    core = Registry().structure_definition("Patient")
    assert core is not None
    assert {e["id"] for e in core["snapshot"]["element"]} <= set(elements)
    original = json.loads(IDENTIFIERS.read_text(encoding="utf-8"))
    assert sd["differential"] == original["differential"]
    assert sd["url"] == original["url"]


def test_output_option_writes_the_file(env: dict[str, str], tmp_path: Path) -> None:
    """--output FILE: the profile with its snapshot goes there; stdout stays empty."""
    target = tmp_path / "out" / "patient-identifiers.snapshot.json"
    target.parent.mkdir()
    done = ecanfhir(env, "snapshot", IDENTIFIERS, "--output", target)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["resourceType"] == "StructureDefinition"
    assert "Patient.identifier:cpr.system" in by_id(written)


def test_output_into_a_missing_folder_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    """--output where it cannot be written: exit 2 naming the option, no traceback."""
    done = ecanfhir(env, "snapshot", IDENTIFIERS, "--output", tmp_path / "missing" / "x.json")
    assert done.returncode == 2
    assert "--output" in done.stderr
    assert_clean_stderr(done.stderr)


# -- profiles on profiles (--ig) ---------------------------------------------------------------

DERIVED = derived(
    "patient-identifiers-strict",
    {"id": "Patient.identifier:passport.value", "path": "Patient.identifier.value", "min": 1},
    {"id": "Patient.gender", "path": "Patient.gender", "min": 1})


@pytest.mark.parametrize("ig", ["file", "folder"])
def test_ig_loads_the_base_profile(env: dict[str, str], tmp_path: Path, ig: str) -> None:
    """--ig BASE: the derived snapshot has the base's slices and its own rules."""
    profile = write(tmp_path / "strict.json", DERIVED)
    folder = tmp_path / "ig"
    write(folder / "StructureDefinition-patient-identifiers.json",
          json.loads(IDENTIFIERS.read_text(encoding="utf-8")))
    source = IDENTIFIERS if ig == "file" else folder
    done = ecanfhir(env, "snapshot", profile, "--ig", source)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    elements = by_id(json.loads(done.stdout))
    assert elements["Patient.identifier:cpr.system"]["fixedUri"] == CPR
    assert elements["Patient.identifier:passport.value"]["min"] == 1
    assert elements["Patient.identifier:passport.system"]["min"] == 1
    assert elements["Patient.gender"]["min"] == 1


def test_base_not_loaded_exits_2_with_a_clear_message(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    """Without --ig the base cannot be found: exit 2 naming it, no traceback, no output."""
    done = ecanfhir(env, "snapshot", write(tmp_path / "strict.json", DERIVED))
    assert done.returncode == 2
    assert BASE_URL in done.stderr and "not loaded" in done.stderr
    assert done.stdout == ""
    assert_clean_stderr(done.stderr)


def test_loosening_profile_exits_1_with_the_issues_on_stderr(env: dict[str, str],
                                                             tmp_path: Path) -> None:
    """A profile may only restrict its base: each loosening is an error on stderr."""
    loose = derived(
        "patient-identifiers-loose",
        {"id": "Patient.identifier:cpr", "path": "Patient.identifier", "sliceName": "cpr",
         "max": "*"},
        {"id": "Patient.gender", "path": "Patient.gender",
         "binding": {"strength": "extensible",
                     "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}},
        {"id": "Patient.birthDate", "path": "Patient.birthDate", "type": [{"code": "string"}]})
    done = ecanfhir(env, "snapshot", write(tmp_path / "loose.json", loose), "--ig", IDENTIFIERS)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    for element_id, fragment in [("Patient.identifier:cpr", "max"),
                                 ("Patient.gender", "extensible"),
                                 ("Patient.birthDate", "string")]:
        assert any(line.startswith(f"error: {element_id}:") and fragment in line
                   for line in lines), done.stderr
    assert_clean_stderr(done.stderr)


def test_restricting_profile_has_nothing_on_stderr(env: dict[str, str], tmp_path: Path) -> None:
    """Tightening the base (min up, max down) is not reported."""
    tight = derived(
        "patient-identifiers-tight",
        {"id": "Patient.identifier:passport", "path": "Patient.identifier",
         "sliceName": "passport", "min": 1},
        {"id": "Patient.telecom", "path": "Patient.telecom", "max": "0"})
    done = ecanfhir(env, "snapshot", write(tmp_path / "tight.json", tight), "--ig", IDENTIFIERS)
    assert done.returncode == 0
    assert done.stderr == ""


# -- unusable input --------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "fragment"), [
    ('{"resourceType": "StructureDefinition", "url": ', "not valid JSON"),
    ('{"resourceType": "Patient", "id": "p1"}', "not a StructureDefinition"),
    ("[]", "not a StructureDefinition"),
    ('{"resourceType": "StructureDefinition", "url": "http://example.org/fhir/'
     'StructureDefinition/no-base", "type": "Patient", "derivation": "constraint", '
     '"differential": {"element": []}}', "baseDefinition"),
], ids=["bad-json", "patient", "array", "no-base"])
def test_unusable_input_exits_2(env: dict[str, str], tmp_path: Path, content: str,
                                fragment: str) -> None:
    """Not JSON, not a StructureDefinition, or nothing to build on: exit 2 and a message."""
    source = tmp_path / "input.json"
    source.write_text(content, encoding="utf-8")
    done = ecanfhir(env, "snapshot", source)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert str(source) in done.stderr or "no-base" in done.stderr
    assert done.stdout == ""
    assert_clean_stderr(done.stderr)


def test_missing_file_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    """A file that does not exist: exit 2 naming it."""
    done = ecanfhir(env, "snapshot", tmp_path / "nothing-here.json")
    assert done.returncode == 2
    assert "nothing-here.json" in done.stderr
    assert_clean_stderr(done.stderr)


def test_malformed_differential_exits_1_and_says_why(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    """differential.element that is not an array: nothing is applied, exit 1, a clear line."""
    sd = derived("broken-differential", base="http://hl7.org/fhir/StructureDefinition/Patient")
    sd["differential"] = {"element": "Patient.birthDate"}
    done = ecanfhir(env, "snapshot", write(tmp_path / "broken.json", sd))
    assert done.returncode == 1, done.stderr
    assert "StructureDefinition.differential" in done.stderr
    assert "array 'element'" in done.stderr
    assert_clean_stderr(done.stderr)
