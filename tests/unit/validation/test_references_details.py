"""Reference details a mutation run showed unchecked (R4 §2.3.0, bundle.html#references): rule
ids and messages of unresolved references, urn:oid references, targets of any type, and the
resolve() that FHIRPath invariants use (contained ``#id``, ``#`` for the container, Bundle
entries by fullUrl or by type and id). All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import the_issue
from _profiles import constraint, element

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
ORG = {"resourceType": "Organization", "id": "org", "text": NARRATIVE, "name": "Synthetic clinic"}


def found(result: ValidationResult, expression: str) -> tuple[str, str, str, str]:
    issue = the_issue(result, expression)
    return issue.severity, issue.code, issue.rule, issue.message


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def test_contained_reference_not_found_rule_and_message() -> None:
    result = validate(patient(contained=[ORG], managingOrganization={"reference": "#other"}))
    assert found(result, "Patient.managingOrganization.reference") == (
        "error", "not-found", "reference-contained",
        "the reference '#other' does not match the id of any contained resource")


def collection(*resources: dict[str, Any], urls: tuple[str, ...]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": url, "resource": r} for url, r in zip(urls, resources, strict=True)]}


def test_ambiguous_reference_rule_and_message() -> None:
    """Two entries with the fullUrl a relative reference resolves to: it is ambiguous."""
    bundle = collection(
        patient(id="p1", managingOrganization={"reference": "Organization/org"}),
        ORG, ORG,
        urls=("http://a.example/Patient/p1", "http://a.example/Organization/org",
              "http://a.example/Organization/org"))
    assert found(validate(bundle), "Bundle.entry[0].resource.managingOrganization.reference") == (
        "error", "multiple-matches", "reference-ambiguous",
        "the reference 'Organization/org' matches 2 entries of the Bundle: it must identify one")


@pytest.mark.parametrize("reference", ["urn:oid:1.2.3.4", "urn:uuid:"
                                       "7b0c1e2d-0000-4000-8000-000000000001"])
def test_unresolved_urn_in_a_bundle_is_an_error(reference: str) -> None:
    """urn:uuid: and urn:oid: references can only point inside the Bundle."""
    bundle = collection(patient(id="p1", managingOrganization={"reference": reference}),
                        urls=("urn:uuid:7b0c1e2d-0000-4000-8000-000000000009",))
    assert found(validate(bundle), "Bundle.entry[0].resource.managingOrganization.reference") == (
        "error", "not-found", "reference-bundle",
        f"the reference '{reference}' does not resolve to any entry in this Bundle (no entry "
        "has that fullUrl)")


def test_target_of_any_resource_type_admits_every_type() -> None:
    """A Reference(Resource) admits any resource: no type error."""
    profile = constraint("any-target", "Observation", element(
        "Observation.focus", type=[{"code": "Reference", "targetProfile": [
            "http://hl7.org/fhir/StructureDefinition/Resource"]}]))
    registry = Registry()
    registry.add(profile)
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "Synthetic"}, "contained": [ORG],
                   "focus": [{"reference": "#org"}]}
    result = Validator(registry).validate(observation, profiles=[profile["url"]])
    assert [i for i in result.issues if i.rule.startswith("reference")] == []


def resolving(expression: str) -> dict[str, Any]:
    """A Patient profile whose invariant follows managingOrganization with resolve()."""
    return constraint("resolving-" + str(abs(hash(expression))), "Patient", element(
        "Patient", constraint=[{"key": "res-1", "severity": "error", "human": "resolves",
                                "expression": expression}]))


@pytest.mark.parametrize(("reference", "holds"), [("#org", True), ("#nope", False)])
def test_invariant_resolves_contained_references(reference: str, holds: bool) -> None:
    profile = resolving("managingOrganization.resolve().name.exists()")
    registry = Registry()
    registry.add(profile)
    result = Validator(registry).validate(
        patient(contained=[ORG], managingOrganization={"reference": reference}),
        profiles=[profile["url"]])
    assert [i.rule for i in result.issues if i.rule == "res-1"] == ([] if holds else ["res-1"])


def test_invariant_resolves_hash_to_the_container() -> None:
    """'#' is the resource that contains the reference (R4 §2.36.0.3)."""
    profile = resolving("contained.all(id.exists()) and "
                        "contained.ofType(Organization).partOf.resolve().is(Patient)")
    registry = Registry()
    registry.add(profile)
    org = {**ORG, "partOf": {"reference": "#"}}
    result = Validator(registry).validate(patient(contained=[org]), profiles=[profile["url"]])
    assert [i for i in result.issues if i.rule == "res-1"] == []


@pytest.mark.parametrize(("reference", "holds"), [
    ("Organization/org", True),  # by type and id, then against the entry's base
    ("http://a.example/Organization/org", True),  # by fullUrl
    ("Organization/nope", False),
])
def test_invariant_resolves_bundle_entries(reference: str, holds: bool) -> None:
    profile = resolving("managingOrganization.resolve().name.exists()")
    registry = Registry()
    registry.add(profile)
    subject = patient(id="p1", meta={"profile": [profile["url"]]},
                      managingOrganization={"reference": reference})
    bundle = collection(subject, ORG, urls=("http://a.example/Patient/p1",
                                            "http://a.example/Organization/org"))
    result = Validator(registry).validate(bundle)
    assert [i.expression for i in result.issues if i.rule == "res-1"] == (
        [] if holds else ["Bundle.entry[0].resource"])


STAGE = "http://example.org/fhir/StructureDefinition/CancerStage"
LOGICAL = {"resourceType": "StructureDefinition", "id": "CancerStage", "url": STAGE,
           "name": "CancerStage", "status": "draft", "fhirVersion": "4.0.1", "kind": "logical",
           "abstract": False, "type": STAGE,
           "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Base",
           "derivation": "specialization", "differential": {"element": [
               {"id": "CancerStage", "path": "CancerStage", "min": 0, "max": "*"}]}}


@pytest.mark.parametrize(("reference", "allowed"), [
    ("CancerStage/s1", True), ("http://example.org/fhir/CancerStage/s1", True),
    ("Patient/p1", False), ("CancerStageX/s1", False)])
def test_logical_model_target_admits_references_by_its_last_part(reference: str,
                                                                allowed: bool) -> None:
    """A targetProfile that is a logical model (its type is its URL) admits a literal
    reference whose type is the URL's last part."""
    profile = constraint("stage-target", "Observation", element(
        "Observation.focus", type=[{"code": "Reference", "targetProfile": [STAGE]}]))
    registry = Registry()
    for r in (LOGICAL, profile):
        registry.add(r)
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "Synthetic"}, "focus": [{"reference": reference}]}
    trusting = ValidationOptions(assume_valid_rest_references=True)  # judge unresolved types
    result = Validator(registry, options=trusting).validate(observation,
                                                             profiles=[profile["url"]])
    types = [i for i in result.issues if i.rule == "reference-type"]
    if allowed:
        assert types == []
    else:
        found_type = reference.split("/")[0]
        assert [(i.severity, i.code, i.expression, i.message) for i in types] == [
            ("error", "structure", "Observation.focus[0].reference",
             f"the reference points to a {found_type}, which is not allowed here (allowed: "
             f"{STAGE})")]
