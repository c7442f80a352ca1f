"""Profiles (R4 §5.1 profiling.html): what a differential-only profile adds to the core rules.

Each profile is a tiny hand-written differential (``tests/fixtures/profiles/`` or built here);
the validator generates its snapshot. Each rule has a conformant case and a violation asserting
code, severity and FHIRPath location. All data is synthetic: synthetic patients, fictitious CPR
numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from _assertions import assert_issue, the_issue

from ecanfhir import Issue, Registry, ValidationOptions, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
ECAN_PATIENT = EXAMPLE + "ecan-patient"
SCREENING_PATIENT = EXAMPLE + "breast-screening-patient"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CPR = "urn:oid:1.2.208.176.1.2"
PASSPORT = "urn:oid:1.2.208.176.1.6"
HAEMOGLOBIN = {"coding": [{"system": LOINC, "code": "718-7"}]}


def fixture(name: str) -> dict[str, Any]:
    """A profile from tests/fixtures/profiles/."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def constraint(name: str, resource_type: str, *elements: dict[str, Any],
               base: str | None = None) -> dict[str, Any]:
    """A differential-only profile of ``resource_type`` (element ids default to their paths)."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": resource_type, "derivation": "constraint",
        "baseDefinition": base or CORE + resource_type,
        "differential": {"element": [{"id": e["path"], **e} for e in elements]},
    }


def validator(*resources: dict[str, Any], must_support: bool = False) -> Validator:
    registry = Registry()
    for resource in resources:
        registry.add(resource)
    return Validator(registry, options=ValidationOptions(must_support=must_support))


def at(result: ValidationResult, expression: str) -> list[Issue]:
    return [i for i in result.issues if i.expression == expression]


def patient(*profiles: str, **elements: Any) -> dict[str, Any]:
    meta = {"meta": {"profile": list(profiles)}} if profiles else {}
    return {"resourceType": "Patient", "text": NARRATIVE, **meta, **elements}


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic measurement"}, **elements}


def celsius(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "°C", "system": UCUM, "code": "Cel"}


# -- cardinality ---------------------------------------------------------------------------

def test_conformant_patient_has_no_issue() -> None:
    """A Patient with the birthDate the profile requires and no photo is valid."""
    result = validator(fixture("ecan-patient")).validate(
        patient(ECAN_PATIENT, birthDate="1970-01-01"))
    assert result.issues == ()


def test_min_narrowed_to_one_missing_is_a_required_error() -> None:
    """Patient.birthDate is 0..1 in core, 1..1 in the profile: absent is an error."""
    result = validator(fixture("ecan-patient")).validate(patient(ECAN_PATIENT))
    issue = assert_issue(result, "Patient.birthDate", severity="error", code="required",
                         fragment="minimum required = 1")
    assert issue.rule == "cardinality-min"


def test_max_narrowed_to_zero_present_is_an_error() -> None:
    """Patient.photo is 0..0 in the profile: one photo is one too many."""
    result = validator(fixture("ecan-patient")).validate(patient(
        ECAN_PATIENT, birthDate="1970-01-01", photo=[{"contentType": "image/png"}]))
    issue = assert_issue(result, "Patient.photo", severity="error", code="structure",
                         fragment="maximum allowed = 0")
    assert issue.rule == "cardinality-max"


def test_cardinality_error_from_a_profile_names_the_profile() -> None:
    """The core allows a missing birthDate, so the error says which profile requires it."""
    result = validator(fixture("ecan-patient")).validate(patient(ECAN_PATIENT))
    assert_issue(result, "Patient.birthDate", severity="error", code="required",
                 fragment=ECAN_PATIENT)


# -- types ---------------------------------------------------------------------------------

QUANTITY_ONLY = constraint("quantity-only", "Observation",
                           {"path": "Observation.value[x]", "type": [{"code": "Quantity"}]})


def test_type_allowed_by_the_profile_is_valid() -> None:
    """value[x] narrowed to Quantity: valueQuantity is fine."""
    result = validator(QUANTITY_ONLY).validate(observation(valueQuantity=celsius(37.0)),
                                               profiles=[EXAMPLE + "quantity-only"])
    assert result.issues == ()


def test_type_removed_by_the_profile_is_rejected() -> None:
    """value[x] narrowed to Quantity: valueString, fine in core, is an error."""
    result = validator(QUANTITY_ONLY).validate(observation(valueString="37 degrees"),
                                               profiles=[EXAMPLE + "quantity-only"])
    assert_issue(result, "Observation.valueString", severity="error", code="structure",
                 fragment="valueString")


# -- fixed[x] ------------------------------------------------------------------------------

FIXED_GENDER = constraint("fixed-gender", "Patient",
                          {"path": "Patient.gender", "fixedCode": "female"})
FIXED_SYSTEM = constraint("fixed-system", "Patient",
                          {"path": "Patient.identifier.system", "fixedUri": CPR})
FIXED_CODE = constraint("fixed-code", "Observation",
                        {"path": "Observation.code", "fixedCodeableConcept": HAEMOGLOBIN})


def test_fixed_code_equal_is_valid() -> None:
    """fixedCode female: gender female conforms."""
    result = validator(FIXED_GENDER).validate(patient(gender="female"),
                                              profiles=[EXAMPLE + "fixed-gender"])
    assert result.issues == ()


def test_fixed_code_different_is_an_error() -> None:
    """fixedCode female: gender male is an error naming both values and the profile."""
    result = validator(FIXED_GENDER).validate(patient(gender="male"),
                                              profiles=[EXAMPLE + "fixed-gender"])
    issue = assert_issue(result, "Patient.gender", severity="error", code="value",
                         fragment='must be exactly "female"')
    assert '"male"' in issue.message and EXAMPLE + "fixed-gender" in issue.message


def test_fixed_value_does_not_make_the_element_required() -> None:
    """fixed[x] constrains a value that is present; an absent gender is still allowed."""
    result = validator(FIXED_GENDER).validate(patient(), profiles=[EXAMPLE + "fixed-gender"])
    assert result.issues == ()


def test_fixed_uri_applies_to_every_repetition() -> None:
    """fixedUri on identifier.system (not sliced): a second, passport identifier is an error."""
    result = validator(FIXED_SYSTEM).validate(
        patient(identifier=[{"system": CPR, "value": "0101709995"},
                            {"system": PASSPORT, "value": "P00000001"}]),
        profiles=[EXAMPLE + "fixed-system"])
    assert_issue(result, "Patient.identifier[1].system", severity="error", code="value",
                 fragment=f'must be exactly "{CPR}"')
    assert not at(result, "Patient.identifier[0].system")


def test_complex_fixed_value_equal_is_valid() -> None:
    """fixedCodeableConcept: exactly the same system and code conforms."""
    result = validator(FIXED_CODE).validate(
        observation(code={"coding": [{"system": LOINC, "code": "718-7"}]}),
        profiles=[EXAMPLE + "fixed-code"])
    assert result.errors == ()


@pytest.mark.parametrize("code", [
    {"coding": [{"system": LOINC, "code": "718-7"}], "text": "Haemoglobin"},
    {"coding": [{"system": LOINC, "code": "718-7", "display": "Hemoglobin [Mass/volume] in "
                 "Blood"}]},
    {"coding": [{"system": SNOMED, "code": "271026005"}, {"system": LOINC, "code": "718-7"}]},
    {"coding": [{"system": LOINC, "code": "2339-0"}]},
], ids=["extra-text", "extra-display", "extra-coding", "other-code"])
def test_complex_fixed_value_must_match_exactly(code: dict[str, Any]) -> None:
    """fixed[x] is exact: anything more or different than the fixed CodeableConcept fails."""
    result = validator(FIXED_CODE).validate(observation(code=code),
                                            profiles=[EXAMPLE + "fixed-code"])
    assert_issue(result, "Observation.code", severity="error", code="value",
                 fragment="must be exactly")


# -- pattern[x] ----------------------------------------------------------------------------

PATTERN_CODE = constraint("pattern-code", "Observation",
                          {"path": "Observation.code", "patternCodeableConcept": HAEMOGLOBIN})


@pytest.mark.parametrize("code", [
    {"coding": [{"system": LOINC, "code": "718-7"}]},
    {"coding": [{"system": SNOMED, "code": "271026005"},
                {"system": LOINC, "code": "718-7", "display": "Hemoglobin [Mass/volume] in "
                 "Blood"}], "text": "Haemoglobin"},
], ids=["same", "extra-codings-display-and-text"])
def test_pattern_codeable_concept_allows_more(code: dict[str, Any]) -> None:
    """patternCodeableConcept: extra codings, displays and text are allowed."""
    result = validator(PATTERN_CODE).validate(observation(code=code),
                                              profiles=[EXAMPLE + "pattern-code"])
    assert result.errors == ()


@pytest.mark.parametrize("code", [
    {"coding": [{"system": LOINC, "code": "2339-0"}]},
    {"coding": [{"system": SNOMED, "code": "718-7"}]},
    {"text": "Haemoglobin"},
], ids=["other-code", "other-system", "text-only"])
def test_pattern_codeable_concept_without_the_pattern_coding_is_an_error(
        code: dict[str, Any]) -> None:
    """patternCodeableConcept: without a coding carrying LOINC 718-7, the value fails."""
    result = validator(PATTERN_CODE).validate(observation(code=code),
                                              profiles=[EXAMPLE + "pattern-code"])
    issue = assert_issue(result, "Observation.code", severity="error", code="value",
                         fragment="does not match the pattern")
    assert issue.rule == "pattern"


# -- minValue / maxValue / maxLength --------------------------------------------------------

BOUNDED_INTEGER = constraint("bounded-integer", "Observation", {
    "path": "Observation.value[x]", "type": [{"code": "integer"}],
    "minValueInteger": 0, "maxValueInteger": 10})
BOUNDED_DECIMAL = constraint(
    "bounded-decimal", "Observation",
    {"path": "Observation.value[x]", "type": [{"code": "Quantity"}]},
    {"path": "Observation.value[x].value", "minValueDecimal": 30.0, "maxValueDecimal": 45.5})
BOUNDED_QUANTITY = constraint("bounded-quantity", "Observation", {
    "path": "Observation.value[x]", "type": [{"code": "Quantity"}],
    "minValueQuantity": celsius(30), "maxValueQuantity": celsius(45)})
BOUNDED_DATE = constraint("bounded-date", "Patient", {
    "path": "Patient.birthDate", "minValueDate": "1900-01-01", "maxValueDate": "2020-12-31"})
MAX_LENGTH = constraint("max-length", "Patient",
                        {"path": "Patient.identifier.value", "maxLength": 10})


@pytest.mark.parametrize(("profile", "resource", "location", "rule"), [
    (BOUNDED_INTEGER, observation(valueInteger=11), "Observation.value.ofType(integer)",
     "max-value"),
    (BOUNDED_INTEGER, observation(valueInteger=-1), "Observation.value.ofType(integer)",
     "min-value"),
    (BOUNDED_DECIMAL, observation(valueQuantity=celsius(45.51)),
     "Observation.value.ofType(Quantity).value", "max-value"),
    (BOUNDED_DECIMAL, observation(valueQuantity=celsius(29.99)),
     "Observation.value.ofType(Quantity).value", "min-value"),
    (BOUNDED_QUANTITY, observation(valueQuantity=celsius(46)),
     "Observation.value.ofType(Quantity)", "max-value"),
    (BOUNDED_QUANTITY, observation(valueQuantity=celsius(29.5)),
     "Observation.value.ofType(Quantity)", "min-value"),
    (BOUNDED_DATE, patient(birthDate="1899-12-31"), "Patient.birthDate", "min-value"),
    (BOUNDED_DATE, patient(birthDate="2021-01-01"), "Patient.birthDate", "max-value"),
], ids=["integer-max", "integer-min", "decimal-max", "decimal-min", "quantity-max",
        "quantity-min", "date-min", "date-max"])
def test_value_outside_min_max_is_an_error(profile: dict[str, Any], resource: dict[str, Any],
                                           location: str, rule: str) -> None:
    """minValue[x]/maxValue[x] for integer, decimal, Quantity and date."""
    result = validator(profile).validate(resource, profiles=[profile["url"]])
    word = "less than the minimum" if rule == "min-value" else "greater than the maximum"
    issue = assert_issue(result, location, severity="error", code="value", fragment=word)
    assert issue.rule == rule


@pytest.mark.parametrize(("profile", "resource"), [
    (BOUNDED_INTEGER, observation(valueInteger=0)),
    (BOUNDED_INTEGER, observation(valueInteger=10)),
    (BOUNDED_DECIMAL, observation(valueQuantity=celsius(45.5))),
    (BOUNDED_DECIMAL, observation(valueQuantity=celsius(30))),
    (BOUNDED_QUANTITY, observation(valueQuantity=celsius(45))),
    (BOUNDED_QUANTITY, observation(valueQuantity=celsius(30.0))),
    (BOUNDED_DATE, patient(birthDate="1900-01-01")),
    (BOUNDED_DATE, patient(birthDate="2020-12-31")),
], ids=["integer-min", "integer-max", "decimal-max", "decimal-min", "quantity-max",
        "quantity-min", "date-min", "date-max"])
def test_value_on_the_bound_is_valid(profile: dict[str, Any], resource: dict[str, Any]) -> None:
    """The bounds are inclusive."""
    assert validator(profile).validate(resource, profiles=[profile["url"]]).issues == ()


def test_quantity_bound_in_other_units_is_not_compared_by_number() -> None:
    """99.5 [degF] is 37.5 Cel, below the 45 Cel maximum: the numbers alone must not decide."""
    fahrenheit = {"value": 99.5, "unit": "°F", "system": UCUM, "code": "[degF]"}
    result = validator(BOUNDED_QUANTITY).validate(observation(valueQuantity=fahrenheit),
                                                  profiles=[EXAMPLE + "bounded-quantity"])
    assert not [i for i in result.issues if i.rule == "max-value"], result.issues


BOUNDED_MASS = constraint("bounded-mass", "Observation", {
    "path": "Observation.value[x]", "type": [{"code": "Quantity"}],
    "maxValueQuantity": {"value": 0.5, "system": UCUM, "code": "kg"}})


@pytest.mark.parametrize(("grams", "bad"), [(400, False), (500, False), (11000, True)])
def test_quantity_bound_in_another_metric_unit_is_compared_after_conversion(
        grams: int, bad: bool) -> None:
    """A 0.5 kg maximum: 400 g and 500 g are within it, 11000 g is not (UCUM conversion)."""
    mass = {"value": grams, "unit": "g", "system": UCUM, "code": "g"}
    result = validator(BOUNDED_MASS).validate(observation(valueQuantity=mass),
                                              profiles=[EXAMPLE + "bounded-mass"])
    if bad:
        issue = assert_issue(result, "Observation.value.ofType(Quantity)", severity="error",
                             code="value", fragment="greater than the maximum")
        assert issue.rule == "max-value"
    else:
        assert result.errors == ()


def test_string_longer_than_max_length_is_an_error() -> None:
    """maxLength 10 on identifier.value: an 11-character value is too long."""
    profiles = [EXAMPLE + "max-length"]
    ok = validator(MAX_LENGTH).validate(
        patient(identifier=[{"system": CPR, "value": "0101709995"}]), profiles=profiles)
    assert ok.issues == ()
    result = validator(MAX_LENGTH).validate(
        patient(identifier=[{"system": CPR, "value": "01017099950"}]), profiles=profiles)
    issue = assert_issue(result, "Patient.identifier[0].value", severity="error",
                         code="too-long", fragment="maximum length 10")
    assert issue.rule == "max-length"


# -- profiles on profiles, claimed or requested ----------------------------------------------

def test_profile_on_a_profile_checks_the_rules_of_both() -> None:
    """breast-screening-patient (gender fixed female) derives from ecan-patient (birthDate)."""
    v = validator(fixture("ecan-patient"), fixture("breast-screening-patient"))
    result = v.validate(patient(SCREENING_PATIENT, gender="male"))
    assert_issue(result, "Patient.birthDate", severity="error", code="required",
                 fragment="minimum required = 1")
    assert_issue(result, "Patient.gender", severity="error", code="value",
                 fragment='must be exactly "female"')
    conformant = patient(SCREENING_PATIENT, gender="female", birthDate="1970-01-01")
    assert v.validate(conformant).issues == ()


def test_profile_whose_base_is_not_loaded_says_which_base_is_missing() -> None:
    """The derived profile is loaded but its base is not: the warning names the base."""
    result = validator(fixture("breast-screening-patient")).validate(
        patient(SCREENING_PATIENT, gender="female"))
    assert_issue(result, "Patient.meta.profile[0]", severity="warning", code="not-found",
                 fragment=ECAN_PATIENT)


def test_requested_profile_whose_base_is_not_loaded_is_an_error_naming_the_base() -> None:
    """Asked for with profiles=, the same unusable profile is an error, with the same reason."""
    result = validator(fixture("breast-screening-patient")).validate(
        patient(gender="female"), profiles=[SCREENING_PATIENT])
    issue = assert_issue(result, "Patient", severity="error", code="not-found",
                         fragment=ECAN_PATIENT)
    assert issue.rule == "profile-unusable"


@pytest.mark.parametrize("how", ["meta.profile", "profiles="])
def test_claimed_and_requested_profiles_give_the_same_issues(how: str) -> None:
    """A profile in meta.profile and one passed as profiles= are checked alike."""
    v = validator(fixture("ecan-patient"))
    if how == "meta.profile":
        result = v.validate(patient(ECAN_PATIENT, photo=[{"contentType": "image/png"}]))
    else:
        result = v.validate(patient(photo=[{"contentType": "image/png"}]),
                            profiles=[ECAN_PATIENT])
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "required", "Patient.birthDate", "cardinality-min"),
        ("error", "structure", "Patient.photo", "cardinality-max")]


def test_profile_both_claimed_and_requested_is_applied_once() -> None:
    """The same profile named twice yields each issue once."""
    result = validator(fixture("ecan-patient")).validate(patient(ECAN_PATIENT),
                                                         profiles=[ECAN_PATIENT])
    the_issue(result, "Patient.birthDate")


def test_claimed_profile_applies_to_a_bundle_entry() -> None:
    """meta.profile on an entry's resource is checked there, located inside the Bundle."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:0b1c6f3e-5a2d-4c1e-9f00-000000000001",
        "resource": patient(ECAN_PATIENT)}]}
    result = validator(fixture("ecan-patient")).validate(bundle)
    assert_issue(result, "Bundle.entry[0].resource.birthDate", severity="error",
                 code="required", fragment="minimum required = 1")


