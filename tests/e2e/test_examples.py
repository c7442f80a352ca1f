"""``ecanfhir validate examples/`` agrees with every expected outcome (issue 4, Acceptance).

The CLI runs once, as a user runs it (a subprocess, ``--format json``); every example file is
then checked against its expectation: a valid example has no error; an invalid one produces each
issue of its ``invalid-*.expected.json`` (severity, code, FHIRPath location, rule) and no other
error (extra warnings and information are allowed). Every pilot profile (extensions aside) has at
least one valid and one invalid example, and ``scripts/make_examples.py`` regenerates the folder
byte for byte. All data is synthetic (fictitious CPR numbers, invented organisations).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROFILES = REPO / "profiles" / "StructureDefinition"
EXPECTED_SUFFIX = ".expected.json"
RULE_SYSTEM = "https://ecanfhir.example/fhir/CodeSystem/ecanfhir-validation-rule"
ERRORS = ("fatal", "error")

Key = tuple[str, str, str, str]  # severity, code, expression, rule


def _examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*.json") if not p.name.endswith(EXPECTED_SUFFIX))


def _outcomes() -> list[Path]:
    return sorted(EXAMPLES.rglob("*" + EXPECTED_SUFFIX))


def _rel(path: Path) -> str:
    return path.relative_to(EXAMPLES).as_posix()


EXAMPLE_FILES = _examples()
VALID = [p for p in EXAMPLE_FILES if not p.name.startswith("invalid-")]
INVALID = [p for p in EXAMPLE_FILES if p.name.startswith("invalid-")]


def _expectation(example: Path) -> Path:
    return example.with_name(example.name.removesuffix(".json") + EXPECTED_SUFFIX)


def _issue_key(issue: dict[str, Any]) -> Key:
    rule = next((c.get("code", "") for c in issue.get("details", {}).get("coding", ())
                 if c.get("system") == RULE_SYSTEM), "")
    return (issue["severity"], issue["code"], (issue.get("expression") or [""])[0], rule)


@pytest.fixture(scope="module")
def report() -> dict[str, list[Key]]:
    """The CLI's issues per example file (``examples/``-relative path), from ONE run. The
    expected outcomes are named too: a folder walk leaves ``X.expected.json`` out."""
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "ecanfhir.cli", "validate", str(EXAMPLES), *map(str, _outcomes()),
         "--format", "json", "--no-progress"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    # Invalid examples are there on purpose: the run finds errors.
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr
    bundle = json.loads(done.stdout)
    out: dict[str, list[Key]] = {}
    for entry in bundle["entry"]:
        path = Path(entry["fullUrl"].removeprefix("file://"))
        out[_rel(path)] = [_issue_key(i) for i in entry["resource"].get("issue", ())]
    return out


def _issues_of(report: dict[str, list[Key]], example: Path) -> list[Key]:
    assert _rel(example) in report, f"{_rel(example)} is missing from the CLI report"
    return report[_rel(example)]


def _describe(issues: list[Key]) -> str:
    return "\n".join(f"  {s} {c} {e} [{r}]" for s, c, e, r in issues) or "  (none)"


@pytest.mark.parametrize("example", VALID, ids=_rel)
def test_valid_example_has_no_error(report: dict[str, list[Key]], example: Path) -> None:
    """A valid example (and every message under bundles/) produces no error."""
    errors = [i for i in _issues_of(report, example) if i[0] in ERRORS]
    assert errors == [], f"{_rel(example)}:\n{_describe(errors)}"


@pytest.mark.parametrize("example", INVALID, ids=_rel)
def test_invalid_example_produces_expected_issues(report: dict[str, list[Key]],
                                                  example: Path) -> None:
    """Each expected issue is reported with its severity, code, location and rule; no other
    error is."""
    expected_file = _expectation(example)
    assert expected_file.is_file(), f"{_rel(example)} has no {expected_file.name}"
    spec = json.loads(expected_file.read_text(encoding="utf-8"))
    assert spec["resourceType"] == "OperationOutcome", expected_file.name
    assert "<p>" in spec["text"]["div"], f"{expected_file.name}: no description"
    expected = [_issue_key(i) for i in spec["issue"]]
    assert any(s in ERRORS for s, *_ in expected), f"{expected_file.name}: expects no error"
    actual = _issues_of(report, example)
    missing = [i for i in expected if i not in actual]
    unexpected = [i for i in actual if i[0] in ERRORS and i not in expected]
    assert not missing and not unexpected, (
        f"{_rel(example)} ({spec['description']})\nmissing:\n{_describe(missing)}\n"
        f"unexpected errors:\n{_describe(unexpected)}")


def test_every_expectation_has_its_example() -> None:
    """No orphan expected-outcome file (a renamed example would silently lose its check)."""
    orphans = [_rel(p) for p in EXAMPLES.rglob("*" + EXPECTED_SUFFIX)
               if not p.with_name(p.name.removesuffix(EXPECTED_SUFFIX) + ".json").is_file()]
    assert orphans == []


def _profiles() -> Iterator[str]:
    for path in sorted(PROFILES.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        if definition.get("type") != "Extension":
            yield str(definition["id"])


def test_every_profile_has_valid_and_invalid_examples() -> None:
    """Every pilot profile except extensions (exercised inside resources) has a folder with at
    least one valid-*.json and one invalid-*.json: a new profile without examples fails."""
    lacking = []
    for profile in _profiles():
        folder = EXAMPLES / profile
        valid = list(folder.glob("valid-*.json"))
        invalid = [p for p in folder.glob("invalid-*.json")
                   if not p.name.endswith(EXPECTED_SUFFIX)]
        if not valid or not invalid:
            lacking.append(f"{profile}: {len(valid)} valid, {len(invalid)} invalid")
    assert lacking == []


def test_examples_claim_the_profile_of_their_folder() -> None:
    """An example in examples/<profile-id>/ names that profile in meta.profile, so the CLI
    checks it against that profile (not only against the base resource)."""
    profiles = set(_profiles())
    wrong = []
    for example in EXAMPLE_FILES:
        folder = example.parent.name
        if folder in profiles:
            claimed = json.loads(example.read_text(encoding="utf-8")).get("meta", {}).get(
                "profile", [])
            if not any(url.endswith(f"/StructureDefinition/{folder}") for url in claimed):
                wrong.append(_rel(example))
    assert wrong == []


def test_make_examples_regenerates_identical_files(tmp_path: Path) -> None:
    """scripts/make_examples.py is deterministic: into an empty folder it writes exactly the
    committed examples, byte for byte."""
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "make_examples.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    generated = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
                 for p in tmp_path.rglob("*.json")}
    committed = {_rel(p): p.read_bytes() for p in EXAMPLES.rglob("*.json")}
    assert sorted(generated) == sorted(committed)
    differing = [name for name, data in generated.items() if committed[name] != data]
    assert differing == []


@pytest.mark.parametrize("outcome", _outcomes(), ids=_rel)
def test_expected_outcome_is_a_valid_operation_outcome(report: dict[str, list[Key]],
                                                       outcome: Path) -> None:
    """Expected-outcome files are R4 OperationOutcomes: the same run finds no error in them."""
    errors = [i for i in _issues_of(report, outcome) if i[0] in ERRORS]
    assert errors == [], f"{_rel(outcome)}:\n{_describe(errors)}"
