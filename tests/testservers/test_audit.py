"""An AuditEvent per exchange, searchable by date and outcome, carrying no patient data."""

from __future__ import annotations

import json
from typing import Any

from _centre_assertions import outcome_codes
from _centre_http import AppClient
from _centre_messages import referral
from fastapi import FastAPI

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry

FHIR = {"Content-Type": "application/fhir+json"}
CPR = "2512489996"


def _events(client: AppClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/AuditEvent?_count=100{query}")
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])]


def _subtype(event: dict[str, Any]) -> str:
    coding: dict[str, str] = event["subtype"][0]
    return coding.get("display") or coding["code"]


def test_message_exchange_is_audited_by_id_only(client: AppClient) -> None:
    """process-message: transmit, action C, outcome 0, entity Bundle.id and MessageHeader.id."""
    message = referral("CASE-1", seed=1)
    assert client.post("/$process-message", content=json.dumps(message),
                       headers=FHIR).status_code == 200
    events = _events(client)
    event = next(e for e in events if _subtype(e) == "$process-message")
    assert event["type"]["code"] == "transmit" and event["action"] == "C"
    assert event["outcome"] == "0"
    header_id = message["entry"][0]["resource"]["id"]
    assert [e["what"]["reference"] for e in event["entity"]] == [
        f"Bundle/{message['id']}", f"MessageHeader/{header_id}"]
    assert event["agent"][0]["requestor"] is True
    assert event["agent"][0]["who"]["identifier"]["value"] == "123456789012"   # sender SOR
    assert event["source"]["observer"]["identifier"]["value"] == "987654321098"
    text = json.dumps(events)
    assert CPR not in text and "Testpatient" not in text


def test_every_exchange_is_audited_with_its_outcome(client: AppClient) -> None:
    rejected = referral("CASE-2", seed=2)
    rejected["entry"][0]["resource"]["eventCoding"]["code"] = "unknown-event"
    client.post("/$process-message", content=json.dumps(rejected), headers=FHIR)
    client.get("/Patient/does-not-exist")
    client.get(f"/Patient?identifier=urn:oid:1.2.208.176.1.2|{CPR}")
    client.post("/$process-message", content=b"{", headers=FHIR)
    events = _events(client)
    by_kind = {(_subtype(e), e["outcome"]) for e in events}
    assert ("$process-message", "4") in by_kind          # fatal-error acknowledgement
    assert ("read", "4") in by_kind and ("search-type", "0") in by_kind
    assert sum(1 for e in events if _subtype(e) == "$process-message") == 2
    assert CPR not in json.dumps(events)                  # no query strings


def test_search_by_outcome_and_date(client: AppClient) -> None:
    client.get("/Patient/unknown")                        # 404: outcome 4
    client.get("/metadata")                               # outcome 0
    failures = _events(client, "&outcome=4")
    assert failures and all(e["outcome"] == "4" for e in failures)
    recorded = min(e["recorded"] for e in _events(client))
    assert len(_events(client, f"&date=ge{recorded[:19]}Z")) >= 2
    assert _events(client, "&date=lt2000-01-01") == []
    assert _events(client, "&outcome=8") == []
    bad = client.get("/AuditEvent?outcome=7")
    assert bad.status_code == 400 and outcome_codes(bad) == ["invalid"]
    count = client.get("/AuditEvent?_summary=count&outcome=0").json()
    assert count["total"] >= 1


def test_audit_events_are_valid_r4(client: AppClient, app: FastAPI) -> None:
    client.post("/$process-message", content=json.dumps(referral("CASE-1", seed=1)),
                headers=FHIR)
    client.get("/Patient?_count=1")
    validator = Validator(pilot_registry())
    for event in _events(client):
        result = validator.validate(event)
        assert not result.errors, [i.message for i in result.errors]