@pytest.mark.parametrize("how", ["meta.profile", "profiles="])
def test_profile_for_another_resource_type_is_an_error(how: str) -> None:
    """A Patient profile applied to an Observation is an error on the resource."""
    v = validator(fixture("ecan-patient"))
    if how == "meta.profile":
        result = v.validate(observation(meta={"profile": [ECAN_PATIENT]}))
    else:
        result = v.validate(observation(), profiles=[ECAN_PATIENT])
    issue = assert_issue(result, "Observation", severity="error", code="structure",
                         fragment="for Patient resources")
    assert ECAN_PATIENT in issue.message
    assert not at(result, "Observation.birthDate")


def test_claimed_profile_not_loaded_is_a_warning_and_others_still_apply() -> None:
    """meta.profile naming an unknown profile warns; the loaded one next to it is checked."""
    unknown = EXAMPLE + "not-loaded"
    result = validator(fixture("ecan-patient")).validate(patient(ECAN_PATIENT, unknown))
    issue = assert_issue(result, "Patient.meta.profile[1]", severity="warning",
                         code="not-found", fragment=unknown)
    assert issue.rule == "profile-unknown"
    assert [i.expression for i in result.errors] == ["Patient.birthDate"]
    only_unknown = validator().validate(patient(unknown, birthDate="1970-01-01"))
    assert only_unknown.ok
    assert [i.severity for i in only_unknown.issues] == ["warning"]


