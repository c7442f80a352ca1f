"""Element plans (ecanfhir.validation._plan): what the walker decides once per element and type
holds for every value of it: a bound on a primitive set alone, the constraints of each type of a
choice element, a profile's constraint on a primitive, the constraints an element defined by
contentReference takes from its target, and a resource slice typed by the profile. Each test
builds its own Validator, so the plans are made while the test runs. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from _profiles import constraint, element

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def validate(resource: dict[str, Any], *profiles: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for profile in profiles:
        registry.add(profile)
    return Validator(registry).validate(resource, profiles=[p["url"] for p in profiles])


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Body weight"}, **elements}


@pytest.mark.parametrize(("bound", "birth_date", "rule", "word"), [
    ({"minValueDate": "1900-01-01"}, "1899-12-31", "min-value", "less than the minimum"),
    ({"maxValueDate": "2020-12-31"}, "2021-01-01", "max-value", "greater than the maximum"),
], ids=["minimum", "maximum"])
def test_one_bound_alone_limits_a_primitive(bound: dict[str, str], birth_date: str, rule: str,
                                            word: str) -> None:
    """minValue[x] without maxValue[x], and the reverse: the value is still checked."""
    profile = constraint("one-bound", "Patient", element("Patient.birthDate", **bound))
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "birthDate": birth_date},
                      profile)
    issue = assert_issue(result, "Patient.birthDate", severity="error", code="value",
                         fragment=word)
    assert issue.rule == rule


def test_each_type_of_a_choice_element_brings_its_own_constraints() -> None:
    """Observation.value[x] as a CodeableConcept, then as a Quantity, in one validator: the
    Quantity's qty-3 (a unit code needs its system) still applies to the second."""
    validator = Validator()
    assert validator.validate(observation(valueCodeableConcept={"text": "positive"})).ok
    result = validator.validate(observation(valueQuantity={"value": 1, "code": "mg"}))
    issue = assert_issue(result, "Observation.value.ofType(Quantity)", severity="error",
                         code="invariant", fragment="qty-3")
    assert issue.rule == "qty-3"


def test_a_profile_constraint_on_a_primitive_is_evaluated() -> None:
    """A constraint a profile puts on Patient.gender runs on the gender's value."""
    known = {"key": "gender-known", "severity": "error", "human": "The gender is known",
             "expression": "$this != 'unknown'"}
    profile = constraint("known-gender", "Patient", element("Patient.gender", constraint=[known]))
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "gender": "unknown"},
                      profile)
    issue = assert_issue(result, "Patient.gender", severity="error", code="invariant",
                         fragment="gender-known")
    assert issue.rule == "gender-known"


def test_nested_items_take_the_constraints_of_questionnaire_item() -> None:
    """Questionnaire.item.item is defined by contentReference #Questionnaire.item: que-1 (a
    group has items) applies to a nested group too."""
    questionnaire = {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
                     "item": [{"linkId": "a", "type": "group",
                               "item": [{"linkId": "b", "type": "group"}]}]}
    result = Validator().validate(questionnaire)
    issue = assert_issue(result, "Questionnaire.item[0].item[0]", severity="error",
                         code="invariant", fragment="que-1")
    assert issue.rule == "que-1"


TYPED_CONTAINED = constraint(
    "typed-contained", "MedicationStatement",
    element("MedicationStatement.contained", type=[{"code": "Medication"}, {"code": "Substance"}],
            slicing={"discriminator": [{"type": "type", "path": "$this"}], "rules": "open"}),
    element("MedicationStatement.contained:drug", sliceName="drug", min=0, max="1",
            type=[{"code": "Medication"}]))


def statement(*contained: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "text": NARRATIVE, "status": "active",
            "contained": list(contained), "medicationReference": {"reference": "#m1"},
            "subject": {"display": "A synthetic patient"}}


def test_a_resource_slice_is_walked_as_its_one_type() -> None:
    """contained narrowed to Medication or Substance and sliced by type: the Medication in its
    slice is a resource of that type (valid), a Patient is neither type (an error)."""
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "A drug"}}
    assert validate(statement(medication), TYPED_CONTAINED).errors == ()
    patient = {"resourceType": "Patient", "id": "p1"}
    result = validate(statement(medication, patient), TYPED_CONTAINED)
    assert [(i.severity, i.code, i.expression, i.message) for i in result.issues
            if i.rule == "resource-type"] == [
        ("error", "structure", "MedicationStatement.contained[1]",
         "expected one of Medication, Substance here, found Patient")]


def test_ele_1_names_its_rule_in_the_element_s_words() -> None:
    """A contact with only an id breaks ele-1 (and pat-1): ele-1 is reported once, with the
    text of the element's own ele-1, not of its other constraint."""
    result = Validator().validate({"resourceType": "Patient", "text": NARRATIVE,
                                   "contact": [{"id": "c"}]})
    assert [(i.severity, i.code, i.expression, i.message) for i in result.issues
            if i.rule == "ele-1"] == [
        ("error", "invariant", "Patient.contact[0]",
         "constraint ele-1 failed: All FHIR elements must have a @value or children")]


MODEL = "http://example.org/fhir/StructureDefinition/StudyVisit"
VISIT_MODEL = {
    "resourceType": "StructureDefinition", "id": "StudyVisit", "url": MODEL, "name": "StudyVisit",
    "status": "draft", "fhirVersion": "4.0.1", "kind": "logical", "abstract": False,
    "type": MODEL, "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Base",
    "derivation": "specialization", "differential": {"element": [
        {"id": "StudyVisit", "path": "StudyVisit"},
        {"id": "StudyVisit.kind", "path": "StudyVisit.kind", "min": 0, "max": "1",
         "type": [{"code": "code"}]}]}}


def test_ele_1_without_the_element_s_own_text() -> None:
    """A logical model's element declares no ele-1: a value with only an id still breaks it,
    reported in R4's words."""
    registry = Registry()
    registry.add(VISIT_MODEL)
    result = Validator(registry).validate({"resourceType": MODEL, "_kind": {"id": "k"}})
    issue = assert_issue(result, "StudyVisit.kind", severity="error", code="invariant",
                         fragment="constraint ele-1 failed: All FHIR elements must have a "
                                  "@value or children")
    assert issue.rule == "ele-1"


def test_a_primitive_given_an_object_is_one_type_error() -> None:
    """birthDate as an object: the type error alone, no ele-1 besides (ele-1 is checked
    inline, never also as one of the element's constraints)."""
    result = Validator().validate({"resourceType": "Patient", "text": NARRATIVE,
                                   "birthDate": {"id": "b"}})
    assert [(i.severity, i.code, i.rule) for i in result.issues
            if i.expression == "Patient.birthDate"] == [("error", "structure", "type-date")]
