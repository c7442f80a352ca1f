"""A CodeSystem's synonym property naming no code of the system, an HL7 CodeSystem without
content (ecanfhir.validation.checks.code_system, and the R4 cardinality of CodeSystem.content),
and a QuestionnaireResponse answer whose code system is unknown (checks.questionnaire_answers).
Each asserts severity, code, rule and FHIRPath location; the valid cases pass. Data is synthetic.
"""

from __future__ import annotations

from typing import Any

from _resources import NARRATIVE

from ecanfhir import Registry, Validator, validate

CS = "http://example.org/fhir/CodeSystem/"


def _code_system(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "text": NARRATIVE, "url": CS + "stages",
            "status": "active", "content": "complete", "caseSensitive": True,
            "property": [{"code": "synonym",
                          "uri": "http://hl7.org/fhir/concept-properties#synonym",
                          "type": "code"}], **elements}


def test_synonym_naming_no_code_of_the_system_is_a_warning() -> None:
    """A synonym declares equivalence to another code of the same system."""
    cs = _code_system(concept=[
        {"code": "early", "property": [{"code": "synonym", "valueCode": "initial"}]},
        {"code": "late", "property": [{"code": "synonym", "valueCode": "early"}]}])
    found = [(i.severity, i.code, i.expression) for i in validate(cs).issues
             if i.rule == "codesystem-property"]
    assert found == [("warning", "business-rule", "CodeSystem.concept[0].property[0]")]


def test_hl7_code_system_without_content_is_an_error() -> None:
    """CodeSystem.content is 1..1 in R4 (the HL7 validator: HL7 code systems SHALL state it)."""
    cs = _code_system(url="http://terminology.hl7.org/CodeSystem/example-stages",
                      concept=[{"code": "early"}])
    del cs["content"]
    result = validate(cs)
    [issue] = [i for i in result.errors if i.expression == "CodeSystem.content"]
    assert (issue.code, issue.rule) == ("required", "cardinality-min")
    assert validate(_code_system(concept=[{"code": "early"}])).ok


def test_answer_from_an_unknown_code_system_is_a_warning() -> None:
    """An answer that the Questionnaire's value set cannot judge: its code system is not here."""
    vs = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/lab",
          "status": "active", "compose": {"include": [{"system": "http://acme-lab.test/cs"}]}}
    q = {"resourceType": "Questionnaire", "url": "http://example.org/fhir/Questionnaire/q",
         "status": "active", "item": [{"linkId": "m", "type": "choice",
                                       "answerValueSet": vs["url"]}]}
    registry = Registry()
    registry.add_all([vs, q])

    def answer(system: str) -> dict[str, Any]:
        return {"resourceType": "QuestionnaireResponse", "text": NARRATIVE,
                "questionnaire": q["url"], "status": "completed", "item": [
                    {"linkId": "m", "answer": [{"valueCoding": {"system": system,
                                                                "code": "A1"}}]}]}
    result = Validator(registry).validate(answer("http://acme-lab.test/cs"))
    [issue] = [i for i in result.issues if i.rule == "qr-answer-value-set"]
    assert (issue.severity, issue.code, issue.expression) == (
        "warning", "not-found", "QuestionnaireResponse.item[0].answer[0].value.ofType(Coding)")
    assert "could not be found" in issue.message and result.ok


def test_deprecated_code_is_noted_as_deprecated() -> None:
    """A deprecated code is still active but discouraged; a retired one is not active."""
    registry = Registry()
    registry.add(_code_system(url=CS + "methods", concept=[
        {"code": "old", "property": [{"code": "status", "valueCode": "deprecated"}]},
        {"code": "gone", "property": [{"code": "status", "valueCode": "retired"}]},
        {"code": "now"}], property=[{"code": "status", "type": "code",
                                    "uri": "http://hl7.org/fhir/concept-properties#status"}]))

    def noted(code: str) -> list[tuple[str, str, str, str]]:
        observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                       "code": {"coding": [{"system": CS + "methods", "code": code}]}}
        return [(i.severity, i.code, i.expression, i.rule)
                for i in Validator(registry).validate(observation).issues
                if i.rule in ("code-deprecated", "code-inactive")]
    at = "Observation.code.coding[0].code"
    assert noted("old") == [("information", "business-rule", at, "code-deprecated")]
    assert noted("gone") == [("information", "business-rule", at, "code-inactive")]
    assert noted("now") == []


def test_display_in_a_language_the_code_system_lacks_says_so() -> None:
    """A wrong display in a resource whose language the code system has no display in: no
    valid display in that language (a warning at the display); with a Danish designation, the
    usual wrong-display warning; without a resource language, the same."""
    registry = Registry()
    registry.add(_code_system(url=CS + "sites", language="en", concept=[
        {"code": "arm", "display": "Arm"},
        {"code": "leg", "display": "Leg", "designation": [{"language": "da", "value": "Ben"}]}]))

    def display(code: str, shown: str, **elements: Any) -> list[tuple[str, str, str]]:
        observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                       "code": {"text": "synthetic"}, "bodySite": {"coding": [
                           {"system": CS + "sites", "code": code, "display": shown}]},
                       **elements}
        return [(i.severity, i.expression, i.message)
                for i in Validator(registry).validate(observation).issues if i.rule == "display"]
    at = "Observation.bodySite.coding[0].display"
    [(severity, where, message)] = display("arm", "Armen", language="da")
    assert (severity, where) == ("warning", at)
    assert message.startswith(f"No valid display names found for {CS}sites#arm in the language da")
    [(_, _, message)] = display("leg", "Benet", language="da")
    assert "No valid display" not in message
    [(_, _, message)] = display("arm", "Armen")
    assert "No valid display" not in message
    assert display("leg", "Ben", language="da") == []