# -- bindings ------------------------------------------------------------------------------

METHOD_SYSTEM = "http://example.org/fhir/CodeSystem/synthetic-method"
METHOD_CODES: dict[str, Any] = {
    "resourceType": "CodeSystem", "id": "synthetic-method", "url": METHOD_SYSTEM,
    "status": "draft", "content": "complete", "concept": [
        {"code": "palpation", "display": "Palpation"},
        {"code": "ultrasound", "display": "Ultrasound"},
        {"code": "guesswork", "display": "Guesswork"}]}
IMAGING_METHODS: dict[str, Any] = {
    "resourceType": "ValueSet", "id": "imaging-methods",
    "url": "http://example.org/fhir/ValueSet/imaging-methods", "status": "draft",
    "compose": {"include": [{"system": METHOD_SYSTEM, "concept": [{"code": "ultrasound"}]}]}}
ALL_METHODS: dict[str, Any] = {
    "resourceType": "ValueSet", "id": "all-methods",
    "url": "http://example.org/fhir/ValueSet/all-methods", "status": "draft",
    "compose": {"include": [{"system": METHOD_SYSTEM}]}}
ADDITIONAL_BINDING = "http://hl7.org/fhir/tools/StructureDefinition/additional-binding"


def method(code: str) -> dict[str, Any]:
    return {"coding": [{"system": METHOD_SYSTEM, "code": code}]}


