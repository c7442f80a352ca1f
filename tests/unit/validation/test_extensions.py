"""Extensions (R4 §2.17): resolved by url, used in their context, modifier or not.

An extension is checked against its StructureDefinition (value type, sub-extensions); its
``context`` says what it may extend; a modifier extension goes in ``modifierExtension`` and
only there. Unknown urls are errors, as in the HL7 validator, except example urls. All data is
synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Issue, ValidationResult, validate

CORE = "http://hl7.org/fhir/StructureDefinition/"
BIRTH_PLACE = CORE + "patient-birthPlace"
BIRTH_TIME = CORE + "patient-birthTime"
NATIONALITY = CORE + "patient-nationality"
OWN_NAME = CORE + "humanname-own-name"
DO_NOT_PERFORM = CORE + "request-doNotPerform"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
AARHUS = {"city": "Aarhus", "country": "DK"}
DENMARK = {"coding": [{"system": "urn:iso:std:iso:3166", "code": "DK"}]}


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic measurement"}, **elements}


def nutrition_order(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "NutritionOrder", "text": NARRATIVE, "status": "active",
            "intent": "order", "patient": {"display": "Synne Testesen"},
            "dateTime": "2024-03-01", "oralDiet": {"type": [{"text": "Low salt"}]}, **elements}


def errors_at(result: ValidationResult, expression: str) -> list[Issue]:
    return [i for i in result.issues if i.expression == expression and i.is_error]


# -- resolved by url: the value type ---------------------------------------------------------

def test_core_extension_with_its_value_type_is_valid() -> None:
    """patient-birthPlace carries an Address."""
    assert validate(patient(extension=[{"url": BIRTH_PLACE, "valueAddress": AARHUS}])).issues \
        == ()


def test_core_extension_with_another_value_type_is_an_error() -> None:
    """patient-birthPlace is an Address: valueString is not allowed."""
    result = validate(patient(extension=[{"url": BIRTH_PLACE, "valueString": "Aarhus"}]))
    assert_issue(result, "Patient.extension[0].valueString", severity="error", code="structure",
                 fragment="valueString")
    assert not result.ok


def test_extension_value_is_checked_against_its_type() -> None:
    """patient-birthTime is a dateTime: a time without seconds and time zone is malformed."""
    result = validate(patient(birthDate="1970-01-01", _birthDate={"extension": [
        {"url": BIRTH_TIME, "valueDateTime": "1970-01-01T08:15"}]}))
    assert errors_at(result, "Patient.birthDate.extension[0].value.ofType(dateTime)"), \
        result.issues


# -- unknown and example urls ----------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://ecan.example.dk/fhir/StructureDefinition/tumour-stage",
    "https://fhir.ecan-plus.eu/StructureDefinition/referral-priority",
    CORE + "patient-shoeSize"])
def test_unknown_extension_url_is_an_error_at_the_extension(url: str) -> None:
    """An extension whose definition is not loaded cannot be checked: an error."""
    result = validate(patient(extension=[{"url": url, "valueString": "synthetic"}]))
    issue = assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                         fragment=url)
    assert issue.rule == "extension-unknown"


def test_unknown_extension_inside_a_datatype_is_located_there() -> None:
    """An unknown extension on Patient.name[1] is reported at that name's extension."""
    url = "https://fhir.ecan-plus.eu/StructureDefinition/name-origin"
    result = validate(patient(name=[{"family": "Testesen"}, {"family": "Prøvesen",
                                     "extension": [{"url": url, "valueString": "x"}]}]))
    assert_issue(result, "Patient.name[1].extension[0]", severity="error", code="structure",
                 fragment=url)


@pytest.mark.parametrize("url", [
    "http://example.org/fhir/StructureDefinition/tumour-stage",
    "https://example.org/extensions/referral-priority",
    "http://fhir.example.org/StructureDefinition/x"])
def test_example_extension_url_is_not_an_error(url: str) -> None:
    """Example urls (example.org) are accepted unchecked, as the HL7 validator does."""
    assert validate(patient(extension=[{"url": url, "valueString": "synthetic"}])).issues == ()


# -- context ---------------------------------------------------------------------------------

def test_extension_outside_its_context_is_an_error() -> None:
    """patient-birthPlace's context is Patient: on an Observation it is not allowed."""
    result = validate(observation(extension=[{"url": BIRTH_PLACE, "valueAddress": AARHUS}]))
    issue = assert_issue(result, "Observation.extension[0]", severity="error",
                         code="structure", fragment="not allowed here")
    assert "Patient" in issue.message and issue.rule == "extension-context"


def test_extension_on_a_datatype_inside_its_resource_context_is_an_error() -> None:
    """Context Patient means the Patient itself, not its address."""
    result = validate(patient(address=[{"city": "Aarhus", "extension": [
        {"url": BIRTH_PLACE, "valueAddress": AARHUS}]}]))
    assert_issue(result, "Patient.address[0].extension[0]", severity="error",
                 code="structure", fragment="not allowed here")


