"""Slicing (R4 §5.1.0.10, profiling.html#slicing): discriminators, per-slice rules, slicing rules.

The discriminators: ``value`` and ``pattern`` (fixed or pattern value at the path), ``type``,
``profile`` and ``exists``; paths through ``extension('url')`` and ``resolve()``. Then each
slice's cardinality, ``closed``/``openAtEnd`` rules, ``ordered`` slices and values that match
two slices. All data is synthetic: synthetic patients, fictitious CPR numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _assertions import assert_issue
from _profiles import constraint, element

from ecanfhir import Issue, Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
IDENTIFIERS = EXAMPLE + "patient-identifiers"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CPR = "urn:oid:1.2.208.176.1.2"
PASSPORT = "urn:oid:1.2.208.176.1.6"
HOSPITAL = "urn:oid:1.2.208.176.1.99"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BIRTH_PLACE = CORE + "patient-birthPlace"
NATIONALITY = CORE + "patient-nationality"
IDENTIFIER_KIND = EXAMPLE + "identifier-kind"

SYNNE = {"system": CPR, "value": "0101709995"}
NANCY = {"system": CPR, "value": "2512489996"}
PASS = {"system": PASSPORT, "value": "P00000001"}
LOCAL = {"system": HOSPITAL, "value": "H-000001"}


def fixture(name: str) -> dict[str, Any]:
    """A profile from tests/fixtures/profiles/."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def validate(resource: dict[str, Any], *resources: dict[str, Any],
             profile: str | None = None) -> ValidationResult:
    """Validate against the profile (the first of ``resources`` unless named)."""
    registry = Registry()
    for r in resources:
        registry.add(r)
    url = profile or resources[0]["url"]
    return Validator(registry).validate(resource, profiles=[url])


def at(result: ValidationResult, expression: str) -> list[Issue]:
    return [i for i in result.issues if i.expression == expression]


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic measurement"}, **elements}


def identifier_slicing(rules: str = "open", *, ordered: bool = False) -> dict[str, Any]:
    """The cpr/passport slicing of the fixture, with other slicing rules."""
    sd = fixture("patient-identifiers")
    sd["url"] = f"{EXAMPLE}patient-identifiers-{rules}{'-ordered' if ordered else ''}"
    sd["differential"]["element"][0]["slicing"] = {
        "discriminator": [{"type": "value", "path": "system"}], "rules": rules,
        "ordered": ordered}
    return sd


# -- value discriminator on system (fixedUri / patternUri) -----------------------------------

@pytest.mark.parametrize("identifiers", [
    [SYNNE], [SYNNE, PASS], [PASS, SYNNE], [SYNNE, LOCAL, PASS]],
    ids=["cpr", "cpr-passport", "passport-cpr", "with-unsliced"])
def test_identifiers_matching_their_slices_are_valid(identifiers: list[Any]) -> None:
    """cpr (fixedUri) and passport (patternUri) slices by system; open slicing allows others."""
    result = validate(patient(identifier=identifiers), fixture("patient-identifiers"))
    assert result.issues == ()


def test_slice_rules_apply_only_to_the_values_in_that_slice() -> None:
    """cpr.value has maxLength 10; an 11-character passport number is not a CPR number."""
    passport = {"system": PASSPORT, "value": "P0000000001"}
    too_long = {"system": CPR, "value": "01017099950"}
    ok = validate(patient(identifier=[SYNNE, passport]), fixture("patient-identifiers"))
    assert ok.issues == ()
    result = validate(patient(identifier=[too_long]), fixture("patient-identifiers"))
    assert_issue(result, "Patient.identifier[0].value", severity="error", code="too-long",
                 fragment="maximum length 10")


def test_missing_required_slice_is_an_error_naming_the_slice() -> None:
    """cpr is 1..1: a passport alone leaves the cpr slice empty."""
    result = validate(patient(identifier=[PASS]), fixture("patient-identifiers"))
    issue = assert_issue(result, "Patient.identifier", severity="error", code="required",
                         fragment="slice 'cpr'")
    assert "minimum required = 1" in issue.message and IDENTIFIERS in issue.message
    assert issue.rule == "slice-cardinality"


