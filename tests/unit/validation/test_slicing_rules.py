"""Slicing details a mutation run showed unchecked (R4 §5.1.0.10, profiling.html#slicing):
ordered slices with several values in one slice, the rule ids of the slicing rules, fixed
versus pattern matching, discriminators through ``ofType()``, a required binding as the
discriminating value (no match, and a value set that cannot be evaluated offline), a
discriminator the slice says nothing about, and an extension slice known by its fixed url.
All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import the_issue
from _profiles import EXAMPLE, constraint, element
from _profiles import validate_against as validate

from ecanfhir import ValidationResult

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
A, B, OTHER = "urn:oid:1.2.208.176.1.2", "urn:oid:1.2.208.176.1.6", "urn:oid:1.2.208.176.1.99"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
KIND = EXAMPLE + "identifier-kind-by-url"


def patient(*identifiers: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE,
            **({"identifier": list(identifiers)} if identifiers else {}), **elements}


def ident(system: str, value: str = "X1") -> dict[str, Any]:
    return {"system": system, "value": value}


def rules_of(result: ValidationResult) -> list[tuple[str, str, str, str]]:
    """(severity, code, location, rule) of every slicing issue."""
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule.startswith("slice-")]


def by_system(name: str, rules: str, *, ordered: bool = False) -> dict[str, Any]:
    """Patient.identifier sliced by system: slices a and b, each 0..*."""
    return constraint(
        name, "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": "system"}], "rules": rules,
            "ordered": ordered}),
        element("Patient.identifier:a", sliceName="a"),
        element("Patient.identifier:a.system", min=1, fixedUri=A),
        element("Patient.identifier:b", sliceName="b"),
        element("Patient.identifier:b.system", min=1, fixedUri=B))


ORDERED = by_system("ordered-ab", "open", ordered=True)
OPEN_AT_END = by_system("open-at-end-ab", "openAtEnd")


# -- ordered, openAtEnd: rule ids and several values per slice --------------------------------

@pytest.mark.parametrize("systems", [[A, A, B], [A, B, B], [A, OTHER, B], [A, A], [B, OTHER]])
def test_ordered_slices_may_repeat_in_place(systems: list[str]) -> None:
    """ordered: several values of one slice together, and unsliced values anywhere, are fine."""
    assert validate(patient(*map(ident, systems)), ORDERED).issues == ()


def test_ordered_slice_out_of_order_is_slice_order() -> None:
    """ordered: a value of slice a after one of b is out of order, each such value."""
    result = validate(patient(ident(A), ident(B), ident(A), ident(A)), ORDERED)
    message = ("slice 'a' is out of order: Patient.identifier slices are ordered "
               f"(from {ORDERED['url']})")
    assert rules_of(result) == [
        ("error", "structure", f"Patient.identifier[{n}]", "slice-order") for n in (2, 3)]
    assert {i.message for i in result.issues} == {message}


def test_open_at_end_slice_after_unsliced_value_is_slice_open_at_end() -> None:
    """openAtEnd: every slice value after an unsliced one is an error; before it, none."""
    result = validate(patient(ident(A), ident(OTHER), ident(B), ident(A)), OPEN_AT_END)
    assert rules_of(result) == [
        ("error", "structure", f"Patient.identifier[{n}]", "slice-open-at-end") for n in (2, 3)]
    assert the_issue(result, "Patient.identifier[2]").message == (
        "slice 'b' comes after values that match no slice; Patient.identifier is open at the "
        f"end only (from {OPEN_AT_END['url']})")


def test_open_at_end_unsliced_values_last_are_fine() -> None:
    assert validate(patient(ident(A), ident(B), ident(OTHER), ident(OTHER)),
                    OPEN_AT_END).issues == ()


# -- fixed versus pattern --------------------------------------------------------------------

def typed_profile(discriminator: str, how: str) -> dict[str, Any]:
    """identifier sliced by ``discriminator`` on type; slice mr (1..1) has the MR type as a
    fixed or a pattern CodeableConcept."""
    return constraint(
        f"typed-{discriminator}-{how}", "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": discriminator, "path": "type"}], "rules": "open"}),
        element("Patient.identifier:mr", sliceName="mr", min=1, max="1"),
        element("Patient.identifier:mr.type", min=1, **{
            f"{how}CodeableConcept": {"coding": [{"system": V2_0203, "code": "MR"}]}}))


MR_WITH_DISPLAY = {"type": {"coding": [{"system": V2_0203, "code": "MR",
                                        "display": "Medical record number"}]},
                   "system": OTHER, "value": "M1"}


def test_fixed_value_discriminator_needs_an_equal_value() -> None:
    """value + fixed: a type with an extra display is not equal, so the mr slice is empty
    (the value is then also judged by the fixed value, as a value of no slice is not)."""
    profile = typed_profile("value", "fixed")
    result = validate(patient(MR_WITH_DISPLAY), profile)
    issue = the_issue(result, "Patient.identifier")
    assert (issue.severity, issue.code, issue.rule) == ("error", "required", "slice-cardinality")
    assert issue.message == ("slice 'mr' of Patient.identifier: minimum required = 1, but "
                             f"only found 0 (from {profile['url']})")


@pytest.mark.parametrize(("discriminator", "how"), [("value", "pattern"),
                                                    ("pattern", "pattern"),
                                                    ("pattern", "fixed")])
def test_pattern_matching_allows_more(discriminator: str, how: str) -> None:
    """A pattern value, or a pattern discriminator, matches a type with an extra display."""
    profile = typed_profile(discriminator, how)
    result = validate(patient(MR_WITH_DISPLAY), profile)
    assert [i for i in result.issues if i.rule.startswith("slice")] == []


# -- ofType() in the discriminator path ------------------------------------------------------

BY_VALUE_TYPE = constraint(
    "components-by-value-type", "Observation",
    element("Observation.component", slicing={
        "discriminator": [{"type": "value", "path": "value.ofType(CodeableConcept)"}],
        "rules": "closed"}),
    element("Observation.component:coded", sliceName="coded", min=1, max="1"),
    element("Observation.component:coded.value[x]", type=[{"code": "CodeableConcept"}],
            patternCodeableConcept={"coding": [{"system": LOINC, "code": "LA6576-8"}]}))


def observation(*components: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic"}, "component": list(components)}


def component(**value: Any) -> dict[str, Any]:
    return {"code": {"text": "part"}, **value}


def test_of_type_discriminator_matches_the_typed_value() -> None:
    """value.ofType(CodeableConcept): the coded value fits the slice."""
    coded = component(valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA6576-8"}]})
    assert validate(observation(coded), BY_VALUE_TYPE).errors == ()


def test_of_type_discriminator_skips_values_of_another_type() -> None:
    """A string value is not a CodeableConcept: in no slice (closed), and the slice is empty."""
    text = component(valueString="LA6576-8")
    result = validate(observation(text), BY_VALUE_TYPE)
    assert rules_of(result) == [
        ("error", "required", "Observation.component", "slice-cardinality"),
        ("error", "structure", "Observation.component[0]", "slice-closed")]


# -- a required binding as the discriminating value ------------------------------------------

def code_value_set(name: str, include: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": name, "url": f"http://example.org/fhir/ValueSet/"
            f"{name}", "status": "active", "compose": {"include": [include]}}


LOCAL_CODES = {"resourceType": "CodeSystem", "id": "slice-kinds",
               "url": "http://example.org/fhir/CodeSystem/slice-kinds", "status": "active",
               "content": "complete", "concept": [{"code": "national"}, {"code": "local"}]}
NATIONAL = code_value_set("national-kinds", {"system": LOCAL_CODES["url"],
                                             "concept": [{"code": "national"}]})
FINDINGS = code_value_set("snomed-findings", {"system": SNOMED, "filter": [
    {"property": "concept", "op": "is-a", "value": "404684003"}]})


def bound(name: str, value_set: dict[str, Any]) -> dict[str, Any]:
    """identifier sliced by value on type; slice 'kind' (1..1) binds type (required)."""
    return constraint(
        name, "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": "type"}], "rules": "open"}),
        element("Patient.identifier:kind", sliceName="kind", min=1, max="1"),
        element("Patient.identifier:kind.type", min=1, binding={
            "strength": "required", "valueSet": value_set["url"]}))


def typed_ident(system: str, code: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": system, "code": code}]}, "value": "K1"}


def test_required_binding_discriminator_member_matches() -> None:
    profile = bound("bound-national", NATIONAL)
    result = validate(patient(typed_ident(LOCAL_CODES["url"], "national")), profile, NATIONAL,
                      LOCAL_CODES)
    assert rules_of(result) == []
    assert result.errors == ()


def test_required_binding_discriminator_non_member_does_not_match() -> None:
    """A code outside the slice's required value set: not in the slice, which stays empty."""
    profile = bound("bound-national-2", NATIONAL)
    result = validate(patient(typed_ident(LOCAL_CODES["url"], "local")), profile, NATIONAL,
                      LOCAL_CODES)
    assert rules_of(result) == [("error", "required", "Patient.identifier", "slice-cardinality")]


