"""Rules on the Questionnaire resource itself (R4 questionnaire.html, invariants que-*).

All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CONDITION = {"question": "smoker", "operator": "=", "answerBoolean": True}


def questionnaire(*conditions: dict[str, Any], **item: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft", "item": [
        {"linkId": "smoker", "type": "boolean", "text": "Do you smoke?"},
        {"linkId": "packs", "type": "integer", "text": "Packs a day",
         "enableWhen": list(conditions), **item},
    ]}


def test_que_12_two_conditions_need_enable_behavior() -> None:
    """Two enableWhen without enableBehavior break que-12 (R4 published '> 2', fixed to '> 1')."""
    second = {**CONDITION, "operator": "exists", "answerBoolean": True}
    result = validate(questionnaire(CONDITION, second))
    assert_issue(result, "Questionnaire.item[1]", severity="error", code="invariant",
                 fragment="que-12")


@pytest.mark.parametrize("conditions, behavior", [
    ((CONDITION,), None),
    ((CONDITION, CONDITION), "any"),
    ((CONDITION, CONDITION, CONDITION), "all"),
])
def test_que_12_holds(conditions: tuple[dict[str, Any], ...], behavior: str | None) -> None:
    """One enableWhen, or several with enableBehavior, satisfy que-12."""
    extra = {"enableBehavior": behavior} if behavior else {}
    result = validate(questionnaire(*conditions, **extra))
    assert [i for i in result.issues if i.rule == "que-12"] == []



def test_que_7_exists_takes_a_boolean() -> None:
    """An 'exists' condition with a boolean answer passes que-7 (R4 writes 'is Boolean', the
    System type, which no FHIR answer is); with another answer type it fails."""
    exists = {"question": "smoker", "operator": "exists", "answerBoolean": True}
    assert [i for i in validate(questionnaire(exists)).issues if i.rule == "que-7"] == []
    wrong = {"question": "smoker", "operator": "exists", "answerString": "yes"}
    assert_issue(validate(questionnaire(wrong)), "Questionnaire.item[1].enableWhen[0]",
                 severity="error", code="invariant", fragment="que-7")


# -- enableWhen targets (HL7 validator: Questionnaire_Q_EnableWhen_*) ------------------------
def nested(*conditions: dict[str, Any], child_link: str = "packs-detail") -> dict[str, Any]:
    """smoker, then a group 'packs' (enabled by ``conditions``) holding 'packs-detail'."""
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft", "item": [
        {"linkId": "smoker", "type": "boolean", "text": "Do you smoke?"},
        {"linkId": "packs", "type": "group", "text": "Packs", "enableWhen": list(conditions),
         "item": [{"linkId": child_link, "type": "integer", "text": "How many?"}]},
        {"linkId": "later", "type": "boolean", "text": "Anything else?"},
    ]}


def on(question: str | None) -> dict[str, Any]:
    condition: dict[str, Any] = {"operator": "exists", "answerBoolean": True}
    if question is not None:
        condition["question"] = question
    return condition


@pytest.mark.parametrize("question, fragment", [
    ("nowhere", "no item has the linkId 'nowhere'"),
    ("packs", "the item itself"),
    ("packs-detail", "inside the item itself"),
])
def test_enable_when_target_errors(question: str, fragment: str) -> None:
    """An enableWhen naming an unknown item, the item itself or its own child is an error."""
    result = validate(nested(on(question)))
    assert_issue(result, "Questionnaire.item[1]", severity="error", code="business-rule",
                 fragment=fragment)


def test_enable_when_without_question_is_an_error() -> None:
    """An enableWhen must name its question (reported by the cardinality check and here)."""
    result = validate(nested(on(None)))
    assert [i.rule for i in result.errors if i.expression == "Questionnaire.item[1]"] \
        == ["q-enable-when"]


def test_enable_when_on_a_later_item_is_a_warning() -> None:
    """An item depending on an item that follows it: a warning only."""
    result = validate(nested(on("later")))
    assert_issue(result, "Questionnaire.item[1]", severity="warning", code="business-rule",
                 fragment="comes after")
    assert result.errors == ()


def test_enable_when_on_an_earlier_item_is_fine() -> None:
    """An item depending on an earlier one passes."""
    assert [i for i in validate(nested(on("smoker"))).issues if i.rule == "q-enable-when"] == []


# -- derivedFrom (HL7 validator: Questionnaire_Q_Item_Derived_*) -----------------------------
BASE_URL = "http://example.org/fhir/Questionnaire/intake"
DERIVATION = "http://hl7.org/fhir/StructureDefinition/questionnaire-derivationType"


def base_questionnaire() -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "url": BASE_URL, "status": "active", "item": [
        {"linkId": "name", "type": "string", "text": "Name", "maxLength": 40, "required": True},
        {"linkId": "colour", "type": "choice", "text": "Colour", "answerOption": [
            {"valueCoding": {"system": "http://example.org/colours", "code": "red"}},
            {"valueCoding": {"system": "http://example.org/colours", "code": "blue"}}]},
    ]}


def derived(mode: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
            "derivedFrom": [BASE_URL], "_derivedFrom": [{"extension": [{
                "url": DERIVATION, "valueCoding": {
                    "system": "http://hl7.org/fhir/questionnaire-derivationType",
                    "code": mode}}]}],
            "item": list(items)}


def check_derived(q: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    registry.add(base_questionnaire())
    return Validator(registry).validate(q)


NAME = {"linkId": "name", "type": "string", "text": "Name", "maxLength": 30}
RED = {"valueCoding": {"system": "http://example.org/colours", "code": "red"}}


def test_complying_questionnaire_is_valid() -> None:
    """Same items, a shorter maxLength and a subset of the options comply."""
    q = derived("compliesWith", NAME, {"linkId": "colour", "type": "choice", "text": "Colour",
                                       "answerOption": [RED]})
    assert [i for i in check_derived(q).issues if i.rule == "q-derivation"] == []


@pytest.mark.parametrize("item, where, fragment", [
    ({**NAME, "type": "text"}, ".type", "has the type 'text'"),
    ({**NAME, "repeats": True}, ".repeats", "cannot repeat"),
    ({**NAME, "required": False}, ".required", "must stay required"),
    ({**NAME, "maxLength": 80}, ".maxLength", "longer than"),
    ({k: v for k, v in NAME.items() if k != "maxLength"}, "", "needs one here too"),
    ({"linkId": "colour", "type": "choice", "text": "Colour", "answerOption": [
        {"valueCoding": {"system": "http://example.org/colours", "code": "green"}}]},
     ".answerOption[0]", "not one of those"),
    ({"linkId": "colour", "type": "choice", "text": "Colour",
      "answerValueSet": "http://example.org/ValueSet/colours"}, "", "cannot take them"),
    ({"linkId": "age", "type": "integer", "text": "Age"}, "", "is not in the Questionnaire"),
])
def test_compliance_errors(item: dict[str, Any], where: str, fragment: str) -> None:
    """What a complying Questionnaire may not loosen or add is an error at the item."""
    assert_issue(check_derived(derived("compliesWith", item)), f"Questionnaire.item[0]{where}",
                 severity="error", code="not-found" if item["linkId"] == "age"
                 else "business-rule", fragment=fragment)


def test_extending_questionnaire_may_add_items() -> None:
    """An extending Questionnaire may add items the base does not have."""
    q = derived("extends", NAME, {"linkId": "age", "type": "integer", "text": "Age"})
    assert check_derived(q).errors == ()


def test_derivation_without_type_or_base_is_a_warning() -> None:
    """An unknown base, or no derivationType, leaves the derivation unchecked (warnings)."""
    q = derived("compliesWith", {**NAME, "type": "text"})
    del q["_derivedFrom"]
    assert_issue(check_derived(q), "Questionnaire.derivedFrom[0]", severity="warning",
                 code="business-rule", fragment="does not say how")
    assert check_derived(q).errors == ()
    assert_issue(validate(q), "Questionnaire.derivedFrom[0]", severity="warning",
                 code="business-rule", fragment="is not loaded")


@pytest.mark.parametrize("coding, severity, fragment", [
    ({"system": "http://hl7.org/fhir/questionnaire-derivationType", "code": "inspiredBy"},
     "information", "not checked"),
    ({"system": "http://example.org/derivations", "code": "copies"}, "warning", "not known"),
    (None, "warning", "no Coding value"),
])
def test_derivation_types_that_are_not_checked(coding: dict[str, Any] | None, severity: str,
                                                fragment: str) -> None:
    """inspiredBy is not checked (information); an unknown type or no value is a warning."""
    q = derived("compliesWith", {**NAME, "type": "text"})
    extension = q["_derivedFrom"][0]["extension"][0]
    if coding is None:
        del extension["valueCoding"]
        extension["valueString"] = "compliesWith"
    else:
        extension["valueCoding"] = coding
    result = check_derived(q)
    assert_issue(result, "Questionnaire.derivedFrom[0].extension", severity=severity,
                 code="business-rule", fragment=fragment)
    assert [i for i in result.errors if i.rule == "q-derivation"] == []


def test_derived_item_definition_and_value_set_answers() -> None:
    """A complying item that drops or changes its base's definition: information; listing
    options where the base takes its answers from a value set: an error at the item."""
    registry = Registry()
    registry.add({"resourceType": "Questionnaire", "url": BASE_URL, "status": "active",
                  "item": [{"linkId": "smoker", "type": "choice", "text": "Smoker",
                            "definition": "http://example.org/fhir/StructureDefinition/habit"
                                          "#Observation.value[x]",
                            "answerValueSet": "http://example.org/fhir/ValueSet/yes-no"}]})
    same = {"linkId": "smoker", "type": "choice", "text": "Smoker",
            "definition": registry.get(BASE_URL, "Questionnaire")["item"][0]["definition"],
            "answerValueSet": "http://example.org/fhir/ValueSet/yes-no"}
    assert [i for i in Validator(registry).validate(derived("compliesWith", same)).issues
            if i.rule == "q-derivation"] == []
    moved = {**same, "definition": "http://example.org/fhir/StructureDefinition/other#Basic"}
    assert_issue(Validator(registry).validate(derived("compliesWith", moved)),
                 "Questionnaire.item[0].definition", severity="information",
                 code="business-rule", fragment="is not the")
    listed = {k: v for k, v in same.items() if k not in ("definition", "answerValueSet")}
    listed["answerOption"] = [RED]
    result = Validator(registry).validate(derived("compliesWith", listed))
    issues = [(i.severity, i.message) for i in result.issues
              if i.expression == "Questionnaire.item[0]" and i.rule == "q-derivation"]
    assert ("error", "the item 'smoker' takes its answers from a value set in "
            f"'{BASE_URL}', so it cannot list them") in issues
    assert any(s == "information" and "none here" in m for s, m in issues)
