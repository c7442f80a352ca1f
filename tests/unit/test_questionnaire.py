from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecanfhir.definitions.registry import Registry
from ecanfhir.terminology.value_sets import Terminology
from ecanfhir.validation._issue import Issue
from ecanfhir.validation.checks.questionnaire import check_questionnaire_response

Q_URL = "http://example.com/fhir/Questionnaire/intake"
QR = "QuestionnaireResponse"
EXT = "http://hl7.org/fhir/StructureDefinition/"
GENDER_VS = "http://hl7.org/fhir/ValueSet/administrative-gender"
GENDER = "http://hl7.org/fhir/administrative-gender"


def questionnaire(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "url": Q_URL, "version": "2", "status": "active",
            "item": list(items), **extra}


def response(*items: dict[str, Any], status: str = "completed", **extra: Any) -> dict[str, Any]:
    return {"resourceType": QR, "questionnaire": Q_URL, "status": status, "item": list(items),
            **extra}


def check(q: Mapping[str, Any] | None, qr: Mapping[str, Any], at: str = QR,
          **kwargs: Any) -> list[Issue]:
    registry = Registry()
    if q is not None:
        registry.add(q)
    return list(check_questionnaire_response(qr, at, registry=registry,
                                             terminology=Terminology(registry), **kwargs))


def found(issues: list[Issue]) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in issues]


def answer(link_id: str, *values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"linkId": link_id, "answer": list(values), **extra}


STRING_Q = questionnaire({"linkId": "name", "type": "string", "text": "Name"})


# -- finding the Questionnaire ----------------------------------------------------------------
def test_unknown_questionnaire_is_a_warning() -> None:
    """A Questionnaire that is not loaded gives one not-found warning and nothing else."""
    qr = response(answer("nope", {"valueInteger": 1}))
    qr["questionnaire"] = "http://acme.org/Questionnaire/x"
    assert found(check(None, qr)) == [("warning", "not-found", f"{QR}.questionnaire")]


def test_example_org_questionnaire_is_information() -> None:
    """As the HL7 validator does, a missing example.org Questionnaire is only information."""
    qr = response(questionnaire="http://example.org/Questionnaire/x")
    assert found(check(None, qr)) == [("information", "not-found",
                                       "QuestionnaireResponse.questionnaire")]


def test_no_questionnaire_named_is_information() -> None:
    """A response without a questionnaire canonical is noted, not an error."""
    qr = response()
    del qr["questionnaire"]
    assert found(check(None, qr)) == [("information", "informational", QR)]


def test_versioned_canonical() -> None:
    """`url|version` finds the matching version; another version is not found."""
    qr = response(answer("name", {"valueInteger": 1}), questionnaire=f"{Q_URL}|2")
    assert [i.code for i in check(STRING_Q, qr)] == ["structure"]
    qr["questionnaire"] = f"{Q_URL}|3"
    assert [i.code for i in check(STRING_Q, qr)] == ["not-found"]


def test_contained_questionnaire() -> None:
    """`#id` points to a Questionnaire contained in the response."""
    contained = {**STRING_Q, "id": "q1"}
    qr = response(answer("name", {"valueBoolean": True}), questionnaire="#q1",
                  contained=[contained])
    assert found(check(None, qr)) == [
        ("error", "structure", "QuestionnaireResponse.item[0].answer[0].value.ofType(boolean)")]


def test_resolve_callback_and_bundle_path() -> None:
    """`resolve` supplies Questionnaires the registry lacks; expressions start at `at`."""
    qr = response(answer("other", {"valueString": "x"}))
    issues = check(None, qr, "Bundle.entry[1].resource",
                   resolve=lambda url: STRING_Q if url == Q_URL else None)
    assert found(issues) == [("error", "not-found", "Bundle.entry[1].resource.item[0].linkId")]