def test_required_binding_that_cannot_be_evaluated_is_unknown() -> None:
    """A SNOMED is-a value set cannot be evaluated offline: the value is not counted, a
    warning says why, and the empty slice is a warning, not an error."""
    profile = bound("bound-findings", FINDINGS)
    result = validate(patient(typed_ident(SNOMED, "22298006")), profile, FINDINGS)
    assert rules_of(result) == [
        ("warning", "required", "Patient.identifier", "slice-cardinality"),
        ("warning", "not-supported", "Patient.identifier[0]", "slice-unchecked")]
    assert result.errors == ()
    unchecked = the_issue(result, "Patient.identifier[0]").message
    assert unchecked == (
        f"this value was not counted in slice 'kind' of Patient.identifier: the value set "
        f"{FINDINGS['url']} cannot be evaluated offline, so {SNOMED}#22298006 could not be "
        "checked against it")
    assert the_issue(result, "Patient.identifier").message.endswith(
        "; 1 value(s) could not be checked against it")


# -- a discriminator the slice says nothing about ---------------------------------------------

TWO_DISCRIMINATORS = constraint(
    "two-discriminators", "Patient",
    element("Patient.identifier", slicing={
        "discriminator": [{"type": "value", "path": "system"},
                          {"type": "value", "path": "use"}], "rules": "closed"}),
    element("Patient.identifier:a", sliceName="a", min=1, max="1"),
    element("Patient.identifier:a.system", min=1, fixedUri=A),
    element("Patient.identifier:official", sliceName="official", max="1"),
    element("Patient.identifier:official.use", min=1, fixedCode="official"))


