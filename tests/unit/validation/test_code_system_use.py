"""What a Coding's system and version name (ecanfhir.validation.checks.code_system_use): a LOINC,
UCUM or RxNorm URL with a path, a supplement, a code system without its codes, a version not
loaded, a system not loaded at all. Each asserts severity, code, rule and FHIRPath location; the
valid cases say nothing. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _resources import NARRATIVE

from ecanfhir import Registry, Validator, validate

EX = "http://example.net/fhir/CodeSystem/"
AT = "Observation.code.coding[0]"
BASE_CS = {"resourceType": "CodeSystem", "url": EX + "colours", "version": "2.0.0",
           "status": "active", "content": "complete",
           "concept": [{"code": "red", "display": "Red"}]}
SUPPLEMENT = {"resourceType": "CodeSystem", "url": EX + "colours-da", "status": "active",
              "content": "supplement", "supplements": EX + "colours",
              "concept": [{"code": "red", "designation": [{"language": "da", "value": "Rød"}]}]}
EMPTY = {"resourceType": "CodeSystem", "url": EX + "licensed", "status": "active",
         "content": "not-present"}


def _validator() -> Validator:
    registry = Registry()
    registry.add_all([BASE_CS, SUPPLEMENT, EMPTY])
    return Validator(registry)


def _observation(**coding: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"coding": [coding]}}


def _found(result: Any, *rules: str) -> list[tuple[str, str, str, str]]:
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues if i.rule in rules]


@pytest.mark.parametrize("system", ["http://loinc.org/8480-6", "http://unitsofmeasure.org/mm",
                                    "http://www.nlm.nih.gov/research/umls/rxnorm/1"])
def test_path_after_a_code_systems_url_is_an_error(system: str) -> None:
    """LOINC, UCUM and RxNorm are named by their URL alone."""
    result = validate(_observation(system=system, code="8480-6"))
    assert _found(result, "coding-system") == [("error", "code-invalid", AT + ".system",
                                                "coding-system")]


def test_supplement_as_system_is_an_error() -> None:
    """A supplement adds designations to a code system; codes come from the code system."""
    result = _validator().validate(_observation(system=EX + "colours-da", code="red"))
    assert _found(result, "coding-system") == [("error", "code-invalid", AT + ".system",
                                                "coding-system")]
    assert "supplement" in next(i.message for i in result.issues if i.rule == "coding-system")


def test_code_system_that_cannot_check_codes_is_noted() -> None:
    """Unknown systems, and loaded ones without their codes, are information at the coding."""
    checker = _validator()
    for system in ("http://acme-lab.test/codes", EX + "licensed"):
        result = checker.validate(_observation(system=system, code="A1"))
        assert _found(result, "code-system-unknown") == [
            ("information", "not-found", AT, "code-system-unknown")], system
        assert result.ok


def test_version_not_loaded_is_a_warning_at_the_version() -> None:
    """A version of a loaded code system that is not loaded cannot be checked."""
    result = _validator().validate(_observation(system=EX + "colours", version="1.0.0",
                                                code="red"))
    assert _found(result, "code-system-version") == [
        ("warning", "not-found", AT + ".version", "code-system-version")]


def test_known_systems_say_nothing() -> None:
    """The right version, the exact LOINC URL, SNOMED CT and example systems pass silently."""
    checker = _validator()
    for coding in ({"system": EX + "colours", "version": "2.0.0", "code": "red"},
                   {"system": "http://loinc.org", "code": "8480-6"},
                   {"system": "http://snomed.info/sct", "code": "22298006"},
                   {"system": "http://example.org/fhir/CodeSystem/local", "code": "x"}):
        result = checker.validate(_observation(**coding))
        assert not _found(result, "coding-system", "code-system-unknown",
                          "code-system-version"), coding
