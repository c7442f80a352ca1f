"""Malformed input found by fuzzing the mock centre: reported as issues, never raised."""

from __future__ import annotations

from ecanfhir import validate

HEADER = {"resourceType": "MessageHeader", "id": "h1",
          "eventCoding": {"system": "http://example.org/events", "code": "e"},
          "source": {"endpoint": "http://example.org/sender"}}


def test_resource_type_of_the_wrong_shape_in_a_message_entry_is_reported() -> None:
    """An entry reachable only backwards whose resourceType is an array (it raised
    'unhashable type' in the entry reachability check)."""
    bundle = {"resourceType": "Bundle", "id": "b1", "type": "message",
              "timestamp": "2026-11-27T09:15:00Z",
              "entry": [{"fullUrl": "urn:uuid:8f1c2a5e-0000-4000-8000-000000000001",
                         "resource": HEADER},
                        {"fullUrl": "urn:uuid:8f1c2a5e-0000-4000-8000-000000000002",
                         "resource": {"resourceType": ["Provenance"], "target": [
                             {"reference": "urn:uuid:8f1c2a5e-0000-4000-8000-000000000001"}]}}]}
    result = validate(bundle)
    assert any(i.expression.startswith("Bundle.entry[1]") for i in result.errors)


def test_profile_url_with_a_lone_surrogate_is_reported() -> None:
    """meta.profile holding a lone surrogate (it raised UnicodeEncodeError on look-up)."""
    result = validate({"resourceType": "Patient",
                       "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/\ud800"]}})
    assert any(i.expression.startswith("Patient.meta.profile") for i in result.issues)
