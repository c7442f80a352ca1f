"""Duration limits on dates (R4 ElementDefinition.minValue[x]/maxValue[x], comments).

For a date, dateTime or instant, a Duration limit is relative to the current time: the minimum
is now minus the duration, the maximum now plus the duration. ``check_min_max`` takes ``now``
so the rule is tested at a fixed instant; the validator runs at the real clock, tested with
dates far enough from it. All data is synthetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, Validator
from ecanfhir.definitions.compiled import ElementNode, TypeRef
from ecanfhir.validation.checks.pattern import check_min_max

UCUM = "http://unitsofmeasure.org"
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
PROFILE = "http://example.org/fhir/StructureDefinition/"


def years(n: int) -> dict[str, Any]:
    return {"value": n, "unit": "years", "system": UCUM, "code": "a"}


def days(n: int) -> dict[str, Any]:
    return {"value": n, "unit": "days", "system": UCUM, "code": "d"}


def node(**limits: Any) -> ElementNode:
    """Patient.birthDate with ``min_value``/``max_value`` limits as (property, Duration)."""
    return ElementNode("Patient.birthDate", "Patient.birthDate", "birthDate", 0, 1,
                       (TypeRef("date"),), **limits)


@pytest.mark.parametrize(("value", "ok"), [
    ("1924-06-15", True),               # exactly 100 years before now
    ("1924-06-14", False),
    ("1924", True),                     # a year that straddles the limit: not decided
    ("1923", False),
    ("2024-06-15T11:00:00+02:00", True),
])
def test_min_value_duration_is_now_minus_the_duration(value: str, ok: bool) -> None:
    """minValueDuration 100 a: no earlier than 100 years before now."""
    issues = list(check_min_max(node(min_value=("minValueDuration", years(100))), value,
                                "Patient.birthDate", now=NOW))
    assert [(i.code, i.rule, i.expression) for i in issues] == (
        [] if ok else [("value", "min-value", "Patient.birthDate")])


@pytest.mark.parametrize(("value", "ok"), [
    ("1970-01-01", True),               # a date in the past is below a maximum after now
    ("2024-06-15", True),
    ("2024-07-15", True),               # 30 days after now
    ("2024-07-16", False),
    ("2024-07-15T12:00:00Z", True),
    ("2024-07-15T13:30:00+02:00", True),  # 11:30Z
    ("2024-07-15T14:30:00+02:00", False),  # 12:30Z: the same day, but after the instant
    ("2024-07-15T12:00:01Z", False),
    ("2025", False),
])
def test_max_value_duration_is_now_plus_the_duration(value: str, ok: bool) -> None:
    """maxValueDuration 30 d: no later than 30 days after now."""
    issues = list(check_min_max(node(max_value=("maxValueDuration", days(30))), value,
                                "Patient.birthDate", now=NOW))
    expected = [] if ok else [("value", "max-value", "Patient.birthDate")]
    assert [(i.code, i.rule, i.expression) for i in issues] == expected


def test_zero_duration_maximum_forbids_the_future() -> None:
    """maxValueDuration 0 d: not in the future; the message says the limit is relative."""
    limit = node(max_value=("maxValueDuration", days(0)))
    assert list(check_min_max(limit, "2024-06-15T11:59:59Z", "Patient.birthDate", now=NOW)) == []
    [issue] = check_min_max(limit, "2024-06-16", "Patient.birthDate", now=NOW)
    assert 'greater than the maximum "2024-06-15T12:00:00Z" (0 d after now)' in issue.message


def _validator(**limits: Any) -> Validator:
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "id": "dated", "url": PROFILE + "dated",
        "name": "Dated", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
        "abstract": False, "type": "Patient", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "differential": {"element": [
            {"id": "Patient.birthDate", "path": "Patient.birthDate", **limits}]}})
    return Validator(registry)


def _patient(birth_date: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "birthDate": birth_date,
            "text": {"status": "generated",
                     "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic</div>'}}


def test_validator_applies_duration_limits_at_the_current_time() -> None:
    """Between 150 years ago and 1 year ahead: 1950 and last month pass, 1850 and 2100 fail."""
    checker = _validator(minValueDuration=years(150), maxValueDuration=years(1))
    last_month = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    for fine in ("1950-01-01", last_month):
        assert checker.validate(_patient(fine), profiles=[PROFILE + "dated"]).issues == ()
    result = checker.validate(_patient("1850-01-01"), profiles=[PROFILE + "dated"])
    issue = assert_issue(result, "Patient.birthDate", severity="error", code="value",
                         fragment="less than the minimum")
    assert issue.rule == "min-value"
    result = checker.validate(_patient("2100-01-01"), profiles=[PROFILE + "dated"])
    issue = assert_issue(result, "Patient.birthDate", severity="error", code="value",
                         fragment="greater than the maximum")
    assert issue.rule == "max-value"
