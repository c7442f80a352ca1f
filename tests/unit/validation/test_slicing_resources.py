"""Slicing a resource element by type: ``Bundle.entry.resource`` with one slice per resource type.

R4 §5.1.0.10 (profiling.html#discriminator): a ``type`` discriminator on ``$this`` tells a
resource by its resourceType, and a slice's type profile then applies to the resource as a
resource (R4 §2.27.0.3 ElementDefinition.type.profile). Profiles often also narrow
``Bundle.entry.resource`` itself to the sliced types (SUSHI: ``entry.resource only Patient or
Observation``). All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from _profiles import constraint, element

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


BORN = constraint("typed-entries-patient", "Patient", element("Patient.birthDate", min=1))


def entries_by_type(name: str, rules: str, *, narrowed: bool,
                    also: tuple[str, ...] = ()) -> dict[str, Any]:
    """Bundle.entry.resource sliced by type: a Patient slice (profiled) and an Observation one;
    ``narrowed``: the element itself only allows those two types (and ``also``)."""
    narrowing = {"type": [{"code": t} for t in ("Patient", "Observation", *also)]} \
        if narrowed else {}
    return constraint(
        name, "Bundle",
        element("Bundle.entry.resource", **narrowing, slicing={
            "discriminator": [{"type": "type", "path": "$this"}], "rules": rules}),
        element("Bundle.entry.resource:patient", sliceName="patient",
                type=[{"code": "Patient", "profile": [BORN["url"]]}]),
        element("Bundle.entry.resource:observation", sliceName="observation",
                type=[{"code": "Observation"}]))


PATIENT = {"resourceType": "Patient", "text": NARRATIVE, "birthDate": "1970-01-01"}
OBSERVATION = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
               "code": {"text": "Synthetic measurement"}}
ORGANIZATION = {"resourceType": "Organization", "text": NARRATIVE, "name": "Synthetic clinic"}


def validate(profile: dict[str, Any], *resources: dict[str, Any]) -> ValidationResult:
    bundle = {"resourceType": "Bundle", "meta": {"profile": [profile["url"]]},
              "type": "collection", "entry": [
                  {"fullUrl": f"urn:uuid:7d2e4f10-0000-4000-8000-{i:012d}", "resource": r}
                  for i, r in enumerate(resources, 1)]}
    registry = Registry()
    for r in (BORN, profile):
        registry.add(r)
    return Validator(registry).validate(bundle)


@pytest.mark.parametrize("narrowed", [False, True], ids=["resource", "narrowed"])
def test_resources_of_the_sliced_types_are_valid(narrowed: bool) -> None:
    """A Patient (with birthDate) and an Observation each fill their type slice."""
    profile = entries_by_type(f"typed-entries-{narrowed}", "closed", narrowed=narrowed)
    assert validate(profile, PATIENT, OBSERVATION).errors == ()


@pytest.mark.parametrize("narrowed", [False, True], ids=["resource", "narrowed"])
def test_the_slice_profile_applies_to_the_resource(narrowed: bool) -> None:
    """The Patient slice's profile requires birthDate: checked on the resource itself."""
    profile = entries_by_type(f"typed-entries-born-{narrowed}", "closed", narrowed=narrowed)
    result = validate(profile, OBSERVATION, {"resourceType": "Patient", "text": NARRATIVE})
    assert_issue(result, "Bundle.entry[1].resource.birthDate", severity="error",
                 code="required", fragment="minimum required = 1")
    assert not [i for i in result.errors if i.rule in ("unknown-element", "json-form")]


def test_open_type_slicing_allows_other_resources() -> None:
    """Open slicing on Bundle.entry.resource (not narrowed): an Organization is fine."""
    profile = entries_by_type("typed-entries-open", "open", narrowed=False)
    assert validate(profile, PATIENT, ORGANIZATION).errors == ()


def test_a_narrowed_type_without_a_slice_is_checked_as_a_resource() -> None:
    """Narrowed to Patient, Observation and Organization, open slicing, no Organization slice:
    the Organization is valid, and still checked as an Organization."""
    profile = entries_by_type("typed-entries-three", "open", narrowed=True,
                              also=("Organization",))
    assert validate(profile, PATIENT, ORGANIZATION).errors == ()
    result = validate(profile, PATIENT, {**ORGANIZATION, "name": 3})
    assert_issue(result, "Bundle.entry[1].resource.name", severity="error", code="structure",
                 fragment="string")


def test_closed_type_slicing_rejects_other_resources() -> None:
    """Closed slicing: an Organization matches no type slice."""
    profile = entries_by_type("typed-entries-closed", "closed", narrowed=False)
    result = validate(profile, PATIENT, ORGANIZATION)
    assert_issue(result, "Bundle.entry[1].resource", severity="error", code="structure",
                 fragment="does not match any slice")


def test_narrowed_types_reject_another_resource_as_a_resource() -> None:
    """Narrowed to Patient and Observation: an Organization is reported as the wrong type, not
    as unknown properties of a datatype."""
    profile = entries_by_type("typed-entries-narrowed-open", "open", narrowed=True)
    result = validate(profile, PATIENT, ORGANIZATION)
    assert_issue(result, "Bundle.entry[1].resource", severity="error", code="structure",
                 fragment="expected one of Patient, Observation here, found Organization")
    assert not [i for i in result.errors if i.rule in ("unknown-element", "json-form")]
