"""``ecanfhir validate`` on FHIR XML, as a user runs it: files told apart by content, folders,
standard input, XML profiles and conformance folders, and hostile XML refused with a report.

Exit codes: 0 valid, 1 errors found. All data is synthetic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NS = 'xmlns="http://hl7.org/fhir"'
NARRATIVE = ('<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">'
             'Synthetic test patient</div></text>')
VALID = f'<Patient {NS}><id value="p1"/>{NARRATIVE}<gender value="female"/></Patient>'
INVALID = f'<Patient {NS}><id value="p1"/>{NARRATIVE}\n<gender value="mal"/></Patient>'
PROFILE_URL = "http://example.org/fhir/StructureDefinition/xml-patient"
PROFILE = f"""<StructureDefinition {NS}>
  <url value="{PROFILE_URL}"/><name value="XmlPatient"/><status value="draft"/>
  <fhirVersion value="4.0.1"/><kind value="resource"/><abstract value="false"/>
  <type value="Patient"/>
  <baseDefinition value="http://hl7.org/fhir/StructureDefinition/Patient"/>
  <derivation value="constraint"/>
  <differential><element id="Patient.birthDate"><path value="Patient.birthDate"/>
    <min value="1"/></element></differential>
</StructureDefinition>"""
LAUGHS = "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                 for p, c in zip("abcdefgh", "bcdefghi", strict=True))
HOSTILE = {
    "billion-laughs": '<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY a "aaaaaaaaaa">'
                      f'{LAUGHS}]><Patient {NS}><name><family value="&i;"/></name></Patient>',
    "external-entity": '<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY e SYSTEM '
                       f'"file:///etc/passwd">]><Patient {NS}><name><family value="&e;"/>'
                       "</name></Patient>",
}


def ecanfhir(env: dict[str, str], *args: str | Path,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, input=stdin, timeout=120,
                          check=False)


def errors(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The error and fatal issues of a --format json report."""
    report = json.loads(done.stdout)
    outcomes = report if isinstance(report, list) else [report]
    found: list[dict[str, Any]] = []
    for outcome in outcomes:
        found.extend(outcome.get("outcome", outcome).get("issue", []))
    return [i for i in found if i["severity"] in ("error", "fatal")]


def test_an_xml_file_of_any_name_is_validated_by_content(tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    message = tmp_path / "message.txt"
    message.write_text(INVALID)
    done = ecanfhir(env, "validate", message, "--format", "json")
    assert done.returncode == 1, done.stderr
    [error] = errors(done)
    assert (error["code"], error["expression"]) == ("code-invalid", ["Patient.gender"])
    assert "(line 2, column 1)" in error["diagnostics"]


def test_a_folder_walk_takes_xml_files_and_skips_other_xml(tmp_path: Path,
                                                            env: dict[str, str]) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xml").write_text(VALID)
    (tmp_path / "in" / "b.json").write_text(json.dumps({"resourceType": "Basic", "code": {
        "text": "x"}}))
    (tmp_path / "in" / "pom.xml").write_text('<project xmlns="http://maven.apache.org/POM/4.0.0"/>')
    done = ecanfhir(env, "validate", tmp_path / "in", "--format", "text")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a.xml" in done.stdout and "b.json" in done.stdout
    assert "skipping" in done.stderr and "pom.xml" in done.stderr


def test_standard_input(env: dict[str, str]) -> None:
    done = ecanfhir(env, "validate", "-", "--format", "json", stdin=INVALID)
    assert done.returncode == 1, done.stderr
    assert [e["expression"] for e in errors(done)] == [["Patient.gender"]]


def test_xml_profile_and_xml_conformance_folder(tmp_path: Path, env: dict[str, str]) -> None:
    """--profile FILE.xml, and --ig a folder holding the same StructureDefinition as XML."""
    profile = tmp_path / "profile.xml"
    profile.write_text(PROFILE)
    patient = tmp_path / "patient.xml"
    patient.write_text(VALID)
    done = ecanfhir(env, "validate", patient, "--profile", profile, "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    [error] = errors(done)
    assert (error["code"], error["expression"]) == ("required", ["Patient.birthDate"])
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "sd.xml").write_text(PROFILE)
    done = ecanfhir(env, "validate", patient, "--ig", folder, "--profile", PROFILE_URL,
                    "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert [e["expression"] for e in errors(done)] == [["Patient.birthDate"]]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_xml_gets_a_fatal_issue_and_exit_1(tmp_path: Path, env: dict[str, str],
                                                   kind: str) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(HOSTILE[kind])
    done = ecanfhir(env, "validate", bad, "--format", "json")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [fatal] = errors(done)
    assert (fatal["severity"], fatal["code"]) == ("fatal", "security")
    assert "root:" not in done.stdout


def test_assume_valid_rest_references_checks_the_type_a_reference_names(
        tmp_path: Path, env: dict[str, str]) -> None:
    """Observation.subject 'Medication/m1' (not at hand): valid by default, as with the HL7
    validator; an error at the reference with --assume-valid-rest-references."""
    observation = tmp_path / "observation.xml"
    observation.write_text(
        f'<Observation {NS}>{NARRATIVE}<status value="final"/><code><text value="Weight"/>'
        '</code>\n<subject><reference value="Medication/m1"/></subject></Observation>')
    done = ecanfhir(env, "validate", observation, "--format", "json")
    assert (done.returncode, errors(done)) == (0, []), done.stdout + done.stderr
    done = ecanfhir(env, "validate", observation, "--assume-valid-rest-references",
                    "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    [error] = errors(done)
    assert (error["code"], error["expression"]) == ("structure", ["Observation.subject.reference"])
    assert "Medication" in error["details"]["text"] and "line 2" in error["diagnostics"]
