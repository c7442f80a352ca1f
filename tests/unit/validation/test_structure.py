"""Structure: cardinality, choice types, backbone elements and contentReference (R4 §2.27).

Each rule has a valid case and an invalid one asserting code, severity and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def observation(**elements: Any) -> dict[str, Any]:
    """A minimal valid Observation (status and code are 1..1) plus ``elements``."""
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Body weight"}, **elements}


def questionnaire(*items: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "active",
            "item": list(items)}






# -- cardinality -----------------------------------------------------------------------------

def test_required_elements_present_is_valid() -> None:
    """Observation with status and code has no issue."""
    assert validate(observation()).issues == ()


@pytest.mark.parametrize("missing", ["status", "code"])
def test_missing_required_element_is_an_error(missing: str) -> None:
    """Observation.status and Observation.code are 1..1."""
    resource = observation()
    del resource[missing]
    result = validate(resource)
    issue = assert_issue(result, f"Observation.{missing}", severity="error", code="required",
                         fragment="minimum required = 1")
    assert issue.rule == "cardinality-min"


def test_missing_required_element_inside_backbone_is_an_error() -> None:
    """Observation.component.code is 1..1 inside each component."""
    result = validate(observation(component=[{"valueString": "synthetic"}]))
    assert_issue(result, "Observation.component[0].code", severity="error", code="required",
                 fragment="minimum required = 1")


def test_max_one_element_given_as_array_of_two_is_a_json_form_error() -> None:
    """Patient.gender is 0..1: two values as an array break the JSON form."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE,
                       "gender": ["female", "female"]})
    issue = assert_issue(result, "Patient.gender", severity="error", code="structure",
                         fragment="must be a single value")
    assert issue.rule == "json-form"


def test_max_one_complex_element_given_twice_is_an_error() -> None:
    """Observation.subject is 0..1: an array of two references is reported there."""
    result = validate(observation(subject=[{"display": "Synne Testesen"},
                                           {"display": "Sven Testesen"}]))
    errors = [i for i in result.issues if i.expression == "Observation.subject"]
    assert errors and all((i.severity, i.code) == ("error", "structure") for i in errors)
    assert any("must be a single value" in i.message for i in errors)


# -- choice types ----------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value"), [
    ("valueQuantity", {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org",
                       "code": "kg"}),
    ("valueString", "normal"), ("valueBoolean", False),
    ("valueCodeableConcept", {"text": "normal"}),
])
def test_one_value_of_an_allowed_type_is_valid(key: str, value: Any) -> None:
    """value[x] takes one value of one of its types."""
    assert validate(observation(**{key: value})).issues == ()


def test_two_values_of_a_choice_are_an_error() -> None:
    """valueString and valueBoolean together break value[x]'s 0..1."""
    result = validate(observation(valueString="normal", valueBoolean=True))
    issue = assert_issue(result, "Observation.value", severity="error", code="structure",
                         fragment="several values")
    assert "valueBoolean" in issue.message and "valueString" in issue.message


def test_choice_value_with_its_own_companion_is_valid() -> None:
    """valueString and _valueString describe one value, not two."""
    result = validate(observation(valueString="normal", _valueString={"id": "v1"}))
    assert result.issues == ()


def test_choice_type_not_allowed_is_an_unknown_property() -> None:
    """Observation.value[x] has no Reference type: valueReference is unknown."""
    result = validate(observation(valueReference={"reference": "Patient/p1"}))
    assert_issue(result, "Observation.valueReference", severity="error", code="structure",
                 fragment="unrecognised property 'valueReference'")


def test_choice_without_type_suffix_is_an_unknown_property() -> None:
    """'value' alone is not a property; the message names the typed forms."""
    result = validate(observation(value="normal"))
    issue = assert_issue(result, "Observation.value", severity="error", code="structure",
                         fragment="choice element")
    assert "valueBoolean" in issue.message


def test_choice_value_is_located_with_of_type() -> None:
    """Issues inside a choice value are located as value.ofType(Type)."""
    result = validate(observation(valueQuantity={"value": "72.5"}))
    assert_issue(result, "Observation.value.ofType(Quantity).value", severity="error",
                 code="structure", fragment="JSON number")


# -- backbone elements -------------------------------------------------------------------------