def test_discriminator_a_slice_does_not_constrain_says_nothing() -> None:
    """Slice a fixes only system, slice official only use: each value is told apart by the
    discriminator its slice constrains; the other says nothing."""
    result = validate(patient(ident(A), {"use": "official", "system": OTHER, "value": "O1"}),
                      TWO_DISCRIMINATORS)
    assert result.issues == ()


def test_value_failing_the_constrained_discriminator_is_in_no_slice() -> None:
    """use 'usual' fails official's use and system OTHER fails a's system: closed error."""
    result = validate(patient(ident(A), {"use": "usual", "system": OTHER, "value": "U1"}),
                      TWO_DISCRIMINATORS)
    assert rules_of(result) == [("error", "structure", "Patient.identifier[1]", "slice-closed")]


def test_value_matching_two_slices_is_ambiguous() -> None:
    """system A and use official: both slices claim it."""
    result = validate(patient({"use": "official", "system": A, "value": "A1"}),
                      TWO_DISCRIMINATORS)
    issue = the_issue(result, "Patient.identifier[0]")
    assert (issue.severity, issue.code, issue.rule) == ("error", "structure", "slice-ambiguous")
    assert issue.message == ("this value matches more than one slice of Patient.identifier "
                             "(a, official)")


# -- an extension slice known by its fixed url ---------------------------------------------