# -- linkIds, nesting and order -----------------------------------------------------------------
NESTED_Q = questionnaire(
    {"linkId": "a", "type": "string"},
    {"linkId": "g", "type": "group", "item": [{"linkId": "g.1", "type": "integer"}]},
    {"linkId": "b", "type": "boolean"},
)


def test_valid_nested_response_has_no_issues() -> None:
    """Items in the Questionnaire's order and nesting, with the right types, pass."""
    qr = response(answer("a", {"valueString": "x"}),
                  {"linkId": "g", "item": [answer("g.1", {"valueInteger": 3})]},
                  answer("b", {"valueBoolean": False}))
    assert check(NESTED_Q, qr) == []


def test_unknown_link_id() -> None:
    """A linkId the Questionnaire does not define is an error on that linkId."""
    issues = check(NESTED_Q, response(answer("zz", {"valueString": "x"})))
    assert found(issues) == [("error", "not-found", "QuestionnaireResponse.item[0].linkId")]


def test_item_in_the_wrong_place() -> None:
    """A nested item given at the top level is a structure error."""
    issues = check(NESTED_Q, response(answer("g.1", {"valueInteger": 3})))
    assert found(issues) == [("error", "structure", "QuestionnaireResponse.item[0]")]
    assert "inside item 'g'" in issues[0].message


def test_items_out_of_order() -> None:
    """Items must follow the Questionnaire's order."""
    issues = check(NESTED_Q, response(answer("b", {"valueBoolean": True}),
                                      answer("a", {"valueString": "x"})))
    assert found(issues) == [("error", "structure", "QuestionnaireResponse.item[1]")]


def test_repeated_item_that_does_not_repeat() -> None:
    """Two instances of a non-repeating group are an error on the second."""
    group = {"linkId": "g", "item": [answer("g.1", {"valueInteger": 1})]}
    issues = check(NESTED_Q, response(group, group))
    assert found(issues) == [("error", "structure", "QuestionnaireResponse.item[1]")]
    q = questionnaire({**NESTED_Q["item"][1], "repeats": True})
    assert check(q, response(group, group)) == []


def test_items_under_answers_of_a_question() -> None:
    """Children of a question are checked under answer.item, not item.item."""
    q = questionnaire({"linkId": "smoker", "type": "boolean", "item": [
        {"linkId": "packs", "type": "integer", "required": True}]})
    ok = response(answer("smoker", {"valueBoolean": True,
                                    "item": [answer("packs", {"valueInteger": 2})]}))
    assert check(q, ok) == []
    wrong_type = response(answer("smoker", {"valueBoolean": True,
                                            "item": [answer("packs", {"valueString": "2"})]}))
    assert found(check(q, wrong_type)) == [(
        "error", "structure",
        "QuestionnaireResponse.item[0].answer[0].item[0].answer[0].value.ofType(string)")]
    missing = response(answer("smoker", {"valueBoolean": True}))
    assert found(check(q, missing)) == [("error", "required",
                                         "QuestionnaireResponse.item[0].answer[0]")]
    misplaced = response(answer("smoker", {"valueBoolean": True,
                                           "item": [answer("packs", {"valueInteger": 2})]},
                                item=[answer("packs", {"valueInteger": 2})]))
    assert found(check(q, misplaced)) == [("error", "structure", "QuestionnaireResponse.item[0]")]


# -- answer types ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("item_type", "value"), [
    ("boolean", {"valueBoolean": True}), ("decimal", {"valueDecimal": 1.5}),
    ("integer", {"valueInteger": 2}), ("date", {"valueDate": "2024-02"}),
    ("dateTime", {"valueDateTime": "2024-02-03T10:00:00Z"}), ("time", {"valueTime": "10:30:00"}),
    ("string", {"valueString": "x"}), ("text", {"valueString": "x\ny"}),
    ("url", {"valueUri": "http://a.org"}), ("open-choice", {"valueString": "free text"}),
    ("attachment", {"valueAttachment": {"contentType": "text/plain"}}),
    ("reference", {"valueReference": {"reference": "Patient/1"}}),
    ("quantity", {"valueQuantity": {"value": 3, "unit": "kg"}}),
])
def test_answer_types_that_match(item_type: str, value: dict[str, Any]) -> None:
    """Each item type accepts its answer type (text takes string, url takes uri)."""
    q = questionnaire({"linkId": "x", "type": item_type})
    assert check(q, response(answer("x", value))) == []