def test_nested_backbone_element_is_valid() -> None:
    """Patient.contact with known children has no issue."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "contact": [{
        "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                      "code": "N"}], "text": "Mother"}],
        "name": {"family": "Testesen"},
        "telecom": [{"system": "phone", "value": "+45 00 00 00 00"}]}]})
    assert result.issues == ()


def test_unknown_property_in_backbone_element_is_an_error() -> None:
    """Patient.contact has no 'foo'."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE,
                       "contact": [{"name": {"family": "Testesen"}, "foo": 1}]})
    assert_issue(result, "Patient.contact[0].foo", severity="error", code="structure",
                 fragment="unrecognised property 'foo'")


def test_unknown_property_in_second_backbone_element_is_located() -> None:
    """The index of the backbone element is part of the location."""
    result = validate(observation(component=[
        {"code": {"text": "systolic"}, "valueString": "120"},
        {"code": {"text": "diastolic"}, "valueString": "80", "unit": "mmHg"}]))
    assert_issue(result, "Observation.component[1].unit", severity="error", code="structure",
                 fragment="'unit'")


# -- contentReference (Questionnaire.item.item -> #Questionnaire.item) -------------------------

def test_nested_questionnaire_items_are_valid() -> None:
    """item.item uses the definition of Questionnaire.item, three levels deep."""
    result = validate(questionnaire({"linkId": "1", "type": "group", "text": "Referral", "item": [
        {"linkId": "1.1", "type": "group", "text": "Tumour", "item": [
            {"linkId": "1.1.1", "type": "string", "text": "Site", "required": True}]}]}))
    assert result.issues == ()


def test_unknown_property_in_nested_item_is_an_error() -> None:
    """item.item[0] is checked against Questionnaire.item: 'foo' is unknown."""
    result = validate(questionnaire({"linkId": "1", "type": "group", "item": [
        {"linkId": "1.1", "type": "string", "foo": 1}]}))
    assert_issue(result, "Questionnaire.item[0].item[0].foo", severity="error",
                 code="structure", fragment="unrecognised property 'foo'")


def test_missing_required_element_in_nested_item_is_an_error() -> None:
    """linkId is 1..1 in nested items too."""
    result = validate(questionnaire({"linkId": "1", "type": "group", "item": [
        {"type": "string"}]}))
    assert_issue(result, "Questionnaire.item[0].item[0].linkId", severity="error",
                 code="required", fragment="minimum required = 1")


def test_wrong_json_type_in_nested_item_is_an_error() -> None:
    """Primitive types of the referenced definition apply (required is a boolean)."""
    result = validate(questionnaire({"linkId": "1", "type": "group", "item": [
        {"linkId": "1.1", "type": "string", "required": "yes"}]}))
    assert_issue(result, "Questionnaire.item[0].item[0].required", severity="error",
                 code="structure", fragment="JSON boolean")


def test_invariants_of_referenced_element_apply_to_nested_item() -> None:
    """que-6 (no 'required' on display items) holds for item.item as for item."""
    top = validate(questionnaire({"linkId": "1", "type": "display", "text": "t",
                                  "required": True}))
    assert_issue(top, "Questionnaire.item[0]", severity="error", code="invariant",
                 fragment="que-6")
    nested = validate(questionnaire({"linkId": "1", "type": "group", "text": "g", "item": [
        {"linkId": "1.1", "type": "display", "text": "t", "required": True}]}))
    assert_issue(nested, "Questionnaire.item[0].item[0]", severity="error", code="invariant",
                 fragment="que-6")


def test_group_invariant_applies_to_nested_group() -> None:
    """que-1 (a group has items) holds for a nested group."""
    result = validate(questionnaire({"linkId": "1", "type": "group", "text": "g", "item": [
        {"linkId": "1.1", "type": "group", "text": "empty group"}]}))
    assert_issue(result, "Questionnaire.item[0].item[0]", severity="error", code="invariant",
                 fragment="que-1")


def test_parameters_part_is_checked_like_parameter() -> None:
    """Parameters.parameter.part -> #Parameters.parameter: unknown properties and inv-1."""
    unknown = validate({"resourceType": "Parameters", "parameter": [
        {"name": "a", "part": [{"name": "b", "valueString": "x", "foo": 1}]}]})
    assert_issue(unknown, "Parameters.parameter[0].part[0].foo", severity="error",
                 code="structure", fragment="'foo'")
    both = validate({"resourceType": "Parameters", "parameter": [
        {"name": "a", "part": [{"name": "b", "valueString": "x",
                                "part": [{"name": "c", "valueBoolean": True}]}]}]})
    assert_issue(both, "Parameters.parameter[0].part[0]", severity="error", code="invariant",
                 fragment="inv-1")
