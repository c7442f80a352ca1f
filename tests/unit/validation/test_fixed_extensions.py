"""Extensions of a value against a fixed complex value (checks/pattern.py): none when the
fixed value has none, else as many and with the same urls. The profile is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/fixed-extensions"
EXT_A = {"url": "http://example.net/fhir/StructureDefinition/a", "valueString": "a"}
EXT_B = {"url": "http://example.net/fhir/StructureDefinition/b", "valueString": "a"}
CODE = {"system": "http://example.net/codes", "code": "x"}
PROFILE = {
    "resourceType": "StructureDefinition", "url": URL, "name": "FixedExtensions",
    "status": "draft", "kind": "resource", "abstract": False, "type": "Observation",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
    "derivation": "constraint", "differential": {"element": [
        {"id": "Observation", "path": "Observation"},
        {"id": "Observation.code", "path": "Observation.code",
         "fixedCodeableConcept": {"coding": [CODE]}},
        {"id": "Observation.valueCodeableConcept", "path": "Observation.valueCodeableConcept",
         "fixedCodeableConcept": {"extension": [EXT_A], "coding": [CODE]}},
    ]},
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(PROFILE)
    registry.add({"resourceType": "StructureDefinition", "url": EXT_A["url"], "name": "A",
                  "status": "draft", "kind": "complex-type", "abstract": False,
                  "type": "Extension", "context": [{"type": "element", "expression": "Element"}],
                  "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
                  "derivation": "constraint", "differential": {"element": [
                      {"id": "Extension", "path": "Extension"},
                      {"id": "Extension.url", "path": "Extension.url", "fixedUri": EXT_A["url"]},
                      {"id": "Extension.value[x]", "path": "Extension.value[x]",
                       "type": [{"code": "string"}]}]}})
    return Validator(registry)


def fixed_issues(validator: Validator, **elements: Any) -> list[tuple[str, str, str]]:
    resource = {"resourceType": "Observation", "text": NARRATIVE, "meta": {"profile": [URL]},
                "status": "final", "code": {"coding": [CODE]}, **elements}
    return [(i.code, i.expression, i.rule) for i in validator.validate(resource).errors
            if i.rule in ("fixed", "fixed-extension")]


def test_value_with_the_fixed_extensions_passes(validator: Validator) -> None:
    """The same extension and coding as the fixed value: no issue."""
    assert fixed_issues(validator, valueCodeableConcept={"extension": [EXT_A],
                                                         "coding": [CODE]}) == []


def test_extension_where_the_fixed_value_has_none(validator: Validator) -> None:
    """A fixed value without extensions bans them."""
    assert fixed_issues(validator, code={"extension": [EXT_A], "coding": [CODE]}) == [
        ("value", "Observation.code.extension[0]", "fixed-extension")]


def test_extension_count_differs_from_the_fixed_value(validator: Validator) -> None:
    """As many extensions as the fixed value has."""
    assert fixed_issues(validator, valueCodeableConcept={"coding": [CODE]}) == [
        ("value", "Observation.value.ofType(CodeableConcept)", "fixed-extension")]


def test_extension_of_the_fixed_value_not_found(validator: Validator) -> None:
    """The same count, but not the fixed value's extension url."""
    found = fixed_issues(validator, valueCodeableConcept={"extension": [EXT_B],
                                                          "coding": [CODE]})
    assert ("value", "Observation.value.ofType(CodeableConcept)", "fixed-extension") in found
