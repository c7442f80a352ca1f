"""Slicing by what a reference points to, through a path before ``resolve()`` (R4 §5.1.0.10:
a ``type`` or ``profile`` discriminator on ``entry.resolve()`` names the target by the slice's
``targetProfile``): Composition sections told apart by the resources their entries reference.
All data is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import the_issue
from _profiles import CORE, EXAMPLE, constraint, element

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
HB = constraint("targets-hb", "Observation", element(
    "Observation.code", patternCodeableConcept={"coding": [{"system": LOINC, "code": "718-7"}]}))
CONDITION = {"resourceType": "Condition", "text": NARRATIVE,
             "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
             "subject": {"display": "Synthetic patient"}}
SECTIONS = "Bundle.entry[0].resource.section"


def observation(code: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]}}


def full_url(n: int) -> str:
    return f"urn:uuid:6b2d1e3f-0000-4000-8000-{n:012d}"


def sections_by(name: str, kind: str, path: str,
                *slices: tuple[str, list[str]]) -> dict[str, Any]:
    """A Composition profile slicing section by ``kind`` on ``path``; each slice is (name,
    target profiles of its section.entry), 0..1."""
    return constraint(
        name, "Composition",
        element("Composition.section", slicing={
            "discriminator": [{"type": kind, "path": path}], "rules": "open"}),
        *(part for slice_name, targets in slices for part in (
            element(f"Composition.section:{slice_name}", sliceName=slice_name, max="1"),
            element(f"Composition.section:{slice_name}.entry", type=[
                {"code": "Reference", "targetProfile": targets}]))))


def document(profile: dict[str, Any], *sections: list[Any],
             resources: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A collection Bundle: a Composition claiming ``profile`` with one section per list of
    entry references (an int n refers to full_url(n)), then ``resources`` as entries 2, 3..."""
    composition = {
        "resourceType": "Composition", "text": NARRATIVE, "meta": {"profile": [profile["url"]]},
        "status": "final", "type": {"text": "Synthetic summary"}, "date": "2024-03-01",
        "author": [{"display": "Synthetic author"}], "title": "Synthetic summary",
        "section": [{"title": f"Section {n}", "text": NARRATIVE, **({"entry": [
            {"reference": full_url(r)} if isinstance(r, int) else r for r in refs]}
            if refs else {})} for n, refs in enumerate(sections)]}
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": full_url(i), "resource": r}
        for i, r in enumerate((composition, *resources), 1)]}


def validate(bundle: dict[str, Any], *profiles: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for p in (HB, *profiles):
        registry.add(p)
    return Validator(registry).validate(bundle)


def slicing(result: ValidationResult) -> list[tuple[str, str, str, str]]:
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule.startswith("slice-")]


BY_TYPE = sections_by("sections-by-entry-type", "type", "entry.resolve()",
                      ("problems", [CORE + "Condition"]), ("results", [CORE + "Observation"]))


def test_sections_told_apart_by_their_entries_targets() -> None:
    """entry.resolve(): a section of Conditions and one of Observations, one slice each; a
    section without entries is in neither (nothing to resolve is not a match)."""
    bundle = document(BY_TYPE, [2], [3], [], resources=(CONDITION, observation("2339-0")))
    result = validate(bundle, BY_TYPE)
    assert slicing(result) == []
    assert result.errors == ()


def test_max_of_a_slice_counts_sections_by_target() -> None:
    """Two sections of Observations overfill results (0..1): told apart by their targets."""
    bundle = document(BY_TYPE, [2], [3], resources=(observation("718-7"),
                                                    observation("2339-0")))
    result = validate(bundle, BY_TYPE)
    assert slicing(result) == [("error", "structure", "Bundle.entry[0].resource.section",
                                "slice-cardinality")]
    assert the_issue(result, "Bundle.entry[0].resource.section").message == (
        "slice 'results' of Composition.section: maximum allowed = 1, but found 2 "
        f"(from {BY_TYPE['url']})")