@pytest.mark.parametrize(("item_type", "value", "shown"), [
    ("integer", {"valueDecimal": 1.5}, "decimal"), ("url", {"valueString": "x"}, "string"),
    ("dateTime", {"valueDate": "2024-01-01"}, "date"),
    ("choice", {"valueBoolean": True}, "boolean"), ("reference", {"valueUri": "Patient/1"}, "uri"),
])
def test_answer_types_that_do_not_match(item_type: str, value: dict[str, Any], shown: str) -> None:
    """A value[x] of another type than the item's is an error on the value."""
    q = questionnaire({"linkId": "x", "type": item_type})
    assert found(check(q, response(answer("x", value)))) == [
        ("error", "structure", f"QuestionnaireResponse.item[0].answer[0].value.ofType({shown})")]


@pytest.mark.parametrize("kind", ["display", "group"])
def test_display_and_group_items_have_no_answers(kind: str) -> None:
    """Display and group items must not carry answers."""
    item: dict[str, Any] = {"linkId": "d", "type": kind}
    if kind == "group":
        item["item"] = [{"linkId": "d.1", "type": "string"}]
    issues = check(questionnaire(item), response(answer("d", {"valueString": "x"})))
    assert found(issues) == [("error", "structure", "QuestionnaireResponse.item[0]")]


def test_item_text_must_match() -> None:
    """Text given in the response must be the Questionnaire item's text."""
    assert check(STRING_Q, response(answer("name", {"valueString": "x"}, text="Name"))) == []
    issues = check(STRING_Q, response(answer("name", {"valueString": "x"}, text="Nom")))
    assert found(issues) == [("error", "invalid", "QuestionnaireResponse.item[0].text")]


# -- required and repeats -------------------------------------------------------------------------
REQUIRED_Q = questionnaire({"linkId": "a", "type": "string", "required": True},
                           {"linkId": "b", "type": "string", "readOnly": True})


def test_missing_required_item() -> None:
    """A missing required item is an error on the parent of a completed response."""
    issues = check(REQUIRED_Q, response(answer("b", {"valueString": "x"})))
    assert found(issues) == [("error", "required", QR)]


@pytest.mark.parametrize("status", ["in-progress", "stopped", "entered-in-error"])
def test_missing_required_item_in_progress_is_a_warning(status: str) -> None:
    """While a response is in progress (or abandoned), missing required answers are warnings."""
    issues = check(REQUIRED_Q, response(status=status))
    assert found(issues) == [("warning", "required", QR)]


def test_required_item_without_answer() -> None:
    """A required question present without an answer is an error on the item."""
    issues = check(REQUIRED_Q, response({"linkId": "a"}))
    assert found(issues) == [("error", "required", "QuestionnaireResponse.item[0]")]


def test_required_group_without_items() -> None:
    """A required group present with no items is an error on the group."""
    q = questionnaire({"linkId": "g", "type": "group", "required": True,
                       "item": [{"linkId": "g.1", "type": "string"}]})
    issues = check(q, response({"linkId": "g"}))
    assert found(issues) == [("error", "required", "QuestionnaireResponse.item[0]")]


def test_several_answers_to_a_non_repeating_item() -> None:
    """More than one answer needs repeats = true."""
    two = response(answer("name", {"valueString": "x"}, {"valueString": "y"}))
    assert found(check(STRING_Q, two)) == [("error", "structure", "QuestionnaireResponse.item[0]")]
    repeating = questionnaire({**STRING_Q["item"][0], "repeats": True})
    assert check(repeating, two) == []


