"""QuestionnaireResponse answers against a choice item's answerOptions (checks/questionnaire.py):
no option of the answer's type, no options at all, and items without a type (HL7 validator
Questionnaire_QR_Item_NoOptions*, *NoOptions, NoType). All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
FORM = "http://example.org/fhir/Questionnaire/visit"
CODED = [{"valueCoding": {"system": "http://example.org/fhir/CodeSystem/visit", "code": "new"}}]


def respond(item: dict[str, Any], answer: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    registry.add({"resourceType": "Questionnaire", "url": FORM, "status": "active",
                  "item": [{"linkId": "q1", "text": "Question", **item}]})
    return Validator(registry).validate({
        "resourceType": "QuestionnaireResponse", "text": NARRATIVE, "questionnaire": FORM,
        "status": "completed", "item": [{"linkId": "q1", "answer": [answer]}]})


AT = "QuestionnaireResponse.item[0].answer[0].value.ofType({})"


@pytest.mark.parametrize(("answer", "fhir_type"), [
    ({"valueDate": "2025-01-31"}, "date"), ({"valueInteger": 3}, "integer"),
    ({"valueTime": "10:30:00"}, "time")])
def test_no_option_of_the_answers_type(answer: dict[str, Any], fhir_type: str) -> None:
    """Options that are all Codings: a date, integer or time answer is an error at the value."""
    issue = assert_issue(respond({"type": "choice", "answerOption": CODED}, answer),
                         AT.format(fhir_type), severity="error", code="value",
                         fragment=f"no answerOption of type {fhir_type}")
    assert issue.rule == "qr-answer-option"


def test_no_coded_option_for_a_coding() -> None:
    """Options that are all integers: a Coding answer is an error naming that."""
    result = respond({"type": "choice", "answerOption": [{"valueInteger": 1}]},
                     {"valueCoding": CODED[0]["valueCoding"]})
    assert_issue(result, AT.format("Coding"), severity="error", code="code-invalid",
                 fragment="lists no Codings")


@pytest.mark.parametrize(("answer", "fhir_type"), [
    ({"valueDate": "2025-01-31"}, "date"), ({"valueInteger": 3}, "integer"),
    ({"valueTime": "10:30:00"}, "time"), ({"valueString": "later"}, "string")])
def test_choice_without_options(answer: dict[str, Any], fhir_type: str) -> None:
    """A choice item with neither answerOption nor answerValueSet: the answer cannot be checked,
    which is information, not an error."""
    result = respond({"type": "choice"}, answer)
    issue = assert_issue(result, AT.format(fhir_type), severity="information",
                         code="informational", fragment="lists no answerOption")
    assert issue.rule == "qr-answer-option" and result.ok


def test_item_without_type() -> None:
    """A Questionnaire item without a type: its answers cannot be judged (an error at the
    response item)."""
    issue = assert_issue(respond({}, {"valueString": "x"}), "QuestionnaireResponse.item[0]",
                         severity="error", code="required", fragment="has no type")
    assert issue.rule == "qr-item-no-type"