def test_required_slice_is_missing_when_the_element_is_absent() -> None:
    """cpr is 1..1 while Patient.identifier stays 0..*: no identifier at all misses cpr."""
    result = validate(patient(), fixture("patient-identifiers"))
    issues = at(result, "Patient.identifier")
    assert any(i.severity == "error" and i.code == "required" and "cpr" in i.message
               for i in issues), result.issues


@pytest.mark.parametrize(("identifiers", "name"), [
    ([SYNNE, PASS, {**PASS, "value": "P00000002"}], "passport"), ([SYNNE, NANCY], "cpr")])
def test_too_many_values_in_a_slice_is_an_error_naming_the_slice(identifiers: list[Any],
                                                                 name: str) -> None:
    """Both slices are ..1: two values in one of them is an error."""
    result = validate(patient(identifier=identifiers), fixture("patient-identifiers"))
    issue = assert_issue(result, "Patient.identifier", severity="error", code="structure",
                         fragment=f"slice '{name}'")
    assert "maximum allowed = 1" in issue.message


# -- slicing rules: closed, openAtEnd, ordered -------------------------------------------------

def test_closed_slicing_rejects_a_value_matching_no_slice() -> None:
    """rules closed: a hospital number is in no slice; the error names the sliced element."""
    result = validate(patient(identifier=[SYNNE, LOCAL]), identifier_slicing("closed"))
    issue = assert_issue(result, "Patient.identifier[1]", severity="error", code="structure",
                         fragment="does not match any slice")
    assert "Patient.identifier" in issue.message and "closed" in issue.message
    assert not at(result, "Patient.identifier[0]")


def test_closed_slicing_accepts_values_that_all_match() -> None:
    """rules closed: cpr and passport only."""
    result = validate(patient(identifier=[PASS, SYNNE]), identifier_slicing("closed"))
    assert result.issues == ()


def test_open_at_end_accepts_unsliced_values_last() -> None:
    """rules openAtEnd: a hospital number after the slices is fine."""
    result = validate(patient(identifier=[SYNNE, PASS, LOCAL]), identifier_slicing("openAtEnd"))
    assert result.issues == ()


def test_open_at_end_rejects_a_slice_after_unsliced_values() -> None:
    """rules openAtEnd: the cpr identifier after a hospital number is an error there."""
    result = validate(patient(identifier=[LOCAL, SYNNE]), identifier_slicing("openAtEnd"))
    issue = assert_issue(result, "Patient.identifier[1]", severity="error", code="structure",
                         fragment="open at the end")
    assert "'cpr'" in issue.message


def test_ordered_slices_in_order_are_valid() -> None:
    """ordered: cpr (declared first) then passport."""
    result = validate(patient(identifier=[SYNNE, PASS]), identifier_slicing(ordered=True))
    assert result.issues == ()


def test_ordered_slices_out_of_order_are_an_error() -> None:
    """ordered: passport before cpr puts cpr out of order."""
    result = validate(patient(identifier=[PASS, SYNNE]), identifier_slicing(ordered=True))
    issue = assert_issue(result, "Patient.identifier[1]", severity="error", code="structure",
                         fragment="out of order")
    assert "'cpr'" in issue.message


# -- a value in two slices -------------------------------------------------------------------

TYPED_IDENTIFIERS = constraint(
    "typed-identifiers", "Patient",
    element("Patient.identifier", slicing={
        "discriminator": [{"type": "pattern", "path": "type"}], "rules": "open"}),
    element("Patient.identifier:mr", sliceName="mr"),
    element("Patient.identifier:mr.type", min=1, patternCodeableConcept={
        "coding": [{"system": V2_0203, "code": "MR"}]}),
    element("Patient.identifier:ppn", sliceName="ppn"),
    element("Patient.identifier:ppn.type", min=1, patternCodeableConcept={
        "coding": [{"system": V2_0203, "code": "PPN"}]}))


def typed(*codes: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": V2_0203, "code": c} for c in codes]},
            "value": "A000001"}


def test_values_in_one_slice_each_are_valid() -> None:
    """An MR identifier and a PPN identifier each match one slice."""
    result = validate(patient(identifier=[typed("MR"), typed("PPN")]), TYPED_IDENTIFIERS)
    assert result.errors == ()


