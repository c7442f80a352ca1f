"""Aggregation modes of a Reference (checks/reference.py; R4 ElementDefinition.type.aggregation):
whether the target may be contained, an entry of the same Bundle, or held elsewhere.

All data is synthetic: a profile of Observation whose subject admits given modes.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
PROFILE = "http://example.org/fhir/StructureDefinition/held-subject"
PATIENT = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE, "active": True}


def validator(*modes: str) -> Validator:
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "id": "held-subject", "url": PROFILE,
        "name": "HeldSubject", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
        "abstract": False, "type": "Observation", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "differential": {"element": [{
            "id": "Observation.subject", "path": "Observation.subject",
            "type": [{"code": "Reference", "aggregation": list(modes),
                      "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}]}]}})
    return Validator(registry)


def observation(reference: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "text": NARRATIVE, "status": "final",
            "meta": {"profile": [PROFILE]}, "code": {"text": "Synthetic"},
            "subject": {"reference": reference}, **more}


def contained() -> dict[str, Any]:
    return observation("#p1", contained=[{k: v for k, v in PATIENT.items() if k != "text"}])


def bundled(obs: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": obs},
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": PATIENT}]}


def aggregation(result: ValidationResult) -> list[tuple[str, str]]:
    return [(i.code, i.expression) for i in result.issues if i.rule == "reference-aggregation"]


def test_contained_only_subject() -> None:
    """Aggregation 'contained': a contained target passes, a Bundle entry is an error at the
    reference; a target not found here (validated alone) is not judged."""
    assert aggregation(validator("contained").validate(contained())) == []
    result = validator("contained").validate(bundled(observation("Patient/p1")))
    assert_issue(result, "Bundle.entry[0].resource.subject.reference", severity="error",
                 code="structure", fragment="an entry of the Bundle")
    assert aggregation(validator("contained").validate(observation("Patient/p1"))) == []


def test_referenced_admits_bundled_and_remote_but_not_contained() -> None:
    """'referenced' admits a target in the same Bundle or elsewhere; a contained one is an
    error."""
    v = validator("referenced")
    assert aggregation(v.validate(observation("Patient/p1"))) == []
    assert aggregation(v.validate(bundled(observation("Patient/p1")))) == []
    assert aggregation(v.validate(contained())) == [("structure", "Observation.subject.reference")]


@pytest.mark.parametrize(("modes", "expected"), [
    (("bundled",), []),
    (("contained",), [("structure", "Bundle.entry[0].resource.subject.reference")]),
    ((), []),
])
def test_bundled_target(modes: tuple[str, ...], expected: list[tuple[str, str]]) -> None:
    """A target that is an entry of the same Bundle: allowed by 'bundled' (and by no
    aggregation at all), an error under 'contained' only."""
    assert aggregation(validator(*modes).validate(bundled(observation("Patient/p1")))) == expected
