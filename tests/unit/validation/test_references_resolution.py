"""How references resolve inside a Bundle and what their issues say (R4 bundle.html §2.36.4.1,
§2.3.0 literal references): fragments and versions, entries without fullUrl or under a
urn:oid:, references from contained resources of an entry, message and document Bundles, the
resolve() of invariants on the Bundle itself, and the exact words of the type, profile,
aggregation and Bundle issues. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import constraint, element

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
A = "http://a.example/fhir/"
U1, U2, U3 = ("urn:uuid:7b0c1e2d-0000-4000-8000-00000000000" + n for n in "123")
AT = "Bundle.entry[0].resource.managingOrganization.reference"


def patient(reference: str | None = None, **more: Any) -> dict[str, Any]:
    ref = {"managingOrganization": {"reference": reference}} if reference else {}
    return {"resourceType": "Patient", "id": "p1", "text": NARRATIVE, **ref, **more}


def org(org_id: str = "org", **more: Any) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": org_id, "text": NARRATIVE, **more}


def bundle(kind: str, *entries: tuple[str | None, dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [
        {**({"fullUrl": url} if url else {}), "resource": r} for url, r in entries]}


def at(result: ValidationResult, expression: str = AT) -> list[tuple[str, str, str, str]]:
    """(severity, code, rule, message) of every reference issue at ``expression``."""
    return [(i.severity, i.code, i.rule, i.message) for i in result.issues
            if i.expression == expression and i.rule.startswith("reference")]


def points_to_patient() -> list[tuple[str, str, str, str]]:
    return [("error", "structure", "reference-type", "the reference points to a Patient, which "
             "is not allowed here (allowed: Organization)")]


# -- resolving in a Bundle --------------------------------------------------------------------

@pytest.mark.parametrize("reference", [A + "Patient/p2#x", A + "Patient/p2#x#y", "Patient/p2#x"])
def test_the_part_before_a_fragment_resolves(reference: str) -> None:
    """A fragment (after the first '#') is not part of the entry's URL: the entry is found,
    and its type is judged (a Patient is no Organization)."""
    result = validate(bundle("collection", (A + "Patient/p1", patient(reference)),
                             (A + "Patient/p2", patient(id="p2"))))
    assert at(result) == points_to_patient()


def test_entries_without_full_url_resolve_by_type_and_id() -> None:
    """No fullUrl anywhere: Type/id finds the entry of that type and id (the HL7 validator)."""
    def no_full_url(reference: str) -> tuple[str, str, str, str]:
        return ("error", "invalid", "reference-format", f"the relative reference '{reference}' "
                "cannot be resolved: its entry has no fullUrl")

    fine = validate(bundle("collection", (None, patient("Organization/org")), (None, org())))
    assert at(fine) == [no_full_url("Organization/org")]
    wrong = validate(bundle("collection", (None, patient("Patient/p2")),
                            (None, patient(id="p2"))))
    assert at(wrong) == [no_full_url("Patient/p2"), *points_to_patient()]


@pytest.mark.parametrize("full_url", ["urn:oid:1.2.208.176.1", U1])
def test_type_and_id_from_any_urn_entry_is_no_match(full_url: str) -> None:
    """From an entry whose fullUrl is a urn:oid: or urn:uuid:, Type/id has no meaning in the
    Bundle: an entry of that type and id is only named as a near match."""
    result = validate(bundle("collection", (full_url, patient("Organization/org")),
                             (U2, org())))
    assert at(result) == [(
        "warning", "not-found", "reference-bundle",
        f"the reference 'Organization/org' does not resolve by the Bundle's rules from the "
        f"fullUrl '{full_url}' (R4 bundle.html §2.36.4.1), although an entry has that type and "
        f"id: refer to that entry by its fullUrl (entry 1 has that type and id, but its fullUrl "
        f"'{U2}' is not what the reference resolves to)")]


def test_near_match_from_a_restful_entry_names_the_url_looked_for() -> None:
    """From a RESTful fullUrl the message names the URL the reference resolves to; a
    fragment after '#' is left out of the look-up."""
    result = validate(bundle("message", (A + "Patient/p1", patient("Organization/org#x#y")),
                             ("http://b.example/fhir/Organization/org", org())))
    assert at(result) == [(
        "error", "not-found", "reference-bundle",
        f"the reference 'Organization/org#x#y' does not resolve by the Bundle's rules from the "
        f"fullUrl '{A}Patient/p1' (R4 bundle.html §2.36.4.1), although an entry has that type "
        f"and id: refer to that entry by its fullUrl (entry 1 has that type and id, but its "
        f"fullUrl 'http://b.example/fhir/Organization/org' is not "
        f"'{A}Organization/org#x#y')")]


@pytest.mark.parametrize(("kind", "reference", "expected"), [
    ("document", "Practitioner/nope", [("warning", "not-found", "reference-bundle",
                                        "the reference 'Practitioner/nope' does not resolve to "
                                        "an entry in this document Bundle")]),
    ("message", "Practitioner/nope", [("warning", "not-found", "reference-bundle",
                                       "the reference 'Practitioner/nope' does not resolve to "
                                       "an entry in this message Bundle")]),
    ("message", "http://b.example/fhir/Practitioner/nope", []),
    ("collection", "Practitioner/nope", []),
], ids=["document", "message", "message-absolute", "collection"])
def test_document_or_message_should_hold_what_it_refers_to(
        kind: str, reference: str, expected: list[tuple[str, str, str, str]]) -> None:
    """A relative literal reference that resolves to no entry of a document or message is a
    warning; an absolute URL may point elsewhere, and other Bundles need not hold it."""
    result = validate(bundle(kind, (U1, {**patient(), "generalPractitioner": [
        {"reference": reference}]})))
    assert at(result, "Bundle.entry[0].resource.generalPractitioner[0].reference") == expected


def test_a_reference_in_a_contained_resource_resolves_in_the_entrys_bundle() -> None:
    """The contained resource of an entry is in the Bundle too: its urn: reference that no
    entry has is an error there, one that an entry has resolves (and its type is judged)."""
    holder = patient(contained=[{**org("c1"), "partOf": {"reference": U3}}],
                     managingOrganization={"reference": "#c1"})
    missing = validate(bundle("collection", (U1, holder)))
    where = "Bundle.entry[0].resource.contained[0].partOf.reference"
    assert at(missing, where) == [(
        "error", "not-found", "reference-bundle",
        f"the reference '{U3}' does not resolve to any entry in this Bundle (no entry has that "
        "fullUrl)")]
    wrong = validate(bundle("collection", (U1, holder), (U3, patient(id="p3"))))
    assert at(wrong, where) == [(
        "error", "structure", "reference-type",
        "the reference points to a Patient, which is not allowed here (allowed: Organization)")]


def test_a_versioned_reference_picks_that_version_of_the_entry() -> None:
    """Two entries with one fullUrl (two versions): .../_history/2 resolves to meta.versionId
    2, and that version's type is judged."""
    entries = [(A + "Organization/org", {**org(), "meta": {"versionId": "1"}}),
               (A + "Organization/org", {**patient(id="org"), "meta": {"versionId": "2"}})]
    one = validate(bundle("history", (A + "Patient/p1", patient("Organization/org/_history/1")),
                          *entries))
    assert at(one) == []
    two = validate(bundle("history", (A + "Patient/p1", patient("Organization/org/_history/2")),
                          *entries))
    assert at(two) == points_to_patient()
    neither = validate(bundle("history", (A + "Patient/p1",
                                          patient("Organization/org/_history/3")), *entries))
    assert [(i[0], i[2]) for i in at(neither)] == [("warning", "reference-bundle")]


