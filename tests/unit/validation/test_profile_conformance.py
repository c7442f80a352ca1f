"""Conformance to a resource type's own definition (R4 §5.1.0.10 profile discriminators).

A ``profile`` discriminator through ``resolve()`` whose slice names a core resource definition
(``.../StructureDefinition/MolecularSequence``) matches only a resource of that type (or of a
type derived from it: every resource is a Resource). A resource of another type is checked
against its own type's rules, which it meets, but it is not a MolecularSequence: counting it
there made one reference match two slices. The profiles and data are synthetic.
"""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def element(element_id: str, **properties: Any) -> dict[str, Any]:
    path = ".".join(part.split(":", 1)[0] for part in element_id.split("."))
    return {"id": element_id, "path": path, **properties}


def derived_from(*slices: tuple[str, str], rules: str = "open") -> dict[str, Any]:
    """An Observation profile slicing derivedFrom by the profile of what it resolves to."""
    return {
        "resourceType": "StructureDefinition", "id": "derived", "url": EXAMPLE + "derived",
        "name": "Derived", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
        "abstract": False, "type": "Observation", "derivation": "constraint",
        "baseDefinition": CORE + "Observation", "differential": {"element": [
            element("Observation.derivedFrom", slicing={
                "discriminator": [{"type": "profile", "path": "resolve()"}], "rules": rules}),
            *(element(f"Observation.derivedFrom:{name}", sliceName=name,
                      type=[{"code": "Reference", "targetProfile": [target]}])
              for name, target in slices)]},
    }


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic measurement"}, **elements}


SOURCE = "urn:uuid:8f2b9c4e-1d3a-4e5f-9a6b-7c8d9e0f1a2b"
RESULT = "urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def check(profile: dict[str, Any], source: dict[str, Any]) -> ValidationResult:
    """A Bundle: an Observation claiming ``profile``, derived from ``source``."""
    result = observation(meta={"profile": [profile["url"]]},
                         derivedFrom=[{"reference": SOURCE}])
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": RESULT, "resource": result}, {"fullUrl": SOURCE, "resource": source}]}
    registry = Registry()
    registry.add(profile)
    return Validator(registry).validate(bundle)


def test_resource_matches_only_the_slice_of_its_own_type() -> None:
    """An Observation source fits the Observation slice, not the MolecularSequence one."""
    profile = derived_from(("measured", CORE + "Observation"),
                           ("sequence", CORE + "MolecularSequence"))
    assert check(profile, observation()).errors == ()


def test_resource_of_another_type_fits_no_closed_slice() -> None:
    """Closed slicing with only a MolecularSequence slice: an Observation source fits none."""
    result = check(derived_from(("sequence", CORE + "MolecularSequence"), rules="closed"),
                   observation())
    assert_issue(result, "Bundle.entry[0].resource.derivedFrom[0]", severity="error",
                 code="structure", fragment="does not match any slice")


def test_every_resource_is_a_resource() -> None:
    """A slice naming the Resource definition matches a resource of any type."""
    result = check(derived_from(("anything", CORE + "Resource"), rules="closed"), observation())
    assert result.errors == ()
