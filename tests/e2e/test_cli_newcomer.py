"""What a newcomer runs first, as a subprocess: the README's generate → validate flow, a
folder of examples, ``python -m ecanfhir``, a source profile given as a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def ecanfhir(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def test_generated_folder_validates(env: dict[str, str], tmp_path: Path) -> None:
    """`generate --out DIR` then `validate DIR` exits 0: manifest.json is skipped with a note."""
    out = tmp_path / "cases"
    made = ecanfhir(env, "generate", "referral", "--count", "3", "--seed", "4", "--out", out)
    assert made.returncode == 0, made.stderr
    assert (out / "manifest.json").is_file()
    checked = ecanfhir(env, "validate", out, "--no-progress")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "manifest.json" not in checked.stdout
    assert f"skipping {out / 'manifest.json'}: not a FHIR resource" in checked.stderr
    assert "3 resource(s) checked: 3 valid, 0 invalid" in checked.stdout


def test_a_named_non_resource_is_still_validated(env: dict[str, str], tmp_path: Path) -> None:
    """Only a folder walk skips JSON without resourceType; a file named is reported."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"files": []}))
    checked = ecanfhir(env, "validate", manifest, "--format", "json")
    assert checked.returncode == 1
    issue = json.loads(checked.stdout)["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == "required"


def test_a_folder_of_only_non_resources_is_a_usage_error(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "manifest.json").write_text(json.dumps({"files": []}))
    checked = ecanfhir(env, "validate", tmp_path / "only")
    assert checked.returncode == 2
    assert "no FHIR resources to validate" in checked.stderr


def test_expected_outcomes_beside_examples_are_not_inputs(env: dict[str, str]) -> None:
    """`X.expected.json` beside `X.json` is an example's expected OperationOutcome, not an
    input: a folder walk leaves it out; named, it is validated like any file."""
    folder = EXAMPLES / "ecan-patient"
    expected = sorted(folder.glob("*.expected.json"))
    assert expected
    checked = ecanfhir(env, "validate", folder, "--format", "json", "--no-progress")
    urls = [e["fullUrl"] for e in json.loads(checked.stdout)["entry"]]
    assert len(urls) == len(list(folder.glob("*.json"))) - len(expected)
    assert not any(url.endswith(".expected.json") for url in urls)
    named = ecanfhir(env, "validate", expected[0])
    assert named.returncode == 0 and f"{expected[0]}: valid" in named.stdout


def test_python_dash_m_ecanfhir(env: dict[str, str]) -> None:
    """`python -m ecanfhir` is the `ecanfhir` command."""
    done = ecanfhir(env, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("ecanfhir ")


def test_source_profile_file_has_its_canonical_resolved(env: dict[str, str]) -> None:
    """`--profile profiles/StructureDefinition/X.json` (written with {{canonical}}) reads the
    canonical from the package's package.json, as loading the package does."""
    checked = ecanfhir(env, "validate", EXAMPLES / "ecan-patient" / "invalid-cpr-date.json",
                       "--no-pilot", "--profile",
                       REPO / "profiles" / "StructureDefinition" / "ecan-patient.json",
                       "--format", "json")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "{{canonical}}" not in checked.stdout
    issues = json.loads(checked.stdout)["issue"]
    assert [(i["code"], i["expression"]) for i in issues if i["severity"] == "error"] == [
        ("invariant", ["Patient.identifier[0]"])]
