"""Binding and code-system details a mutation run showed unchecked (R4 §4.1.0 "Using codes"):
how a value set is named in messages, where a coding's problems are reported (Coding or
CodeableConcept.coding[n]), every coding judged, wrong displays, rule ids, and values of the
wrong JSON shape. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import the_issue
from _profiles import constraint, element
from _resources import CLINICAL, NARRATIVE, SNOMED, condition

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator, validate

GENDER = "http://hl7.org/fhir/administrative-gender"


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def found(result: ValidationResult, expression: str) -> tuple[str, str, str, str]:
    issue = the_issue(result, expression)
    return issue.severity, issue.code, issue.rule, issue.message


def only_male(**names: str) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/only-male",
            "status": "active", **names,
            "compose": {"include": [{"system": GENDER, "concept": [{"code": "male"}]}]}}


def female_against(profile: dict[str, Any], value_set: dict[str, Any]) -> ValidationResult:
    """A female Patient validated against ``profile``, which binds gender to ``value_set``."""
    registry = Registry()
    for r in (value_set, profile):
        registry.add(r)
    return Validator(registry).validate(patient(gender="female"), profiles=[profile["url"]])


@pytest.mark.parametrize(("names", "label"), [
    ({"title": "Only male", "name": "OnlyMale"},
     "'Only male' (http://example.org/fhir/ValueSet/only-male)"),
    ({"name": "OnlyMale"}, "'OnlyMale' (http://example.org/fhir/ValueSet/only-male)"),
    ({}, "'http://example.org/fhir/ValueSet/only-male'"),
])
def test_value_set_named_by_title_then_name_then_url(names: dict[str, str], label: str) -> None:
    """Messages name a value set by its title, else its name, with its url; else the url."""
    value_set = only_male(**names)
    profile = constraint("gender-only-male", "Patient", element(
        "Patient.gender", binding={"strength": "required", "valueSet": value_set["url"]}))
    result = female_against(profile, value_set)
    assert found(result, "Patient.gender") == (
        "error", "code-invalid", "binding-required",
        f"the value 'female' is not in the value set {label}, which is required")


def test_additional_binding_issue_keeps_its_rule() -> None:
    """An issue of an additional binding says so and keeps the rule of its strength."""
    value_set = only_male()
    profile = constraint("gender-additional", "Patient", element(
        "Patient.gender", binding={"strength": "required", "valueSet": (
            "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1"), "extension": [{
            "url": "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
            "extension": [{"url": "purpose", "valueCode": "required"},
                          {"url": "valueSet", "valueCanonical": value_set["url"]}]}]}))
    result = female_against(profile, value_set)
    assert found(result, "Patient.gender") == (
        "error", "code-invalid", "binding-required",
        "the value 'female' is not in the value set "
        "'http://example.org/fhir/ValueSet/only-male', which is required (an additional "
        "binding)")


def test_every_coding_of_a_codeable_concept_is_judged_where_it_is() -> None:
    """A coding without system is skipped, not the end: the unknown codes after it are each
    reported at their own coding, with rule code-unknown."""
    result = validate(condition(code={"coding": [
        {"code": "no-system"}, {"system": CLINICAL, "code": "nope"},
        {"system": CLINICAL, "code": "nada"}]}))
    assert [(i.expression, i.rule) for i in result.issues if i.rule == "code-unknown"] == [
        ("Condition.code.coding[1].code", "code-unknown"),
        ("Condition.code.coding[2].code", "code-unknown")]


def test_a_coding_is_judged_at_its_own_location() -> None:
    """A Coding (not in a CodeableConcept) is reported at the Coding itself."""
    result = validate(patient(meta={"tag": [{"system": CLINICAL, "code": "nope"}]}))
    severity, code, rule, _ = found(result, "Patient.meta.tag[0].code")
    assert (severity, code, rule) == ("error", "code-invalid", "code-unknown")


def test_wrong_display_is_a_warning_at_the_display() -> None:
    result = validate(condition(
        code={"text": "Synthetic"},
        clinicalStatus={"coding": [{"system": CLINICAL, "code": "active",
                                    "display": "Ongoing"}]}))
    assert found(result, "Condition.clinicalStatus.coding[0].display") == (
        "warning", "invalid", "display",
        f"Wrong display 'Ongoing' for the code 'active' in '{CLINICAL}': the code system's "
        "display is 'Active'")
    right = validate(condition(code={"text": "Synthetic"}, clinicalStatus={"coding": [
        {"system": CLINICAL, "code": "active", "display": "Active"}]}))
    assert [i for i in right.issues if i.rule == "display"] == []


def test_displays_are_not_checked_when_turned_off() -> None:
    """check_display=False: a wrong display is not judged (the default judges it)."""
    wrong = condition(code={"text": "Synthetic"}, clinicalStatus={"coding": [
        {"system": CLINICAL, "code": "active", "display": "Ongoing"}]})
    result = Validator(options=ValidationOptions(check_display=False)).validate(wrong)
    assert [i for i in result.issues if i.rule == "display"] == []
    assert [i.rule for i in Validator().validate(wrong).issues if i.rule == "display"] == [
        "display"]


def test_malformed_external_code_has_rule_code_syntax() -> None:
    result = validate(condition(code={"coding": [{"system": SNOMED, "code": "diabetes"}]}))
    severity, code, rule, _ = found(result, "Condition.code.coding[0].code")
    assert (severity, code, rule) == ("error", "code-invalid", "code-syntax")


def test_codeable_concept_of_the_wrong_shape_is_reported_not_raised() -> None:
    """clinicalStatus given as a string: the structure is reported; the binding and code
    checks find no coding and raise nothing."""
    result = validate(condition(code={"text": "Synthetic"}, clinicalStatus="active"))
    severity, code, _, _ = found(result, "Condition.clinicalStatus")
    assert (severity, code) == ("error", "structure")


UCUM = "http://unitsofmeasure.org"
MASS_UNITS = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/mass-units",
              "status": "active", "compose": {"include": [
                  {"system": UCUM, "concept": [{"code": "g"}, {"code": "mg"}]}]}}


def weighed(unit: str | None, *, choice: bool) -> ValidationResult:
    """An Observation whose value[x] (Quantity only, or any type) is bound (required) to
    mass units, valued in ``unit``."""
    types = {} if choice else {"type": [{"code": "Quantity"}]}
    profile = constraint(f"mass-{choice}", "Observation", element(
        "Observation.value[x]", **types,
        binding={"strength": "required", "valueSet": MASS_UNITS["url"]}))
    registry = Registry()
    for r in (MASS_UNITS, profile):
        registry.add(r)
    quantity: dict[str, Any] = {"value": 1, "system": UCUM}
    if unit is not None:
        quantity["code"] = unit
    return Validator(registry).validate(
        {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
         "code": {"text": "Synthetic"}, "valueQuantity": quantity}, profiles=[profile["url"]])


@pytest.mark.parametrize(("choice", "severity"), [(False, "error"), (True, "warning")])
def test_quantity_unit_outside_the_bound_units(choice: bool, severity: str) -> None:
    """A Quantity's unit code is judged by the binding: an error, or a warning when the
    binding sits on a choice of several types (as the HL7 validator does)."""
    severity_, code, rule, message = found(weighed("kg", choice=choice),
                                           "Observation.value.ofType(Quantity)")
    assert (severity_, code, rule) == (severity, "code-invalid", "binding-required")
    assert f"({UCUM}#kg)" in message and f"'{MASS_UNITS['url']}'" in message
    assert [i for i in weighed("mg", choice=choice).issues if i.rule.startswith("binding")] == []
    assert [i for i in weighed(None, choice=choice).issues
            if i.rule.startswith("binding")] == []


def test_coding_without_code_under_a_required_binding_is_not_an_error() -> None:
    """Only a CodeableConcept must carry a code under a required binding ('no code
    provided'); a Coding without code is left to the other rules."""
    profile = constraint("class-required", "Encounter", element(
        "Encounter.class", binding={"strength": "required", "valueSet": MASS_UNITS["url"]}))
    registry = Registry()
    for r in (MASS_UNITS, profile):
        registry.add(r)
    result = Validator(registry).validate(
        {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
         "class": {"display": "ambulatory"}}, profiles=[profile["url"]])
    assert [i for i in result.issues if i.rule.startswith("binding")] == []


def test_codeable_concept_without_code_under_a_required_binding() -> None:
    profile = constraint("marital-required", "Patient", element(
        "Patient.maritalStatus", binding={"strength": "required",
                                          "valueSet": MASS_UNITS["url"]}))
    registry = Registry()
    for r in (MASS_UNITS, profile):
        registry.add(r)
    result = Validator(registry).validate(patient(maritalStatus={"text": "single"}),
                                          profiles=[profile["url"]])
    # the core's extensible binding adds a warning; the profile's required one is the error
    [error] = [i for i in result.errors if i.expression == "Patient.maritalStatus"]
    assert (error.severity, error.code, error.rule, error.message) == (
        "error", "code-invalid", "binding-required",
        "no code provided, and a code is required from the value set "
        f"'{MASS_UNITS['url']}'")