def test_a_versioned_reference_to_one_entry_needs_no_version_match() -> None:
    """One entry with that URL is the target whatever its meta says (meta not an object
    included)."""
    for meta in ({"versionId": "7"}, "not an object"):
        result = validate(bundle("collection", (A + "Patient/p1",
                                                patient("Patient/p2/_history/1")),
                                 (A + "Patient/p2", {**patient(id="p2"), "meta": meta})))
        assert at(result) == points_to_patient()


def test_two_versions_of_which_one_has_no_meta_object() -> None:
    entries = [(A + "Organization/org", {**org(), "meta": "not an object"}),
               (A + "Organization/org", {**patient(id="org"), "meta": {"versionId": "2"}})]
    result = validate(bundle("history", (A + "Patient/p1", patient("Organization/org/_history/2")),
                             *entries))
    assert at(result) == points_to_patient()


def test_history_in_the_base_is_not_the_version() -> None:
    """Only the last /_history/ of a reference is its version: a base that has one in its
    path still names the entry's URL."""
    base = "http://a.example/_history/fhir/"
    result = validate(bundle("collection", (base + "Patient/p1",
                                            patient(base + "Patient/p2/_history/1")),
                             (base + "Patient/p2", patient(id="p2"))))
    assert at(result) == points_to_patient()