def test_min_and_max_occurs() -> None:
    """questionnaire-minOccurs/maxOccurs bound the number of answers."""
    q = questionnaire({"linkId": "x", "type": "string", "repeats": True, "extension": [
        {"url": EXT + "questionnaire-minOccurs", "valueInteger": 2},
        {"url": EXT + "questionnaire-maxOccurs", "valueInteger": 3}]})
    values = [{"valueString": s} for s in "abcd"]
    assert check(q, response(answer("x", *values[:2]))) == []
    assert found(check(q, response(answer("x", *values)))) == [
        ("error", "structure", "QuestionnaireResponse.item[0]")]
    assert found(check(q, response(answer("x", values[0])))) == [
        ("error", "required", "QuestionnaireResponse.item[0]")]


# -- answerOption and answerValueSet --------------------------------------------------------------
CHOICE_Q = questionnaire({"linkId": "c", "type": "choice", "answerOption": [
    {"valueCoding": {"system": "http://acme.org/cs", "code": "a"}},
    {"valueCoding": {"system": "http://acme.org/cs", "code": "b"}}]})


def test_answer_option_coding() -> None:
    """A Coding answer must match an answerOption by system and code."""
    ok = response(answer("c", {"valueCoding": {"system": "http://acme.org/cs", "code": "b"}}))
    assert check(CHOICE_Q, ok) == []
    other = response(answer("c", {"valueCoding": {"system": "http://other.org", "code": "b"}}))
    assert found(check(CHOICE_Q, other)) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)")]


def test_string_answer_to_a_coded_choice() -> None:
    """A choice with only coded options takes no string; an open-choice does."""
    text = response(answer("c", {"valueString": "c"}))
    assert found(check(CHOICE_Q, text)) == [
        ("error", "value", "QuestionnaireResponse.item[0].answer[0].value.ofType(string)")]
    open_q = questionnaire({**CHOICE_Q["item"][0], "type": "open-choice"})
    assert check(open_q, text) == []


def test_open_choice_text_that_matches_an_option() -> None:
    """Free text equal to an option's code or display is probably a mistake: a warning."""
    open_q = questionnaire({**CHOICE_Q["item"][0], "type": "open-choice"})
    issues = check(open_q, response(answer("c", {"valueString": "A"})))
    assert found(issues) == [("warning", "business-rule",
                              "QuestionnaireResponse.item[0].answer[0].value.ofType(string)")]


@pytest.mark.parametrize(("key", "options", "bad"), [
    ("valueInteger", [1, 2], 3), ("valueDate", ["2022-01-01"], "2022-03-01"),
    ("valueString", ["x", "y"], "z"), ("valueTime", ["08:00:00"], "09:00:00"),
])
def test_answer_option_primitives(key: str, options: list[Any], bad: Any) -> None:
    """Primitive answers must equal one of the options of their type."""
    fhir_type = key[5].lower() + key[6:]
    q = questionnaire({"linkId": "x", "type": fhir_type, "repeats": True,
                       "answerOption": [{key: v} for v in options]})
    assert check(q, response(answer("x", {key: options[0]}))) == []
    assert found(check(q, response(answer("x", {key: options[0]}, {key: bad})))) == [
        ("error", "value", f"QuestionnaireResponse.item[0].answer[1].value.ofType({fhir_type})")]


def test_answer_value_set() -> None:
    """Coded answers are checked against answerValueSet through the terminology."""
    q = questionnaire({"linkId": "g", "type": "choice", "answerValueSet": GENDER_VS})
    male = {"valueCoding": {"system": GENDER, "code": "male"}}
    assert check(q, response(answer("g", male))) == []
    issues = check(q, response(answer("g", {"valueCoding": {"system": GENDER, "code": "man"}})))
    assert found(issues) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)")]


