"""Extensions whose definition is deprecated, withdrawn or retired
(ecanfhir.validation.checks.definition_status), noted once per run at the first use; and the
status of a code system behind a binding, noted with the value set that drew the code from it
(checks.binding). Each asserts severity, code, rule and FHIRPath location. Data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import EXAMPLE, constraint, element
from _resources import NARRATIVE

from ecanfhir import Registry, Validator

STANDARDS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
EXT = "http://example.org/fhir/StructureDefinition/shoe-size"


def _extension(**changes: Any) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": EXT, "name": "ShoeSize",
            "version": "1.0.0", "status": "active", "fhirVersion": "4.0.1",
            "kind": "complex-type", "abstract": False, "type": "Extension",
            "context": [{"type": "element", "expression": "Patient"}],
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint", "differential": {"element": [
                {"id": "Extension", "path": "Extension"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": EXT},
                {"id": "Extension.value[x]", "path": "Extension.value[x]",
                 "type": [{"code": "integer"}]}]}, **changes}


def _noted(definition: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    registry = Registry()
    registry.add(definition)
    patient = {"resourceType": "Patient", "text": NARRATIVE, "extension": [
        {"url": EXT, "valueInteger": 42}, {"url": EXT, "valueInteger": 43}]}
    result = Validator(registry).validate(patient)
    assert result.ok
    return [(i.severity, i.code, i.expression, i.message) for i in result.issues
            if i.rule == "definition-status"]


@pytest.mark.parametrize(("changes", "state"), [
    ({"extension": [{"url": STANDARDS, "valueCode": "deprecated"}]}, "deprecated"),
    ({"extension": [{"url": STANDARDS, "valueCode": "withdrawn"}]}, "withdrawn"),
    ({"status": "retired"}, "retired"),
])
def test_extension_no_longer_recommended_is_noted_once(changes: dict[str, Any],
                                                       state: str) -> None:
    """Information at the first extension that uses the definition, none at the second."""
    assert _noted(_extension(**changes)) == [
        ("information", "business-rule", "Patient.extension[0]",
         f"the extension {EXT}|1.0.0 is {state}")]


def test_active_extension_is_not_noted() -> None:
    """Active (or draft: the HL7 validator does not note drafts either) says nothing."""
    assert _noted(_extension()) == []
    assert _noted(_extension(status="draft")) == []


@pytest.mark.parametrize(("changes", "state"), [
    ({"extension": [{"url": STANDARDS, "valueCode": "deprecated"}]}, "deprecated"),
    ({"extension": [{"url": STANDARDS, "valueCode": "withdrawn"}]}, "withdrawn"),
    ({"status": "retired"}, "retired"), ({"experimental": True}, "experimental"),
    ({"status": "draft"}, "draft")])
def test_code_system_status_names_the_value_set_it_came_through(changes: dict[str, Any],
                                                                 state: str) -> None:
    """The status of a code system behind a binding is noted with the value set (the source)
    that drew the code from it."""
    system = "http://example.org/fhir/CodeSystem/old-methods"
    vs = "http://example.org/fhir/ValueSet/old-methods"
    registry = Registry()
    registry.add_all([
        {"resourceType": "CodeSystem", "url": system, "status": "active", "content": "complete",
         "concept": [{"code": "A"}], **changes},
        {"resourceType": "ValueSet", "url": vs, "status": "active",
         "compose": {"include": [{"system": system}]}},
        constraint("old-methods", "Observation", element(
            "Observation.method", binding={"strength": "required", "valueSet": vs}))])
    result = Validator(registry).validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "meta": {"profile": [EXAMPLE + "old-methods"]}, "code": {"text": "synthetic"},
        "method": {"coding": [{"system": system, "code": "A"}]}})
    [issue] = [i for i in result.issues if i.rule == "code-system-status"]
    assert (issue.severity, issue.code, issue.expression) == ("information", "expired",
                                                              "Observation.method")
    assert f"{state} item {system}" in issue.message and f"value set '{vs}'" in issue.message
