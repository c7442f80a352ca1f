"""ValidationResult at the edge: the R4 OperationOutcome it becomes, and raise_for_errors()."""

from __future__ import annotations

import pytest

from ecanfhir import (
    Issue,
    ValidationFailed,
    ValidationResult,
    Validator,
    to_operation_outcome,
    validate,
)

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test patient</div>'}
INVALID = {"resourceType": "Patient", "text": NARRATIVE, "gender": "mal",
           "birthDate": "1970-13-01"}


def test_operation_outcome_has_one_issue_per_finding() -> None:
    """Each issue becomes severity, code, diagnostics and expression, in result order."""
    result = validate(INVALID)
    outcome = result.to_operation_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [(i["severity"], i["code"], i["expression"]) for i in outcome["issue"]] == [
        ("error", "invalid", ["Patient.birthDate"]),
        ("error", "code-invalid", ["Patient.gender"]),
    ]
    assert all(i["diagnostics"] for i in outcome["issue"])
    assert outcome["issue"][1]["details"]["coding"][0]["code"] == "binding-required"


def test_operation_outcome_of_clean_result_says_all_ok() -> None:
    """No issues: one information issue (OperationOutcome.issue is 1..*)."""
    outcome = validate({"resourceType": "Patient", "text": NARRATIVE}).to_operation_outcome()
    assert outcome == {"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational",
         "diagnostics": "All OK: no issues found"}]}


def test_issue_without_location_has_no_expression() -> None:
    """A fatal JSON syntax issue has no expression element (not an empty string)."""
    outcome = Validator().validate(b"{").to_operation_outcome()
    (issue,) = outcome["issue"]
    assert issue["severity"] == "fatal"
    assert "expression" not in issue


def test_operation_outcome_is_itself_valid_fhir() -> None:
    """The OperationOutcome for an invalid resource validates without errors."""
    outcome = validate(INVALID).to_operation_outcome()
    outcome["text"] = NARRATIVE
    assert validate(outcome).issues == ()


def test_to_operation_outcome_function_matches_method() -> None:
    """The module function and the method give the same resource."""
    result = validate(INVALID)
    assert to_operation_outcome(result.issues) == result.to_operation_outcome()


def test_raise_for_errors_raises_with_the_result() -> None:
    """Errors: ValidationFailed carries the result and names the first error."""
    result = validate(INVALID)
    with pytest.raises(ValidationFailed, match=r"2 error\(s\): Patient\.birthDate") as caught:
        result.raise_for_errors()
    assert caught.value.result is result


def test_raise_for_errors_returns_self_when_only_warnings() -> None:
    """Warnings (dom-6) do not raise; the result is returned for chaining."""
    result = validate({"resourceType": "Patient"})
    assert result.warnings and result.ok
    assert result.raise_for_errors() is result


def test_fatal_issue_counts_as_error() -> None:
    """A fatal issue makes the result not ok and raise_for_errors raise."""
    result = ValidationResult((Issue("fatal", "structure", "", "not JSON"),))
    assert not result.ok
    assert result.errors == result.issues
    with pytest.raises(ValidationFailed):
        result.raise_for_errors()
