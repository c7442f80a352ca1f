"""Bundle entries (ecanfhir.validation.checks.bundle): a document or message has entries, every
entry outside transactions and batches has a fullUrl, a RESTful fullUrl names the resource's id,
and the core invariants for a document's date (bdl-10) and entries without resources (bdl-5).

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir"
DOC_ID = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc"}
COMPOSITION = {"resourceType": "Composition", "id": "c1", "text": NARRATIVE, "status": "final",
               "type": {"text": "Note"}, "date": "2024-05-01", "title": "Note",
               "author": [{"display": "Synthetic Clinician"}]}
PATIENT = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE}


def document(*entries: dict[str, Any], **elements: Any) -> dict[str, Any]:
    found = {"resourceType": "Bundle", "type": "document", "identifier": DOC_ID,
             "timestamp": "2024-05-01T10:00:00+02:00", **elements}
    return {**found, "entry": list(entries)} if entries else found


def errors_of(resource: dict[str, Any], rule: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in validate(resource).issues
            if i.rule == rule]


def the_error(resource: dict[str, Any], rule: str) -> Issue:
    found = [i for i in validate(resource).errors if i.rule == rule]
    assert len(found) == 1, validate(resource).issues
    return found[0]


def test_document_with_its_composition_first_is_valid() -> None:
    """Entries with fullUrls, the Composition first, a timestamp: no error."""
    assert validate(document({"fullUrl": f"{BASE}/Composition/c1", "resource": COMPOSITION})).ok


@pytest.mark.parametrize("kind", ["document", "message"])
def test_document_or_message_without_entries_is_an_error(kind: str) -> None:
    """A document needs its Composition, a message its MessageHeader: no entry at all fails."""
    resource = {**document(), "type": kind}
    assert errors_of(resource, "bundle-first-entry") == [("error", "invalid", "Bundle")]


def test_entry_without_full_url_is_an_error_outside_transactions() -> None:
    """A collection's entry is identified by its fullUrl; a transaction's need not be."""
    collection = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}]}
    assert errors_of(collection, "bundle-fullurl-required") == [
        ("error", "invalid", "Bundle.entry[0]")]
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": PATIENT, "request": {"method": "POST", "url": "Patient"}}]}
    assert errors_of(transaction, "bundle-fullurl-required") == []


def test_restful_full_url_needs_the_resource_id() -> None:
    """{BASE}/Patient/p1 names the id p1: a Patient without an id cannot be it."""
    patient = {k: v for k, v in PATIENT.items() if k != "id"}
    resource = {"resourceType": "Bundle", "type": "collection",
                "entry": [{"fullUrl": f"{BASE}/Patient/p1", "resource": patient}]}
    issue = the_error(resource, "bundle-fullurl-id")
    assert (issue.code, issue.expression) == ("invalid", "Bundle.entry[0].fullUrl")
    assert "needs the id" in issue.message


def test_document_without_timestamp_fails_bdl_10() -> None:
    """bdl-10: a document has a date (Bundle.timestamp)."""
    resource = document({"fullUrl": f"{BASE}/Composition/c1", "resource": COMPOSITION})
    del resource["timestamp"]
    assert errors_of(resource, "bdl-10") == [("error", "invariant", "Bundle")]


def test_entry_without_resource_fails_bdl_5() -> None:
    """bdl-5: an entry without request or response carries a resource (also the first one)."""
    resource = document({"fullUrl": f"{BASE}/Composition/c1"})
    assert errors_of(resource, "bdl-5") == [("error", "invariant", "Bundle.entry[0]")]


def test_definition_whose_canonical_is_its_full_url_ends_with_its_id() -> None:
    """A CodeSystem at {BASE}/CodeSystem/sites with id 'sites' is fine; with id 'other' the
    canonical url (also the fullUrl) does not name it."""
    cs = {"resourceType": "CodeSystem", "id": "sites", "text": NARRATIVE,
          "url": f"{BASE}/CodeSystem/sites", "status": "draft", "content": "complete",
          "caseSensitive": True, "concept": [{"code": "lung", "display": "Lung"}]}
    ok = {"resourceType": "Bundle", "type": "collection",
          "entry": [{"fullUrl": cs["url"], "resource": cs}]}
    assert errors_of(ok, "bundle-fullurl-id") == []
    bad = {**ok, "entry": [{"fullUrl": cs["url"], "resource": {**cs, "id": "other"}}]}
    assert ("error", "invalid", "Bundle.entry[0].fullUrl") in errors_of(bad, "bundle-fullurl-id")


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{BASE}/{resource['resourceType']}/{resource['id']}", "resource": resource}


ORGANIZATION = {"resourceType": "Organization", "id": "o1", "text": NARRATIVE, "name": "Synth"}
PROVENANCE = {"resourceType": "Provenance", "id": "pv1", "text": NARRATIVE,
              "target": [{"reference": "Composition/c1"}], "recorded": "2024-05-01T10:00:00Z",
              "agent": [{"who": {"reference": "Organization/o1"}}]}
OBSERVATION = {"resourceType": "Observation", "id": "ob1", "text": NARRATIVE, "status": "final",
               "code": {"text": "Weight"}, "subject": {"reference": "Patient/p1"}}


def reachable(resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.severity, i.expression) for i in validate(resource).issues
            if i.rule == "bundle-entry-reachable"]


def test_document_entries_reached_from_the_composition_are_fine() -> None:
    """Composition -> Patient; a Provenance pointing at the Composition may point backwards."""
    composition = {**COMPOSITION, "subject": {"reference": "Patient/p1"}}
    resource = document(entry(composition), entry(PATIENT), entry(PROVENANCE), entry(ORGANIZATION))
    assert reachable(resource) == []


def test_document_entry_nothing_leads_to_is_a_warning() -> None:
    """An Organization neither referenced nor referring does not belong in the document."""
    resource = document(entry(COMPOSITION), entry(ORGANIZATION))
    assert reachable(resource) == [("warning", "Bundle.entry[1]")]


def test_document_entry_only_reachable_backwards_is_a_warning() -> None:
    """An Observation about the patient, which the Composition does not list."""
    composition = {**COMPOSITION, "subject": {"reference": "Patient/p1"}}
    resource = document(entry(composition), entry(PATIENT), entry(OBSERVATION))
    assert reachable(resource) == [("warning", "Bundle.entry[2]")]


def test_message_entry_nothing_leads_to_is_a_warning() -> None:
    """A message's entries hang off its MessageHeader too."""
    header = {"resourceType": "MessageHeader", "id": "mh1", "text": NARRATIVE,
              "eventCoding": {"system": "http://example.org/events", "code": "x"},
              "source": {"endpoint": "http://example.org/ep"},
              "focus": [{"reference": "Patient/p1"}]}
    resource = {"resourceType": "Bundle", "type": "message", "timestamp": "2024-05-01T10:00:00Z",
                "identifier": DOC_ID,
                "entry": [entry(header), entry(PATIENT), entry(ORGANIZATION)]}
    assert reachable(resource) == [("warning", "Bundle.entry[2]")]