def by_kind_url(name: str, *other_slices: dict[str, Any]) -> dict[str, Any]:
    """Identifiers sliced (closed) by the value of their kind extension: one national slice,
    whose extensions are sliced by url, with ``other_slices`` before the kind slice."""
    return constraint(
        name, "Patient",
        element("Patient.identifier", slicing={"discriminator": [
            {"type": "value", "path": f"extension('{KIND}').value"}], "rules": "closed"}),
        element("Patient.identifier:national", sliceName="national", min=1, max="1"),
        element("Patient.identifier:national.extension", slicing={
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}),
        *other_slices,
        element("Patient.identifier:national.extension:kind", sliceName="kind", min=1, max="1"),
        element("Patient.identifier:national.extension:kind.url", fixedUri=KIND),
        element("Patient.identifier:national.extension:kind.value[x]",
                type=[{"code": "code"}], fixedCode="national"))


BY_URL = by_kind_url("identifiers-by-kind-url")


def kinded(code: str) -> dict[str, Any]:
    return {"extension": [{"url": KIND, "valueCode": code}], "system": A, "value": "N1"}


def test_extension_slice_found_by_its_fixed_url() -> None:
    """The extension slice names no profile, only a fixed url: extension('url') finds it."""
    assert validate(patient(kinded("national")), BY_URL).issues == ()


def test_extension_slice_by_fixed_url_rejects_another_value() -> None:
    result = validate(patient(kinded("local")), BY_URL)
    assert rules_of(result) == [
        ("error", "required", "Patient.identifier", "slice-cardinality"),
        ("error", "structure", "Patient.identifier[0]", "slice-closed")]


def test_value_that_is_not_an_object_is_in_no_slice() -> None:
    """A string among the identifiers (reported by the walker) has no extension to slice by:
    in no slice of the closed slicing, and nothing raises."""
    result = validate(patient("oops", kinded("national")), BY_URL)
    assert rules_of(result) == [("error", "structure", "Patient.identifier[0]", "slice-closed")]


OTHER_KIND = EXAMPLE + "identifier-other-kind"
BY_URL_AMONG_OTHERS = by_kind_url(
    "identifiers-by-kind-url-2",
    element("Patient.identifier:national.extension:other", sliceName="other",
            type=[{"code": "Extension", "profile": [OTHER_KIND]}]),
    element("Patient.identifier:national.extension:plain", sliceName="plain"),
    element("Patient.identifier:national.extension:plain.url", fixedUri=OTHER_KIND + "-plain"))


def test_extension_slice_is_the_one_with_that_url_not_the_first() -> None:
    """extension('url') finds the extension slice whose profile or fixed url is that url,
    past slices for other extensions."""
    assert rules_of(validate(patient(kinded("national")), BY_URL_AMONG_OTHERS)) == []
    assert rules_of(validate(patient(kinded("local")), BY_URL_AMONG_OTHERS)) == [
        ("error", "required", "Patient.identifier", "slice-cardinality"),
        ("error", "structure", "Patient.identifier[0]", "slice-closed")]


BY_VALUE_KIND = constraint(
    "components-by-value-kind", "Observation",
    element("Observation.component", slicing={
        "discriminator": [{"type": "type", "path": "value"}], "rules": "closed"}),
    element("Observation.component:text", sliceName="text", max="1"),
    element("Observation.component:text.value[x]", type=[{"code": "string"}]),
    element("Observation.component:flag", sliceName="flag", max="1"),
    element("Observation.component:flag.value[x]", type=[{"code": "boolean"}]),
    element("Observation.component:qty", sliceName="qty", max="1"),
    element("Observation.component:qty.value[x]", type=[{"code": "Quantity"}]))


