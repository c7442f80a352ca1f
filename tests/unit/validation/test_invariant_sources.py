"""A profile's own invariants: a failure names the profile that defines it, and an expression
that cannot be evaluated is said so at the element (checks/invariant.py). The profile is
synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/invariant-patient"


def validator(expression: str) -> Validator:
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "url": URL, "name": "InvariantPatient",
        "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Patient", "path": "Patient"},
            {"id": "Patient.name", "path": "Patient.name", "constraint": [{
                "key": "inv-name-1", "severity": "error", "human": "a family name is given",
                "expression": expression}]}]}})
    return Validator(registry)


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "meta": {"profile": [URL]},
            **elements}


def test_failed_profile_invariant_names_its_profile() -> None:
    """The message says which profile defines the failed constraint."""
    result = validator("family.exists()").validate(patient(name=[{"given": ["Synne"]}]))
    issue = assert_issue(result, "Patient.name[0]", severity="error", code="invariant",
                         fragment="constraint inv-name-1 failed: a family name is given")
    assert issue.message.endswith(f"(defined in {URL})")
    assert validator("family.exists()").validate(patient(name=[{"family": "Testesen"}])).ok


def test_core_invariant_failure_names_no_source() -> None:
    """Core invariants are the specification's: no source is added."""
    result = Validator(Registry()).validate(
        {"resourceType": "Patient", "text": NARRATIVE, "contact": [{"gender": "male"}]})
    issue = assert_issue(result, "Patient.contact[0]", severity="error", code="invariant",
                         fragment="constraint pat-1 failed")
    assert "defined in" not in issue.message


def test_invariant_that_cannot_be_evaluated() -> None:
    """An expression the engine cannot evaluate is a warning (processing) at the element."""
    result = validator("family.where(").validate(patient(name=[{"family": "Testesen"}]))
    issue = assert_issue(result, "Patient.name[0]", severity="warning", code="processing",
                         fragment="invariant inv-name-1 could not be evaluated")
    assert issue.rule == "inv-name-1"


def test_core_profile_invariant_names_its_profile() -> None:
    """A body weight is checked against the core vital signs profiles: vs-2 comes from
    vitalsigns, and says so."""
    result = Validator(Registry()).validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"display": "a synthetic patient"}, "effectiveDateTime": "2024-05-01"})
    issue = assert_issue(result, "Observation", severity="error", code="invariant",
                         fragment="constraint vs-2 failed")
    assert issue.message.endswith(
        "(defined in http://hl7.org/fhir/StructureDefinition/vitalsigns)")