def test_answer_value_set_display() -> None:
    """As in the HL7 validator, a wrong display makes a coded answer fail its value set."""
    q = questionnaire({"linkId": "g", "type": "choice", "answerValueSet": GENDER_VS})
    man = {"valueCoding": {"system": GENDER, "code": "male", "display": "Man"}}
    assert found(check(q, response(answer("g", man)))) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)")]


def test_string_item_with_answer_value_set() -> None:
    """A string item bound to a value set must hold one of its codes."""
    q = questionnaire({"linkId": "s", "type": "string", "answerValueSet": GENDER_VS})
    assert check(q, response(answer("s", {"valueString": "female"}))) == []
    assert found(check(q, response(answer("s", {"valueString": "woman"})))) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[0].value.ofType(string)")]


def test_string_item_answer_outside_external_code_syntax() -> None:
    """A string answer to a value set of external systems: a code of the right form cannot be
    judged offline, text that is no code of any of them is not in the value set."""
    jurisdiction = "http://hl7.org/fhir/ValueSet/jurisdiction"
    q = questionnaire({"linkId": "c", "type": "string", "repeats": True,
                       "answerValueSet": jurisdiction})
    qr = response(answer("c", {"valueString": "AU"}, {"valueString": "Australia"}))
    assert found(check(q, qr)) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[1].value.ofType(string)")]


def test_answer_value_set_that_cannot_be_judged() -> None:
    """A code the offline terminology cannot judge (SNOMED CT) is not an error."""
    q = questionnaire({"linkId": "f", "type": "choice",
                       "answerValueSet": "http://hl7.org/fhir/ValueSet/clinical-findings"})
    qr = response(answer("f", {"valueCoding": {"system": "http://snomed.info/sct",
                                               "code": "22298006"}}))
    assert check(q, qr) == []


def test_answer_value_set_not_loaded() -> None:
    """An answerValueSet that is nowhere to be found is a warning on the answer."""
    q = questionnaire({"linkId": "f", "type": "choice", "answerValueSet": "http://acme.org/vs"})
    qr = response(answer("f", {"valueCoding": {"system": "http://acme.org/cs", "code": "1"}}))
    assert found(check(q, qr)) == [("warning", "not-found",
                                    "QuestionnaireResponse.item[0].answer[0]")]


def test_contained_answer_value_set() -> None:
    """`#id` value sets contained in the Questionnaire are evaluated from their compose."""
    vs = {"resourceType": "ValueSet", "id": "yn", "status": "active", "compose": {"include": [
        {"system": "http://acme.org/yn", "concept": [{"code": "Y"}, {"code": "N"}]}]}}
    q = questionnaire({"linkId": "y", "type": "choice", "answerValueSet": "#yn"}, contained=[vs])
    ok = response(answer("y", {"valueCoding": {"system": "http://acme.org/yn", "code": "Y"}}))
    assert check(q, ok) == []
    bad = response(answer("y", {"valueCoding": {"system": "http://acme.org/yn", "code": "M"}}))
    assert found(check(q, bad)) == [
        ("error", "code-invalid", "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)")]


def test_choice_without_options_is_noted() -> None:
    """A coded answer to a choice with neither options nor value set cannot be checked."""
    q = questionnaire({"linkId": "c", "type": "choice"})
    issues = check(q, response(answer("c", {"valueCoding": {"code": "x"}})))
    assert found(issues) == [("information", "informational",
                              "QuestionnaireResponse.item[0].answer[0]")]


# -- enableWhen -----------------------------------------------------------------------------------
def when(operator: str, **answer_value: Any) -> dict[str, Any]:
    return {"question": "n", "operator": operator, **answer_value}


