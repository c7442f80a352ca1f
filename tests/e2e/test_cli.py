"""The ``ecanfhir validate`` command as a user runs it: a subprocess, exit codes, reports.

Exit codes: 0 valid, 1 errors found, 2 usage or unreadable input. All data is synthetic.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from _terminal import run_with_terminal_stderr

from ecanfhir import validate

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test patient</div>'}
VALID_PATIENT = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
                 "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "0101709995"}],
                 "name": [{"family": "Testesen", "given": ["Synne"]}], "gender": "female",
                 "birthDate": "1970-01-01"}
INVALID_PATIENT = {**VALID_PATIENT, "gender": "mal"}
PROFILE_URL = "http://example.org/fhir/StructureDefinition/test-patient"
PROFILE_SD: dict[str, Any] = {
    "resourceType": "StructureDefinition", "id": "test-patient", "url": PROFILE_URL,
    "name": "TestPatient", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
    "abstract": False, "type": "Patient", "derivation": "constraint",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "differential": {"element": [{"id": "Patient.deceased[x]", "path": "Patient.deceased[x]",
                                  "min": 1}]},
}
SCRIPT = shutil.which("ecanfhir")
RUNNERS = [pytest.param([sys.executable, "-m", "ecanfhir.cli"], id="module"),
           pytest.param([SCRIPT or "ecanfhir"], id="script", marks=pytest.mark.skipif(
               SCRIPT is None, reason="the ecanfhir script is not on PATH"))]


def ecanfhir(env: dict[str, str], *args: str | Path,
             command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    base = command or [sys.executable, "-m", "ecanfhir.cli"]
    return subprocess.run([*base, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def assert_clean_stderr(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# -- exit codes ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", RUNNERS)
def test_examples_are_valid(env: dict[str, str], command: list[str]) -> None:
    """The shipped example messages validate: exit 0, each file reported valid (the README's
    first command; examples/ as a whole also holds invalid examples, on purpose)."""
    done = ecanfhir(env, "validate", EXAMPLES / "bundles", command=command)
    assert done.returncode == 0, done.stdout + done.stderr
    for example in (EXAMPLES / "bundles").rglob("*.json"):
        assert f"{example.name}: valid" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("command", RUNNERS)
def test_invalid_file_exits_1(env: dict[str, str], tmp_path: Path, command: list[str]) -> None:
    """A resource with an error: exit 1, the error's location and message on stdout."""
    bad = write(tmp_path / "bad.json", INVALID_PATIENT)
    done = ecanfhir(env, "validate", bad, command=command)
    assert done.returncode == 1
    assert "Patient.gender" in done.stdout and "'mal'" in done.stdout
    assert "invalid" in done.stdout
    assert_clean_stderr(done.stderr)


def test_warnings_only_exit_0(env: dict[str, str], tmp_path: Path) -> None:
    """Warnings (dom-6) do not fail the run."""
    no_text = {k: v for k, v in VALID_PATIENT.items() if k != "text"}
    done = ecanfhir(env, "validate", write(tmp_path / "p.json", no_text))
    assert done.returncode == 0
    assert "dom-6" in done.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["validate", "no-such-file.json"], "no such file"),
    (["validate", "--no-such-option", "EXAMPLES"], "--no-such-option"),
    (["validate", "EMPTY"], "no .json files"),
    (["validate", "--profile", "http://example.org/fhir/StructureDefinition/not-loaded",
      "EXAMPLES"], "not-loaded"),
    (["validate", "--ig", "no-such-ig-folder", "EXAMPLES"], "no-such-ig-folder"),
    (["validate", "--format", "yaml", "EXAMPLES"], "yaml"),
    ([], "usage"),
], ids=["missing-file", "bad-option", "folder-without-json", "profile-not-loaded",
        "ig-not-found", "bad-format", "no-command"])
def test_usage_problems_exit_2(env: dict[str, str], tmp_path: Path, args: list[str],
                               fragment: str) -> None:
    """Missing input, bad options and unknown profiles: exit 2 and a message, no traceback."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not JSON", encoding="utf-8")
    real = [str(EXAMPLES) if a == "EXAMPLES" else str(empty) if a == "EMPTY" else a
            for a in args]
    done = ecanfhir(env, *real)
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr + done.stdout
    assert_clean_stderr(done.stderr)


def test_invalid_json_file_is_fatal_without_traceback(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    """Broken JSON: exit 1, a fatal issue naming line and column, nothing on stderr."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Patient",\n "id": }', encoding="utf-8")
    done = ecanfhir(env, "validate", broken)
    assert done.returncode == 1
    assert "fatal" in done.stdout and "line 2, column 8" in done.stdout
    assert done.stderr == ""


