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


BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"


@pytest.mark.parametrize(("extension", "rule", "expression"), [
    ({"url": BIRTH_PLACE, "extension": [{"url": "city", "valueString": "Aarhus"}]},
     "cardinality-max", "Patient.extension[0].extension"),
    ({"url": BIRTH_PLACE}, "cardinality-min", "Patient.extension[0].value"),
])
def test_simple_extension_holds_a_value_not_extensions(extension: dict[str, Any], rule: str,
                                                       expression: str) -> None:
    """patient-birthPlace is simple: its Address goes in value[x], and it cannot be left out."""
    resource = {"resourceType": "Patient", "text": NARRATIVE, "extension": [extension]}
    assert [e for s, _, e in found(resource, rule)] == [expression]


def test_modifier_extension_outside_its_context_is_an_error() -> None:
    """request-doNotPerform modifies requests; a Patient is not one."""
    resource = {"resourceType": "Patient", "text": NARRATIVE, "modifierExtension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/request-doNotPerform",
         "valueBoolean": True}]}
    assert found(resource, "extension-context") == [
        ("error", "structure", "Patient.modifierExtension[0]")]


def test_security_label_given_twice_is_a_warning() -> None:
    """The same security label (system and code) twice in meta.security."""
    label = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
    resource = {"resourceType": "Patient", "text": NARRATIVE,
                "meta": {"security": [label, {**label, "display": "restricted"}]}}
    assert found(resource, "meta-security") == [
        ("warning", "duplicate", "Patient.meta.security[1]")]
    assert validate(resource).ok


@pytest.mark.parametrize(("subject", "expected"), [
    ({"reference": "Patient/p1"}, []),
    ({"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0101701234"}}, []),
    ({"display": "Synthetic patient"}, []),
    ({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                     "valueCode": "unknown"}]}, [("warning", "invalid", "Observation.subject")]),
])
def test_reference_saying_nothing_needs_a_display(subject: dict[str, Any],
                                                   expected: list[tuple[str, str, str]]) -> None:
    """Without reference or identifier, only a display says what a Reference is about."""
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"text": "Weight"}, "subject": subject}
    assert found(resource, "reference-display") == expected


def test_companion_of_a_repeating_primitive_is_an_array() -> None:
    """given repeats, so _given is an array aligned with it, not an object."""
    resource = {"resourceType": "Patient", "text": NARRATIVE,
                "name": [{"given": ["Synne", "Marie"], "_given": {"id": "g1"}}]}
    issues = [i for i in validate(resource).issues if i.rule == "json-form"]
    assert ("error", "Patient.name[0].given") in {(i.severity, i.expression) for i in issues}
    assert any("must be an array" in i.message for i in issues)


def test_failed_invariant_is_an_error_naming_it() -> None:
    """per-1: a Period does not end before it starts; the issue names the constraint."""
    resource = {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                          "code": "AMB"},
                "period": {"start": "2024-05-02", "end": "2024-05-01"}}
    assert found(resource, "per-1") == [("error", "invariant", "Encounter.period")]