def gated(*conditions: dict[str, Any], behaviour: str | None = None) -> dict[str, Any]:
    extra = {"enableBehavior": behaviour} if behaviour else {}
    return questionnaire({"linkId": "n", "type": "integer"},
                         {"linkId": "d", "type": "string", "required": True,
                          "enableWhen": list(conditions), **extra})


@pytest.mark.parametrize(("condition", "n", "enabled"), [
    (when("exists", answerBoolean=True), 1, True),
    (when("exists", answerBoolean=True), None, False),
    (when("exists", answerBoolean=False), None, True), (when("=", answerInteger=3), 3, True),
    (when("=", answerInteger=3), 4, False), (when("!=", answerInteger=3), 4, True),
    (when("!=", answerInteger=3), None, True), (when("!=", answerInteger=3), 3, False),
    (when(">", answerInteger=3), 4, True), (when(">", answerInteger=3), 3, False),
    (when("<", answerDecimal=3.5), 3, True), (when(">=", answerInteger=3), 3, True),
    (when("<=", answerInteger=3), 4, False), (when(">", answerInteger=3), None, False),
])
def test_enable_when_operators(condition: dict[str, Any], n: int | None, enabled: bool) -> None:
    """Enabled items must be answered when required; disabled ones must not be answered."""
    q = gated(condition)
    given = [answer("n", {"valueInteger": n})] if n is not None else []
    unanswered = check(q, response(*given))
    answered = check(q, response(*given, answer("d", {"valueString": "x"})))
    if enabled:
        assert found(unanswered) == [("error", "required", QR)]
        assert answered == []
    else:
        assert unanswered == []
        assert found(answered) == [("error", "business-rule",
                                    f"QuestionnaireResponse.item[{len(given)}]")]


@pytest.mark.parametrize(("behaviour", "n", "enabled"), [
    ("any", 1, True), ("any", 5, True), ("any", 3, False),
    ("all", 1, False), ("all", 5, False), ("all", 3, True),
])
def test_enable_behavior(behaviour: str, n: int, enabled: bool) -> None:
    """enableBehavior 'any' needs one condition, 'all' needs every condition."""
    if behaviour == "any":
        q = gated(when("=", answerInteger=1), when("=", answerInteger=5), behaviour="any")
    else:
        q = gated(when(">", answerInteger=1), when("<", answerInteger=5), behaviour="all")
    issues = check(q, response(answer("n", {"valueInteger": n})))
    assert found(issues) == ([("error", "required", QR)] if enabled else [])


def test_several_conditions_without_behavior_decide_nothing() -> None:
    """Without enableBehavior (que-12), neither required nor disabled answers are reported."""
    q = gated(when("=", answerInteger=1), when("=", answerInteger=2))
    assert check(q, response(answer("n", {"valueInteger": 7}))) == []
    assert check(q, response(answer("n", {"valueInteger": 7}),
                             answer("d", {"valueString": "x"}))) == []


def test_enable_when_in_repeated_groups() -> None:
    """Each instance of a repeating group evaluates enableWhen on its own answers."""
    q = questionnaire({"linkId": "g", "type": "group", "repeats": True, "item": [
        {"linkId": "pain", "type": "boolean"},
        {"linkId": "where", "type": "string", "required": True,
         "enableWhen": [{"question": "pain", "operator": "=", "answerBoolean": True}]}]})
    qr = response({"linkId": "g", "item": [answer("pain", {"valueBoolean": False})]},
                  {"linkId": "g", "item": [answer("pain", {"valueBoolean": True})]})
    assert found(check(q, qr)) == [("error", "required", "QuestionnaireResponse.item[1]")]


def test_enable_when_coding() -> None:
    """Coding conditions compare system (when given) and code."""
    q = questionnaire({"linkId": "c", "type": "choice", "answerOption": [
        {"valueCoding": {"system": "http://acme.org/cs", "code": "y"}}]},
        {"linkId": "why", "type": "string", "enableWhen": [
            {"question": "c", "operator": "=", "answerCoding": {"code": "y"}}]})
    yes = answer("c", {"valueCoding": {"system": "http://acme.org/cs", "code": "y"}})
    assert check(q, response(yes, answer("why", {"valueString": "x"}))) == []
    assert [i.code for i in check(q, response(answer("why", {"valueString": "x"})))] == [
        "business-rule"]


