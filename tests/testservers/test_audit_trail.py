"""The audit trail is append-only and written by the server alone (issue 10 §1.4): no client
creates, updates or deletes an AuditEvent, over REST, in a transaction or batch, or inside a
message; with ``--auth`` a ``system/*.*`` token changes nothing. Over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _centre_assertions import ack_header, ack_outcome, outcome_codes
from _centre_http import free_port
from _centre_messages import referral
from test_auth import RSA, _jwks, assertion

from testservers.national_centre import AuthSettings, RegisteredClient, Settings, create_app
from testservers.national_centre.auth import ASSERTION_TYPE
from testservers.national_centre.running import serve_in_thread

FHIR = {"Content-Type": "application/fhir+json"}
FORGED: dict[str, Any] = {
    "resourceType": "AuditEvent", "id": "forged",
    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
             "code": "rest"},
    "recorded": "2026-01-01T00:00:00Z", "outcome": "0",
    "agent": [{"requestor": True, "who": {"display": "someone else"}}],
    "source": {"observer": {"display": "someone else"}},
}


@pytest.fixture(params=["open", "auth"])
def centre(request: pytest.FixtureRequest, database: str) -> Iterator[httpx.Client]:
    """An HTTP client of a live centre, without auth or with a ``system/*.*`` token."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    auth = (AuthSettings(clients=(RegisteredClient("site-a", _jwks(RSA)),))
            if request.param == "auth" else None)
    app = create_app(Settings(database=database, base_url=base, auth=auth))
    try:
        with serve_in_thread(app, port), httpx.Client(base_url=base, timeout=30) as http:
            if auth is not None:
                token = http.post("/auth/token", data={
                    "grant_type": "client_credentials", "scope": "system/*.*",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion(aud=f"{base}/auth/token")})
                assert token.status_code == 200, token.text
                http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yield http
    finally:
        app.state.services.store.close()


def _existing_event(http: httpx.Client) -> dict[str, Any]:
    """An AuditEvent the server wrote (stored just after its exchange's response)."""
    assert http.get("/metadata").status_code == 200
    deadline = time.monotonic() + 10
    while "entry" not in (found := http.get("/AuditEvent?_count=1").json()):
        assert time.monotonic() < deadline, "no AuditEvent was stored"
        time.sleep(0.05)
    event: dict[str, Any] = found["entry"][0]["resource"]
    return event


def _not_stored(http: httpx.Client, event_id: str = "forged") -> None:
    assert http.get(f"/AuditEvent/{event_id}").status_code == 404


def test_create_of_an_audit_event_is_refused(centre: httpx.Client) -> None:
    response = centre.post("/AuditEvent", content=json.dumps(FORGED), headers=FHIR)
    assert response.status_code == 405
    assert outcome_codes(response) == ["not-supported"]
    _not_stored(centre)
    assert centre.get("/AuditEvent?_id=forged").json()["total"] == 0


def test_update_and_delete_of_an_audit_event_are_refused(centre: httpx.Client) -> None:
    event = _existing_event(centre)
    for method in ("PUT", "DELETE"):
        response = centre.request(method, f"/AuditEvent/{event['id']}",
                                  content=json.dumps({**FORGED, "id": event["id"]}),
                                  headers=FHIR)
        assert response.status_code == 405, method
        assert outcome_codes(response) == ["not-supported"]
    assert centre.get(f"/AuditEvent/{event['id']}").json() == event


def test_transaction_writing_an_audit_event_is_refused_whole(centre: httpx.Client) -> None:
    """A transaction PUT of an existing event: 405 at that entry, nothing of the
    transaction stored, the event unchanged."""
    event = _existing_event(centre)
    patient = {"resourceType": "Patient", "id": "tx-patient", "gender": "female"}
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient, "request": {"method": "PUT", "url": "Patient/tx-patient"}},
        {"resource": {**FORGED, "id": event["id"], "outcome": "8"},
         "request": {"method": "PUT", "url": f"AuditEvent/{event['id']}"}},
    ]}
    response = centre.post("/", content=json.dumps(bundle), headers=FHIR)
    assert response.status_code == 405
    body = response.json()
    assert outcome_codes(response) == ["not-supported"]
    assert body["issue"][0]["expression"] == ["Bundle.entry[1]"]
    assert centre.get(f"/AuditEvent/{event['id']}").json() == event
    assert centre.get("/Patient/tx-patient").status_code == 404
    bundle["entry"][1]["request"] = {"method": "POST", "url": "AuditEvent"}
    again = centre.post("/", content=json.dumps(bundle), headers=FHIR)
    assert again.status_code == 405 and outcome_codes(again) == ["not-supported"]
    assert centre.get("/Patient/tx-patient").status_code == 404


def test_batch_entry_writing_an_audit_event_fails_alone(centre: httpx.Client) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": FORGED, "request": {"method": "PUT", "url": "AuditEvent/forged"}},
        {"resource": FORGED, "request": {"method": "POST", "url": "AuditEvent"}},
        {"request": {"method": "DELETE", "url": "AuditEvent/forged"}},
        {"request": {"method": "GET", "url": "AuditEvent?_summary=count"}},
    ]}
    response = centre.post("/", content=json.dumps(bundle), headers=FHIR)
    assert response.status_code == 200
    entries = response.json()["entry"]
    for entry in entries[:3]:
        assert entry["response"]["status"].startswith("405")
        assert entry["response"]["outcome"]["issue"][0]["code"] == "not-supported"
    assert entries[3]["response"]["status"].startswith("200")
    _not_stored(centre)


def test_message_carrying_an_audit_event_is_rejected(centre: httpx.Client) -> None:
    message = referral("CASE-AUDIT", seed=5)
    message["entry"].append({"fullUrl": "urn:uuid:6f1c1a52-8f1e-4d43-9a39-1f6c2b0d2a11",
                             "resource": FORGED})
    response = centre.post("/$process-message", content=json.dumps(message), headers=FHIR)
    assert response.status_code == 200
    assert ack_header(response)["response"]["code"] == "fatal-error"
    issue = ack_outcome(response)["issue"][0]
    assert issue["code"] == "business-rule"
    assert issue["expression"] == [f"Bundle.entry[{len(message['entry']) - 1}].resource"]
    _not_stored(centre)


def test_capability_statement_offers_audit_events_read_only(centre: httpx.Client) -> None:
    resources = centre.get("/metadata").json()["rest"][0]["resource"]
    audit = next(r for r in resources if r["type"] == "AuditEvent")
    assert {i["code"] for i in audit["interaction"]} == {"read", "vread", "search-type"}
    assert not audit.get("conditionalCreate")
