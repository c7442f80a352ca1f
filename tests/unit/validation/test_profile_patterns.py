"""Fixed and pattern values of complex types in a profile: HumanName and Address parts, a
CodeableConcept pattern with userSelected, and a string pattern (ecanfhir.validation.checks
.pattern), each asserting code, rule and FHIRPath location. The profile is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/patterned-patient"
NAME = {"family": "Testesen", "given": ["Synne", "Marie"], "prefix": ["Dr"], "suffix": ["PhD"]}
MARITAL = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                       "code": "M", "userSelected": True}]}
PROFILE = {
    "resourceType": "StructureDefinition", "url": URL, "name": "PatternedPatient",
    "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "derivation": "constraint", "differential": {"element": [
        {"id": "Patient", "path": "Patient"},
        {"id": "Patient.name", "path": "Patient.name", "patternHumanName": NAME},
        {"id": "Patient.address", "path": "Patient.address",
         "patternAddress": {"line": ["Testvej 1"]}},
        {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
         "patternCodeableConcept": MARITAL},
        {"id": "Patient.telecom.value", "path": "Patient.telecom.value",
         "patternString": "+45 00000000"},
    ]},
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(PROFILE)
    return Validator(registry)


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "meta": {"profile": [URL]},
            **elements}


def errors(validator: Validator, resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(i.code, i.expression, i.rule) for i in validator.validate(resource).errors]


def test_values_meeting_the_patterns_are_valid(validator: Validator) -> None:
    """All the name parts, the address line, the coding with userSelected and the number."""
    resource = patient(name=[{**NAME, "use": "official"}], address=[{"line": ["Testvej 1"]}],
                       maritalStatus=MARITAL,
                       telecom=[{"system": "phone", "value": "+45 00000000"}])
    assert errors(validator, resource) == []


@pytest.mark.parametrize("name", [
    {k: v for k, v in NAME.items() if k != "family"},
    {**NAME, "given": ["Synne"]},
    {**NAME, "prefix": ["Mrs"]},
    {k: v for k, v in NAME.items() if k != "suffix"},
])
def test_human_name_missing_a_part_of_the_pattern_is_an_error(validator: Validator,
                                                              name: dict[str, Any]) -> None:
    """family, each given, prefix and suffix of the pattern must be in the name."""
    assert errors(validator, patient(name=[name])) == [("value", "Patient.name[0]", "pattern")]


def test_address_without_the_pattern_line_is_an_error(validator: Validator) -> None:
    """The address line of the pattern must be there."""
    assert errors(validator, patient(address=[{"line": ["Andenvej 2"]}])) == [
        ("value", "Patient.address[0]", "pattern")]


def test_coding_without_the_pattern_user_selected_is_an_error(validator: Validator) -> None:
    """The pattern coding says userSelected true; a coding without it does not match."""
    coding = {**MARITAL["coding"][0]}
    del coding["userSelected"]
    assert errors(validator, patient(maritalStatus={"coding": [coding]})) == [
        ("value", "Patient.maritalStatus", "pattern")]


def test_string_other_than_the_pattern_is_an_error(validator: Validator) -> None:
    """patternString on a primitive means exactly that value."""
    resource = patient(telecom=[{"system": "phone", "value": "+45 11111111"}])
    assert errors(validator, resource) == [("value", "Patient.telecom[0].value", "pattern")]


UCUM = "http://unitsofmeasure.org"
BOUNDED = {
    **PROFILE, "url": URL + "-bounded", "name": "Bounded", "type": "Observation",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
    "differential": {"element": [
        {"id": "Observation", "path": "Observation"},
        {"id": "Observation.value[x]", "path": "Observation.value[x]",
         "type": [{"code": "Quantity"}],
         "minValueQuantity": {"value": 1, "system": UCUM, "code": "mg"},
         "maxValueQuantity": {"value": 1, "system": UCUM, "code": "g"}}]},
}


@pytest.mark.parametrize(("quantity", "words"), [
    ({"value": 5, "system": UCUM, "code": "mL"}, "does not convert"),
    ({"value": 5, "system": "http://example.net/units", "code": "mg"}, "systems differ"),
    ({"system": UCUM, "code": "mg"}, "the quantity has no value"),
    ({"value": 5, "code": "mg"}, "the quantity has no system"),
    ({"value": 5, "system": UCUM}, "the quantity has no code"),
])
def test_quantity_limit_that_cannot_be_checked_is_a_warning(quantity: dict[str, Any],
                                                            words: str) -> None:
    """A limit in another system, an unconvertible unit or missing parts: said, not judged."""
    registry = Registry()
    registry.add(BOUNDED)
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"text": "Dose"}, "meta": {"profile": [BOUNDED["url"]]},
                "valueQuantity": quantity}
    result = Validator(registry).validate(resource)
    found = [(i.severity, i.expression) for i in result.issues
             if i.rule == "min-max-unchecked" and words in i.message]
    assert found == [("warning", "Observation.value.ofType(Quantity)")] * 2
    # a code without a system also breaks the core invariant qty-3, nothing else
    assert [i.rule for i in result.errors] == (["qty-3"] if "no system" in words else [])


def _bounded_by(kind: str, limit: Any) -> Validator:
    """A profile whose Observation.value[x] has ``limit`` as both minValue and maxValue."""
    profile = {**BOUNDED, "url": URL + "-limits", "differential": {"element": [
        {"id": "Observation", "path": "Observation"},
        {"id": "Observation.value[x]", "path": "Observation.value[x]",
         "type": [{"code": "Quantity"}], f"minValue{kind}": limit, f"maxValue{kind}": limit}]}}
    registry = Registry()
    registry.add(profile)
    return Validator(registry)


@pytest.mark.parametrize(("kind", "limit", "words"), [
    ("Quantity", {"system": UCUM, "code": "mg"}, "the profile's limit has no value"),
    ("Quantity", {"value": 1, "code": "mg"}, "the profile's limit has no system"),
    ("Quantity", {"value": 1, "system": UCUM}, "the profile's limit has no code"),
    ("Quantity", {"value": 1, "system": "http://example.net/units", "code": "box"},
     "the unit pack does not convert to box"),
    ("Decimal", 1, "the profile's limit is not a Quantity"),
])
def test_profile_limit_that_cannot_be_checked_is_a_warning(kind: str, limit: Any,
                                                           words: str) -> None:
    """A limit missing a part, in a non-UCUM code of its own or not a Quantity: said, not
    judged, for the minimum and the maximum alike."""
    quantity = ({"value": 5, "system": "http://example.net/units", "code": "pack"}
                if "box" in words else {"value": 5, "system": UCUM, "code": "mg"})
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"text": "Dose"}, "meta": {"profile": [URL + "-limits"]},
                "valueQuantity": quantity}
    result = _bounded_by(kind, limit).validate(resource)
    found = [(i.severity, i.expression, i.message.split(":")[0].split()[1]) for i in result.issues
             if i.rule == "min-max-unchecked" and words in i.message]
    assert sorted(found) == [("warning", "Observation.value.ofType(Quantity)", "maximum"),
                             ("warning", "Observation.value.ofType(Quantity)", "minimum")]
    assert result.ok


def test_quantity_below_a_minimum_in_another_unit_is_an_error() -> None:
    """A 1 mg minimum: 0.0005 g is below it after UCUM conversion, 0.002 g is not."""
    limit = {"value": 1, "system": UCUM, "code": "mg"}
    validator = _bounded_by("Quantity", limit)
    for grams, bad in ((0.0005, True), (0.002, False)):
        resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                    "code": {"text": "Dose"}, "meta": {"profile": [URL + "-limits"]},
                    "valueQuantity": {"value": grams, "system": UCUM, "code": "g"}}
        found = [(i.severity, i.code, i.expression) for i in validator.validate(resource).issues
                 if i.rule == "min-value"]
        assert found == ([("error", "value", "Observation.value.ofType(Quantity)")] if bad else [])
