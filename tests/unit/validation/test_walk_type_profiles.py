"""A profile that an element's type names (ElementDefinition.type.profile) but that is not
loaded (ecanfhir.validation._walk): a warning at the value, never a silent pass, and the value is
still checked against its type. All data is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue
from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
MISSING = EXAMPLE + "national-identifier"  # named by the profile, loaded nowhere
NAMED = constraint("named-identifier", "Patient", element(
    "Patient.identifier", type=[{"code": "Identifier", "profile": [MISSING]}]))


def validate(identifier: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    registry.add(NAMED)
    patient = {"resourceType": "Patient", "text": NARRATIVE, "identifier": [identifier]}
    return Validator(registry).validate(patient, profiles=[NAMED["url"]])


def test_a_type_profile_that_is_not_loaded_is_a_warning_at_the_value() -> None:
    """The identifier is checked as an Identifier, and a warning says the profile its element
    names could not be applied, and how to load it."""
    result = validate({"system": "urn:oid:1.2.208.176.1.2", "value": "0101010101"})
    issue = assert_issue(result, "Patient.identifier[0]", severity="warning", code="not-found",
                         fragment=f"profile '{MISSING}' is not loaded, so the value (typed by "
                                  "Patient.identifier) was not checked against it (load its "
                                  "package with --ig)")
    assert issue.rule == "profile-unknown"
    assert result.errors == ()


def test_the_value_is_still_checked_against_its_type() -> None:
    """Without its profile the value still meets its type's rules: a period ending before it
    starts breaks per-1 at the value's period."""
    result = validate({"value": "0101010101",
                       "period": {"start": "2026-02-01", "end": "2026-01-01"}})
    issue = assert_issue(result, "Patient.identifier[0].period", severity="error",
                         code="invariant", fragment="per-1")
    assert issue.rule == "per-1"
    assert [i.rule for i in result.issues if i.severity == "warning"].count("profile-unknown") == 1