def test_reference_without_a_literal_url_is_unchecked() -> None:
    """An entry reference with only an identifier cannot be resolved: the section is in no
    slice, and a warning per slice says what could not be checked against what."""
    profile = sections_by("sections-either", "type", "entry.resolve()",
                          ("findings", [CORE + "Condition", CORE + "AllergyIntolerance"]))
    bundle = document(profile, [{"identifier": {"system": "urn:oid:1.2.3", "value": "x"}}])
    result = validate(bundle, profile)
    issue = the_issue(result, f"{SECTIONS}[0]")
    assert (issue.severity, issue.code, issue.rule) == ("warning", "not-supported",
                                                        "slice-unchecked")
    assert issue.message == (
        "this value was not counted in slice 'findings' of Composition.section: a reference "
        "without a literal URL could not be resolved, so its target could not be checked "
        f"against {CORE}Condition or {CORE}AllergyIntolerance")


def test_path_before_resolve_that_leads_nowhere_says_nothing() -> None:
    """A discriminator path through an element the slice does not have: no slice is told
    apart by it, nothing raises."""
    profile = sections_by("sections-nowhere", "type", "nosuch.resolve()",
                          ("problems", [CORE + "Condition"]))
    result = validate(document(profile, [2], resources=(CONDITION,)), profile)
    assert slicing(result) == []


def test_type_of_a_loaded_target_profile_is_its_resource_type() -> None:
    """A targetProfile that is a loaded constraint admits its base type (Observation); one
    that is not loaded admits nothing known, so the section is in no slice."""
    profile = sections_by("sections-hb", "type", "entry.resolve()",
                          ("labs", [HB["url"]]), ("other", [EXAMPLE + "not-loaded"]))
    bundle = document(profile, [2], resources=(observation("718-7"),))
    result = validate(bundle, profile)
    assert slicing(result) == []
    required = sections_by("sections-hb-required", "type", "entry.resolve()",
                           ("other", [EXAMPLE + "not-loaded"]))
    required["differential"]["element"][1]["min"] = 1
    missing = validate(document(required, [2], resources=(observation("718-7"),)), required)
    assert slicing(missing) == [("error", "required", "Bundle.entry[0].resource.section",
                                 "slice-cardinality")]


def test_profile_discriminator_tries_every_target_profile() -> None:
    """A slice whose targets are a profile that is not loaded and then HB: an Hb
    Observation conforms to HB, so it counts (the missing one does not stop the search)."""
    profile = sections_by("sections-profiles", "profile", "entry.resolve()",
                          ("labs", [EXAMPLE + "not-loaded", HB["url"]]))
    profile["differential"]["element"][1]["min"] = 1
    result = validate(document(profile, [2], resources=(observation("718-7"),)), profile)
    assert slicing(result) == []


def test_profile_that_is_not_loaded_is_named_in_the_warning() -> None:
    """A target profile that is not loaded: the section is not counted, and the warning says
    which profile could not be checked."""
    missing = EXAMPLE + "not-loaded"
    profile = sections_by("sections-missing-profile", "profile", "entry.resolve()",
                          ("labs", [missing]))
    result = validate(document(profile, [2], resources=(observation("718-7"),)), profile)
    issue = the_issue(result, f"{SECTIONS}[0]")
    assert (issue.severity, issue.code, issue.rule) == ("warning", "not-supported",
                                                        "slice-unchecked")
    assert issue.message == (
        "this value was not counted in slice 'labs' of Composition.section: the profile "
        f"{missing} is not loaded or not usable, so conformance to it could not be checked")


UNEVALUABLE = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/findings",
               "name": "Findings", "status": "active", "compose": {"include": [{
                   "system": SNOMED, "filter": [
                       {"property": "concept", "op": "is-a", "value": "404684003"}]}]}}


def test_conformance_not_fully_checked_names_what_was_not() -> None:
    """A target profile whose required binding cannot be evaluated offline: the section is
    not counted, and the warning says which codes could not be checked against which value
    set."""
    target = constraint("targets-findings-code", "Observation", element(
        "Observation.code", binding={"strength": "required", "valueSet": UNEVALUABLE["url"]}))
    finding = {**observation("x"), "code": {"coding": [{"system": SNOMED, "code": "22298006"}]}}
    profile = sections_by("sections-findings", "profile", "entry.resolve()",
                          ("labs", [target["url"]]))
    result = validate(document(profile, [2], resources=(finding,)), profile, target,
                      UNEVALUABLE)
    assert the_issue(result, f"{SECTIONS}[0]").message == (
        "this value was not counted in slice 'labs' of Composition.section: its conformance "
        f"to {target['url']} could not be fully checked: the value set 'Findings' "
        f"({UNEVALUABLE['url']}) cannot be evaluated offline, so {SNOMED}#22298006 could not "
        "be checked against it")