def bound(strength: str) -> dict[str, Any]:
    return constraint(f"method-{strength}", "Observation", {
        "path": "Observation.method",
        "binding": {"strength": strength, "valueSet": IMAGING_METHODS["url"]}})


@pytest.mark.parametrize("strength", ["required", "extensible", "preferred", "example"])
def test_code_in_the_bound_value_set_is_valid(strength: str) -> None:
    """ultrasound is in the value set: no issue whatever the strength."""
    profile = bound(strength)
    result = validator(METHOD_CODES, IMAGING_METHODS, profile).validate(
        observation(method=method("ultrasound")), profiles=[profile["url"]])
    assert result.issues == ()


@pytest.mark.parametrize(("strength", "severity"), [
    ("required", "error"), ("extensible", "warning"), ("preferred", None), ("example", None)])
def test_code_outside_the_bound_value_set_by_strength(strength: str,
                                                      severity: str | None) -> None:
    """Not in the value set: required is an error, extensible a warning, the others nothing."""
    profile = bound(strength)
    result = validator(METHOD_CODES, IMAGING_METHODS, profile).validate(
        observation(method=method("palpation")), profiles=[profile["url"]])
    if severity is None:
        assert not at(result, "Observation.method"), result.issues
        return
    issue = assert_issue(result, "Observation.method", severity=severity, code="code-invalid",
                         fragment="palpation")
    assert IMAGING_METHODS["url"] in issue.message and strength in issue.message


