"""Conditional references in a transaction: the search must be readable
(checks/reference_query.py). All data is synthetic."""

from __future__ import annotations

import pytest

from ecanfhir import ValidationOptions, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
AT = "Bundle.entry[0].resource.subject.reference"


def query_issues(reference: str) -> list[tuple[str, str, str]]:
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "a synthetic measurement"},
                   "subject": {"reference": reference}}
    result = validate({"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:7b0c1e2d-0000-4000-8000-000000000001", "resource": observation,
        "request": {"method": "POST", "url": "Observation"}}]})
    return [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule == "reference-query"]


@pytest.mark.parametrize("reference", [
    "Patient?identifier=http://example.org/mrn|123",
    "Patient?family=Testesen&birthdate=1970-01-01",
])
def test_readable_search_passes(reference: str) -> None:
    assert query_issues(reference) == []


@pytest.mark.parametrize("reference", [
    "Patient?", "Patient?identifier", "Patient?=123", "Patient?family=a&&given=b",
])
def test_unreadable_search_is_an_error(reference: str) -> None:
    """An empty query, a parameter without '=value' or without a name, an empty pair."""
    assert query_issues(reference) == [("error", "invalid", AT)]


@pytest.mark.parametrize(("reference", "warned"), [
    ("Patient/p1", False),
    ("Patient/p1/_history/2", False),
    ("patient/p1", True),  # not a resource type
    ("Patient/p1/extra", True),
    ("Patient/p 1", True),  # not an id
])
def test_suspicious_relative_reference(reference: str, warned: bool) -> None:
    """Trusting the type a relative URL names needs a URL that looks like Type/id."""
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "a synthetic measurement"},
                   "subject": {"reference": reference}}
    result = validate(observation, options=ValidationOptions(assume_valid_rest_references=True))
    found = [(i.severity, i.code, i.expression) for i in result.issues
             if i.rule == "reference-suspicious"]
    assert found == ([("warning", "invalid", "Observation.subject.reference")] if warned else [])
    assert [i.message for i in result.issues if i.rule == "reference-suspicious"] == (
        [f"the reference '{reference}' does not look like Type/id: check its syntax"]
        if warned else [])
    assert [i for i in validate(observation).issues if i.rule == "reference-suspicious"] == []
