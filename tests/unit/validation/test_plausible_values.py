"""Valid values that look like data-entry errors (ecanfhir.validation.checks.plausibility) and
element ids repeated within a resource (checks.element_ids): issue code, rule and FHIRPath
location; the plausible or unique cases pass. Data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from _resources import NARRATIVE

from ecanfhir import validate


def _observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "synthetic"}, **elements}


@pytest.mark.parametrize(("elements", "where"), [
    ({"effectiveDateTime": "1066-10-14"}, "Observation.effective.ofType(dateTime)"),
    ({"issued": "2999-01-01T00:00:00Z"}, "Observation.issued"),
    ({"effectivePeriod": {"start": "0999"}}, "Observation.effective.ofType(Period).start"),
])
def test_unreasonable_year_is_a_warning(elements: dict[str, Any], where: str) -> None:
    """A date, dateTime or instant before 1800 or 80 years ahead is valid, but suspicious."""
    result = validate(_observation(**elements))
    assert result.ok
    issue = assert_issue(result, where, severity="warning", code="invalid",
                         fragment="reasonable years")
    assert issue.rule == "date-reasonable"


def test_reasonable_years_pass() -> None:
    """A birth date of 1850 and an appointment next year say nothing."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "birthDate": "1850-02-01",
                       "deceasedDateTime": "2030-01-01T10:00:00+01:00"})
    assert not [i for i in result.issues if i.rule == "date-reasonable"], result.issues


@pytest.mark.parametrize("value", [0.005008015591556614, 1000000000000000000])
def test_decimal_beyond_common_precision_is_a_warning(value: float | int) -> None:
    """More than 18 digits is outside what systems commonly support (the HL7 validator's
    decimal RANGE status)."""
    result = validate(_observation(valueQuantity={"value": value}))
    issue = assert_issue(result, "Observation.value.ofType(Quantity).value", severity="warning",
                         code="value", fragment="commonly supported decimals")
    assert issue.rule == "decimal-range"


@pytest.mark.parametrize("value", [0.5, 120, 12345678.123456789, 1e-7])
def test_common_decimals_pass(value: float | int) -> None:
    """Ordinary measurements say nothing."""
    result = validate(_observation(valueQuantity={"value": value}))
    assert not [i for i in result.issues if i.rule == "decimal-range"], result.issues


def test_repeated_element_id_is_an_error_at_the_second_element() -> None:
    """Two elements of one resource with the same id: an error at the later one."""
    patient = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
               "identifier": [{"id": "x", "value": "1"}],
               "name": [{"id": "y", "family": "Test"}, {"id": "x", "family": "Other"}]}
    result = validate(patient)
    issue = assert_issue(result, "Patient.name[1]", severity="error", code="business-rule",
                         fragment="duplicate id value 'x'")
    assert issue.rule == "element-id-unique"
    assert "Patient.identifier[0]" in issue.message


def test_ids_are_unique_per_resource() -> None:
    """The same element id in two entries' resources, and a resource id equal to an element
    id, are fine: each resource has its own ids."""
    def patient(pid: str) -> dict[str, Any]:
        return {"resourceType": "Patient", "id": pid, "text": NARRATIVE,
                "name": [{"id": "n1", "family": "Test"}, {"id": pid, "family": "Same"}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0d1d9b8c-5a1e-4a57-9f53-3d35b6e4b8a1", "resource": patient("a")},
        {"fullUrl": "urn:uuid:7c0a6e2d-2f0b-4d1b-8d5f-8e1f6b1d2c3e", "resource": patient("b")}]}
    result = validate(bundle)
    assert not [i for i in result.issues if i.rule == "element-id-unique"], result.issues