def test_extension_in_its_context_inside_a_bundle_is_valid() -> None:
    """The context is the entry's resource type, not Bundle."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:3f1e2d4c-0000-4000-8000-000000000001",
        "resource": patient(extension=[{"url": BIRTH_PLACE, "valueAddress": AARHUS}])}]}
    assert validate(bundle).issues == ()


# -- modifier extensions ---------------------------------------------------------------------

def test_modifier_extension_as_modifier_extension_is_valid() -> None:
    """request-doNotPerform (isModifier) on a NutritionOrder, in modifierExtension."""
    result = validate(nutrition_order(modifierExtension=[
        {"url": DO_NOT_PERFORM, "valueBoolean": True}]))
    assert result.issues == ()


def test_modifier_extension_sent_as_extension_is_an_error() -> None:
    """A modifier extension in extension would let readers ignore it: an error."""
    result = validate(nutrition_order(extension=[{"url": DO_NOT_PERFORM, "valueBoolean": True}]))
    issue = assert_issue(result, "NutritionOrder.extension[0]", severity="error",
                         code="structure", fragment="modifierExtension")
    assert issue.rule == "extension-modifier"


def test_regular_extension_sent_as_modifier_extension_is_an_error() -> None:
    """patient-birthPlace is not a modifier: not allowed in modifierExtension."""
    result = validate(patient(modifierExtension=[{"url": BIRTH_PLACE, "valueAddress": AARHUS}]))
    issue = assert_issue(result, "Patient.modifierExtension[0]", severity="error",
                         code="structure", fragment="not a modifier extension")
    assert issue.rule == "extension-modifier"


# -- complex extensions ----------------------------------------------------------------------

def test_complex_extension_with_relative_sub_extension_urls_is_valid() -> None:
    """patient-nationality has parts 'code' and 'period', named by relative urls."""
    result = validate(patient(extension=[{"url": NATIONALITY, "extension": [
        {"url": "code", "valueCodeableConcept": DENMARK},
        {"url": "period", "valuePeriod": {"start": "1970-01-01"}}]}]))
    assert result.errors == ()
    assert not [i for i in result.issues if i.rule.startswith("extension")]


def test_sub_extension_with_the_wrong_value_type_is_an_error() -> None:
    """nationality's 'code' part is a CodeableConcept: valueString is not allowed."""
    result = validate(patient(extension=[{"url": NATIONALITY, "extension": [
        {"url": "code", "valueString": "DK"}]}]))
    assert_issue(result, "Patient.extension[0].extension[0].valueString", severity="error",
                 code="structure", fragment="valueString")


def test_sub_extension_with_an_undeclared_relative_url_is_an_error() -> None:
    """A relative url names a part of the definition; nationality declares no 'colour'."""
    result = validate(patient(extension=[{"url": NATIONALITY, "extension": [
        {"url": "code", "valueCodeableConcept": DENMARK},
        {"url": "colour", "valueString": "red"}]}]))
    issue = assert_issue(result, "Patient.extension[0].extension[1]", severity="error",
                         code="invalid", fragment="colour")
    assert NATIONALITY in issue.message


# -- primitive extensions (the _element companion) -------------------------------------------

def test_primitive_extension_in_its_context_is_valid() -> None:
    """patient-birthTime's context is Patient.birthDate: on _birthDate it is fine."""
    result = validate(patient(birthDate="1970-01-01", _birthDate={"extension": [
        {"url": BIRTH_TIME, "valueDateTime": "1970-01-01T08:15:00+01:00"}]}))
    assert result.issues == ()


def test_primitive_extension_on_another_element_is_an_error() -> None:
    """patient-birthTime on _gender is outside its context."""
    result = validate(patient(gender="female", _gender={"extension": [
        {"url": BIRTH_TIME, "valueDateTime": "1970-01-01T08:15:00+01:00"}]}))
    issue = assert_issue(result, "Patient.gender.extension[0]", severity="error",
                         code="structure", fragment="not allowed here")
    assert "Patient.birthDate" in issue.message


def test_primitive_extension_with_a_datatype_element_context_is_valid() -> None:
    """humanname-own-name's context is HumanName.family: fine on _family of any name."""
    result = validate(patient(name=[{"given": ["Synne"]}, {
        "family": "Testesen",
        "_family": {"extension": [{"url": OWN_NAME, "valueString": "Testesen"}]}}]))
    assert result.issues == ()


def test_primitive_extension_on_a_repeating_primitive_outside_its_context_is_an_error() -> None:
    """humanname-own-name on _given[1] (HumanName.given) is outside HumanName.family."""
    result = validate(patient(name=[{"family": "Testesen", "given": ["Synne", "Marie"],
                                     "_given": [None, {"extension": [
                                         {"url": OWN_NAME, "valueString": "Marie"}]}]}]))
    issue = assert_issue(result, "Patient.name[0].given[1].extension[0]", severity="error",
                         code="structure", fragment="not allowed here")
    assert "HumanName.family" in issue.message