# -- value constraints ----------------------------------------------------------------------------
def constrained(item_type: str, *extensions: tuple[str, Any], **extra: Any) -> dict[str, Any]:
    ext = [{"url": url, **value} for url, value in extensions]
    return questionnaire({"linkId": "v", "type": item_type, "repeats": True, "extension": ext,
                          **extra})


def value_issues(q: Mapping[str, Any], *values: dict[str, Any]) -> list[tuple[str, str, str]]:
    return found(check(q, response(answer("v", *values))))


def at_answer(n: int, fhir_type: str) -> str:
    return f"QuestionnaireResponse.item[0].answer[{n}].value.ofType({fhir_type})"


def test_min_and_max_value_integer() -> None:
    """minValue/maxValue bound integer answers."""
    q = constrained("integer", (EXT + "minValue", {"valueInteger": 1}),
                    (EXT + "maxValue", {"valueInteger": 10}))
    assert value_issues(q, {"valueInteger": 1}, {"valueInteger": 10}) == []
    assert value_issues(q, {"valueInteger": 0}, {"valueInteger": 11}) == [
        ("error", "value", at_answer(0, "integer")), ("error", "value", at_answer(1, "integer"))]


def test_min_and_max_value_partial_dates() -> None:
    """Dates are compared at the precision they share."""
    q = constrained("date", (EXT + "minValue", {"valueDate": "2020"}),
                    (EXT + "maxValue", {"valueDate": "2022-06"}))
    ok = [{"valueDate": d} for d in ("2020", "2020-01-01", "2022-06-30", "2022")]
    assert value_issues(q, *ok) == []
    assert value_issues(q, {"valueDate": "2019-12-31"}, {"valueDate": "2022-07"}) == [
        ("error", "value", at_answer(0, "date")), ("error", "value", at_answer(1, "date"))]


def test_quantity_limits_convert_units() -> None:
    """Quantity limits in other UCUM units are converted; unknown units are not compared."""
    sdc = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-"
    km = {"system": "http://unitsofmeasure.org", "code": "km"}
    q = constrained("quantity", (sdc + "minQuantity", {"valueQuantity": {"value": 1, **km}}),
                    (sdc + "maxQuantity", {"valueQuantity": {"value": 5, **km}}))

    def metres(value: int, code: str = "m") -> dict[str, Any]:
        return {"valueQuantity": {"value": value, "system": "http://unitsofmeasure.org",
                                  "code": code}}

    assert value_issues(q, metres(1000), metres(5000), metres(3, "[mi_i]"), metres(9, "kg")) == []
    assert value_issues(q, metres(999), metres(5001)) == [
        ("error", "value", at_answer(0, "Quantity")), ("error", "value", at_answer(1, "Quantity"))]


def test_max_decimal_places() -> None:
    """maxDecimalPlaces limits the digits after the decimal point."""
    q = constrained("decimal", (EXT + "maxDecimalPlaces", {"valueInteger": 2}))
    assert value_issues(q, {"valueDecimal": 1.25}, {"valueDecimal": 3}) == []
    assert value_issues(q, {"valueDecimal": -5.123}) == [("error", "value",
                                                          at_answer(0, "decimal"))]


def test_min_length_max_length_and_regex() -> None:
    """minLength, maxLength and the regex extension constrain string answers."""
    q = constrained("string", (EXT + "minLength", {"valueInteger": 2}),
                    (EXT + "regex", {"valueString": "[a-z]+"}), maxLength=4)
    assert value_issues(q, {"valueString": "abcd"}) == []
    assert value_issues(q, {"valueString": "a"}, {"valueString": "abcde"},
                        {"valueString": "AB"}) == [
        ("error", "value", at_answer(0, "string")), ("error", "too-long", at_answer(1, "string")),
        ("error", "value", at_answer(2, "string"))]


