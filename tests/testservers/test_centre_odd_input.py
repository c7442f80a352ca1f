"""Over real HTTP: input that once broke the centre (issue 10, defects 1-3). Valid but odd
messages are acknowledged and never break the KPIs; malformed ones get a fatal-error
acknowledgement; odd queries and bodies get a 4xx OperationOutcome; a 500 keeps the connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _centre_assertions import ack_header, ack_outcome, outcome_codes
from _centre_http import free_port
from _centre_messages import consultation, referral
from fastapi import FastAPI

from testservers.national_centre import Settings, create_app
from testservers.national_centre.kpi import parse_period
from testservers.national_centre.running import serve_in_thread

FHIR = {"Content-Type": "application/fhir+json"}
K1 = "/Measure/ecan-kpi-cancer-cases/$evaluate-measure"
K2 = "/Measure/ecan-kpi-telemedicine-consultations/$evaluate-measure"


def _timestamp(value: str) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        message = referral("CASE-FAR", seed=31)
        message["timestamp"] = value
        return message
    return make


def _encounter_start(value: str) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        message = consultation("ENC-FAR", seed=32)
        encounter = next(e["resource"] for e in message["entry"]
                         if e["resource"]["resourceType"] == "Encounter")
        encounter["period"] = {"start": value, "end": value}
        return message
    return make


def _measured(report: dict[str, Any]) -> dict[str, int]:
    return {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}


def _kpis_answer(http: httpx.Client) -> None:
    for measure in (K1, K2):
        for period in ("periodStart=2026&periodEnd=2026", "periodStart=9999&periodEnd=9999",
                       "periodStart=0001&periodEnd=0001"):
            response = http.get(f"{measure}?{period}")
            assert response.status_code == 200, response.text
            assert _measured(response.json())["measure-population"] == 0, period
    assert http.get("/").status_code == 200


@pytest.mark.parametrize("make", [_timestamp("9999-12-31T23:00:00-02:00"),
                                  _timestamp("0001-01-01T00:00:00+01:00"),
                                  _encounter_start("9999-12-31T23:30:00-05:00")],
                         ids=["timestamp-9999", "timestamp-0001", "encounter-start-9999"])
def test_dates_outside_utc_are_accepted_and_left_out_of_the_kpis(
        live_server: tuple[str, FastAPI], database: str,
        make: Callable[[], dict[str, Any]]) -> None:
    """A valid message whose date Python cannot place in UTC is acknowledged ok; the KPIs and
    the dashboard still answer, also after a restart, and do not count it."""
    base, _app = live_server
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post("/$process-message", content=json.dumps(make()), headers=FHIR)
        assert response.status_code == 200
        assert ack_header(response)["response"]["code"] == "ok", response.text[:2000]
        _kpis_answer(http)
    port = free_port()
    restarted = create_app(Settings(database=database, base_url=f"http://127.0.0.1:{port}"))
    try:
        with serve_in_thread(restarted, port) as again, httpx.Client(base_url=again,
                                                                     timeout=30) as http:
            _kpis_answer(http)
    finally:
        restarted.state.services.store.close()


def test_stored_unplaceable_start_is_not_counted() -> None:
    """Facts stored before the fix (a raw 9999-12-31T23:30:00-05:00) are read as unplaced."""
    period = parse_period("9999", "9999")
    assert not period.contains("9999-12-31T23:30:00-05:00")
    assert not parse_period("0001", "0001").contains("0001-01-01T00:00:00+01:00")
    assert period.contains("9999-12-31T23:30:00Z")


def _header(message: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = message["entry"][0]["resource"]
    return header


@pytest.mark.parametrize(("element", "value", "location"), [
    ("sender", "Organization/x", "Bundle.entry[0].resource.sender"),
    ("sender", [{"reference": "Organization/x"}], "Bundle.entry[0].resource.sender"),
    ("destination", [{"extension": 1, "endpoint": "urn:x"}],
     "Bundle.entry[0].resource.destination[0].extension"),
], ids=["sender-string", "sender-array", "destination-extension-number"])
def test_malformed_header_gets_a_fatal_error_acknowledgement(
        live_server: tuple[str, FastAPI], element: str, value: Any, location: str) -> None:
    """A MessageHeader element of the wrong JSON shape: a fatal-error acknowledgement whose
    OperationOutcome points at it, not a 500."""
    base, _app = live_server
    message = referral("CASE-SHAPE", seed=41)
    _header(message)[element] = value
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
    assert response.status_code == 200, response.text[:500]
    assert ack_header(response)["response"]["code"] == "fatal-error"
    issues = ack_outcome(response)["issue"]
    assert any(i["code"] == "structure" and i.get("expression") == [location] for i in issues)


_IDENTIFIERS = ",".join(f"urn:x|{n}" for n in range(499))
_STATUSES = "&".join("status=finished" for _ in range(999))


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/Patient?_count=%C2%B2", 400, "invalid"),
    ("/Patient?_offset=%C2%B2", 400, "invalid"),
    ("/Patient/2512489996/_history/%C2%B2", 404, "not-found"),
    ("/Patient?_lastUpdated=lt0001-01-01T00:00:00%2B14:00", 200, None),
    ("/Patient?_lastUpdated=9999-12-31", 200, None),
    (f"{K1}?periodStart=2026&periodEnd=9999-12-31", 200, None),
    (f"/Patient?identifier={_IDENTIFIERS}", 400, "too-costly"),
    (f"/Encounter?{_STATUSES}", 400, "too-costly"),
    ("/Patient?_id=", 200, None),
    ("/Patient?identifier=urn:x|a%00", 400, "invalid"),
], ids=["count-superscript", "offset-superscript", "history-superscript",
        "last-updated-before-year-1", "last-updated-9999", "period-end-9999",
        "499-identifiers", "999-statuses", "empty-id", "nul-identifier"])
def test_odd_queries(live_server: tuple[str, FastAPI], path: str, status: int,
                     code: str | None) -> None:
    """Odd but well-formed queries are a 4xx OperationOutcome, or an answer: FHIR dates up to
    9999-12-31 in any zone are searchable (the range is clamped to what the server holds)."""
    base, _app = live_server
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.get(path)
    assert response.status_code == status, response.text[:500]
    if code is not None:
        assert outcome_codes(response) == [code]


def _transaction(entry: dict[str, Any]) -> bytes:
    return json.dumps({"resourceType": "Bundle", "type": "transaction",
                       "entry": [entry]}).encode()


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("/", _transaction({"resource": {"resourceType": "Patient", "id": "p1"},
                        "request": {"method": "PUT", "url": "Patient/p1",
                                    "ifMatch": 'W/"²"'}}), 400, "invalid"),
    ("/$process-message", b'{"resourceType": "Bundle", "total": ' + b"9" * 5000 + b"}",
     400, "structure"),
    ("/$process-message", json.dumps(referral("CASE-SUR", seed=42) | {"id": "\ud800"}).encode(),
     400, "structure"),
    ("/Patient/$validate", b'{"resourceType": "Patient", "id": "\\ud800"}', 400, "structure"),
    ("/Patient", b'{"resourceType": {"resourceType": "Patient"}}', 400, "required"),
    ("/$process-message", json.dumps(referral("CASE-NUL", seed=44) | {"id": "a\u0000"}).encode(),
     400, "structure"),
], ids=["if-match-superscript", "5000-digit-integer", "lone-surrogate-bundle-id",
        "lone-surrogate-validate", "resource-type-object", "nul-bundle-id"])
def test_odd_bodies(live_server: tuple[str, FastAPI], path: str, body: bytes, status: int,
                    code: str) -> None:
    base, _app = live_server
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post(path, content=body, headers=FHIR)
    assert response.status_code == status, response.text[:500]
    assert outcome_codes(response) == [code]


def test_connection_is_kept_after_an_internal_error(live_server: tuple[str, FastAPI],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """After a 500 the same keep-alive connection answers the next request."""
    base, app = live_server

    def boom(*_args: object) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(app.state.services.store, "read", boom)
    with httpx.Client(base_url=base, timeout=30) as http:
        failed = http.get("/Patient/p1")
        assert failed.status_code == 500 and outcome_codes(failed) == ["exception"]
        assert failed.headers.get("connection") != "close"
        assert http.get("/metadata").status_code == 200


def test_entry_with_an_object_as_resource_type_gets_a_fatal_error_acknowledgement(
        live_server: tuple[str, FastAPI]) -> None:
    """An entry whose resourceType is an object (found by scripts/fuzz_centre.py): refused in
    the acknowledgement, not a 500."""
    base, _app = live_server
    message = referral("CASE-RT", seed=43)
    message["entry"][1]["resource"]["resourceType"] = {"resourceType": "AuditEvent"}
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
    assert response.status_code == 200, response.text[:500]
    assert ack_header(response)["response"]["code"] == "fatal-error"