def test_type_discriminator_on_a_choice_knows_primitive_types() -> None:
    """valueString is a string and valueBoolean a boolean (lower-case FHIR types), each in
    its slice; a valueInteger is in none (closed)."""
    fine = observation(component(valueString="x"), component(valueBoolean=True),
                       component(valueQuantity={"value": 1}))
    assert rules_of(validate(fine, BY_VALUE_KIND)) == []
    other = observation(component(valueInteger=1))
    assert rules_of(validate(other, BY_VALUE_KIND)) == [
        ("error", "structure", "Observation.component[0]", "slice-closed")]


def test_extensible_binding_does_not_decide_membership() -> None:
    """Only a required binding tells slices apart: with an extensible one the slice says
    nothing, so a member code does not fill it."""
    profile = bound("bound-extensible", NATIONAL)
    profile["differential"]["element"][-1]["binding"]["strength"] = "extensible"
    result = validate(patient(typed_ident(LOCAL_CODES["url"], "national")), profile, NATIONAL,
                      LOCAL_CODES)
    assert rules_of(result) == [("error", "required", "Patient.identifier", "slice-cardinality")]


def test_required_binding_discriminator_compares_the_system_too() -> None:
    """The right code in another system is not a member of the value set."""
    profile = bound("bound-national-3", NATIONAL)
    result = validate(patient(typed_ident("http://example.org/fhir/CodeSystem/other",
                                          "national")), profile, NATIONAL, LOCAL_CODES)
    assert rules_of(result) == [("error", "required", "Patient.identifier", "slice-cardinality")]


def test_binding_no_overrides_another_discriminators_yes() -> None:
    """Discriminators system and type: system matches, the type's code is not in the
    required value set, so the value is not in the slice."""
    profile = bound("bound-and-system", NATIONAL)
    profile["differential"]["element"][0]["slicing"]["discriminator"].insert(
        0, {"type": "value", "path": "system"})
    profile["differential"]["element"].append(
        element("Patient.identifier:kind.system", fixedUri=A))
    member = {**typed_ident(LOCAL_CODES["url"], "national"), "system": A}
    assert rules_of(validate(patient(member), profile, NATIONAL, LOCAL_CODES)) == []
    other = {**typed_ident(LOCAL_CODES["url"], "local"), "system": A}
    assert rules_of(validate(patient(other), profile, NATIONAL, LOCAL_CODES)) == [
        ("error", "required", "Patient.identifier", "slice-cardinality")]


def test_unknown_code_without_system_is_shown_with_an_empty_system() -> None:
    profile = bound("bound-findings-2", FINDINGS)
    no_system = {"type": {"coding": [{"code": "22298006"}]}, "value": "K1"}
    result = validate(patient(no_system), profile, FINDINGS)
    assert the_issue(result, "Patient.identifier[0]").message.endswith(
        f"the value set {FINDINGS['url']} cannot be evaluated offline, so #22298006 could not "
        "be checked against it")


# -- values fixed below the discriminator's path (nested slices, as core bp) ------------------

