"""With ``advice``: a value in none of the slices of an open slicing is said (information),
naming the slices it does not match (checks/slicing.py). The profile is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/identified-patient"
CPR = "urn:oid:1.2.208.176.1.2"
PROFILE = {
    "resourceType": "StructureDefinition", "url": URL, "name": "IdentifiedPatient",
    "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "derivation": "constraint", "differential": {"element": [
        {"id": "Patient", "path": "Patient"},
        {"id": "Patient.identifier", "path": "Patient.identifier", "slicing": {
            "discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
        {"id": "Patient.identifier:cpr", "path": "Patient.identifier", "sliceName": "cpr"},
        {"id": "Patient.identifier:cpr.system", "path": "Patient.identifier.system",
         "fixedUri": CPR}]}}


def validate(*identifiers: dict[str, Any], advice: bool = True) -> ValidationResult:
    registry = Registry()
    registry.add(PROFILE)
    return Validator(registry, options=ValidationOptions(advice=advice)).validate(
        {"resourceType": "Patient", "text": NARRATIVE, "identifier": list(identifiers)},
        profiles=[URL])


def test_value_in_no_slice_is_said() -> None:
    """A hospital number matches no slice of the open slicing: information at the value."""
    result = validate({"system": CPR, "value": "0101709995"},
                      {"system": "urn:oid:1.2.208.176.1.99", "value": "H-1"})
    assert result.ok
    issue = assert_issue(result, "Patient.identifier[1]", severity="information",
                         code="informational", fragment="does not match any known slice")
    assert issue.message.endswith("it does not match slice 'cpr'")
    assert issue.rule == "slice-unmatched"
    assert [i for i in result.issues if i.expression == "Patient.identifier[0]"] == []


def test_no_hint_without_advice() -> None:
    """Off by default."""
    result = validate({"system": "urn:oid:1.2.208.176.1.99", "value": "H-1"}, advice=False)
    assert [i for i in result.issues if i.rule == "slice-unmatched"] == []