def additional(purpose: str) -> dict[str, Any]:
    return constraint(f"method-additional-{purpose}", "Observation", {
        "path": "Observation.method",
        "binding": {"strength": "preferred", "valueSet": ALL_METHODS["url"], "extension": [{
            "url": ADDITIONAL_BINDING, "extension": [
                {"url": "purpose", "valueCode": purpose},
                {"url": "valueSet", "valueCanonical": IMAGING_METHODS["url"]}]}]}})


def test_code_in_a_required_additional_binding_is_valid() -> None:
    """The additional binding (purpose required) holds: no issue."""
    profile = additional("required")
    result = validator(METHOD_CODES, IMAGING_METHODS, ALL_METHODS, profile).validate(
        observation(method=method("ultrasound")), profiles=[profile["url"]])
    assert result.issues == ()


def test_code_outside_a_required_additional_binding_is_an_error() -> None:
    """palpation satisfies the preferred binding but not the required additional one."""
    profile = additional("required")
    result = validator(METHOD_CODES, IMAGING_METHODS, ALL_METHODS, profile).validate(
        observation(method=method("palpation")), profiles=[profile["url"]])
    issue = assert_issue(result, "Observation.method", severity="error", code="code-invalid",
                         fragment="additional binding")
    assert IMAGING_METHODS["url"] in issue.message


