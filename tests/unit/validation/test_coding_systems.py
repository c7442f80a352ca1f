"""Coding.system values that cannot be a code system (ecanfhir.validation.checks.coding): a value
set's URL, a build or web page URL, https: for a known http: code system.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
AT = "Observation.code.coding[0].system"


def observation(system: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"coding": [{"system": system, "code": "x"}]}}


def found(system: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in validate(observation(system)).issues
            if i.rule == "coding-system"]


@pytest.mark.parametrize("system", [
    "http://loinc.org", "http://example.org/fhir/CodeSystem/local",
    "http://terminology.hl7.org/CodeSystem/observation-category",
    "http://hl7.org/fhir/sid/icd-10", "https://example.org/cs",
])
def test_code_system_urls_pass(system: str) -> None:
    """Known, external and unknown-but-plausible systems are not judged here."""
    assert found(system) == []


@pytest.mark.parametrize(("system", "words"), [
    ("http://hl7.org/fhir/ValueSet/observation-status", "is a value set"),
    ("http://build.fhir.org/codesystem-observation-status.html", "build of the specification"),
    ("http://hl7.org/fhir/codesystem-observation-status.html", "is a web page"),
    ("https://hl7.org/fhir/observation-status", "wrongly starts with https"),
])
def test_system_that_is_no_code_system_is_an_error(system: str, words: str) -> None:
    """A value set, a build page, a web page or https: for http: is not the code system."""
    assert found(system) == [("error", "code-invalid", AT)]
    [issue] = [i for i in validate(observation(system)).issues if i.rule == "coding-system"]
    assert words in issue.message


def test_bound_code_without_system_is_a_warning() -> None:
    """Condition.clinicalStatus is bound: 'active' with no system cannot be checked."""
    resource = {"resourceType": "Condition", "text": NARRATIVE, "subject": {"display": "x"},
                "clinicalStatus": {"coding": [{"code": "active"}]}}
    found = [(i.severity, i.expression) for i in validate(resource).issues
             if i.rule == "coding-system"]
    assert found == [("warning", "Condition.clinicalStatus.coding[0]")]


def test_the_same_coding_twice_is_reported_at_each_place() -> None:
    """Findings on a coding are worked out once per system and code (they depend on the loaded
    definitions only), yet each occurrence is reported at its own location, in every
    validation."""
    gender = "http://hl7.org/fhir/administrative-gender"
    bad = {"system": gender, "code": "femal"}
    web_page = {"system": "http://hl7.org/fhir/observation-category.html", "code": "x"}
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"coding": [bad, web_page]},
                "category": [{"coding": [web_page, bad]}]}
    for _ in range(2):
        issues = validate(resource).issues
        assert sorted((i.expression, i.rule, i.severity) for i in issues
                      if i.rule in ("code-unknown", "coding-system")) == [
            ("Observation.category[0].coding[0].system", "coding-system", "error"),
            ("Observation.category[0].coding[1].code", "code-unknown", "error"),
            ("Observation.code.coding[0].code", "code-unknown", "error"),
            ("Observation.code.coding[1].system", "coding-system", "error"),
        ]
