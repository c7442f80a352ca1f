"""Rules of the HL7 validator's catalogue that ecanfhir meets through the core definitions:
required elements named by its messages (MessageHeader.event, Extension.url,
QuestionnaireResponse.item.linkId) and Coding displays.

Each asserts code, severity, rule and FHIRPath location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def found(resource: dict[str, Any], rule: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in validate(resource).issues
            if i.rule == rule]


@pytest.mark.parametrize(("resource", "expression"), [
    ({"resourceType": "MessageHeader", "source": {"endpoint": "http://example.org/ep"}},
     "MessageHeader.event"),
    ({"resourceType": "Patient", "extension": [{"valueString": "x"}]},
     "Patient.extension[0].url"),
    ({"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"text": "x"}]},
     "QuestionnaireResponse.item[0].linkId"),
])
def test_element_the_catalogue_names_as_required_is_required(resource: dict[str, Any],
                                                             expression: str) -> None:
    """A message's event, an extension's url and an item's linkId are 1..1 in core."""
    assert found({**resource, "text": NARRATIVE}, "cardinality-min") == [
        ("error", "required", expression)]


def condition(display: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "text": NARRATIVE, "subject": {"display": "Synthetic"},
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active",
                                           "display": display}]}}


def test_right_display_passes() -> None:
    """The code system's display (any case) is the right one."""
    assert found(condition("Active"), "display") == []
    assert found(condition("active"), "display") == []


def test_wrong_display_is_a_warning_at_the_display() -> None:
    """A display the code system does not give for the code: a warning, still valid."""
    expression = "Condition.clinicalStatus.coding[0].display"
    assert found(condition("Resolved long ago"), "display") == [
        ("warning", "invalid", expression)]
    assert validate(condition("Resolved long ago")).ok


def test_coding_outside_an_extensible_binding_is_a_warning() -> None:
    """Encounter.class is a Coding bound extensibly to v3 ActEncounterCode: a warning there."""
    resource = {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                          "code": "XYZ"}}
    assert found(resource, "binding-extensible") == [("warning", "code-invalid", "Encounter.class")]