def test_one_bad_file_among_good_ones_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    """A folder with one invalid file fails, and says which."""
    write(tmp_path / "in" / "a.json", VALID_PATIENT)
    write(tmp_path / "in" / "b.json", INVALID_PATIENT)
    done = ecanfhir(env, "validate", tmp_path / "in")
    assert done.returncode == 1
    assert "a.json: valid" in done.stdout and "b.json: invalid" in done.stdout
    assert "1 valid, 1 invalid" in done.stdout


# -- report formats --------------------------------------------------------------------------

def test_json_format_for_one_file_is_one_operation_outcome(env: dict[str, str],
                                                           tmp_path: Path) -> None:
    """--format json with one input prints one OperationOutcome."""
    done = ecanfhir(env, "validate", "--format", "json", write(tmp_path / "bad.json",
                                                                INVALID_PATIENT))
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["resourceType"] == "OperationOutcome"
    assert [(i["severity"], i["code"], i["expression"]) for i in outcome["issue"]] == [
        ("error", "code-invalid", ["Patient.gender"])]


def test_json_format_for_several_files_is_a_bundle(env: dict[str, str],
                                                   tmp_path: Path) -> None:
    """--format json with several inputs prints a collection Bundle, one outcome per file."""
    good = write(tmp_path / "good.json", VALID_PATIENT)
    bad = write(tmp_path / "bad.json", INVALID_PATIENT)
    done = ecanfhir(env, "validate", "--format", "json", good, bad)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["resourceType"], report["type"]) == ("Bundle", "collection")
    outcomes = [e["resource"] for e in report["entry"]]
    assert [o["resourceType"] for o in outcomes] == ["OperationOutcome"] * 2
    assert outcomes[0]["issue"][0]["severity"] == "information"
    assert outcomes[1]["issue"][0]["expression"] == ["Patient.gender"]
    sources = [e["fullUrl"] for e in report["entry"]]
    assert sources == [Path(good).resolve().as_uri(), Path(bad).resolve().as_uri()]


def test_json_report_is_valid_fhir(env: dict[str, str], tmp_path: Path) -> None:
    """The JSON report validates with ecanfhir itself (no errors), for one and several files."""
    bad = write(tmp_path / "bad.json", INVALID_PATIENT)
    for args in ([bad], [bad, write(tmp_path / "good.json", VALID_PATIENT)]):
        done = ecanfhir(env, "validate", "--format", "json", *args)
        result = validate(json.loads(done.stdout))
        assert result.ok, result.errors


def test_junit_format_is_well_formed_with_a_failure(env: dict[str, str],
                                                    tmp_path: Path) -> None:
    """--format junit: one testcase per file, a failure for the invalid one."""
    good = write(tmp_path / "good.json", VALID_PATIENT)
    bad = write(tmp_path / "bad.json", INVALID_PATIENT)
    done = ecanfhir(env, "validate", "--format", "junit", good, bad)
    assert done.returncode == 1
    suite = ET.fromstring(done.stdout)
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {Path(c.get("name", "")).name: c for c in suite.iter("testcase")}
    assert cases["good.json"].find("failure") is None
    failure = cases["bad.json"].find("failure")
    assert failure is not None and "Patient.gender" in (failure.text or "")


def test_output_option_writes_the_report_to_a_file(env: dict[str, str],
                                                   tmp_path: Path) -> None:
    """--output FILE: the report goes there and stdout stays empty."""
    target = tmp_path / "reports" / "outcome.json"
    target.parent.mkdir()
    bad = write(tmp_path / "bad.json", INVALID_PATIENT)
    done = ecanfhir(env, "validate", "--format", "json", "--output", target, bad)
    assert done.returncode == 1
    assert done.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["resourceType"] == "OperationOutcome"


def test_output_to_unwritable_place_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    """--output into a folder that does not exist: exit 2 with a message."""
    done = ecanfhir(env, "validate", "--output", tmp_path / "missing" / "r.txt",
                    write(tmp_path / "p.json", VALID_PATIENT))
    assert done.returncode == 2
    assert "--output" in done.stderr
    assert_clean_stderr(done.stderr)


# -- implementation guides -------------------------------------------------------------------

def claiming_patient(**elements: Any) -> dict[str, Any]:
    return {**VALID_PATIENT, "meta": {"profile": [PROFILE_URL]}, **elements}


