"""Discriminator paths and where they lead (R4 §5.1.0.10, profiling.html#discriminator), as a
mutation run of checks/slicing.py showed unchecked: ``ofType()`` on a resource and inside a
path, ``resolve()`` to a target profile (loaded, not loaded, or none), a slice typed with a
data type or extension profile, values fixed on a type slice of a choice, ``extension('url')``
over malformed extensions, whole element names, re-slices over the element's discriminators,
and values that could not be checked under closed slicing. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import CORE, EXAMPLE, constraint, element
from _profiles import validate_against as validate

from ecanfhir import ValidationResult

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
A, OTHER = "urn:oid:1.2.208.176.1.2", "urn:oid:1.2.208.176.1.99"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
SNOMED = "http://snomed.info/sct"
KIND = EXAMPLE + "identifier-kind"


def slicing_issues(result: ValidationResult) -> list[tuple[str, str, str, str]]:
    """(severity, code, location, rule) of every slicing issue."""
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule.startswith("slice-")]


def too_few(path: str) -> list[tuple[str, str, str, str]]:
    return [("error", "required", path, "slice-cardinality")]


def patient(*identifiers: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "identifier": list(identifiers),
            **elements}


# -- ofType() ---------------------------------------------------------------------------------

ENTRIES_BY_TYPE = constraint(
    "entries-of-type", "Bundle",
    element("Bundle.entry", slicing={"discriminator": [
        {"type": "exists", "path": "resource.ofType(Patient)"}], "rules": "open"}),
    element("Bundle.entry:patient", sliceName="patient", min=1, max="1"),
    element("Bundle.entry:patient.resource", min=1))


def bundle(*resources: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:0000000{n}-0000-4000-8000-000000000000", "resource": r}
        for n, r in enumerate(resources)]}


PATIENT = {"resourceType": "Patient", "text": NARRATIVE}
OBSERVATION = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
               "code": {"text": "Synthetic"}}


def test_of_type_on_a_resource_reads_its_resource_type() -> None:
    """resource.ofType(Patient): the Patient entry fills the slice, the Observation does not,
    and two Patients are one too many."""
    assert slicing_issues(validate(bundle(PATIENT, OBSERVATION), ENTRIES_BY_TYPE)) == []
    assert slicing_issues(validate(bundle(OBSERVATION), ENTRIES_BY_TYPE)) == too_few(
        "Bundle.entry")
    result = validate(bundle(PATIENT, PATIENT), ENTRIES_BY_TYPE)
    assert slicing_issues(result) == [("error", "structure", "Bundle.entry", "slice-cardinality")]
    assert result.issues[0].message == (
        "slice 'patient' of Bundle.entry: maximum allowed = 1, but found 2 "
        f"(from {ENTRIES_BY_TYPE['url']})")


def test_of_type_skips_a_resource_that_is_not_an_object() -> None:
    """A resource written as a string (reported by the walker) is of no type."""
    result = validate(bundle("oops"), ENTRIES_BY_TYPE)
    assert slicing_issues(result) == too_few("Bundle.entry")


MMHG = constraint(
    "components-in-mmhg", "Observation",
    element("Observation.component", slicing={"discriminator": [
        {"type": "value", "path": "value.ofType(Quantity).code"}], "rules": "open"}),
    element("Observation.component:mmhg", sliceName="mmhg", min=1, max="1"),
    element("Observation.component:mmhg.value[x]", type=[{"code": "Quantity"}]),
    element("Observation.component:mmhg.value[x].code", fixedCode="mm[Hg]"))


def component(unit: str) -> dict[str, Any]:
    return {"code": {"text": "pressure"}, "valueQuantity": {
        "value": 107, "system": "http://unitsofmeasure.org", "code": unit}}


def test_of_type_inside_a_path_is_stepped_over() -> None:
    """value.ofType(Quantity).code: the code fixed below the typed value decides."""
    assert slicing_issues(validate({**OBSERVATION, "component": [component("mm[Hg]")]},
                                   MMHG)) == []
    assert slicing_issues(validate({**OBSERVATION, "component": [component("kPa")]},
                                   MMHG)) == too_few("Observation.component")


# -- resolve() ----------------------------------------------------------------------------------

MY_PATIENT = constraint("my-patient", "Patient", element("Patient.gender", min=1))
PATIENT_ENTRIES = constraint(
    "list-of-patients", "List",
    element("List.entry", slicing={"discriminator": [
        {"type": "type", "path": "item.resolve()"}], "rules": "open"}),
    element("List.entry:patient", sliceName="patient", min=1),
    element("List.entry:patient.item", type=[
        {"code": "Reference", "targetProfile": [MY_PATIENT["url"]]}]))


def listing(target: dict[str, Any]) -> dict[str, Any]:
    """A List with one entry, the contained ``target``."""
    return {"resourceType": "List", "text": NARRATIVE, "status": "current", "mode": "working",
            "contained": [target], "entry": [{"item": {"reference": f"#{target['id']}"}}]}


def test_type_through_resolve_is_the_type_of_the_target_profile() -> None:
    """The slice's targetProfile is a Patient profile: a Patient target fills it, a Group
    does not."""
    patient_ = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    assert slicing_issues(validate(listing(patient_), PATIENT_ENTRIES, MY_PATIENT)) == []
    group = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True}
    assert slicing_issues(validate(listing(group), PATIENT_ENTRIES, MY_PATIENT)) == too_few(
        "List.entry")


def test_value_through_resolve_without_a_usable_target_says_nothing() -> None:
    """item.resolve().gender where one slice's Reference names no target profile and the
    other's is not loaded: no definition to compare with, so the value fills neither."""
    profile = constraint(
        "list-by-target-gender", "List",
        element("List.entry", slicing={"discriminator": [
            {"type": "value", "path": "item.resolve().gender"}], "rules": "open"}),
        element("List.entry:any", sliceName="any", min=1),
        element("List.entry:any.item", type=[{"code": "Reference"}]),
        element("List.entry:unknown", sliceName="unknown", min=1),
        element("List.entry:unknown.item", type=[
            {"code": "Reference", "targetProfile": [EXAMPLE + "not-loaded"]}]))
    result = validate(listing({"resourceType": "Patient", "id": "p1", "gender": "female"}),
                      profile)
    assert slicing_issues(result) == too_few("List.entry") * 2
    assert [i.message.split(":")[0] for i in result.issues if i.rule == "slice-cardinality"] \
        == ["slice 'any' of List.entry", "slice 'unknown' of List.entry"]


