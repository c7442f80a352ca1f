"""URI values beyond their regex (ecanfhir.validation.checks.uri): urn:uuid: and urn:oid: syntax,
absolute canonicals, code and identifier systems, and urn:ietf:rfc:3986 identifier values.

Each rule has valid values and invalid ones asserting code, rule and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
UUID = "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc"


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def value_set(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "text": NARRATIVE, "status": "draft", **elements}


def rules_at(resource: dict[str, Any], expression: str) -> list[str]:
    return [i.rule for i in validate(resource).errors if i.expression == expression]


@pytest.mark.parametrize("system", [
    UUID, "urn:oid:1.2.208.176.1.2", "urn:oid:1.3.88", "urn:oid:2.16.840.1.113883.4.1",
    "http://example.org/mrn", "urn:ietf:rfc:3986", "https://example.org/ids",
])
def test_well_formed_uris_pass(system: str) -> None:
    """Lowercase urn:uuid:, OIDs with a namespace, and http(s) URLs are fine."""
    assert validate(patient(identifier=[{"system": system, "value": "a:1"}])).errors == ()


@pytest.mark.parametrize(("value", "rule", "words"), [
    ("oid:1.2.208.176", "uri-scheme", "urn:oid:"),
    ("uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc", "uri-scheme", "urn:uuid:"),
    ("urn:uuid:0F3D3D1A-1B2C-4D5E-8F90-123456789ABC", "uuid-syntax", "lowercase"),
    ("urn:uuid:12345", "uuid-syntax", "not a valid UUID"),
    ("urn:oid:1.2.03.4.5.6", "oid-syntax", "not a valid OID"),
    ("urn:oid:1.2.3", "oid-syntax", "top-level arc"),
])
def test_malformed_urn_is_an_error(value: str, rule: str, words: str) -> None:
    """uri values: urn:uuid: takes a lowercase UUID, urn:oid: an OID, and neither drops 'urn:'."""
    result = validate(patient(implicitRules=value))
    issue = assert_issue(result, "Patient.implicitRules", severity="error", code="invalid",
                         fragment=words)
    assert issue.rule == rule


def test_uuid_fragment_is_not_part_of_the_uuid() -> None:
    """urn:uuid:…#part names a part of the resource: only the UUID is checked."""
    assert rules_at(patient(implicitRules=UUID + "#x"), "Patient.implicitRules") == []


def test_relative_canonical_is_an_error() -> None:
    """A canonical is absolute or a #fragment (to a contained resource)."""
    resource = {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
                "derivedFrom": ["http://example.org/Questionnaire/q", "#q2", "Questionnaire/q3"]}
    result = validate(resource)
    assert rules_at(resource, "Questionnaire.derivedFrom[0]") == []
    assert rules_at(resource, "Questionnaire.derivedFrom[1]") == []
    # (derivedFrom also gets a warning that the Questionnaire it names is not loaded)
    [issue] = [i for i in result.errors if i.expression == "Questionnaire.derivedFrom[2]"]
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "canonical-absolute")
    assert "must be an absolute URL" in issue.message


def test_relative_canonical_url_of_a_definition_is_an_error() -> None:
    """ValueSet.url defines the canonical URL, so it is absolute, contained or not."""
    assert rules_at(value_set(url="http://example.org/ValueSet/vs"), "ValueSet.url") == []
    result = validate(value_set(url="ValueSet/vs"))
    issue = assert_issue(result, "ValueSet.url", severity="error", code="invalid",
                         fragment="of a definition")
    assert issue.rule == "canonical-absolute"
    contained = patient(contained=[value_set(id="vs", url="vs")],
                        extension=[{"url": "http://example.org/x", "valueCanonical": "#vs"}])
    issue = assert_issue(validate(contained), "Patient.contained[0].url", severity="error",
                         code="invalid", fragment="of a contained resource")
    assert issue.rule == "canonical-absolute"


def test_relative_coding_system_is_an_error() -> None:
    """Coding.system is a code system's canonical URL, never a local reference."""
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"coding": [{"system": "loinc", "code": "8310-5"}]}}
    issue = assert_issue(validate(resource), "Observation.code.coding[0].system",
                         severity="error", code="code-invalid", fragment="absolute URI")
    assert issue.rule == "coding-system"


def test_relative_identifier_system_is_an_error() -> None:
    """Identifier.system is absolute; 'mrn' is a local reference."""
    result = validate(patient(identifier=[{"system": "mrn", "value": "1"}]))
    issue = assert_issue(result, "Patient.identifier[0].system", severity="error",
                         code="code-invalid", fragment="absolute URI")
    assert issue.rule == "identifier-system"


def test_ietf_uri_identifier_needs_a_uri_value() -> None:
    """With system urn:ietf:rfc:3986 the identifier's value is itself a URI."""
    ok = patient(identifier=[{"system": "urn:ietf:rfc:3986", "value": UUID}])
    assert validate(ok).errors == ()
    result = validate(patient(identifier=[{"system": "urn:ietf:rfc:3986", "value": "12345"}]))
    issue = assert_issue(result, "Patient.identifier[0].value", severity="error",
                         code="code-invalid", fragment="full URI")
    assert issue.rule == "identifier-ietf-value"


def test_relative_extension_url_is_an_error_except_for_parts() -> None:
    """An extension's url is absolute; only a part of a complex extension has a relative one."""
    resource = patient(
        extension=[{"url": "shoe-size", "valueString": "42"},
                   {"url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                    "extension": [{"url": "code", "valueCodeableConcept": {"text": "Danish"}}]}],
        birthDate="1970", _birthDate={"extension": [{"url": "accuracy", "valueString": "x"}]})
    found = [(i.severity, i.code, i.expression) for i in validate(resource).issues
             if i.rule == "extension-url"]
    assert found == [("error", "invalid", "Patient.birthDate.extension[0].url"),
                     ("error", "invalid", "Patient.extension[0].url")]


def test_versioned_extension_url_is_an_error() -> None:
    """Extensions are identified by their url alone: 'url|4.0.0' is not allowed."""
    url = "http://hl7.org/fhir/StructureDefinition/patient-congregation|4.0.0"
    resource = patient(extension=[{"url": url, "valueString": "Synthetic parish"}])
    found = [(i.severity, i.code, i.expression) for i in validate(resource).issues
             if i.rule == "extension-url"]
    assert found == [("error", "invalid", "Patient.extension[0].url")]


def test_canonical_naming_a_definition_of_another_type_is_an_error() -> None:
    """answerValueSet is a canonical(ValueSet): a StructureDefinition's URL is not one."""
    items = [{"linkId": "a", "type": "choice", "text": "A",
              "answerValueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"},
             {"linkId": "b", "type": "choice", "text": "B",
              "answerValueSet": "http://hl7.org/fhir/StructureDefinition/Patient"},
             {"linkId": "c", "type": "choice", "text": "C",
              "answerValueSet": "http://example.org/ValueSet/not-loaded"}]
    resource = {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
                "item": items}
    found = [(i.severity, i.code, i.expression) for i in validate(resource).issues
             if i.rule == "canonical-type"]
    assert found == [("error", "invalid", "Questionnaire.item[1].answerValueSet")]