# -- resolve() in invariants ------------------------------------------------------------------

def _invariant(resource_type: str, expression: str) -> tuple[Validator, str]:
    profile = constraint("resolving-" + resource_type.lower(), resource_type, element(
        resource_type, constraint=[{"key": "res-1", "severity": "error", "human": "resolves",
                                    "expression": expression}]))
    registry = Registry()
    registry.add(profile)
    return Validator(registry), profile["url"]


def _failed(result: ValidationResult) -> list[str]:
    return [i.expression for i in result.issues if i.rule == "res-1"]


def test_invariant_resolves_hash_to_the_container_itself() -> None:
    validator, url = _invariant("Patient", "contained.ofType(Organization).partOf.resolve()"
                                           ".ofType(Patient).exists()")
    holder = patient(contained=[{**org("c1"), "partOf": {"reference": "#"}}],
                     managingOrganization={"reference": "#c1"})
    assert _failed(validator.validate(holder, profiles=[url])) == []
    other = {**holder, "contained": [{**org("c1"), "partOf": {"reference": "#c1"}}]}
    assert _failed(validator.validate(other, profiles=[url])) == ["Patient"]


def test_invariant_on_a_resource_alone_resolves_no_literal_reference() -> None:
    validator, url = _invariant("Patient", "managingOrganization.resolve().exists().not()")
    assert _failed(validator.validate(patient("Organization/org"), profiles=[url])) == []


@pytest.mark.parametrize(("reference", "holds"), [
    ("Organization/org", True), ("Organization/other", False)])
def test_invariant_resolves_relative_references_against_the_entrys_base(
        reference: str, holds: bool) -> None:
    """Type/id from a RESTful entry is looked up under that entry's base only."""
    validator, url = _invariant("Patient", "managingOrganization.resolve().exists()")
    subject = patient(reference, meta={"profile": [url]})
    result = validator.validate(bundle("collection", (A + "Patient/p1", subject),
                                       (A + "Organization/org", org()),
                                       ("http://b.example/fhir/Organization/other",
                                        org("other"))))
    assert _failed(result) == ([] if holds else ["Bundle.entry[0].resource"])


@pytest.mark.parametrize(("reference", "holds"), [
    (A + "Organization/org", True), ("Organization/org", True), ("Organization/nope", False),
    (A + "Organization/twice", False)])
def test_invariant_on_the_bundle_resolves_its_entries(reference: str, holds: bool) -> None:
    """An invariant of the Bundle itself resolves its entries' references among them; an
    ambiguous one (two entries with that fullUrl) resolves to nothing."""
    validator, url = _invariant(
        "Bundle", "entry.resource.ofType(Patient).managingOrganization.resolve()"
                  ".ofType(Organization).exists()")
    result = validator.validate(bundle("collection", (A + "Patient/p1", patient(reference)),
                                       (A + "Organization/org", org()),
                                       (A + "Organization/twice", org("twice")),
                                       (A + "Organization/twice", org("twice"))),
                                profiles=[url])
    assert _failed(result) == ([] if holds else ["Bundle"])


# -- target types, profiles and aggregation: the words --------------------------------------

