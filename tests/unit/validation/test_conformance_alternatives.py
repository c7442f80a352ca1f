"""Profile conformance (ecanfhir.validation._conformance): a base definition named as a profile,
and resource types' own definitions listed as alternatives (R4 ElementDefinition.type.profile:
the value SHALL conform to at least one; a resource meets its own type's definition and those
it derives from). The profiles and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


@pytest.mark.parametrize("base", ["Resource", "DomainResource", "Patient"])
def test_a_base_definition_claimed_as_a_profile_adds_nothing(base: str) -> None:
    """A Patient claiming Resource, DomainResource or Patient itself: each is met already."""
    patient = {"resourceType": "Patient", "text": NARRATIVE, "meta": {"profile": [CORE + base]}}
    assert Validator().validate(patient).issues == ()


# Bundle.entry.resource as Resource with three alternatives: a profile that is not loaded, and
# two resource types' own definitions.
ENTRIES = {
    "resourceType": "StructureDefinition", "id": "typed-entries", "url": EXAMPLE + "typed-entries",
    "name": "TypedEntries", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
    "abstract": False, "type": "Bundle", "derivation": "constraint",
    "baseDefinition": CORE + "Bundle", "differential": {"element": [
        {"id": "Bundle", "path": "Bundle"},
        {"id": "Bundle.entry.resource", "path": "Bundle.entry.resource", "type": [
            {"code": "Resource", "profile": [
                EXAMPLE + "not-loaded", CORE + "Patient", CORE + "Observation"]}]}]}}


def collection(*resources: Any) -> ValidationResult:
    registry = Registry()
    registry.add(ENTRIES)
    bundle = {"resourceType": "Bundle", "type": "collection",
              "meta": {"profile": [EXAMPLE + "typed-entries"]},
              "entry": [{"fullUrl": f"urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-00000000000{n}",
                         "resource": r} for n, r in enumerate(resources)]}
    return Validator(registry).validate(bundle)


def test_a_resource_meets_its_own_type_among_the_alternatives() -> None:
    """A Patient and an Observation each meet their own type's definition (past a profile that
    is not loaded, and past the other type's)."""
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "Body weight"}}
    patient = {"resourceType": "Patient", "text": NARRATIVE}
    assert collection(observation, patient).issues == ()


def test_a_resource_of_no_listed_type_is_reported_against_the_first() -> None:
    """A Practitioner derives from none of them: it is held to the first, which is not loaded."""
    result = collection({"resourceType": "Practitioner", "text": NARRATIVE})
    assert [(i.severity, i.expression, i.rule) for i in result.issues] == [
        ("error", "Bundle.entry[0].resource", "profile-unknown")]


def test_an_entry_that_is_no_object_among_alternatives() -> None:
    """An entry's resource that is a number: reported as such, whichever alternative applies."""
    result = collection(5)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "structure", "Bundle.entry[0].resource", "json-form")]


def test_only_the_dependencies_extension_names_dependencies() -> None:
    """A profile's other canonical-valued extension is no dependency; the dependency after it
    is one (not loaded: a warning at the claim)."""
    other = {"url": "http://example.org/fhir/StructureDefinition/reviewed-with",
             "valueCanonical": EXAMPLE + "nowhere"}
    depends = {"url": CORE + "structuredefinition-dependencies",
               "valueCanonical": EXAMPLE + "not-loaded"}
    named = {**ENTRIES, "id": "with-extensions", "url": EXAMPLE + "with-extensions",
             "type": "Patient", "baseDefinition": CORE + "Patient",
             "extension": [other, depends], "differential": {"element": [
                 {"id": "Patient", "path": "Patient"}]}}
    registry = Registry()
    registry.add(named)
    result = Validator(registry).validate({"resourceType": "Patient", "text": NARRATIVE, "meta": {
        "profile": [EXAMPLE + "with-extensions"]}})
    assert [(i.severity, i.expression, i.rule) for i in result.issues] == [
        ("warning", "Patient.meta.profile[0]", "profile-dependency")]
    assert EXAMPLE + "not-loaded" in result.issues[0].message
