"""Extensions that R4 core and HL7's extension pack both define: the pack's newer definition is
used, as the HL7 validator uses it, so its corrected contexts apply. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EXT = "http://hl7.org/fhir/StructureDefinition/"
MOTHERS_FAMILY = {"url": EXT + "humanname-mothers-family", "valueString": "Jensen"}


def test_registry_prefers_the_newer_extension_pack_definition() -> None:
    """With the default packages, the pack's version wins; without them, R4 core's."""
    url = EXT + "structuredefinition-fhir-type"
    newer = Registry().structure_definition(url)
    core = Registry(defaults=False).structure_definition(url)
    assert newer is not None and core is not None
    assert core["version"] == "4.0.1" and newer["version"] != "4.0.1"
    assert [c["expression"] for c in newer["context"]] == ["ElementDefinition.type"]


def patient(name: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "name": [name]}


def test_extension_on_the_parent_of_its_context_is_an_error() -> None:
    """humanname-mothers-family belongs on HumanName.family; on the HumanName it is an error."""
    result = validate(patient({"family": "Hansen", "extension": [MOTHERS_FAMILY]}))
    assert_issue(result, "Patient.name[0].extension[0]", severity="error", code="structure",
                 fragment="HumanName.family")


def test_extension_in_its_context_is_fine() -> None:
    """On the family name itself (its _family companion) the extension is allowed."""
    result = validate(patient({"family": "Hansen", "_family": {"extension": [MOTHERS_FAMILY]}}))
    assert [i for i in result.issues if i.rule == "extension-context"] == []


def test_fhir_type_extension_on_element_type_is_fine() -> None:
    """structuredefinition-fhir-type on ElementDefinition.type (as HL7's tools write System
    types) is allowed by the pack's definition, though R4 core says ElementDefinition.type.code."""
    model = {
        "resourceType": "StructureDefinition", "text": NARRATIVE,
        "url": "http://example.org/fhir/StructureDefinition/Note", "name": "Note",
        "status": "draft", "kind": "logical", "abstract": False,
        "type": "http://example.org/fhir/StructureDefinition/Note",
        "baseDefinition": EXT + "Element", "derivation": "specialization",
        "differential": {"element": [
            {"id": "Note", "path": "Note"},
            {"id": "Note.text", "path": "Note.text", "min": 0, "max": "1", "type": [{
                "extension": [{"url": EXT + "structuredefinition-fhir-type",
                               "valueUrl": "string"}],
                "code": "http://hl7.org/fhirpath/System.String"}]}]},
    }
    assert [i for i in validate(model).issues if i.rule == "extension-context"] == []