# -- slices typed with a profile ------------------------------------------------------------------

CPR_IDENTIFIER = {
    "resourceType": "StructureDefinition", "id": "cpr-identifier", "url": EXAMPLE
    + "cpr-identifier", "name": "CprIdentifier", "status": "draft", "fhirVersion": "4.0.1",
    "kind": "complex-type", "abstract": False, "type": "Identifier",
    "baseDefinition": CORE + "Identifier", "derivation": "constraint",
    "differential": {"element": [
        {"id": "Identifier", "path": "Identifier"},
        {"id": "Identifier.system", "path": "Identifier.system", "min": 1, "fixedUri": A}]}}


@pytest.mark.parametrize("paths", [["system"], ["system", "type"]])
def test_slice_typed_with_a_data_type_profile_takes_its_fixed_value(paths: list[str]) -> None:
    """The slice has no inline children: the system fixed in its Identifier profile decides;
    the profile fixes no type, so a type discriminator says nothing."""
    profile = constraint(
        "cpr-by-" + "-".join(paths), "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": p} for p in paths], "rules": "open"}),
        element("Patient.identifier:cpr", sliceName="cpr", min=1, max="1",
                type=[{"code": "Identifier", "profile": [CPR_IDENTIFIER["url"]]}]))
    cpr = {"system": A, "value": "0101709995"}
    assert slicing_issues(validate(patient(cpr), profile, CPR_IDENTIFIER)) == []
    other = {"system": OTHER, "value": "H-1"}
    assert slicing_issues(validate(patient(other), profile, CPR_IDENTIFIER)) == too_few(
        "Patient.identifier")


