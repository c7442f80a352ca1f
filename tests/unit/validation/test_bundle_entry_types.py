"""Resource types a Bundle profile admits in Bundle.entry.resource (the walker's resource-type
rule): one admitted type, and several (HL7 validator Bundle_BUNDLE_Entry_Type2/Type3).

All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
PROFILE = "http://example.org/fhir/StructureDefinition/"


def bundle_profile(name: str, *types: str) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": name, "url": PROFILE + name,
            "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": "Bundle", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle",
            "differential": {"element": [{"id": "Bundle.entry.resource",
                                          "path": "Bundle.entry.resource",
                                          "type": [{"code": t} for t in types]}]}}


OBSERVATION = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
               "code": {"text": "Synthetic"}}
PATIENT = {"resourceType": "Patient", "text": NARRATIVE, "active": True}


def collection(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0f2d7a36-3d0e-4a4c-9f7b-1d1b7b4a8c01", "resource": resource}]}


@pytest.mark.parametrize(("types", "fragment"), [
    (("Patient",), "expected a Patient here, found a Observation"),
    (("Patient", "Organization"), "expected one of Patient, Organization here"),
])
def test_entry_of_a_type_the_profile_does_not_admit(types: tuple[str, ...],
                                                    fragment: str) -> None:
    """An Observation where the profile admits only Patient (or Patient and Organization): an
    error at the entry's resource naming what is admitted; a Patient passes."""
    sd = bundle_profile("entries-" + "-".join(t.lower() for t in types), *types)
    registry = Registry()
    registry.add(sd)
    validator = Validator(registry)
    result = validator.validate(collection(OBSERVATION), profiles=[sd["url"]])
    issue = assert_issue(result, "Bundle.entry[0].resource", severity="error",
                         code="structure", fragment=fragment)
    assert issue.rule == "resource-type"
    assert validator.validate(collection(PATIENT), profiles=[sd["url"]]).errors == ()
