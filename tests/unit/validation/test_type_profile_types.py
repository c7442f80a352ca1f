"""A type profile for another type than the element's: not applied, and said so at the value
(validation/_walk.py). The profiles are synthetic."""

from __future__ import annotations

from typing import Any

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EX = "http://example.net/fhir/StructureDefinition/"


def name_profile(name: str, required: str) -> dict[str, Any]:
    """A HumanName profile requiring one of its parts."""
    return {"resourceType": "StructureDefinition", "url": EX + name, "name": name.title(),
            "status": "draft", "kind": "complex-type", "abstract": False, "type": "HumanName",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/HumanName",
            "derivation": "constraint", "differential": {"element": [
                {"id": "HumanName", "path": "HumanName"},
                {"id": f"HumanName.{required}", "path": f"HumanName.{required}", "min": 1}]}}


def test_type_profile_of_another_type_is_not_applied() -> None:
    """A HumanName element naming an Address profile: an error at the value, which is then
    checked as a HumanName."""
    registry = Registry()
    registry.add({**name_profile("cityaddress", "city"), "type": "Address",
                  "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Address",
                  "differential": {"element": [
                      {"id": "Address", "path": "Address"},
                      {"id": "Address.city", "path": "Address.city", "min": 1}]}})
    registry.add({
        "resourceType": "StructureDefinition", "url": EX + "addressed-name",
        "name": "AddressedName", "status": "draft", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Patient", "path": "Patient"},
            {"id": "Patient.name", "path": "Patient.name", "type": [
                {"code": "HumanName", "profile": [EX + "cityaddress"]}]}]}})
    result = Validator(registry).validate({
        "resourceType": "Patient", "text": NARRATIVE, "meta": {"profile": [EX + "addressed-name"]},
        "name": [{"family": "Testesen"}]})
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "structure", "Patient.name[0]", "profile-type")]
