"""Terminology: required bindings (R4 §4.1.0) and codes of systems ecanfhir does not ship.

SNOMED CT and LOINC are not available offline: their codes get a syntax check (Verhoeff and
mod-10 check digits) and the result carries one information issue saying so. All data is
synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from _resources import CLINICAL, NARRATIVE, SNOMED, condition

from ecanfhir import Issue, ValidationResult, validate

LOINC = "http://loinc.org"


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Glucose"}, **elements}






def offline_notes(result: ValidationResult) -> list[Issue]:
    return [i for i in result.issues if "checked for syntax only" in i.message]


# -- required bindings on code ------------------------------------------------------------

@pytest.mark.parametrize("gender", ["male", "female", "other", "unknown"])
def test_gender_from_required_value_set_is_valid(gender: str) -> None:
    """Every AdministrativeGender code passes."""
    assert validate({"resourceType": "Patient", "text": NARRATIVE, "gender": gender}).issues == ()


def test_gender_outside_required_value_set_is_an_error() -> None:
    """'mal' is not in AdministrativeGender, a required binding."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "gender": "mal"})
    issue = assert_issue(result, "Patient.gender", severity="error", code="code-invalid",
                         fragment="'mal'")
    assert "required" in issue.message


def test_observation_status_outside_required_value_set_is_an_error() -> None:
    """'finalx' is not an ObservationStatus."""
    result = validate(observation(status="finalx"))
    assert_issue(result, "Observation.status", severity="error", code="code-invalid",
                 fragment="'finalx'")


def test_codes_are_case_sensitive() -> None:
    """'Final' is not 'final' (FHIR codes are case-sensitive)."""
    result = validate(observation(status="Final"))
    assert_issue(result, "Observation.status", severity="error", code="code-invalid",
                 fragment="'Final'")


# -- required bindings on CodeableConcept ----------------------------------------------------

def test_codeable_concept_with_code_from_required_value_set_is_valid() -> None:
    """Condition.clinicalStatus with a condition-clinical coding passes."""
    result = validate(condition(clinicalStatus={"coding": [{"system": CLINICAL,
                                                            "code": "active"}]}))
    assert result.issues == ()


def test_codeable_concept_with_text_only_is_an_error_for_required_binding() -> None:
    """A required binding needs a code; text alone does not satisfy it."""
    result = validate(condition(clinicalStatus={"text": "active"}))
    assert_issue(result, "Condition.clinicalStatus", severity="error", code="code-invalid",
                 fragment="no code provided")


def test_codeable_concept_with_code_from_other_system_is_an_error() -> None:
    """A code from outside the value set does not satisfy a required binding."""
    result = validate(condition(clinicalStatus={"coding": [
        {"system": "http://example.org/fhir/CodeSystem/status", "code": "active"}]}))
    assert_issue(result, "Condition.clinicalStatus", severity="error", code="code-invalid",
                 fragment="none of the codes")


def test_unknown_code_in_a_loaded_code_system_is_an_error() -> None:
    """'activ' does not exist in condition-clinical (which ecanfhir ships)."""
    result = validate(condition(clinicalStatus={"coding": [{"system": CLINICAL,
                                                            "code": "activ"}]}))
    assert_issue(result, "Condition.clinicalStatus.coding[0].code", severity="error",
                 code="code-invalid", fragment="'activ'")


# -- code systems that are not shipped: syntax only ------------------------------------------

@pytest.mark.parametrize(("system", "code"), [
    (SNOMED, "254837009"),  # malignant neoplasm of breast
    (SNOMED, "363346000"),  # malignant neoplastic disease
    (LOINC, "2339-0"),  # glucose
    (LOINC, "89247-1"),  # ECOG performance status
])
def test_well_formed_external_code_is_valid(system: str, code: str) -> None:
    """A SNOMED CT or LOINC code with a correct check digit has no error."""
    result = validate(condition(code={"coding": [{"system": system, "code": code}]}))
    assert result.ok
    assert not [i for i in result.issues if i.severity != "information"]


@pytest.mark.parametrize(("system", "code", "fragment"), [
    (SNOMED, "254837008", "Verhoeff"),
    (SNOMED, "12ab", "SNOMED CT"),
    (LOINC, "2339-1", "check digit"),
    (LOINC, "2339", "LOINC"),
])
def test_malformed_external_code_is_an_error(system: str, code: str, fragment: str) -> None:
    """A bad check digit (or form) is an error at the coding's code."""
    result = validate(condition(code={"coding": [{"system": system, "code": code}]}))
    assert_issue(result, "Condition.code.coding[0].code", severity="error",
                 code="code-invalid", fragment=fragment)


def test_offline_note_is_information_without_location() -> None:
    """Using SNOMED CT adds one information issue naming the system."""
    result = validate(condition(code={"coding": [{"system": SNOMED, "code": "254837009"}]}))
    (note,) = offline_notes(result)
    assert (note.severity, note.code, note.expression) == ("information", "informational", "")
    assert SNOMED in note.message
    assert result.ok


def test_offline_note_appears_once_for_several_codes() -> None:
    """Several SNOMED CT and LOINC codes, in several resources, give one note naming both."""
    entry = observation(code={"coding": [{"system": LOINC, "code": "2339-0"},
                                         {"system": SNOMED, "code": "254837009"}]},
                        bodySite={"coding": [{"system": SNOMED, "code": "76752008"}]},
                        method={"coding": [{"system": SNOMED, "code": "254837009"}]})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c0{i}", "resource": entry}
        for i in range(3)]}
    result = validate(bundle)
    (note,) = offline_notes(result)
    assert (note.severity, note.code, note.expression) == ("information", "informational", "")
    assert SNOMED in note.message and LOINC in note.message
    assert result.issues == (note,)


def test_no_offline_note_without_external_codes() -> None:
    """Codes from shipped systems only: no note."""
    result = validate(condition(clinicalStatus={"coding": [{"system": CLINICAL,
                                                            "code": "active"}]}))
    assert offline_notes(result) == []
