"""Slices that are told apart through ``resolve()`` or by something that cannot be checked here.

R4 §5.1.0.10 (profiling.html#discriminator): a ``profile`` discriminator on ``resolve()`` counts
a reference in a slice when its target conforms to the slice's targetProfile; a ``type``
discriminator on ``resolve()`` when the target has the targetProfile's type. When a slice
cannot be decided offline (the reference does not resolve, the slice's profile binds a code to
a value set that cannot be evaluated here), the value is not counted in that slice, a warning
says what could not be checked, and no error follows from that doubt alone. All data is
synthetic.
"""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue
from _profiles import constraint, element

from ecanfhir import Issue, Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# A LOINC filter: LOINC is not shipped, so membership cannot be decided offline.
AGE_CODES = "http://example.org/fhir/ValueSet/gestational-age-codes"
AGE_CODES_VS = {
    "resourceType": "ValueSet", "url": AGE_CODES, "name": "GestationalAgeCodes",
    "status": "draft",
    "compose": {"include": [{"system": LOINC, "filter": [
        {"property": "COMPONENT", "op": "=", "value": "LP00000-0"}]}]}}


def unchecked(result: ValidationResult) -> list[Issue]:
    return [i for i in result.issues if i.rule == "slice-unchecked"]


def full_url(n: int) -> str:
    return f"urn:uuid:5a1c0d2e-0000-4000-8000-{n:012d}"


def observation(code: str, *, status: str = "final") -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": status,
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": 8.1, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}


CONDITION = {"resourceType": "Condition", "text": NARRATIVE,
             "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
             "subject": {"display": "Synthetic patient"}}

HB = constraint("unchecked-hb", "Observation", element("Observation.code", patternCodeableConcept={
    "coding": [{"system": LOINC, "code": "718-7"}]}))
GLUCOSE = constraint("unchecked-glucose", "Observation", element(
    "Observation.code", patternCodeableConcept={"coding": [{"system": LOINC, "code": "2339-0"}]}))
# Decided only by a value set that cannot be evaluated offline; status final is checkable.
GESTATIONAL_AGE = constraint(
    "unchecked-gestational-age", "Observation",
    element("Observation.status", fixedCode="final"),
    element("Observation.code", binding={"strength": "required", "valueSet": AGE_CODES}))


def summary(name: str, discriminator: str, *slices: tuple[str, str, int]) -> dict[str, Any]:
    """A Composition profile slicing section.entry by ``discriminator`` on resolve(); each slice
    is (name, target profile, min)."""
    return constraint(
        name, "Composition",
        element("Composition.section", min=1, max="1"),
        element("Composition.section.entry", slicing={
            "discriminator": [{"type": discriminator, "path": "resolve()"}], "rules": "open"}),
        *(element(f"Composition.section.entry:{slice_name}", sliceName=slice_name, min=low,
                  type=[{"code": "Reference", "targetProfile": [target]}])
          for slice_name, target, low in slices))


def document(profile: dict[str, Any], *entries: dict[str, Any],
             references: list[str] | None = None) -> dict[str, Any]:
    """A collection Bundle: a Composition claiming ``profile`` whose one section references
    the other entries (or ``references``)."""
    urls = [full_url(i) for i in range(2, len(entries) + 2)]
    composition = {
        "resourceType": "Composition", "text": NARRATIVE, "meta": {"profile": [profile["url"]]},
        "status": "final", "type": {"text": "Synthetic summary"}, "date": "2024-03-01",
        "author": [{"display": "Synthetic author"}], "title": "Synthetic summary",
        "section": [{"title": "Findings", "text": NARRATIVE, "entry": [
            {"reference": u} for u in (references if references is not None else urls)]}]}
    resources = [composition, *entries]
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": full_url(i), "resource": r} for i, r in enumerate(resources, 1)]}