def test_extension_slice_of_a_profile_not_loaded_is_known_by_its_url() -> None:
    """R4 §2.17: an extension's url is its profile's canonical, so the slice takes that
    extension even when the profile itself is not loaded (closed: any other is an error)."""
    later = EXAMPLE + "not-loaded-extension"
    profile = constraint(
        "extension-not-loaded", "Patient",
        element("Patient.extension", slicing={
            "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}),
        element("Patient.extension:later", sliceName="later", min=1, max="1",
                type=[{"code": "Extension", "profile": [later]}]))
    fits = patient(extension=[{"url": later, "valueString": "x"}])
    assert slicing_issues(validate(fits, profile)) == []
    other = patient(extension=[{"url": later + "-other", "valueString": "x"}])
    assert slicing_issues(validate(other, profile)) == [
        *too_few("Patient.extension"),
        ("error", "structure", "Patient.extension[0]", "slice-closed")]


# -- values fixed on a type slice of a choice ----------------------------------------------------

def coded_kind(discriminator: str, how: str) -> dict[str, Any]:
    """identifier sliced by the value of its kind extension; slice mr (1..1) fixes the
    extension's valueCoding (a type slice of value[x]) as a fixed or a pattern Coding."""
    return constraint(
        f"kind-{discriminator}-{how}", "Patient",
        element("Patient.identifier", slicing={"discriminator": [
            {"type": discriminator, "path": f"extension('{KIND}').value"}], "rules": "open"}),
        element("Patient.identifier:mr", sliceName="mr", min=1, max="1"),
        element("Patient.identifier:mr.extension", slicing={
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}),
        element("Patient.identifier:mr.extension:kind", sliceName="kind", min=1, max="1"),
        element("Patient.identifier:mr.extension:kind.url", fixedUri=KIND),
        element("Patient.identifier:mr.extension:kind.valueCoding", min=1,
                **{f"{how}Coding": {"system": V2_0203, "code": "MR"}}))


def kinded(coding: dict[str, Any]) -> dict[str, Any]:
    return {"extension": [{"url": KIND, "valueCoding": coding}], "value": "M1"}


MR_WITH_DISPLAY = {"system": V2_0203, "code": "MR", "display": "Medical record number"}


@pytest.mark.parametrize(("discriminator", "how", "fills"), [
    ("value", "fixed", False), ("value", "pattern", True), ("pattern", "fixed", True)])
def test_type_slice_value_is_fixed_or_a_pattern(discriminator: str, how: str,
                                                fills: bool) -> None:
    """A fixed Coding on the type slice must be equal (an extra display is not); a pattern,
    or a pattern discriminator, allows more."""
    result = validate(patient(kinded(MR_WITH_DISPLAY)), coded_kind(discriminator, how))
    assert slicing_issues(result) == ([] if fills else too_few("Patient.identifier"))


@pytest.mark.parametrize("how", ["fixed", "pattern"])
def test_type_slice_value_of_another_code_is_no_match(how: str) -> None:
    other = {"system": V2_0203, "code": "PPN"}
    assert slicing_issues(validate(patient(kinded(other)), coded_kind("value", how))) == \
        too_few("Patient.identifier")


# -- extension('url') and element names ---------------------------------------------------------

@pytest.mark.parametrize("discriminator", ["exists", "type"])
def test_extension_step_skips_values_that_are_not_objects(discriminator: str) -> None:
    """extension('url') finds the kind extension (an Extension); a string in the extension
    array (reported by the walker) is none, so that identifier is in no slice (closed)."""
    profile = constraint(
        f"kinded-{discriminator}", "Patient",
        element("Patient.identifier", slicing={"discriminator": [
            {"type": discriminator, "path": f"extension('{KIND}')"}], "rules": "closed"}),
        element("Patient.identifier:kinded", sliceName="kinded", min=1, max="1"),
        element("Patient.identifier:kinded.extension", slicing={
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}),
        element("Patient.identifier:kinded.extension:kind", sliceName="kind", min=1,
                max="1"),
        element("Patient.identifier:kinded.extension:kind.url", fixedUri=KIND))
    good = {"extension": [{"url": KIND, "valueCode": "national"}], "value": "1"}
    assert slicing_issues(validate(patient(good), profile)) == []
    result = validate(patient({"extension": ["oops"], "value": "1"}), profile)
    assert slicing_issues(result) == [
        *too_few("Patient.identifier"),
        ("error", "structure", "Patient.identifier[0]", "slice-closed")]
    assert any(i.rule == "json-form" and i.expression == "Patient.identifier[0].extension[0]"
               for i in result.issues)


def test_element_name_is_matched_whole() -> None:
    """exists on code: a component without code is in no slice, though dataAbsentReason
    has an upper-case letter where a choice type would follow 'code'."""
    profile = constraint(
        "components-coded", "Observation",
        element("Observation.component", slicing={
            "discriminator": [{"type": "exists", "path": "code"}], "rules": "closed"}),
        element("Observation.component:coded", sliceName="coded"),
        element("Observation.component:coded.code", min=1))
    uncoded = {**OBSERVATION, "component": [{"dataAbsentReason": {"text": "not asked"}}]}
    assert slicing_issues(validate(uncoded, profile)) == [
        ("error", "structure", "Observation.component[0]", "slice-closed")]
    coded = {**OBSERVATION, "component": [component("mm[Hg]")]}
    assert slicing_issues(validate(coded, profile)) == []


# -- a required binding on a Coding; a value that could not be checked -----------------------------

LOCAL_CODES = {"resourceType": "CodeSystem", "id": "slice-kinds",
               "url": "http://example.org/fhir/CodeSystem/slice-kinds", "status": "active",
               "content": "complete", "concept": [{"code": "national"}, {"code": "local"}]}


def value_set(name: str, include: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": name, "url": f"http://example.org/fhir/ValueSet/"
            f"{name}", "status": "active", "compose": {"include": [include]}}


NATIONAL = value_set("national-kinds", {"system": LOCAL_CODES["url"],
                                        "concept": [{"code": "national"}]})
FINDINGS = value_set("snomed-findings", {"system": SNOMED, "filter": [
    {"property": "concept", "op": "is-a", "value": "404684003"}]})


def bound(name: str, path: str, value_set_: dict[str, Any], *, rules: str) -> dict[str, Any]:
    """identifier sliced by the value at ``path``, which slice 'kind' (1..1) binds."""
    return constraint(
        name, "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": path}], "rules": rules}),
        element("Patient.identifier:kind", sliceName="kind", min=1, max="1"),
        element(f"Patient.identifier:kind.{path}", min=1, binding={
            "strength": "required", "valueSet": value_set_["url"]}))