def test_ig_folder_of_loose_structure_definitions(env: dict[str, str], tmp_path: Path) -> None:
    """--ig FOLDER loads the profile a resource claims; its rules then apply."""
    ig = tmp_path / "ig"
    write(ig / "StructureDefinition-test-patient.json", PROFILE_SD)
    without = write(tmp_path / "without.json", claiming_patient())
    with_it = write(tmp_path / "with.json", claiming_patient(deceasedBoolean=False))
    done = ecanfhir(env, "validate", "--ig", ig, without)
    assert done.returncode == 1
    assert "Patient.deceased" in done.stdout
    assert ecanfhir(env, "validate", "--ig", ig, with_it).returncode == 0


def test_supporting_is_an_alias_of_ig(env: dict[str, str], tmp_path: Path) -> None:
    """--supporting FILE (the HL7 validator's name) loads a loose profile as --ig does."""
    profile = write(tmp_path / "StructureDefinition-test-patient.json", PROFILE_SD)
    without = write(tmp_path / "without.json", claiming_patient())
    done = ecanfhir(env, "validate", "--supporting", profile, "--format", "json", without)
    assert done.returncode == 1, done.stderr
    issues = [(i["severity"], i["code"], i.get("expression"))
              for i in json.loads(done.stdout)["issue"]]
    assert ("error", "required", ["Patient.deceased"]) in issues
    assert all(i[2] != ["Patient.meta.profile[0]"] for i in issues)  # the profile was loaded


def test_profile_file_also_given_as_ig(env: dict[str, str], tmp_path: Path) -> None:
    """--profile FILE applies the file's profile also when --ig loaded the same file first."""
    profile = write(tmp_path / "StructureDefinition-test-patient.json", PROFILE_SD)
    plain = write(tmp_path / "plain.json", VALID_PATIENT)
    done = ecanfhir(env, "validate", "--ig", profile, "--profile", profile, "--format", "json",
                    plain)
    assert done.returncode == 1, done.stderr
    issues = [(i["severity"], i["code"], i.get("expression"))
              for i in json.loads(done.stdout)["issue"]]
    assert ("error", "required", ["Patient.deceased"]) in issues


def test_claimed_profile_without_ig_is_a_warning(env: dict[str, str], tmp_path: Path) -> None:
    """Without --ig the claimed profile is unknown: a warning at meta.profile, exit 0."""
    done = ecanfhir(env, "validate", write(tmp_path / "p.json", claiming_patient()))
    assert done.returncode == 0
    assert "Patient.meta.profile[0]" in done.stdout and "warning" in done.stdout


def test_ig_package_tgz_with_profile_option(env: dict[str, str], tmp_path: Path) -> None:
    """--ig PACKAGE.tgz and --profile URL check a resource that does not claim the profile."""
    archive = tmp_path / "example.test.ig-0.1.0.tgz"
    members = {"package/package.json": {"name": "example.test.ig", "version": "0.1.0",
                                         "fhirVersions": ["4.0.1"]},
               "package/StructureDefinition-test-patient.json": PROFILE_SD}
    with tarfile.open(archive, "w:gz") as tgz:
        for name, content in members.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tgz.addfile(info, io.BytesIO(data))
    plain = write(tmp_path / "plain.json", VALID_PATIENT)
    done = ecanfhir(env, "validate", "--ig", archive, "--profile", PROFILE_URL, plain)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Patient.deceased" in done.stdout
    assert ecanfhir(env, "validate", "--ig", archive, plain).returncode == 0


# -- many files --------------------------------------------------------------------------------

def many_patients(folder: Path, count: int = 25) -> list[Path]:
    return [write(folder / f"patient-{i:02d}.json",
                  {**VALID_PATIENT, "id": f"p{i:02d}",
                   "name": [{"family": f"Testesen{i:02d}"}]}) for i in range(count)]


def test_folder_of_25_files_keeps_stdout_clean(env: dict[str, str], tmp_path: Path) -> None:
    """25 files, not on a TTY: exit 0, a JSON report on stdout and nothing on stderr."""
    many_patients(tmp_path / "many")
    done = ecanfhir(env, "validate", "--format", "json", tmp_path / "many")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert len(report["entry"]) == 25
    assert done.stdout.startswith("{")
    assert done.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_does_not_touch_stdout(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    """stderr on a TTY, stdout redirected: the report is byte-identical to a non-TTY run."""
    folder = tmp_path / "many"
    many_patients(folder)
    args = [sys.executable, "-m", "ecanfhir.cli", "validate", "--format", "junit", str(folder)]
    plain = subprocess.run(args, capture_output=True, env=env, timeout=120, check=False)
    on_tty, terminal = run_with_terminal_stderr(args, env=env, timeout=120)
    assert on_tty.returncode == plain.returncode == 0
    assert on_tty.stdout == plain.stdout
    ET.fromstring(on_tty.stdout)
    assert b"Traceback" not in terminal