# -- vital signs (R4 §8.1: implied by the Observation's code) -------------------------------

VITAL_SIGNS_CATEGORY = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "vital-signs"}]}
LAB_CATEGORY = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "laboratory"}]}


def body_temperature(**elements: Any) -> dict[str, Any]:
    """A body temperature Observation (LOINC 8310-5) that the bodytemp profile accepts."""
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "category": [VITAL_SIGNS_CATEGORY],
                "code": {"coding": [{"system": LOINC, "code": "8310-5",
                                     "display": "Body temperature"}]},
                "subject": {"display": "Synne Testesen"},
                "effectiveDateTime": "2024-03-01T10:00:00+01:00",
                "valueQuantity": celsius(37.2), **elements}
    return {k: v for k, v in resource.items() if v is not None}


def test_correct_body_temperature_is_valid() -> None:
    """All the bodytemp pieces present: no error (only the offline-LOINC note)."""
    result = validator().validate(body_temperature())
    assert [i.rule for i in result.issues] == ["tx-offline"]


def test_body_temperature_in_fahrenheit_is_valid() -> None:
    """[degF] is in the bodytemp unit value set too."""
    result = validator().validate(body_temperature(
        valueQuantity={"value": 99.1, "unit": "°F", "system": UCUM, "code": "[degF]"}))
    assert result.errors == ()