def validate(bundle: dict[str, Any], *resources: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for r in (HB, GLUCOSE, GESTATIONAL_AGE, AGE_CODES_VS, *resources):
        registry.add(r)
    return Validator(registry).validate(bundle)


ENTRY = "Bundle.entry[0].resource.section[0].entry"
BY_PROFILE = summary("summary-by-profile", "profile", ("hb", HB["url"], 1),
                     ("glucose", GLUCOSE["url"], 0))


# -- profile discriminator through resolve() -----------------------------------------------

def test_each_reference_counts_in_the_slice_its_target_conforms_to() -> None:
    """An Hb and a glucose Observation: one slice each, no 'more than one slice'."""
    result = validate(document(BY_PROFILE, observation("2339-0"), observation("718-7")),
                      BY_PROFILE)
    assert result.errors == ()
    assert unchecked(result) == []


def test_a_slice_no_target_conforms_to_stays_empty() -> None:
    """Only a glucose Observation: the hb slice (1..) is empty, an error."""
    result = validate(document(BY_PROFILE, observation("2339-0")), BY_PROFILE)
    assert_issue(result, ENTRY, severity="error", code="required", fragment="slice 'hb'")


def test_an_unresolvable_reference_is_unchecked_not_matched() -> None:
    """A reference to nothing in the Bundle: a warning per slice it could not be checked
    against, no double match, and the hb slice it might fill is a warning, not an error."""
    missing = "urn:uuid:5a1c0d2e-0000-4000-8000-999999999999"
    result = validate(document(BY_PROFILE, references=[missing]), BY_PROFILE)
    issues = unchecked(result)
    assert [(i.severity, i.code, i.expression) for i in issues] == [
        ("warning", "not-supported", f"{ENTRY}[0]")] * 2
    assert all(missing in i.message and "could not be resolved" in i.message for i in issues)
    assert not any("more than one slice" in i.message for i in result.issues)
    missing_hb = assert_issue(result, ENTRY, severity="warning", code="required",
                              fragment="slice 'hb'")
    assert "could not be checked" in missing_hb.message


# -- type discriminator through resolve() --------------------------------------------------

BY_TYPE = summary("summary-by-type", "type", ("problems", CORE + "Condition", 1),
                  ("results", CORE + "Observation", 1))


def test_type_through_resolve_is_the_target_profiles_type() -> None:
    """A Condition and an Observation fill the problems and results slices."""
    result = validate(document(BY_TYPE, CONDITION, observation("2339-0")), BY_TYPE)
    assert result.errors == ()


def test_type_through_resolve_leaves_the_other_type_slice_empty() -> None:
    """Two Observations: the problems slice (Condition, 1..) is empty."""
    result = validate(document(BY_TYPE, observation("2339-0"), observation("718-7")), BY_TYPE)
    assert_issue(result, ENTRY, severity="error", code="required", fragment="slice 'problems'")


# -- a slice decided by a value set that cannot be evaluated offline -----------------------

AGE_OR_HB = summary("summary-age-or-hb", "profile", ("hb", HB["url"], 0),
                    ("age", GESTATIONAL_AGE["url"], 0))


def test_unevaluable_value_set_is_not_a_match() -> None:
    """An Hb Observation conforms to hb; whether its code is in the LOINC-filter value set of
    'age' cannot be decided offline: counted in hb only, with a warning naming the value set."""
    result = validate(document(AGE_OR_HB, observation("718-7")), AGE_OR_HB)
    assert result.errors == ()
    issue = assert_issue(result, f"{ENTRY}[0]", severity="warning", code="not-supported",
                         fragment="slice 'age'")
    assert AGE_CODES in issue.message and "cannot be evaluated offline" in issue.message


def test_a_checkable_difference_still_decides() -> None:
    """An amended Observation fails 'age' on its fixed status, whatever its code: no warning;
    under closed slicing, an entry matching no slice is still an error."""
    closed = summary("summary-age-closed", "profile", ("hb", HB["url"], 0),
                     ("age", GESTATIONAL_AGE["url"], 0))
    closed["differential"]["element"][1]["slicing"]["rules"] = "closed"
    result = validate(document(closed, observation("2339-0", status="amended")), closed)
    assert unchecked(result) == []
    assert_issue(result, f"{ENTRY}[0]", severity="error", code="structure",
                 fragment="does not match any slice")


def test_bundle_entries_sliced_by_resource_profile_are_not_double_counted() -> None:
    """Bundle.entry sliced by type and profile on resource (as patient-summary Bundles are):
    a vital sign is counted in its slice only, not in the unevaluable gestational-age one."""
    bundle_profile = constraint(
        "unchecked-bundle", "Bundle",
        element("Bundle.entry", slicing={"discriminator": [
            {"type": "type", "path": "resource"}, {"type": "profile", "path": "resource"}],
            "rules": "open"}),
        element("Bundle.entry:glucose", sliceName="glucose"),
        element("Bundle.entry:glucose.resource", type=[
            {"code": "Observation", "profile": [GLUCOSE["url"]]}]),
        element("Bundle.entry:age", sliceName="age"),
        element("Bundle.entry:age.resource", type=[
            {"code": "Observation", "profile": [GESTATIONAL_AGE["url"]]}]))
    bundle = {"resourceType": "Bundle", "meta": {"profile": [bundle_profile["url"]]},
              "type": "collection", "entry": [
                  {"fullUrl": full_url(1), "resource": observation("2339-0")}]}
    result = validate(bundle, bundle_profile)
    assert result.errors == ()
    assert_issue(result, "Bundle.entry[0]", severity="warning", code="not-supported",
                 fragment="slice 'age'")


def test_value_discriminator_on_an_unevaluable_binding_is_not_a_match() -> None:
    """component sliced by value on code and type on value: 'age' binds code to the LOINC-filter
    value set, 'weight' fixes 29463-7. A weight component is counted in 'weight' only; 'age'
    could not be checked (a warning), and a value matching neither is still caught."""
    components = constraint(
        "unchecked-components", "Observation",
        element("Observation.component", slicing={"discriminator": [
            {"type": "value", "path": "code"}, {"type": "type", "path": "value"}],
            "rules": "closed"}),
        element("Observation.component:age", sliceName="age", max="1"),
        element("Observation.component:age.code", binding={
            "strength": "required", "valueSet": AGE_CODES}),
        element("Observation.component:age.value[x]", type=[{"code": "Quantity"}]),
        element("Observation.component:weight", sliceName="weight", max="1"),
        element("Observation.component:weight.code", patternCodeableConcept={
            "coding": [{"system": LOINC, "code": "29463-7"}]}),
        element("Observation.component:weight.value[x]", type=[{"code": "Quantity"}]))
    weight = {"code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
              "valueQuantity": {"value": 70, "unit": "kg", "system": UCUM, "code": "kg"}}
    resource = {**observation("2339-0"), "component": [weight]}
    del resource["valueQuantity"]
    result = Validator(_registry(components)).validate(resource, profiles=[components["url"]])
    assert result.errors == ()
    issue = assert_issue(result, "Observation.component[0]", severity="warning",
                         code="not-supported", fragment="slice 'age'")
    assert AGE_CODES in issue.message
    text = {**weight, "valueString": "seventy"}
    del text["valueQuantity"]
    wrong = Validator(_registry(components)).validate({**resource, "component": [text]},
                                                      profiles=[components["url"]])
    assert_issue(wrong, "Observation.component[0]", severity="error", code="structure",
                 fragment="does not match any slice")


def _registry(*resources: dict[str, Any]) -> Registry:
    registry = Registry()
    for r in (AGE_CODES_VS, *resources):
        registry.add(r)
    return registry


def test_a_target_profile_that_is_not_loaded_is_unchecked() -> None:
    """The hb slice's target profile is not loaded: the reference is not counted in it, a
    warning says so, and the hb slice it might fill is a warning, not an error."""
    missing_profile = summary("summary-missing-profile", "profile",
                              ("hb", EXAMPLE + "not-loaded-hb", 1))
    result = validate(document(missing_profile, observation("718-7")), missing_profile)
    issue = assert_issue(result, f"{ENTRY}[0]", severity="warning", code="not-supported",
                         fragment="slice 'hb'")
    assert "not loaded" in issue.message
    assert_issue(result, ENTRY, severity="warning", code="required", fragment="slice 'hb'")
    assert result.errors == ()
