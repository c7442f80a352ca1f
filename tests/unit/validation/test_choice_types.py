"""A choice element in a type its profile or extension definition does not allow: an error at
the property, naming the allowed types and the definition (checks/choice_types.py). The
profile is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/quantity-observation"
PROFILE = {
    "resourceType": "StructureDefinition", "url": URL, "name": "QuantityObservation",
    "status": "draft", "kind": "resource", "abstract": False, "type": "Observation",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
    "derivation": "constraint", "differential": {"element": [
        {"id": "Observation", "path": "Observation"},
        {"id": "Observation.value[x]", "path": "Observation.value[x]",
         "type": [{"code": "Quantity"}]}]}}


def observation(**value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "meta": {"profile": [URL]}, "text": NARRATIVE,
            "status": "final", "code": {"text": "a synthetic measurement"}, **value}


def validator() -> Validator:
    registry = Registry()
    registry.add(PROFILE)
    return Validator(registry)


def test_profile_type_not_allowed() -> None:
    """valueString where the profile allows only Quantity."""
    result = validator().validate(observation(valueString="high"))
    issue = assert_issue(result, "Observation.valueString", severity="error", code="structure",
                         fragment="value[x] allows only the type Quantity here")
    assert URL in issue.message and issue.message.endswith("found type string)")
    assert validator().validate(observation(valueQuantity={"value": 1})).ok


def test_extension_type_not_allowed() -> None:
    """An extension's value in a type its definition does not allow names the extension."""
    url = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
    result = validate({"resourceType": "Patient", "text": NARRATIVE,
                       "extension": [{"url": url, "valueString": "Aarhus"}]})
    issue = assert_issue(result, "Patient.extension[0].valueString", severity="error",
                         code="structure", fragment="value[x] allows only the type Address")
    assert url in issue.message