def test_body_temperature_without_vital_signs_category_is_an_error() -> None:
    """LOINC 8310-5 implies bodytemp: its VSCat category slice is required."""
    result = validator().validate(body_temperature(category=[LAB_CATEGORY]))
    issue = assert_issue(result, "Observation.category", severity="error", code="required",
                         fragment="VSCat")
    assert CORE + "bodytemp" in issue.message


def test_body_temperature_without_any_category_is_an_error() -> None:
    """bodytemp makes Observation.category 1..*: no category at all is an error there."""
    result = validator().validate(body_temperature(category=None))
    issues = at(result, "Observation.category")
    assert issues and all((i.severity, i.code) == ("error", "required") for i in issues)
    assert any("minimum required = 1" in i.message for i in issues)


def test_body_temperature_with_non_ucum_unit_is_an_error() -> None:
    """bodytemp fixes the unit system to UCUM and binds the code to Cel / [degF]."""
    result = validator().validate(body_temperature(valueQuantity={
        "value": 99.1, "unit": "degrees F", "system": "http://example.org/units",
        "code": "degF"}))
    issue = assert_issue(result, "Observation.value.ofType(Quantity).system", severity="error",
                         code="value", fragment=f'must be exactly "{UCUM}"')
    assert CORE + "bodytemp" in issue.message
    assert_issue(result, "Observation.value.ofType(Quantity).code", severity="error",
                 code="code-invalid", fragment="'degF'")


