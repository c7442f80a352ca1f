"""The dashboard behind ``--auth``, without patient data, from aggregates (issue 10 §1.5).
Over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _centre_assertions import outcome_codes
from _centre_http import free_port
from _centre_messages import referral
from fastapi import FastAPI
from test_auth import RSA, _jwks, assertion

from testservers.national_centre import AuthSettings, RegisteredClient, Settings, create_app
from testservers.national_centre.auth import ASSERTION_TYPE
from testservers.national_centre.running import serve_in_thread

FHIR = {"Content-Type": "application/fhir+json"}
CPR = "2512489996"


@pytest.fixture
def guarded(database: str) -> Iterator[tuple[str, FastAPI]]:
    """A live centre with --auth: site-a may write and read everything, 'sender' only send."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    clients = (RegisteredClient("site-a", _jwks(RSA)),
               RegisteredClient("sender", _jwks(RSA), scopes=("system/Bundle.write",)))
    app = create_app(Settings(database=database, base_url=base,
                              auth=AuthSettings(clients=clients)))
    try:
        with serve_in_thread(app, port):
            yield base, app
    finally:
        app.state.services.store.close()


def _token(http: httpx.Client, base: str, client_id: str, scope: str) -> dict[str, str]:
    response = http.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(client_id=client_id, aud=f"{base}/auth/token")})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_dashboard_needs_a_token_with_auth(guarded: tuple[str, FastAPI]) -> None:
    base, _app = guarded
    with httpx.Client(base_url=base, timeout=30) as http:
        anonymous = http.get("/", headers={"Accept": "text/html"})
        assert anonymous.status_code == 401
        assert outcome_codes(anonymous) == ["login"]
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        forged = http.get("/", headers={"Authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401 and outcome_codes(forged) == ["security"]
        sender = http.get("/", headers=_token(http, base, "sender", "system/Bundle.write"))
        assert sender.status_code == 403 and outcome_codes(sender) == ["forbidden"]
        reader = http.get("/", headers=_token(http, base, "site-a", "system/*.read"))
        assert reader.status_code == 200
        assert 'id="received-total">0<' in reader.text


def test_rejections_show_no_patient_data_nor_whole_ids(
        live_server: tuple[str, FastAPI]) -> None:
    """A rejected message whose ids and values are a CPR number: the page shows the
    location and the reason with the values masked, and no id in full."""
    base, _app = live_server
    message = referral("CASE-1", seed=1)
    message["entry"][0]["resource"]["id"] = CPR
    patient = next(e["resource"] for e in message["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient["birthDate"] = f"{CPR}-Testpatient"
    patient["gender"] = f"Testpatient {CPR[:6]} {CPR[6:]}"
    with httpx.Client(base_url=base, timeout=30) as http:
        ack = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
        assert b"fatal-error" in ack.content
        html = http.get("/").text
    rejected = html.split('id="rejected"', 1)[1]
    assert "resource.birthDate</code>" in rejected           # the location is kept
    for secret in (CPR, CPR[:6], "Testpatient"):
        assert secret not in rejected, secret


def test_dashboard_reads_aggregates_not_the_message_log(
        live_server: tuple[str, FastAPI]) -> None:
    base, app = live_server
    store = app.state.services.store
    with httpx.Client(base_url=base, timeout=30) as http:
        for n in range(3):
            http.post("/$process-message", content=json.dumps(referral(f"C-{n}", seed=n)),
                      headers=FHIR)

        def scan(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("the dashboard scanned the message log")

        store.messages = scan
        try:
            html = http.get("/").text
        finally:
            del store.messages
    assert 'id="received-total">3<' in html
    assert 'data-kpi="2026-11/all"' in html


def test_aggregates_are_built_for_an_older_database(tmp_path: Path) -> None:
    """A database written before the aggregates existed shows its messages after a restart."""
    path = tmp_path / "old.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(path), base_url=base))
    with serve_in_thread(app, port), httpx.Client(base_url=base, timeout=30) as http:
        for n in range(2):
            http.post("/$process-message", content=json.dumps(referral(f"C-{n}", seed=n)),
                      headers=FHIR)
    app.state.services.store.close()
    with sqlite3.connect(path) as old:        # as a database of the previous version
        old.executescript("DROP TABLE message_counts; DROP TABLE message_kpis; "
                          "DELETE FROM centre_meta;")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(path), base_url=base))
    try:
        with serve_in_thread(app, port), httpx.Client(base_url=base, timeout=30) as http:
            html = http.get("/").text
    finally:
        app.state.services.store.close()
    assert 'id="received-total">2<' in html
    assert 'data-kpi="2026-11/all"' in html
