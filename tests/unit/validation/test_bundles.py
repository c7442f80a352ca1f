"""Bundle rules (R4 §3.3.1, http://hl7.org/fhir/R4/bundle.html): fullUrl uniqueness and
consistency, and the core invariants on documents (bdl-11), messages (bdl-12) and requests.

Each rule has a valid case and an invalid one asserting code, severity and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, ValidationResult, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir"
DOC_ID = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc"}
TIMESTAMP = "2024-05-01T10:00:00+02:00"


def uuid(n: int) -> str:
    return f"urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c{n:02d}"


def patient(pid: str = "p1", **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "text": NARRATIVE,
            "name": [{"family": "Testesen"}], **elements}


COMPOSITION = {"resourceType": "Composition", "text": NARRATIVE, "status": "final",
               "type": {"text": "Cancer referral"}, "subject": {"reference": uuid(2)},
               "date": TIMESTAMP, "author": [{"reference": uuid(2)}], "title": "Cancer referral"}
HEADER = {"resourceType": "MessageHeader", "text": NARRATIVE,
          "eventCoding": {"system": "http://example.org/fhir/CodeSystem/events",
                          "code": "cancer-case-referral"},
          "source": {"endpoint": "http://example.org/fhir/sender"},
          "focus": [{"reference": uuid(2)}]}


def bundle(*entries: tuple[str, dict[str, Any]], kind: str = "collection",
           **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, **elements,
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}


def document(*entries: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return bundle(*entries, kind="document", identifier=DOC_ID, timestamp=TIMESTAMP)


def message(*entries: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return bundle(*entries, kind="message", timestamp=TIMESTAMP)


def the_issue(result: ValidationResult, expression: str, rule: str) -> Issue:
    found = [i for i in result.issues if i.expression == expression and i.rule == rule]
    assert len(found) == 1, result.issues
    return found[0]


def assert_issue(result: ValidationResult, expression: str, rule: str, *, severity: str,
                 code: str, fragment: str) -> Issue:
    issue = the_issue(result, expression, rule)
    assert (issue.severity, issue.code) == (severity, code), issue
    assert fragment in issue.message, issue
    return issue


# -- fullUrl -----------------------------------------------------------------------------------

def test_distinct_full_urls_are_valid() -> None:
    """Two entries, two fullUrls."""
    assert validate(bundle((uuid(1), patient()), (uuid(2), patient("p2")))).issues == ()


def test_duplicate_full_url_is_an_error() -> None:
    """bdl-7: fullUrl is unique; the second entry is the duplicate."""
    result = validate(bundle((uuid(1), patient()), (uuid(1), patient("p2"))))
    assert_issue(result, "Bundle.entry[1].fullUrl", "bundle-fullurl-unique", severity="error",
                 code="duplicate", fragment="entry[0]")
    assert_issue(result, "Bundle", "bdl-7", severity="error", code="invariant",
                 fragment="bdl-7")


def test_same_full_url_with_different_versions_is_valid() -> None:
    """bdl-7 allows a shared fullUrl when meta.versionId differs."""
    result = validate(bundle((uuid(1), patient(meta={"versionId": "1"})),
                             (uuid(1), patient(meta={"versionId": "2"}))))
    assert result.issues == ()


def test_same_full_url_in_history_is_valid() -> None:
    """A history Bundle lists versions of one resource under one fullUrl."""
    entry = {"fullUrl": f"{BASE}/Patient/p1", "resource": patient(),
             "request": {"method": "PUT", "url": "Patient/p1"},
             "response": {"status": "200"}}
    result = validate({"resourceType": "Bundle", "type": "history", "entry": [entry, entry]})
    assert not [i for i in result.issues if i.rule in ("bdl-7", "bundle-fullurl-unique")]
    assert result.ok, result.issues


def test_restful_full_url_matching_the_resource_is_valid() -> None:
    """{BASE}/Patient/p1 for Patient p1."""
    assert validate(bundle((f"{BASE}/Patient/p1", patient()))).issues == ()


@pytest.mark.parametrize(("full_url", "resource"), [
    (f"{BASE}/Patient/p1", patient("p2")),
    (f"{BASE}/Observation/p1", patient("p1")),
])
def test_restful_full_url_not_matching_the_resource_is_an_error(full_url: str,
                                                                resource: dict[str, Any]) -> None:
    """A RESTful fullUrl ends with the resource's own type and id."""
    result = validate(bundle((full_url, resource)))
    assert_issue(result, "Bundle.entry[0].fullUrl", "bundle-fullurl-id", severity="error",
                 code="invalid", fragment="does not match")


def test_relative_full_url_is_an_error() -> None:
    """fullUrl is absolute: 'Patient/p1' is not."""
    result = validate(bundle(("Patient/p1", patient())))
    assert_issue(result, "Bundle.entry[0].fullUrl", "bundle-fullurl-absolute", severity="error",
                 code="invalid", fragment="absolute")


# -- documents and messages --------------------------------------------------------------------

def test_document_starting_with_composition_is_valid() -> None:
    """bdl-11 holds when the first entry is a Composition."""
    assert validate(document((uuid(1), COMPOSITION), (uuid(2), patient()))).issues == ()


@pytest.mark.parametrize("entries", [
    [(uuid(2), patient()), (uuid(1), COMPOSITION)],
    [(uuid(2), patient())],
], ids=["composition-second", "no-composition"])
def test_document_not_starting_with_composition_fails_bdl_11(
        entries: list[tuple[str, dict[str, Any]]]) -> None:
    """bdl-11: a document's first resource is a Composition."""
    result = validate(document(*entries))
    assert_issue(result, "Bundle", "bdl-11", severity="error", code="invariant",
                 fragment="Composition")


def test_message_starting_with_message_header_is_valid() -> None:
    """bdl-12 holds when the first entry is a MessageHeader."""
    assert validate(message((uuid(1), HEADER), (uuid(2), patient()))).issues == ()


def test_message_not_starting_with_message_header_fails_bdl_12() -> None:
    """bdl-12: a message's first resource is a MessageHeader."""
    result = validate(message((uuid(2), patient()), (uuid(1), HEADER)))
    assert_issue(result, "Bundle", "bdl-12", severity="error", code="invariant",
                 fragment="MessageHeader")


def test_document_without_identifier_fails_bdl_9() -> None:
    """bdl-9: a document has an identifier with system and value."""
    doc = document((uuid(1), COMPOSITION), (uuid(2), patient()))
    del doc["identifier"]
    result = validate(doc)
    assert_issue(result, "Bundle", "bdl-9", severity="error", code="invariant",
                 fragment="identifier")


# -- entries and requests ---------------------------------------------------------------------

def test_request_in_collection_fails_bdl_3() -> None:
    """bdl-3: entry.request only in batch, transaction and history Bundles."""
    result = validate({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": uuid(1), "resource": patient(),
         "request": {"method": "POST", "url": "Patient"}}]})
    assert_issue(result, "Bundle", "bdl-3", severity="error", code="invariant",
                 fragment="request")


def test_transaction_with_requests_is_valid() -> None:
    """bdl-3 holds when every transaction entry has a request."""
    result = validate({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": uuid(1), "resource": patient(),
         "request": {"method": "POST", "url": "Patient"}}]})
    assert result.issues == ()


def test_total_outside_search_or_history_fails_bdl_1() -> None:
    """bdl-1: total only when a search set or a history."""
    result = validate(bundle((uuid(1), patient()), total=1))
    assert_issue(result, "Bundle", "bdl-1", severity="error", code="invariant",
                 fragment="total")
