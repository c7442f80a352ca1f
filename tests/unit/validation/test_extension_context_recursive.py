"""Extension contexts on recursive elements (R4 §2.17.0.4 and ElementDefinition.contentReference).

``Questionnaire.item.item`` is defined by ``contentReference: #Questionnaire.item``: it is a
Questionnaire.item, at any depth, so an extension whose context is ``Questionnaire.item`` may
extend it, as in the HL7 validator (the referenced element's path is one of the element's logical
paths). The same holds for QuestionnaireResponse items, and for such resources inside a Bundle
or a Parameters. A context elsewhere still fails. The extension and all data are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
HINT = EXAMPLE + "item-hint"  # context Questionnaire.item
ANSWER_NOTE = EXAMPLE + "answer-note"  # context QuestionnaireResponse.item


def extension(name: str, context: str) -> dict[str, Any]:
    """A simple string extension allowed on ``context`` only."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": context}], "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "max": "1"},
            {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": EXAMPLE + name},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1,
             "type": [{"code": "string"}]}]},
    }


def check(resource: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    registry.add(extension("item-hint", "Questionnaire.item"))
    registry.add(extension("answer-note", "QuestionnaireResponse.item"))
    return Validator(registry).validate(resource)


def tagged(url: str) -> list[dict[str, Any]]:
    return [{"url": url, "valueString": "Synthetic hint"}]


def questionnaire(url: str = HINT) -> dict[str, Any]:
    """Three levels of items; the innermost carries the extension."""
    leaf = {"linkId": "1.1.1", "text": "Weight", "type": "decimal", "extension": tagged(url)}
    middle = {"linkId": "1.1", "text": "Vitals", "type": "group", "item": [leaf]}
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
            "item": [{"linkId": "1", "text": "Visit", "type": "group", "item": [middle]}]}


def response(url: str = ANSWER_NOTE) -> dict[str, Any]:
    """An item nested in an item, and an item nested in an answer, both extended."""
    inner = {"linkId": "1.1", "extension": tagged(url),
             "answer": [{"valueBoolean": True,
                         "item": [{"linkId": "1.1.1", "extension": tagged(url)}]}]}
    return {"resourceType": "QuestionnaireResponse", "text": NARRATIVE, "status": "completed",
            "item": [{"linkId": "1", "item": [inner]}]}


def test_context_of_the_referenced_element_allows_a_nested_item() -> None:
    """Questionnaire.item.item.item is a Questionnaire.item: the extension is valid there."""
    assert check(questionnaire()).issues == ()


def test_nested_response_items_are_response_items() -> None:
    """QuestionnaireResponse.item.item and .item.answer.item are QuestionnaireResponse.items."""
    result = check(response())  # without its Questionnaire: one information, nothing more
    assert [i.rule for i in result.issues] == ["qr-questionnaire"]


@pytest.mark.parametrize("wrap", [
    lambda r: {"resourceType": "Bundle", "type": "collection",
               "entry": [{"fullUrl": "urn:uuid:5b0e7a52-3c57-4b9e-9d0c-3f1e0f6b2a11",
                          "resource": r}]},
    lambda r: {"resourceType": "Parameters", "parameter": [{"name": "questionnaire",
                                                            "resource": r}]},
], ids=["Bundle", "Parameters"])
def test_nested_item_inside_another_resource(wrap: Any) -> None:
    """The item's resource is the entry's (or parameter's) Questionnaire, not the wrapper."""
    assert check(wrap(questionnaire())).issues == ()


def test_context_of_another_element_still_fails_on_a_nested_item() -> None:
    """A QuestionnaireResponse.item extension is not allowed on a nested Questionnaire.item."""
    result = check(questionnaire(ANSWER_NOTE))
    issue = assert_issue(result, "Questionnaire.item[0].item[0].item[0].extension[0]",
                         severity="error", code="structure", fragment="is not allowed here")
    assert issue.rule == "extension-context"


def test_item_context_does_not_reach_a_response_answer() -> None:
    """An answer is not an item: the QuestionnaireResponse.item extension fails on it."""
    resource = response()
    resource["item"][0]["item"][0]["answer"][0]["extension"] = tagged(ANSWER_NOTE)
    result = check(resource)
    issue = assert_issue(result, "QuestionnaireResponse.item[0].item[0].answer[0].extension[0]",
                         severity="error", code="structure", fragment="is not allowed here")
    assert issue.rule == "extension-context"