def test_body_temperature_in_kilograms_is_an_error() -> None:
    """kg is UCUM but not a body temperature unit (required binding)."""
    result = validator().validate(body_temperature(
        valueQuantity={"value": 37, "unit": "kg", "system": UCUM, "code": "kg"}))
    assert_issue(result, "Observation.value.ofType(Quantity).code", severity="error",
                 code="code-invalid", fragment="'kg'")


def test_vital_signs_profile_is_not_implied_by_other_codes() -> None:
    """A laboratory Observation (haemoglobin) is not held to the vital-signs rules."""
    result = validator().validate(observation(code=HAEMOGLOBIN, category=[LAB_CATEGORY]))
    assert result.errors == ()


# -- mustSupport (reported only on request) ------------------------------------------------

def test_must_support_is_not_reported_by_default() -> None:
    """Without must_support=True, absent mustSupport elements say nothing."""
    result = validator(fixture("ecan-patient")).validate(
        patient(ECAN_PATIENT, birthDate="1970-01-01", name=[{"given": ["Synne"]}]))
    assert result.issues == ()


def test_absent_must_support_elements_are_reported_on_request() -> None:
    """must_support=True: telecom and name[0].family are reported as information."""
    result = validator(fixture("ecan-patient"), must_support=True).validate(
        patient(ECAN_PATIENT, birthDate="1970-01-01", name=[{"given": ["Synne"]}]))
    for location in ("Patient.telecom", "Patient.name[0].family"):
        issue = assert_issue(result, location, severity="information", code="informational",
                             fragment="mustSupport")
        assert ECAN_PATIENT in issue.message
    assert result.ok
    assert len(result.issues) == 2


def test_present_must_support_elements_are_not_reported() -> None:
    """must_support=True and every mustSupport element present: no issue."""
    result = validator(fixture("ecan-patient"), must_support=True).validate(patient(
        ECAN_PATIENT, birthDate="1970-01-01", name=[{"family": "Testesen"}],
        telecom=[{"system": "phone", "value": "+45 00 00 00 00"}]))
    assert result.issues == ()


def test_missing_required_must_support_element_is_only_the_error() -> None:
    """birthDate is 1..1 and mustSupport: absent, it is a cardinality error, not information."""
    result = validator(fixture("ecan-patient"), must_support=True).validate(
        patient(ECAN_PATIENT))
    assert the_issue(result, "Patient.birthDate").severity == "error"


# -- Attachment ----------------------------------------------------------------------------

REPORT_TEXT = b"Synthetic pathology report for a synthetic patient."
REPORT_DATA = base64.b64encode(REPORT_TEXT).decode()
REPORT_HASH = base64.b64encode(hashlib.sha1(REPORT_TEXT).digest()).decode()


def document(**attachment: Any) -> dict[str, Any]:
    return {"resourceType": "DocumentReference", "text": NARRATIVE, "status": "current",
            "content": [{"attachment": {"contentType": "text/plain", "data": REPORT_DATA,
                                        **attachment}}]}


def test_attachment_with_matching_size_and_hash_is_valid() -> None:
    """size is the decoded byte count and hash the base64 SHA-1 of those bytes."""
    result = validator().validate(document(size=len(REPORT_TEXT), hash=REPORT_HASH))
    assert result.issues == ()


def test_attachment_size_mismatch_is_an_error() -> None:
    """A size that is not the decoded length of data is an error at size."""
    result = validator().validate(document(size=len(REPORT_TEXT) + 1))
    issue = assert_issue(result, "DocumentReference.content[0].attachment.size",
                         severity="error", code="value", fragment=str(len(REPORT_TEXT)))
    assert issue.rule == "attachment-size"


def test_attachment_hash_mismatch_is_an_error() -> None:
    """A hash that is not the SHA-1 of data is an error at hash."""
    wrong = base64.b64encode(hashlib.sha1(b"another synthetic report").digest()).decode()
    result = validator().validate(document(hash=wrong))
    issue = assert_issue(result, "DocumentReference.content[0].attachment.hash",
                         severity="error", code="value", fragment=REPORT_HASH)
    assert issue.rule == "attachment-hash"
