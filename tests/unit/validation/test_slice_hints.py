"""With ``advice``: a value in none of the slices of an open slicing is said (information),
naming the slices it does not match (checks/slicing.py). The profile is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/identified-patient"
CPR = "urn:oid:1.2.208.176.1.2"
PROFILE = {
    "resourceType": "StructureDefinition", "url": URL, "name": "IdentifiedPatient",
    "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "derivation": "constraint", "differential": {"element": [
        {"id": "Patient", "path": "Patient"},
        {"id": "Patient.identifier", "path": "Patient.identifier", "slicing": {
            "discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
        {"id": "Patient.identifier:cpr", "path": "Patient.identifier", "sliceName": "cpr"},
        {"id": "Patient.identifier:cpr.system", "path": "Patient.identifier.system",
         "fixedUri": CPR}]}}


def validate(*identifiers: dict[str, Any], advice: bool = True) -> ValidationResult:
    registry = Registry()
    registry.add(PROFILE)
    return Validator(registry, options=ValidationOptions(advice=advice)).validate(
        {"resourceType": "Patient", "text": NARRATIVE, "identifier": list(identifiers)},
        profiles=[URL])


def test_value_in_no_slice_is_said() -> None:
    """A hospital number matches no slice of the open slicing: information at the value."""
    result = validate({"system": CPR, "value": "0101709995"},
                      {"system": "urn:oid:1.2.208.176.1.99", "value": "H-1"})
    assert result.ok
    issue = assert_issue(result, "Patient.identifier[1]", severity="information",
                         code="informational", fragment="does not match any known slice")
    assert issue.message.endswith("it does not match slice 'cpr'")
    assert issue.rule == "slice-unmatched"
    assert [i for i in result.issues if i.expression == "Patient.identifier[0]"] == []


def test_no_hint_without_advice() -> None:
    """Off by default."""
    result = validate({"system": "urn:oid:1.2.208.176.1.99", "value": "H-1"}, advice=False)
    assert [i for i in result.issues if i.rule == "slice-unmatched"] == []


def advised(profile: dict[str, Any], **patient: Any) -> ValidationResult:
    """Validate a Patient with ``patient``'s elements against ``profile``, with advice."""
    registry = Registry()
    registry.add(profile)
    return Validator(registry, options=ValidationOptions(advice=True)).validate(
        {"resourceType": "Patient", "text": NARRATIVE, **patient}, profiles=[profile["url"]])


def with_elements(*elements: dict[str, Any], rules: str = "open") -> dict[str, Any]:
    """PROFILE with ``elements`` added and the identifier slicing's rules set."""
    base = [{**e, "slicing": {**e["slicing"], "rules": rules}} if "slicing" in e else e
            for e in PROFILE["differential"]["element"]]
    return {**PROFILE, "differential": {"element": [*base, *elements]}}


HOSPITAL = {"system": "urn:oid:1.2.208.176.1.99", "value": "H-1"}


def test_hint_names_the_profile_and_every_slice() -> None:
    """The whole hint: where the slicing is defined and each slice the value does not match."""
    profile = with_elements(
        {"id": "Patient.identifier:mr", "path": "Patient.identifier", "sliceName": "mr"},
        {"id": "Patient.identifier:mr.system", "path": "Patient.identifier.system",
         "fixedUri": "urn:oid:1.2.208.176.1.6"})
    result = advised(profile, identifier=[HOSPITAL])
    assert assert_issue(result, "Patient.identifier[0]", severity="information",
                        code="informational", fragment="").message == (
        "this value does not match any known slice of Patient.identifier defined in the "
        f"profile {URL} (this may not be a problem, but check that it is not meant to match "
        "one): it does not match slice 'cpr', 'mr'")


def test_no_hint_under_closed_slicing() -> None:
    """A closed slicing reports the value as an error instead."""
    result = advised(with_elements(rules="closed"), identifier=[HOSPITAL])
    assert [(i.severity, i.expression, i.rule) for i in result.issues] == [
        ("error", "Patient.identifier[0]", "slice-closed")]


def test_no_hint_for_extensions() -> None:
    """Extensions are sliced by url and others are expected: no hint for one in no slice."""
    profile = with_elements(
        {"id": "Patient.extension", "path": "Patient.extension", "slicing": {
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}},
        {"id": "Patient.extension:nationality", "path": "Patient.extension",
         "sliceName": "nationality", "type": [{"code": "Extension", "profile": [
             "http://hl7.org/fhir/StructureDefinition/patient-nationality"]}]})
    result = advised(profile, extension=[
        {"url": "http://example.net/fhir/StructureDefinition/shoe-size", "valueInteger": 44}])
    assert [i for i in result.issues if i.rule == "slice-unmatched"] == []
    assert [i for i in advised(profile, identifier=[HOSPITAL]).issues
            if i.rule == "slice-unmatched"] != []