def test_reference_without_target_profile_admits_any_type() -> None:
    profile = constraint("untyped-focus", "Observation", element(
        "Observation.focus", type=[{"code": "Reference"}]))
    registry = Registry()
    registry.add(profile)
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "Synthetic"}, "contained": [org("c1")],
                   "focus": [{"reference": "#c1"}, {"reference": "Group/g1"}]}
    trusting = ValidationOptions(assume_valid_rest_references=True)
    result = Validator(registry, options=trusting).validate(observation,
                                                             profiles=[profile["url"]])
    assert [i for i in result.issues if i.rule.startswith("reference")] == []


def _named_org(name: str) -> dict[str, Any]:
    return constraint(name, "Organization", element("Organization.name", min=1))


def test_target_that_conforms_to_no_profile_names_them_all() -> None:
    """A Reference to either of two Organization profiles: a target conforming to neither is
    an error naming both."""
    first, second = _named_org("named-org-1"), _named_org("named-org-2")
    holder = constraint("org-holder", "Patient", element(
        "Patient.managingOrganization", type=[{"code": "Reference", "targetProfile": [
            first["url"], second["url"]]}]))
    registry = Registry()
    for sd in (first, second, holder):
        registry.add(sd)
    result = Validator(registry).validate(
        patient("#c1", contained=[org("c1")]), profiles=[holder["url"]])
    assert at(result, "Patient.managingOrganization.reference") == [(
        "error", "structure", "reference-profile",
        f"the referenced Organization does not conform to {first['url']} or {second['url']}")]


def test_versioned_core_target_is_a_type_not_a_profile() -> None:
    """A targetProfile naming a core resource with its version is that type: the target is
    not checked against it as a profile."""
    holder = constraint("versioned-holder", "Patient", element(
        "Patient.managingOrganization", type=[{"code": "Reference", "targetProfile": [
            "http://hl7.org/fhir/StructureDefinition/Organization|4.0.1"]}]))
    registry = Registry()
    registry.add(holder)
    result = Validator(registry).validate(
        patient("#c1", contained=[org("c1", active="yes")]), profiles=[holder["url"]])
    assert at(result, "Patient.managingOrganization.reference") == []


@pytest.mark.parametrize(("modes", "held", "where"), [
    (["bundled", "referenced"], "a contained resource", "contained"),
    (["contained"], "an entry of the Bundle", "bundled")])
def test_aggregation_issue_says_how_the_target_is_held(modes: list[str], held: str,
                                                       where: str) -> None:
    holder = constraint("held-org", "Patient", element(
        "Patient.managingOrganization", type=[{"code": "Reference", "aggregation": modes,
                                               "targetProfile": [
                                                   "http://hl7.org/fhir/StructureDefinition/"
                                                   "Organization"]}]))
    registry = Registry()
    registry.add(holder)
    validator = Validator(registry)
    if where == "contained":
        result = validator.validate(patient("#c1", contained=[org("c1")]),
                                    profiles=[holder["url"]])
        reference, expression = "#c1", "Patient.managingOrganization.reference"
    else:
        subject = patient("Organization/org", meta={"profile": [holder["url"]]})
        result = validator.validate(bundle("collection", (A + "Patient/p1", subject),
                                           (A + "Organization/org", org())))
        reference, expression = "Organization/org", AT
    assert at(result, expression) == [(
        "error", "structure", "reference-aggregation",
        f"the reference '{reference}' points to {held}, which the aggregation mode(s) of this "
        f"element do not allow ({', '.join(modes)})")]


def test_urn_type_mismatch_names_every_type_found() -> None:
    """Type/id from a urn:uuid: entry, read as urn:uuid:id (the HL7 validator), where entries
    of other types have that fullUrl: the error lists those types."""
    target = "urn:uuid:7b0c1e2d-0000-4000-8000-0000000000aa"
    result = validate(bundle(
        "collection", (U1, patient("Organization/7b0c1e2d-0000-4000-8000-0000000000aa")),
        (target, patient(id="p2")),
        (target, {"resourceType": "Practitioner", "id": "pr", "text": NARRATIVE})))
    assert at(result) == [(
        "error", "required", "reference-resource-type",
        "the reference 'Organization/7b0c1e2d-0000-4000-8000-0000000000aa', read against the "
        f"entry's fullUrl '{U1}', names the entry '{target}', whose resource is of type Patient "
        "or Practitioner, not Organization")]