def nested(name: str, *discriminators: dict[str, str], pattern: bool = False) -> dict[str, Any]:
    """component sliced by ``discriminators``; 'upper' (1..1, value[x] required) fixes its
    LOINC code only in its code.coding:loinc slice (fixed values or one patternCoding), and
    has an optional code.coding:snomed slice with a SNOMED pattern."""
    upper = "Observation.component:upper"
    loinc = ([element(f"{upper}.code.coding:loinc", sliceName="loinc", min=1, max="1",
                      patternCoding={"system": LOINC, "code": "8480-6"})] if pattern else [
        element(f"{upper}.code.coding:loinc", sliceName="loinc", min=1, max="1"),
        element(f"{upper}.code.coding:loinc.system", min=1, fixedUri=LOINC),
        element(f"{upper}.code.coding:loinc.code", min=1, fixedCode="8480-6")])
    return constraint(
        name, "Observation",
        element("Observation.component", slicing={"discriminator": list(discriminators),
                                                  "rules": "open"}),
        element(upper, sliceName="upper", min=1, max="1"),
        element(f"{upper}.code.coding", slicing={
            "discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}),
        *loinc,
        element(f"{upper}.code.coding:snomed", sliceName="snomed", max="1",
                patternCoding={"system": SNOMED, "code": "271649006"}),
        element(f"{upper}.value[x]", min=1))


def coded(system: str, code: str) -> dict[str, Any]:
    return component(code={"coding": [{"system": system, "code": code}]},
                     valueQuantity={"value": 107})


def value(path: str) -> dict[str, str]:
    return {"type": "value", "path": path}


NESTED_PATHS = ["code", "code.coding.code", "$this.code.coding.code"]


@pytest.mark.parametrize(("path", "pattern"), [(p, False) for p in NESTED_PATHS] + [
    ("code", True)])
def test_value_fixed_below_the_path_decides(path: str, pattern: bool) -> None:
    """8480-6 (fixed or a pattern, in a required nested slice) fills 'upper'; the optional
    SNOMED slice asks for nothing; another LOINC code leaves 'upper' empty."""
    profile = nested(f"nested-{path.replace('.', '').replace('$', '')}-{pattern}", value(path),
                     pattern=pattern)
    assert rules_of(validate(observation(coded(LOINC, "8480-6")), profile)) == []
    assert rules_of(validate(observation(coded(LOINC, "8462-4")), profile)) == [
        ("error", "required", "Observation.component", "slice-cardinality")]


@pytest.mark.parametrize("path", NESTED_PATHS)
def test_missing_value_below_the_path_is_not_a_match(path: str) -> None:
    """A component without code cannot have the fixed code: with a second discriminator
    (value present) that matches, it is still not in 'upper'."""
    profile = nested(f"nested-exists-{path.replace('.', '').replace('$', '')}", value(path),
                     {"type": "exists", "path": "value"})
    no_code = component(valueQuantity={"value": 107})
    del no_code["code"]
    assert rules_of(validate(observation(no_code), profile)) == [
        ("error", "required", "Observation.component", "slice-cardinality")]
    assert rules_of(validate(observation(coded(LOINC, "8480-6")), profile)) == []


def test_slice_that_constrains_no_discriminator_gets_no_value() -> None:
    """Discriminators system and value (neither bound): slice a fixes system, v1 fixes value
    and 'free' neither. Values go to the slices that say yes, none to 'free'."""
    profile = constraint(
        "system-or-value", "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": "system"},
                              {"type": "value", "path": "value"}], "rules": "open"}),
        element("Patient.identifier:a", sliceName="a", max="1"),
        element("Patient.identifier:a.system", min=1, fixedUri=A),
        element("Patient.identifier:v1", sliceName="v1", max="1"),
        element("Patient.identifier:v1.value", min=1, fixedString="V1"),
        element("Patient.identifier:free", sliceName="free", max="1"))
    result = validate(patient(ident(A), ident(OTHER, "V1")), profile)
    assert rules_of(result) == []


NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
BY_EXTENSION_URL = constraint(
    "extensions-by-url", "Patient",
    element("Patient.extension", slicing={
        "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}),
    element("Patient.extension:nationality", sliceName="nationality", min=1, max="1",
            type=[{"code": "Extension", "profile": [NATIONALITY]}]))


def test_extension_slice_typed_by_profile_matches_by_its_url() -> None:
    """An extension slice named only by its type profile: the url fixed in that profile tells
    which extensions belong to it (closed: any other is an error)."""
    nationality = {"url": NATIONALITY, "extension": [
        {"url": "code", "valueCodeableConcept": {"text": "Danish"}}]}
    assert rules_of(validate(patient(extension=[nationality]), BY_EXTENSION_URL)) == []
    other = {"url": "http://hl7.org/fhir/StructureDefinition/patient-religion",
             "valueCodeableConcept": {"text": "none"}}
    assert rules_of(validate(patient(extension=[other]), BY_EXTENSION_URL)) == [
        ("error", "required", "Patient.extension", "slice-cardinality"),
        ("error", "structure", "Patient.extension[0]", "slice-closed")]
