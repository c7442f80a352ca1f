"""A profile whose differential has an error (a path its base does not have, a differential
that is no array, a max above its base's) is applied as its snapshot was generated, and the
resource checked against it is told: a warning ``profile-snapshot`` where the profile is first
used (the same when the snapshot comes from the user cache: tests/unit/test_snapshot_cache.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

EXAMPLE = "http://example.org/fhir/StructureDefinition/"


def _profile(name: str, elements: Any) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name,
            "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": "Patient", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "differential": {"element": elements}}


# Patient.gender is required; Patient.dateOfBirth is not an element of Patient.
HALF = _profile("half-applied-patient", [
    {"id": "Patient.gender", "path": "Patient.gender", "min": 1},
    {"id": "Patient.dateOfBirth", "path": "Patient.dateOfBirth", "min": 1}])
UNREADABLE = _profile("unreadable-differential", 5)

EXTENSION = {
    "resourceType": "StructureDefinition", "id": "odd-extension",
    "url": EXAMPLE + "odd-extension", "name": "OddExtension", "status": "draft",
    "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False, "type": "Extension",
    "context": [{"type": "element", "expression": "Patient"}],
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
    "derivation": "constraint",
    "differential": {"element": [
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": EXAMPLE + "odd-extension"},
        {"id": "Extension.value[x]", "path": "Extension.value[x]",
         "type": [{"code": "string"}]},
        {"id": "Extension.valueNothing", "path": "Extension.valueNothing", "min": 1}]}}


@pytest.fixture()
def registry() -> Registry:
    registry = Registry()
    registry.add_all([HALF, UNREADABLE, EXTENSION])
    return registry


def _found(issues: Any, rule: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in issues if i.rule == rule]


def test_asked_profile_is_applied_as_far_as_it_goes(registry: Registry) -> None:
    result = Validator(registry).validate({"resourceType": "Patient"}, profiles=[HALF["url"]])
    assert _found(result.issues, "profile-snapshot") == [("warning", "structure", "Patient")]
    [warning] = [i for i in result.issues if i.rule == "profile-snapshot"]
    assert HALF["url"] in warning.message and "dateOfBirth" in warning.message
    # What did apply is checked: gender is required.
    assert [(i.code, i.expression) for i in result.errors] == [("required", "Patient.gender")]


def test_claimed_profile_is_reported_at_its_claim(registry: Registry) -> None:
    patient = {"resourceType": "Patient", "gender": "female",
               "meta": {"profile": [HALF["url"]]}}
    result = Validator(registry).validate(patient)
    assert _found(result.issues, "profile-snapshot") == [
        ("warning", "structure", "Patient.meta.profile[0]")]
    assert result.ok


def test_a_differential_that_is_no_array(registry: Registry) -> None:
    """The profile is its base; that nothing of its differential applied is said."""
    result = Validator(registry).validate({"resourceType": "Patient"},
                                          profiles=[UNREADABLE["url"]])
    [warning] = [i for i in result.issues if i.rule == "profile-snapshot"]
    assert (warning.code, warning.expression) == ("invalid", "Patient")
    assert "nothing of it was applied" in warning.message
    assert result.ok


def test_once_per_validation(registry: Registry) -> None:
    patient = {"resourceType": "Patient", "gender": "male",
               "meta": {"profile": [HALF["url"]]}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:0c3d6a4e-8f5b-4c1e-9a7d-00000000000{n}", "resource": patient}
        for n in (1, 2)]}
    result = Validator(registry).validate(bundle)
    assert _found(result.issues, "profile-snapshot") == [
        ("warning", "structure", "Bundle.entry[0].resource.meta.profile[0]")]


def test_extension_definition(registry: Registry) -> None:
    patient = {"resourceType": "Patient", "extension": [
        {"url": EXTENSION["url"], "valueString": "synthetic"}]}
    result = Validator(registry).validate(patient)
    assert _found(result.issues, "profile-snapshot") == [
        ("warning", "structure", "Patient.extension[0]")]
    assert result.ok


def test_datatype_profile_of_an_element() -> None:
    odd_name = {**_profile("odd-name", [
        {"id": "HumanName.nickname", "path": "HumanName.nickname", "min": 1}]),
        "kind": "complex-type", "type": "HumanName",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/HumanName"}
    named = _profile("named-patient", [
        {"id": "Patient.name", "path": "Patient.name",
         "type": [{"code": "HumanName", "profile": [odd_name["url"]]}]}])
    registry = Registry()
    registry.add_all([odd_name, named])
    patient = {"resourceType": "Patient", "name": [{"family": "Synthetic"}]}
    result = Validator(registry).validate(patient, profiles=[named["url"]])
    assert _found(result.issues, "profile-snapshot") == [
        ("warning", "structure", "Patient.name[0]")]


def test_a_profile_loosening_its_base() -> None:
    """A max above the base's is applied as written (the HL7 generator reports it and goes
    on too), and said."""
    loose = _profile("loose-patient", [
        {"id": "Patient.gender", "path": "Patient.gender", "max": "*"}])
    registry = Registry()
    registry.add(loose)
    result = Validator(registry).validate({"resourceType": "Patient", "gender": "male"},
                                          profiles=[loose["url"]])
    [warning] = [i for i in result.issues if i.rule == "profile-snapshot"]
    assert (warning.severity, warning.code, warning.expression) == (
        "warning", "business-rule", "Patient")
    assert "max * is higher than the base max 1" in warning.message


def test_a_sound_profile_says_nothing() -> None:
    sound = _profile("sound-patient", [
        {"id": "Patient.gender", "path": "Patient.gender", "min": 1}])
    registry = Registry()
    registry.add(sound)
    result = Validator(registry).validate({"resourceType": "Patient", "gender": "other"},
                                          profiles=[sound["url"]])
    assert _found(result.issues, "profile-snapshot") == []
    assert result.ok
