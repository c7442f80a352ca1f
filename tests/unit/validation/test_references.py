"""References (R4 §2.3.0, §3.3.1.4.2): resolution inside a Bundle and to contained resources,
and the target types a Reference allows.

Each rule has a valid case and an invalid one asserting code, severity and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir"
DOC_ID = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc"}
PATIENT = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
           "name": [{"family": "Testesen", "given": ["Synne"]}]}
MEDICATION = {"resourceType": "Medication", "id": "m1", "text": NARRATIVE,
              "code": {"text": "Synthetic tablet"}}


def uuid(n: int) -> str:
    return f"urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c{n:02d}"


def observation(subject: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Body weight"}, "subject": {"reference": subject}, **elements}


def composition(subject: str) -> dict[str, Any]:
    return {"resourceType": "Composition", "id": "c1", "text": NARRATIVE, "status": "final",
            "type": {"text": "Cancer referral"}, "subject": {"reference": subject},
            "date": "2024-05-01T10:00:00+02:00", "author": [{"display": "Synthetic Clinician"}],
            "title": "Cancer referral"}


def bundle(*entries: tuple[str, dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if kind == "document":
        extra = {"identifier": DOC_ID, "timestamp": "2024-05-01T10:00:00+02:00"}
    return {"resourceType": "Bundle", "type": kind, **extra,
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}






SUBJECT = "Bundle.entry[0].resource.subject.reference"


# -- inside a Bundle -------------------------------------------------------------------------

def test_urn_uuid_reference_to_an_entry_resolves() -> None:
    """urn:uuid references match an entry's fullUrl."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), PATIENT)))
    assert result.issues == ()


def test_unresolved_urn_uuid_reference_is_an_error() -> None:
    """A urn:uuid can only mean an entry of this Bundle: not found is an error."""
    result = validate(bundle((uuid(1), observation(uuid(9))), (uuid(2), PATIENT)))
    assert_issue(result, SUBJECT, severity="error", code="not-found", fragment=uuid(9))


def test_relative_reference_resolves_against_restful_full_url() -> None:
    """'Patient/p1' in an entry at {BASE}/Composition/c1 means {BASE}/Patient/p1."""
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p1")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert result.issues == ()


def test_unresolved_relative_reference_in_document_is_a_warning() -> None:
    """A document should carry what it references: 'Patient/p2' is not in it."""
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p2")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert_issue(result, SUBJECT, severity="warning", code="not-found", fragment="Patient/p2")
    assert result.ok


def test_versioned_relative_reference_resolves() -> None:
    """'Patient/p1/_history/1' resolves to the entry of Patient p1 at version 1."""
    versioned = {**PATIENT, "meta": {"versionId": "1"}}
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p1/_history/1")),
                             (f"{BASE}/Patient/p1", versioned), kind="document"))
    assert result.issues == ()


def test_absolute_reference_to_an_entry_resolves() -> None:
    """An absolute URL matches an entry's fullUrl, whatever the referring entry's fullUrl."""
    result = validate(bundle((uuid(1), composition(f"{BASE}/Patient/p1")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert result.issues == ()


def test_reference_to_two_entries_is_ambiguous() -> None:
    """Two entries with the referenced fullUrl: the reference must identify one."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), PATIENT),
                             (uuid(2), {**PATIENT, "id": "p2"})))
    assert_issue(result, SUBJECT, severity="error", code="multiple-matches",
                 fragment="2 entries")


# -- contained -----------------------------------------------------------------------------

def test_contained_reference_resolves() -> None:
    """'#p1' points at the contained resource with id p1."""
    result = validate(observation("#p1", contained=[PATIENT]))
    assert result.issues == ()


def test_contained_reference_inside_bundle_entry_resolves() -> None:
    """'#p1' is resolved in the entry's own contained list."""
    result = validate(bundle((uuid(1), observation("#p1", contained=[PATIENT]))))
    assert result.issues == ()


def test_contained_reference_not_found_is_an_error() -> None:
    """'#p2' matches no contained resource."""
    result = validate(observation("#p2", contained=[PATIENT]))
    assert_issue(result, "Observation.subject.reference", severity="error", code="not-found",
                 fragment="'#p2'")


def test_contained_reference_without_contained_is_an_error() -> None:
    """'#p2' with no contained resources at all."""
    result = validate(observation("#p2"))
    assert_issue(result, "Observation.subject.reference", severity="error", code="not-found",
                 fragment="'#p2'")


# -- target types --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    PATIENT, {"resourceType": "Group", "id": "g1", "text": NARRATIVE, "type": "person",
              "actual": True}])
def test_reference_to_allowed_target_type_is_valid(target: dict[str, Any]) -> None:
    """Observation.subject may be a Patient or a Group."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), target)))
    assert result.issues == ()


def test_urn_reference_to_target_type_not_allowed_is_an_error() -> None:
    """Observation.subject cannot be a Medication (the type is known once resolved)."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), MEDICATION)))
    issue = assert_issue(result, SUBJECT, severity="error", code="structure",
                         fragment="Medication")
    assert "Patient" in issue.message


def test_relative_reference_to_target_type_not_allowed_is_an_error() -> None:
    """'Medication/m1' names a type Observation.subject does not allow."""
    result = validate(observation("Medication/m1"))
    assert_issue(result, "Observation.subject.reference", severity="error", code="structure",
                 fragment="Medication")


def test_contained_reference_to_target_type_not_allowed_is_an_error() -> None:
    """'#m1' resolves to a contained Medication, not allowed as subject."""
    result = validate(observation("#m1", contained=[MEDICATION]))
    assert_issue(result, "Observation.subject.reference", severity="error", code="structure",
                 fragment="Medication")
