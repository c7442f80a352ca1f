"""Extension contexts the HL7 validator evaluates: a FHIRPath context (the extended element must
be among the nodes the expression selects) and StructureDefinition.contextInvariant (each must
hold on the extended element). Definitions and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

BASE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def extension(name: str, contexts: list[dict[str, str]], **more: Any) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": BASE + name, "name": name,
            "status": "draft", "kind": "complex-type", "abstract": False, "type": "Extension",
            "context": contexts, **more,
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint",
            "differential": {"element": [
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": BASE + name},
                {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1,
                 "type": [{"code": "boolean"}]}]}}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(extension("home-only", [{"type": "fhirpath",
                                          "expression": "Patient.address.where(use = 'home')"}]))
    registry.add(extension("inactive-only", [{"type": "element", "expression": "Patient"}],
                           contextInvariant=["Patient.active.not()"]))
    return Validator(registry)


def flag(name: str) -> dict[str, Any]:
    return {"url": BASE + name, "valueBoolean": True}


def context_errors(validator: Validator, resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.expression, i.rule) for i in validator.validate(resource).errors]


@pytest.mark.parametrize(("use", "found"), [
    ("home", []),
    ("work", [("Patient.address[0].extension[0]", "extension-context")]),
])
def test_fhirpath_context(validator: Validator, use: str, found: list[tuple[str, str]]) -> None:
    patient = {"resourceType": "Patient", "text": NARRATIVE,
               "address": [{"use": use, "city": "Aarhus", "extension": [flag("home-only")]}]}
    assert context_errors(validator, patient) == found


def test_fhirpath_context_on_another_resource_type(validator: Validator) -> None:
    organization = {"resourceType": "Organization", "text": NARRATIVE, "name": "Synthetic",
                    "address": [{"use": "work", "city": "Aarhus",
                                 "extension": [flag("home-only")]}]}
    assert context_errors(validator, organization) == [
        ("Organization.address[0].extension[0]", "extension-context")]


@pytest.mark.parametrize(("active", "found"), [
    (False, []),
    (True, [("Patient.extension[0]", "extension-context-invariant")]),
])
def test_context_invariant(validator: Validator, active: bool,
                           found: list[tuple[str, str]]) -> None:
    patient = {"resourceType": "Patient", "text": NARRATIVE, "active": active,
               "extension": [flag("inactive-only")]}
    assert context_errors(validator, patient) == found