def typed(system: str, code: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": system, "code": code}]}, "value": "K1"}


def test_required_binding_on_a_coding_decides() -> None:
    """type.coding bound (required): a Coding is checked as itself."""
    profile = bound("bound-coding", "type.coding", NATIONAL, rules="open")
    member = validate(patient(typed(LOCAL_CODES["url"], "national")), profile, NATIONAL,
                      LOCAL_CODES)
    assert slicing_issues(member) == []
    other = validate(patient(typed(LOCAL_CODES["url"], "local")), profile, NATIONAL,
                     LOCAL_CODES)
    assert slicing_issues(other) == too_few("Patient.identifier")


def test_value_that_could_not_be_checked_is_no_closed_slicing_error() -> None:
    """A code of a value set that cannot be evaluated offline: not counted in the slice, but
    not reported as outside a closed slicing either; warnings say what was not checked."""
    profile = bound("bound-closed", "type", FINDINGS, rules="closed")
    result = validate(patient(typed(SNOMED, "22298006")), profile, FINDINGS)
    assert slicing_issues(result) == [
        ("warning", "required", "Patient.identifier", "slice-cardinality"),
        ("warning", "not-supported", "Patient.identifier[0]", "slice-unchecked")]
    assert result.errors == ()


# -- re-slices over the element's discriminators ------------------------------------------------

RESLICED = constraint(
    "reslice-by-element", "Patient",
    element("Patient.identifier", slicing={"discriminator": [
        {"type": "value", "path": "system"}, {"type": "value", "path": "use"},
        {"type": "value", "path": "value"}], "rules": "open"}),
    element("Patient.identifier:a", sliceName="a", min=1),
    element("Patient.identifier:a.system", min=1, fixedUri=A),
    element("Patient.identifier:a/official", sliceName="a/official", min=1, max="1"),
    element("Patient.identifier:a/official.use", min=1, fixedCode="official"),
    element("Patient.identifier:a/official/v1", sliceName="a/official/v1", min=1, max="1"),
    element("Patient.identifier:a/official/v1.value", min=1, fixedString="V1"))


@pytest.mark.parametrize(("use", "value", "empty"), [
    ("official", "V1", []), ("official", "V2", ["a/official/v1"]),
    ("usual", "V1", ["a/official", "a/official/v1"])])
def test_reslices_without_own_slicing_use_the_elements_discriminators(
        use: str, value: str, empty: list[str]) -> None:
    """Slice a has no slicing of its own: its re-slice a/official, and that one's a/official/v1,
    are told apart by the element's discriminators (system, use, value)."""
    result = validate(patient({"system": A, "use": use, "value": value}), RESLICED)
    assert slicing_issues(result) == too_few("Patient.identifier") * len(empty)
    assert [i.message.split(" of ")[0] for i in result.issues] == [
        f"slice '{name}'" for name in empty]


# -- a discriminator the slice says nothing about; values that are not objects -----------------

def test_profile_discriminator_the_slice_does_not_constrain_says_nothing() -> None:
    """Discriminators system and profile ($this): slice a names no profile, so only its
    fixed system decides."""
    profile = constraint(
        "system-and-profile", "Patient",
        element("Patient.identifier", slicing={"discriminator": [
            {"type": "value", "path": "system"}, {"type": "profile", "path": "$this"}],
            "rules": "open"}),
        element("Patient.identifier:a", sliceName="a", min=1, max="1"),
        element("Patient.identifier:a.system", min=1, fixedUri=A))
    assert slicing_issues(validate(patient({"system": A, "value": "1"}), profile)) == []
    assert slicing_issues(validate(patient({"system": OTHER, "value": "1"}), profile)) == \
        too_few("Patient.identifier")


@pytest.mark.parametrize(("path", "fixed"), [
    ("$this", element("Patient.identifier:a.system", min=1, fixedUri=A)),
    ("type", element("Patient.identifier:a.type.coding.code", min=1, fixedCode="MR"))])
def test_value_that_is_not_an_object_meets_no_nested_fixed_value(
        path: str, fixed: dict[str, Any]) -> None:
    """Slice a fixes a value below the discriminator's path: a string among the identifiers
    (reported by the walker) meets none, so it is in no slice (closed), and nothing raises."""
    profile = constraint(
        f"strings-{path.strip('$')}", "Patient",
        element("Patient.identifier", slicing={
            "discriminator": [{"type": "value", "path": path}], "rules": "closed"}),
        element("Patient.identifier:a", sliceName="a", min=1, max="1"), fixed)
    mr = {"system": A, "type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "value": "1"}
    assert slicing_issues(validate(patient("oops", mr), profile)) == [
        ("error", "structure", "Patient.identifier[0]", "slice-closed")]


def test_reference_that_is_not_an_object_resolves_to_nothing() -> None:
    """item.resolve() on an item written as a string (reported by the walker): a reference
    without a literal URL, so the entry could not be checked against the slice."""
    result = validate({**listing({"resourceType": "Patient", "id": "p1", "gender": "female"}),
                       "entry": [{"item": "#p1"}]}, PATIENT_ENTRIES, MY_PATIENT)
    assert slicing_issues(result) == [
        ("warning", "required", "List.entry", "slice-cardinality"),
        ("warning", "not-supported", "List.entry[0]", "slice-unchecked")]
    assert "a reference without a literal URL could not be resolved" in next(
        i.message for i in result.issues if i.rule == "slice-unchecked")


def test_missing_value_is_in_no_slice_even_one_fixing_nothing_below() -> None:
    """code.coding.code: 'upper' fixes 8480-6 in a nested slice, 'bare' constrains nothing.
    A component without code is in neither (closed), and nothing raises."""
    upper = "Observation.component:upper"
    profile = constraint(
        "upper-and-bare", "Observation",
        element("Observation.component", slicing={"discriminator": [
            {"type": "value", "path": "code.coding.code"}], "rules": "closed"}),
        element(upper, sliceName="upper", max="1"),
        element(f"{upper}.code.coding", slicing={
            "discriminator": [{"type": "value", "path": "code"}], "rules": "open"}),
        element(f"{upper}.code.coding:loinc", sliceName="loinc", min=1, max="1"),
        element(f"{upper}.code.coding:loinc.code", min=1, fixedCode="8480-6"),
        element("Observation.component:bare", sliceName="bare", max="1"))
    uncoded = {**OBSERVATION, "component": [{"valueQuantity": {"value": 107}}]}
    assert slicing_issues(validate(uncoded, profile)) == [
        ("error", "structure", "Observation.component[0]", "slice-closed")]
    systolic = {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "valueQuantity": {"value": 107}}
    assert slicing_issues(validate({**OBSERVATION, "component": [systolic]}, profile)) == []


# -- a pattern on a step of the discriminator path ------------------------------------------

LOINC = "http://loinc.org"
BY_CODE = constraint(
    "component-by-code", "Observation",
    element("Observation.component", slicing={
        "discriminator": [{"type": "value", "path": "code.coding.code"}], "rules": "open"}),
    element("Observation.component:systolic", sliceName="systolic", min=1, max="1"),
    element("Observation.component:systolic.code",
            patternCodeableConcept={"coding": [{"system": LOINC, "code": "8480-6"}]}))


@pytest.mark.parametrize(("coding", "expected"), [
    ({"system": LOINC, "code": "8480-6"}, []),
    ({"system": LOINC, "code": "8462-4"}, too_few("Observation.component")),
    ({"system": SNOMED, "code": "8480-6"}, too_few("Observation.component")),
], ids=["in-the-slice", "other-code", "same-code-other-system"])
def test_a_pattern_above_the_discriminator_path_decides_the_slice(
        coding: dict[str, str], expected: list[tuple[str, str, str, str]]) -> None:
    """The slice sets component.code to a pattern CodeableConcept and is told by
    code.coding.code: a component whose code meets the pattern (system and code, as the HL7
    validator tests it) fills the slice; another code, or the code of another system, does
    not, and the required slice is reported missing."""
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "Blood pressure"},
                   "component": [{"code": {"coding": [coding]}, "valueString": "120"}]}
    assert slicing_issues(validate(observation, BY_CODE)) == expected
