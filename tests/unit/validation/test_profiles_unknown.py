"""Profiles a resource claims in meta.profile (R4 §2.36.0.4) or is asked to conform to.

A claimed profile that is not loaded cannot be checked: like the HL7 validator, that is a
warning at the meta.profile entry. A profile the caller asks for must be loaded: an error.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

from ecanfhir import Issue, Registry, ValidationResult, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test patient</div>'}
UNKNOWN = "http://example.org/fhir/StructureDefinition/not-loaded"
TEST_PROFILE = "http://example.org/fhir/StructureDefinition/test-patient"
TEST_PROFILE_SD: dict[str, Any] = {
    "resourceType": "StructureDefinition", "id": "test-patient", "url": TEST_PROFILE,
    "name": "TestPatient", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
    "abstract": False, "type": "Patient", "derivation": "constraint",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate",
                                  "min": 1}]},
}


def patient(*profiles: str, **elements: Any) -> dict[str, Any]:
    meta = {"meta": {"profile": list(profiles)}} if profiles else {}
    return {"resourceType": "Patient", "text": NARRATIVE, **meta, **elements}


def with_test_profile() -> Validator:
    registry = Registry()
    registry.add(TEST_PROFILE_SD)
    return Validator(registry)


def the_issue(result: ValidationResult, expression: str) -> Issue:
    found = [i for i in result.issues if i.expression == expression]
    assert len(found) == 1, result.issues
    return found[0]


def test_unknown_claimed_profile_is_a_warning_at_meta_profile() -> None:
    """meta.profile naming a profile that is not loaded: a warning, and still valid."""
    result = validate(patient(UNKNOWN))
    issue = the_issue(result, "Patient.meta.profile[0]")
    assert (issue.severity, issue.code) == ("warning", "not-found")
    assert UNKNOWN in issue.message and "not loaded" in issue.message
    assert result.ok
    assert result.issues == (issue,)


def test_unknown_claimed_profile_is_located_by_its_index() -> None:
    """The second of two claimed profiles is meta.profile[1]."""
    result = validate(patient("http://hl7.org/fhir/StructureDefinition/Patient", UNKNOWN))
    issue = the_issue(result, "Patient.meta.profile[1]")
    assert (issue.severity, issue.code) == ("warning", "not-found")


def test_unknown_profile_on_contained_resource_is_located_there() -> None:
    """A contained resource's claimed profile is reported under contained[i]."""
    contained = {"resourceType": "Organization", "id": "org1", "text": NARRATIVE,
                 "name": "Synthetic Hospital", "meta": {"profile": [UNKNOWN]}}
    result = validate(patient(contained=[contained], managingOrganization={"reference": "#org1"}))
    issue = the_issue(result, "Patient.contained[0].meta.profile[0]")
    assert (issue.severity, issue.code) == ("warning", "not-found")


def test_core_profile_in_meta_profile_is_known() -> None:
    """The core Patient definition is always loaded (with or without |version)."""
    for url in ("http://hl7.org/fhir/StructureDefinition/Patient",
                "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1"):
        assert validate(patient(url)).issues == ()


def test_loaded_claimed_profile_is_checked() -> None:
    """A loaded profile is applied: its birthDate 1..1 holds, or is an error."""
    validator = with_test_profile()
    assert validator.validate(patient(TEST_PROFILE, birthDate="1970-01-01")).issues == ()
    result = validator.validate(patient(TEST_PROFILE))
    issue = the_issue(result, "Patient.birthDate")
    assert (issue.severity, issue.code) == ("error", "required")
    assert not [i for i in result.issues if i.rule == "profile-unknown"]


def test_requested_profile_that_is_not_loaded_is_an_error() -> None:
    """profiles=[url] that names nothing loaded is an error on the resource."""
    result = Validator().validate(patient(), profiles=[UNKNOWN])
    issue = the_issue(result, "Patient")
    assert (issue.severity, issue.code) == ("error", "not-found")
    assert UNKNOWN in issue.message


def test_requested_loaded_profile_is_applied() -> None:
    """profiles=[url] applies the profile even when meta.profile does not claim it."""
    result = with_test_profile().validate(patient(), profiles=[TEST_PROFILE])
    issue = the_issue(result, "Patient.birthDate")
    assert (issue.severity, issue.code) == ("error", "required")