def in_bundle(kind: str, reference: str, full_url: str | None) -> dict[str, Any]:
    observation = {**OBSERVATION, "subject": {"reference": reference}}
    found: dict[str, Any] = {"resource": observation}
    if full_url:
        found["fullUrl"] = full_url
    if kind == "transaction":
        found["request"] = {"method": "POST", "url": "Observation"}
    return {"resourceType": "Bundle", "type": kind, "entry": [found]}


@pytest.mark.parametrize(("kind", "reference", "full_url"), [
    ("collection", "Patient/p1", f"{BASE}/Observation/ob1"),
    ("collection", "Patient/p1/_history/2", f"{BASE}/Observation/ob1"),
    ("transaction", "Patient?identifier=http://example.org/mrn|1", None),
    ("collection", "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abd", f"{BASE}/Observation/ob1"),
])
def test_well_formed_references_in_entries_pass(kind: str, reference: str,
                                                full_url: str | None) -> None:
    """Type/id, a versioned one, a transaction's conditional reference, an absolute one."""
    assert errors_of(in_bundle(kind, reference, full_url), "reference-format") == []


@pytest.mark.parametrize(("kind", "reference", "full_url"), [
    ("collection", "Patient/p1/extra", f"{BASE}/Observation/ob1"),
    ("collection", "Patient?identifier=x", f"{BASE}/Observation/ob1"),
    ("transaction", "Patient/p1/extra", "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abe"),
    ("collection", "Patient/p1", None),
])
def test_malformed_or_unresolvable_relative_reference_is_an_error(kind: str, reference: str,
                                                                  full_url: str | None) -> None:
    """A relative reference has the form Type/id, and needs its entry's fullUrl to resolve."""
    expected = [("error", "invalid", "Bundle.entry[0].resource.subject.reference")]
    assert errors_of(in_bundle(kind, reference, full_url), "reference-format") == expected


def test_message_entry_only_reachable_backwards_is_information() -> None:
    """An Observation about the message's focus patient, which nothing refers to: noted."""
    header = {"resourceType": "MessageHeader", "id": "mh1", "text": NARRATIVE,
              "eventCoding": {"system": "http://example.org/events", "code": "x"},
              "source": {"endpoint": "http://example.org/ep"},
              "focus": [{"reference": "Patient/p1"}]}
    resource = {"resourceType": "Bundle", "type": "message", "timestamp": "2024-05-01T10:00:00Z",
                "identifier": DOC_ID,
                "entry": [entry(header), entry(PATIENT), entry(OBSERVATION)]}
    assert reachable(resource) == [("information", "Bundle.entry[2]")]


@pytest.mark.parametrize(("meta", "warned"), [(None, True), ({"versionId": "2"}, False)])
def test_entry_a_versioned_reference_names_states_its_version(meta: dict[str, str] | None,
                                                              warned: bool) -> None:
    """Patient/p1/_history/2 points at the Patient entry: it should carry meta.versionId."""
    patient = {**PATIENT, "meta": meta} if meta else PATIENT
    observation = {**OBSERVATION, "subject": {"reference": "Patient/p1/_history/2"}}
    resource = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"{BASE}/Observation/ob1", "resource": observation},
        {"fullUrl": f"{BASE}/Patient/p1", "resource": patient}]}
    expected = [("warning", "business-rule", "Bundle.entry[1].resource")] if warned else []
    assert errors_of(resource, "bundle-entry-version") == expected
    assert validate(resource).ok
