"""The rules of whole resources, run by type once the walker has checked the elements
(ecanfhir.validation._resource_rules): which resource they run on, at which location, and with
what of the run (the resource's frame, its Bundle, the terminology). All data is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EX = "http://example.net/fhir/"
FORM = EX + "Questionnaire/visit"
SITES = {"resourceType": "CodeSystem", "url": EX + "CodeSystem/sites", "status": "draft",
         "content": "complete", "text": NARRATIVE,
         "concept": [{"code": "lung", "display": "Lung"}]}
SITES_VS = {"resourceType": "ValueSet", "url": EX + "ValueSet/sites", "status": "draft",
            "compose": {"include": [{"system": SITES["url"]}]}}
QUESTIONNAIRE = {"resourceType": "Questionnaire", "url": FORM, "status": "active",
                 "text": NARRATIVE, "item": [
                     {"linkId": "age", "text": "Age", "type": "integer"},
                     {"linkId": "site", "text": "Site", "type": "choice",
                      "answerValueSet": SITES_VS["url"]}]}


def response(*items: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "QuestionnaireResponse", "text": NARRATIVE, "questionnaire": FORM,
            "status": "completed", "item": list(items)}


def collection(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": r.get("url", f"urn:uuid:0e7c7a4e-3f3a-4b6e-9d5c-00000000000{n}"),
         "resource": r} for n, r in enumerate(resources)]}


def test_response_finds_its_questionnaire_in_the_bundle() -> None:
    """A Questionnaire the registry lacks is found as a sibling entry: the answers are checked
    against it, at the response entry's location."""
    bundle = collection(QUESTIONNAIRE, response(
        {"linkId": "age", "text": "Age", "answer": [{"valueString": "nine"}]}))
    result = Validator(Registry()).validate(bundle)
    issue = assert_issue(result, "Bundle.entry[1].resource.item[0].answer[0].value.ofType(string)",
                         severity="error", code="structure", fragment="of type 'integer'")
    assert issue.rule == "qr-answer-type"


def test_response_answers_are_checked_with_the_terminology() -> None:
    """A coded answer outside the item's answerValueSet: an error at the Coding."""
    registry = Registry()
    for resource in (QUESTIONNAIRE, SITES, SITES_VS):
        registry.add(resource)
    result = Validator(registry).validate(response(
        {"linkId": "site", "text": "Site",
         "answer": [{"valueCoding": {"system": SITES["url"], "code": "liver"}}]}))
    issue = assert_issue(result, "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)",
                         severity="error", code="code-invalid", fragment="not in the answer")
    assert issue.rule == "qr-answer-value-set"


def test_code_system_entry_is_not_contained() -> None:
    """A CodeSystem as a Bundle entry has a parent resource but is not contained: only the one
    contained in the ValueSet entry is noted."""
    inner = {**SITES, "id": "inner", "url": EX + "CodeSystem/inner"}
    value_set = {**SITES_VS, "text": NARRATIVE, "contained": [inner],
                 "compose": {"include": [{"system": inner["url"]}]}}
    result = Validator(Registry()).validate(collection(SITES, value_set))
    noted = [(i.severity, i.expression) for i in result.issues if i.rule == "codesystem-contained"]
    assert noted == [("information", "Bundle.entry[1].resource.contained[0]")]
