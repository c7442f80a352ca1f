"""A profile's dependencies (extension structuredefinition-dependencies): a resource held to
the profile is held to them, and one that is not loaded is a warning
(validation/_conformance.py). The profiles are synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EX = "http://example.net/fhir/StructureDefinition/"
DEPENDENCIES = "http://hl7.org/fhir/StructureDefinition/structuredefinition-dependencies"


def patient_profile(name: str, *, requires: str, depends_on: str | None = None) -> dict[str, Any]:
    extension = [{"url": DEPENDENCIES, "valueCanonical": depends_on}] if depends_on else []
    return {"resourceType": "StructureDefinition", "url": EX + name, "name": name.title(),
            "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "derivation": "constraint", **({"extension": extension} if extension else {}),
            "differential": {"element": [
                {"id": "Patient", "path": "Patient"},
                {"id": f"Patient.{requires}", "path": f"Patient.{requires}", "min": 1}]}}


def validate(patient: dict[str, Any], *profiles: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for profile in profiles:
        registry.add(profile)
    return Validator(registry).validate({"resourceType": "Patient", "text": NARRATIVE,
                                         "meta": {"profile": [EX + "named"]}, **patient})


def test_dependency_applies() -> None:
    """named depends on gendered: a named Patient without gender breaks gendered."""
    named = patient_profile("named", requires="name", depends_on=EX + "gendered")
    gendered = patient_profile("gendered", requires="gender")
    result = validate({"name": [{"family": "Testesen"}]}, named, gendered)
    assert_issue(result, "Patient.gender", severity="error", code="required",
                 fragment="minimum required = 1")
    assert validate({"name": [{"family": "Testesen"}], "gender": "female"}, named, gendered).ok


def test_dependency_not_loaded_is_a_warning() -> None:
    """A dependency that is not loaded: said at the profile claim, nothing else checked."""
    named = patient_profile("named", requires="name", depends_on=EX + "absent")
    result = validate({"name": [{"family": "Testesen"}]}, named)
    issue = assert_issue(result, "Patient.meta.profile[0]", severity="warning",
                         code="not-found", fragment=EX + "absent")
    assert issue.rule == "profile-dependency"
    assert result.ok
