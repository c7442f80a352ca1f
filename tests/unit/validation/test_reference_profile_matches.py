"""A reference target meeting several of its element's target profiles: a warning naming them
(checks/reference_matches.py). The profiles are synthetic."""

from __future__ import annotations

from test_references import (
    NAMED_PATIENT,
    NARRATIVE,
    PATIENT,
    SUBJECT,
    _observation_profile,
    _profiled,
    bundle,
    uuid,
)

from ecanfhir import Registry, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EITHER = _observation_profile("named-or-any-patient", "Observation.subject",
                              [NAMED_PATIENT["url"], CORE + "Patient"])


def matches(patient: dict[str, object]) -> list[tuple[str, str, str]]:
    registry = Registry()
    registry.add(NAMED_PATIENT)
    registry.add(EITHER)
    observation = _profiled(EITHER, subject={"reference": uuid(2)})
    result = Validator(registry).validate(bundle((uuid(1), observation), (uuid(2), patient)))
    return [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule == "reference-multiple-profiles"]


def test_target_meeting_two_target_profiles_is_a_warning() -> None:
    """A named Patient is both a named-patient and a Patient."""
    assert matches(PATIENT) == [("warning", "structure", SUBJECT)]


def test_target_meeting_one_target_profile_passes() -> None:
    """A Patient without a name is only a Patient."""
    assert matches({"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
                    "active": True}) == []
