"""A base resource definition named as a type profile says which type the resource must be: a
Bundle profile whose ``entry.resource`` is ``Resource`` with profile .../DocumentManifest takes
DocumentManifest entries only (HL7 validator: "The type 'Patient' is not valid - must be
DocumentManifest"). Profiles and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import CORE, EXAMPLE, constraint, element

from ecanfhir import Registry, Validator

PROFILE = EXAMPLE + "manifest-bundle"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(constraint("manifest-bundle", "Bundle", element(
        "Bundle.entry.resource", min=1,
        type=[{"code": "Resource", "profile": [CORE + "DocumentManifest"]}])))
    return Validator(registry)


def bundle(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/X/1", "resource": {**resource, "id": "1",
                                                                "text": NARRATIVE}}]}


@pytest.mark.parametrize(("entry", "found"), [
    ({"resourceType": "Patient"},
     [("error", "structure", "Bundle.entry[0].resource")]),
    ({"resourceType": "DocumentManifest", "status": "current",
      "content": [{"display": "Synthetic"}]}, []),
])
def test_a_core_type_as_profile_restricts_the_entry_type(
        validator: Validator, entry: dict[str, Any], found: list[tuple[str, str, str]]) -> None:
    result = validator.validate(bundle(entry), profiles=[PROFILE])
    assert [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule == "profile-type"] == found


def test_a_profile_declared_as_specialization_still_applies() -> None:
    """A profile that (wrongly) says derivation 'specialization' is still checked when asked
    for: only the type's own core definition adds nothing."""
    url = "http://example.org/fhir/StructureDefinition/odd-patient"
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "url": url, "name": "OddPatient",
        "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": CORE + "Patient", "derivation": "specialization",
        "differential": {"element": [{"id": "Patient.name", "path": "Patient.name",
                                      "constraint": [{"key": "odd-1", "severity": "error",
                                                      "human": "never", "expression": "false"}]}]}})
    patient = {"resourceType": "Patient", "text": NARRATIVE, "name": [{"family": "Doe"}]}
    result = Validator(registry).validate(patient, profiles=[url])
    assert [(i.code, i.expression) for i in result.errors] == [("invariant", "Patient.name[0]")]
    assert Validator(registry).validate(patient, profiles=[CORE + "Patient"]).errors == ()