def test_unit_options() -> None:
    """questionnaire-unitOption lists the units a quantity may use."""
    kg = {"system": "http://unitsofmeasure.org", "code": "kg"}
    q = constrained("quantity", (EXT + "questionnaire-unitOption", {"valueCoding": kg}))
    assert value_issues(q, {"valueQuantity": {"value": 70, **kg}}) == []
    lb = {"system": "http://unitsofmeasure.org", "code": "[lb_av]"}
    assert value_issues(q, {"valueQuantity": {"value": 150, **lb}}) == [
        ("error", "code-invalid", at_answer(0, "Quantity"))]


def test_reference_resource_types() -> None:
    """questionnaire-referenceResource limits the resource types a reference may point to."""
    allowed = (EXT + "questionnaire-referenceResource", {"valueCode": "Patient"})
    q = constrained("reference", allowed)
    assert value_issues(q, {"valueReference": {"reference": "Patient/1"}},
                        {"valueReference": {"display": "someone"}}) == []
    assert value_issues(q, {"valueReference": {"reference": "http://a.org/fhir/Group/7"}}) == [
        ("error", "structure", at_answer(0, "Reference"))]


def test_attachment_mime_type_and_size() -> None:
    """mimeType and maxSize constrain attachment answers."""
    q = constrained("attachment", (EXT + "mimeType", {"valueCode": "image/*"}),
                    (EXT + "maxSize", {"valueDecimal": 4}))
    assert value_issues(q, {"valueAttachment": {"contentType": "image/png", "data": "YWJj"}}) == []
    assert value_issues(q, {"valueAttachment": {"contentType": "text/plain; charset=utf-8",
                                                "size": 5}}) == [
        ("error", "value", at_answer(0, "Attachment") + ".contentType"),
        ("error", "value", at_answer(0, "Attachment"))]


def test_authored_outside_the_effective_period() -> None:
    """A response authored after the Questionnaire's effective period is a warning."""
    q = questionnaire({"linkId": "x", "type": "string"}, effectivePeriod={"end": "2021-12-11"})
    assert check(q, response(authored="2021-12-11T23:00:00Z")) == []
    assert found(check(q, response(authored="2021-12-12"))) == [
        ("warning", "business-rule", "QuestionnaireResponse.authored")]


# -- robustness -----------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["linkId", "item", "answer", "valueInteger", "valueCoding", "text",
                         "enableWhen", "type", "question", "operator", "answerInteger"]),
        inner, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(q_items=json_values, qr_items=json_values)
def test_arbitrary_json_never_raises(q_items: Any, qr_items: Any) -> None:
    """Malformed Questionnaires and responses give issues, never an exception."""
    q = {"resourceType": "Questionnaire", "url": Q_URL, "item": q_items}
    qr = {"resourceType": QR, "questionnaire": Q_URL, "status": "completed", "item": qr_items}
    assert all(i.expression.startswith(QR) for i in check(q, qr))


def test_status_of_the_wrong_shape_does_not_crash() -> None:
    """A status that is not a string (reported by the walker) is judged strictly, not raised."""
    q = questionnaire({"linkId": "n", "type": "string", "text": "Name", "required": True})
    qr = {**response(), "status": ["in-progress"]}
    assert found(check(q, qr)) == [("error", "required", QR)]


def test_item_without_type_cannot_be_checked() -> None:
    """A Questionnaire item with no type (it is 1..1): answers to it are an error there."""
    q = questionnaire({"linkId": "x", "text": "Anything"})
    assert found(check(q, response(answer("x", {"valueString": "y"})))) == [
        ("error", "required", "QuestionnaireResponse.item[0]")]