def test_value_matching_two_slices_is_an_error() -> None:
    """An identifier typed both MR and PPN matches both patterns."""
    result = validate(patient(identifier=[typed("MR"), typed("MR", "PPN")]), TYPED_IDENTIFIERS)
    issue = assert_issue(result, "Patient.identifier[1]", severity="error", code="structure",
                         fragment="matches more than one slice")
    assert "mr" in issue.message and "ppn" in issue.message
    assert issue.rule == "slice-ambiguous"


# -- pattern discriminators on Coding --------------------------------------------------------

HAEMOGLOBIN_CODING = constraint(
    "haemoglobin-coding", "Observation",
    element("Observation.code.coding", slicing={
        "discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}),
    element("Observation.code.coding:hb", sliceName="hb", min=1, max="1",
            patternCoding={"system": LOINC, "code": "718-7"}),
    element("Observation.code.coding:hb.display", min=1))
LAB_CATEGORY = constraint(
    "lab-category", "Observation",
    element("Observation.category", slicing={
        "discriminator": [{"type": "pattern", "path": "coding"}], "rules": "open"}),
    element("Observation.category:lab", sliceName="lab", min=1, max="1"),
    element("Observation.category:lab.coding",
            patternCoding={"system": CATEGORY, "code": "laboratory"}),
    element("Observation.category:lab.text", max="0"))
HB = {"system": LOINC, "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}
SNOMED_HB = {"system": "http://snomed.info/sct", "code": "271026005"}


def test_coding_matching_the_pattern_slice_is_valid() -> None:
    """code.coding sliced by pattern on $this: the LOINC coding among others fills 'hb'."""
    result = validate(observation(code={"coding": [SNOMED_HB, HB]}), HAEMOGLOBIN_CODING)
    assert result.errors == ()


def test_coding_in_the_pattern_slice_gets_the_slice_rules() -> None:
    """The hb slice requires a display: the matching coding without one is an error."""
    result = validate(observation(code={"coding": [SNOMED_HB, {"system": LOINC,
                                                               "code": "718-7"}]}),
                      HAEMOGLOBIN_CODING)
    assert_issue(result, "Observation.code.coding[1].display", severity="error",
                 code="required", fragment="minimum required = 1")
    assert not at(result, "Observation.code.coding[0].display")


def test_no_coding_matching_the_pattern_slice_is_an_error() -> None:
    """Glucose instead of haemoglobin: the hb slice is empty."""
    result = validate(observation(code={"coding": [{"system": LOINC, "code": "2339-0"}]}),
                      HAEMOGLOBIN_CODING)
    assert_issue(result, "Observation.code.coding", severity="error", code="required",
                 fragment="slice 'hb'")


def test_category_sliced_by_pattern_on_coding() -> None:
    """category sliced by pattern on coding: survey plus laboratory is fine."""
    survey = {"coding": [{"system": CATEGORY, "code": "survey"}]}
    lab = {"coding": [{"system": CATEGORY, "code": "laboratory"}]}
    assert validate(observation(category=[survey, lab]), LAB_CATEGORY).issues == ()
    missing = validate(observation(category=[survey]), LAB_CATEGORY)
    assert_issue(missing, "Observation.category", severity="error", code="required",
                 fragment="slice 'lab'")
    with_text = validate(observation(category=[survey, {**lab, "text": "Lab"}]), LAB_CATEGORY)
    assert_issue(with_text, "Observation.category[1].text", severity="error",
                 code="structure", fragment="maximum allowed = 0")


# -- type discriminator on value[x] ($this) -------------------------------------------------

TYPED_VALUE = constraint(
    "typed-value", "Observation",
    element("Observation.value[x]", slicing={
        "discriminator": [{"type": "type", "path": "$this"}], "rules": "open"}),
    element("Observation.value[x]:valueQuantity", sliceName="valueQuantity",
            type=[{"code": "Quantity"}]),
    element("Observation.value[x]:valueQuantity.system", min=1, fixedUri=UCUM),
    element("Observation.value[x]:valueString", sliceName="valueString",
            type=[{"code": "string"}], maxLength=5))


@pytest.mark.parametrize("value", [
    {"valueQuantity": {"value": 13.2, "unit": "g/dL", "system": UCUM, "code": "g/dL"}},
    {"valueString": "low"}], ids=["quantity", "string"])
def test_value_of_a_sliced_type_meeting_its_slice_is_valid(value: dict[str, Any]) -> None:
    """value[x] sliced by type: each type meets its own slice's rules."""
    assert validate(observation(**value), TYPED_VALUE).issues == ()


def test_quantity_type_slice_rules_apply_to_a_quantity() -> None:
    """The valueQuantity slice requires a UCUM system."""
    result = validate(observation(valueQuantity={"value": 13.2, "unit": "g/dL"}), TYPED_VALUE)
    assert_issue(result, "Observation.value.ofType(Quantity).system", severity="error",
                 code="required", fragment="minimum required = 1")


def test_string_type_slice_rules_apply_to_a_string() -> None:
    """The valueString slice has maxLength 5."""
    result = validate(observation(valueString="rather low"), TYPED_VALUE)
    assert_issue(result, "Observation.value.ofType(string)", severity="error", code="too-long",
                 fragment="maximum length 5")


def test_value_of_a_type_without_a_slice_is_valid_when_the_type_slicing_is_open() -> None:
    """The differential's type slicing is open: valueBoolean has no slice and stays allowed."""
    assert validate(observation(valueBoolean=True), TYPED_VALUE).issues == ()


def test_value_of_a_type_without_a_slice_is_an_error_when_the_type_slicing_is_closed() -> None:
    """The same slicing declared closed: valueBoolean matches no type slice."""
    closed = json.loads(json.dumps(TYPED_VALUE).replace('"open"', '"closed"'))
    closed["url"] = EXAMPLE + "typed-value-closed"
    result = validate(observation(valueBoolean=True), closed)
    assert_issue(result, "Observation.value.ofType(boolean)", severity="error",
                 code="structure", fragment="does not match any slice")


def test_renamed_choice_path_limits_the_types() -> None:
    """``Observation.valueQuantity`` in a differential (no slicing): only Quantity is allowed."""
    quantity_only = constraint("value-quantity-only", "Observation",
                               element("Observation.valueQuantity", min=1))
    assert validate(observation(valueQuantity={"value": 1}), quantity_only).errors == ()
    result = validate(observation(valueBoolean=True), quantity_only)
    assert_issue(result, "Observation.valueBoolean", severity="error", code="structure",
                 fragment="unrecognised property")


# -- profile discriminator ------------------------------------------------------------------

BIRTH_PLACE_SLICE = constraint(
    "birth-place-required", "Patient",
    element("Patient.extension", slicing={
        "discriminator": [{"type": "profile", "path": "$this"}], "rules": "open"}),
    element("Patient.extension:birthPlace", sliceName="birthPlace", min=1, max="1",
            type=[{"code": "Extension", "profile": [BIRTH_PLACE]}]))
AARHUS = {"url": BIRTH_PLACE, "valueAddress": {"city": "Aarhus", "country": "DK"}}
DANISH = {"url": NATIONALITY, "extension": [{"url": "code", "valueCodeableConcept": {
    "text": "Danish"}}]}


def test_extension_conforming_to_the_slice_profile_fills_it() -> None:
    """Sliced by profile: a patient-birthPlace extension fills the birthPlace slice."""
    result = validate(patient(extension=[DANISH, AARHUS]), BIRTH_PLACE_SLICE)
    assert result.issues == ()


def test_no_extension_conforming_to_the_slice_profile_is_an_error() -> None:
    """Sliced by profile: a nationality extension does not fill the birthPlace slice."""
    result = validate(patient(extension=[DANISH]), BIRTH_PLACE_SLICE)
    assert_issue(result, "Patient.extension", severity="error", code="required",
                 fragment="slice 'birthPlace'")


def test_required_extension_slice_is_missing_without_extensions() -> None:
    """birthPlace is 1..1: a patient with no extension at all misses it."""
    result = validate(patient(), BIRTH_PLACE_SLICE)
    assert_issue(result, "Patient.extension", severity="error", code="required",
                 fragment="birthPlace")


def test_two_extensions_in_a_profile_slice_is_an_error() -> None:
    """birthPlace is ..1: two birth places are too many."""
    result = validate(patient(extension=[AARHUS, AARHUS]), BIRTH_PLACE_SLICE)
    assert_issue(result, "Patient.extension", severity="error", code="structure",
                 fragment="maximum allowed = 1")


# -- exists discriminator --------------------------------------------------------------------

NAME_HISTORY = constraint(
    "name-history", "Patient",
    element("Patient.name", slicing={
        "discriminator": [{"type": "exists", "path": "period"}], "rules": "open"}),
    element("Patient.name:current", sliceName="current", min=1, max="1"),
    element("Patient.name:current.period", max="0"),
    element("Patient.name:former", sliceName="former"),
    element("Patient.name:former.period", min=1),
    element("Patient.name:former.use", fixedCode="old"))
CURRENT = {"family": "Testesen", "given": ["Synne"]}
FORMER = {"use": "old", "family": "Prøvesen", "period": {"end": "2001-06-30"}}


def test_names_sliced_by_exists_are_valid() -> None:
    """A name without period is current; one with a period is former."""
    assert validate(patient(name=[FORMER, CURRENT]), NAME_HISTORY).issues == ()


def test_value_in_the_exists_slice_gets_its_rules() -> None:
    """A name with a period is former, so its use must be 'old'."""
    result = validate(patient(name=[CURRENT, {**FORMER, "use": "maiden"}]), NAME_HISTORY)
    assert_issue(result, "Patient.name[1].use", severity="error", code="value",
                 fragment='must be exactly "old"')


@pytest.mark.parametrize(("names", "code", "fragment"), [
    ([FORMER], "required", "minimum required = 1"),
    ([CURRENT, CURRENT], "structure", "maximum allowed = 1"),
], ids=["none-current", "two-current"])
def test_exists_slice_cardinality(names: list[Any], code: str, fragment: str) -> None:
    """Exactly one name without a period."""
    result = validate(patient(name=names), NAME_HISTORY)
    issue = assert_issue(result, "Patient.name", severity="error", code=code, fragment=fragment)
    assert "'current'" in issue.message


# -- extension('url') in the discriminator path ----------------------------------------------

def kind_slice(name: str, kind: str) -> list[dict[str, Any]]:
    base = f"Patient.identifier:{name}"
    return [
        element(base, sliceName=name, **({"min": 1, "max": "1"} if kind == "national" else {})),
        element(f"{base}.extension", slicing={
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}),
        element(f"{base}.extension:kind", sliceName="kind", min=1, max="1",
                type=[{"code": "Extension", "profile": [IDENTIFIER_KIND]}]),
        element(f"{base}.extension:kind.value[x]", fixedCode=kind)]


BY_KIND = constraint(
    "identifiers-by-kind", "Patient",
    element("Patient.identifier", slicing={"discriminator": [
        {"type": "value", "path": f"extension('{IDENTIFIER_KIND}').value"}], "rules": "closed"}),
    *kind_slice("national", "national"),
    element("Patient.identifier:national.value", maxLength=10),
    *kind_slice("local", "local"))


def kind(code: str, identifier: dict[str, Any]) -> dict[str, Any]:
    return {"extension": [{"url": IDENTIFIER_KIND, "valueCode": code}], **identifier}


def test_values_sliced_by_extension_value_are_valid() -> None:
    """Sliced by extension('…identifier-kind').value: national and local each fit."""
    result = validate(patient(identifier=[kind("local", LOCAL), kind("national", SYNNE)]),
                      BY_KIND, fixture("extension-identifier-kind"))
    assert result.issues == ()


def test_value_sliced_by_extension_value_gets_its_slice_rules() -> None:
    """The national slice (by its extension) limits value to 10 characters."""
    too_long = kind("national", {"system": CPR, "value": "01017099950"})
    result = validate(patient(identifier=[too_long]), BY_KIND,
                      fixture("extension-identifier-kind"))
    assert_issue(result, "Patient.identifier[0].value", severity="error", code="too-long",
                 fragment="maximum length 10")


def test_extension_value_matching_no_slice_is_an_error() -> None:
    """Closed: an identifier of kind 'temporary' is in no slice; a local one alone misses
    the national slice."""
    result = validate(patient(identifier=[kind("temporary", LOCAL), kind("national", SYNNE)]),
                      BY_KIND, fixture("extension-identifier-kind"))
    assert_issue(result, "Patient.identifier[0]", severity="error", code="structure",
                 fragment="does not match any slice")
    local_only = validate(patient(identifier=[kind("local", LOCAL)]), BY_KIND,
                          fixture("extension-identifier-kind"))
    assert_issue(local_only, "Patient.identifier", severity="error", code="required",
                 fragment="slice 'national'")


def test_extension_of_the_wrong_shape_matches_no_slice_and_raises_nothing() -> None:
    """``"extension": 1`` under a discriminator through extension('url'): the wrong shape is
    reported where it is, and the value matches no slice (it once raised a TypeError)."""
    odd = {"extension": 1, **SYNNE}
    result = validate(patient(identifier=[odd]), BY_KIND, fixture("extension-identifier-kind"))
    assert_issue(result, "Patient.identifier[0].extension", severity="error", code="structure",
                 fragment="must be an array")
    assert_issue(result, "Patient.identifier[0]", severity="error", code="structure",
                 fragment="does not match any slice")


# -- resolve() in a Bundle -------------------------------------------------------------------

HB_OBSERVATION = constraint(
    "hb-observation", "Observation",
    element("Observation.code", patternCodeableConcept={
        "coding": [{"system": LOINC, "code": "718-7"}]}),
    element("Observation.value[x]", min=1, type=[{"code": "Quantity"}]))
GLUCOSE_OBSERVATION = constraint(
    "glucose-observation", "Observation",
    element("Observation.code", patternCodeableConcept={
        "coding": [{"system": LOINC, "code": "2339-0"}]}))


def blood_panel(kind: str, path: str) -> dict[str, Any]:
    """A DiagnosticReport profile slicing result by ``kind`` on ``path`` (through resolve())."""
    return constraint(
        f"blood-panel-{kind}", "DiagnosticReport",
        element("DiagnosticReport.result", slicing={
            "discriminator": [{"type": kind, "path": path}], "rules": "open"}),
        element("DiagnosticReport.result:hb", sliceName="hb", min=1, max="1",
                type=[{"code": "Reference", "targetProfile": [HB_OBSERVATION["url"]]}]),
        element("DiagnosticReport.result:glucose", sliceName="glucose", max="1",
                type=[{"code": "Reference", "targetProfile": [GLUCOSE_OBSERVATION["url"]]}]))


def full_url(n: int) -> str:
    return f"urn:uuid:8c4d5a0e-0000-4000-8000-{n:012d}"


def lab_bundle(profile: str, *codes: str) -> dict[str, Any]:
    """A collection Bundle: a report claiming ``profile`` and one Observation per code."""
    results = [{"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code}]},
                "valueQuantity": {"value": 8.1, "unit": "mmol/L", "system": UCUM,
                                  "code": "mmol/L"}} for code in codes]
    report = {"resourceType": "DiagnosticReport", "text": NARRATIVE,
              "meta": {"profile": [profile]}, "status": "final", "code": {"text": "Blood panel"},
              "result": [{"reference": full_url(i)} for i in range(2, len(codes) + 2)]}
    entries = [{"fullUrl": full_url(i), "resource": r}
               for i, r in enumerate([report, *results], 1)]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def validate_bundle(bundle: dict[str, Any], profile: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for r in (HB_OBSERVATION, GLUCOSE_OBSERVATION, profile):
        registry.add(r)
    return Validator(registry).validate(bundle)


@pytest.mark.parametrize(("kind", "path"), [("pattern", "resolve().code"),
                                            ("profile", "resolve()")])
def test_references_sliced_through_resolve_are_valid(kind: str, path: str) -> None:
    """result sliced by what its references resolve to in the Bundle: hb and glucose."""
    profile = blood_panel(kind, path)
    result = validate_bundle(lab_bundle(profile["url"], "2339-0", "718-7"), profile)
    assert result.errors == ()


@pytest.mark.parametrize(("kind", "path"), [("pattern", "resolve().code"),
                                            ("profile", "resolve()")])
def test_reference_slice_not_filled_through_resolve_is_an_error(kind: str, path: str) -> None:
    """Only a glucose result: the hb slice (1..1) is empty."""
    profile = blood_panel(kind, path)
    result = validate_bundle(lab_bundle(profile["url"], "2339-0"), profile)
    assert_issue(result, "Bundle.entry[0].resource.result", severity="error", code="required",
                 fragment="slice 'hb'")
