"""Logs never carry a CPR number or message content, at any level (uvicorn's access log
included: its query strings are dropped)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from _centre_http import AppClient
from _centre_messages import referral
from fastapi import FastAPI

from testservers.national_centre import Settings, create_app

CPR = "2512489996"
BODY_TEXTS = ("Testpatient", "Bruno", "National tumour board assessment", "8500/3")
FHIR = {"Content-Type": "application/fhir+json"}


def _assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    # The server's records only: httpx logs what the test client itself asked for.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert records, "nothing was logged: the test would prove nothing"
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        assert CPR not in text and CPR[:6] + "-" + CPR[6:] not in text, text
        for body_text in BODY_TEXTS:
            assert body_text not in text, text


def _exchanges(http: httpx.Client | AppClient) -> None:
    message = referral("CASE-1", seed=1)
    assert CPR in json.dumps(message)
    assert http.post("/$process-message", content=json.dumps(message),
                     headers=FHIR).status_code == 200
    broken = referral("CASE-2", seed=2)
    patient = next(e["resource"] for e in broken["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient["birthDate"] = CPR                         # invalid: the value is echoed nowhere
    http.post("/$process-message", content=json.dumps(broken), headers=FHIR)
    http.get(f"/Patient?identifier=urn:oid:1.2.208.176.1.2|{CPR}")
    http.get(f"/Patient/{CPR}")
    http.post("/$process-message", content=json.dumps({"resourceType": "Patient",
                                                       "name": [{"family": "Testpatient"}]}),
              headers=FHIR)
    http.get("/")


def test_in_process_logs_at_debug_hold_no_cpr(client: AppClient,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _exchanges(client)
    _assert_clean(caplog)


@pytest.fixture
def debug_server(tmp_path: Path) -> Iterator[str]:
    """uvicorn with its access log on, logging at DEBUG (propagated to caplog)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "log.sqlite3"), base_url=base))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           log_level="debug", access_log=True, ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield base
    server.should_exit = True
    thread.join(timeout=20)


def test_uvicorn_logs_at_debug_hold_no_cpr(debug_server: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    # Another test's uvicorn may have set up its loggers not to propagate: listen on them.
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.access",
                                                    "uvicorn.error")]
    saved = [(lg.level, lg.disabled) for lg in loggers]
    for logger in loggers:
        logger.addHandler(caplog.handler)
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    try:
        with caplog.at_level(logging.DEBUG), httpx.Client(base_url=debug_server,
                                                          timeout=30) as http:
            _exchanges(http)
            time.sleep(0.2)
    finally:
        for logger, (level, disabled) in zip(loggers, saved, strict=True):
            logger.removeHandler(caplog.handler)
            logger.setLevel(level)
            logger.disabled = disabled
    assert any(r.name == "uvicorn.access" for r in caplog.records)
    _assert_clean(caplog)


def test_error_log_masks_a_cpr_number_in_the_path(live_server: tuple[str, FastAPI],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """An internal error on ``GET /Patient/<CPR>/_history/1`` is logged with the number
    masked, as the access log masks it (the store is made to fail for the test)."""
    base, app = live_server
    store = app.state.services.store

    def broken(*_args: object) -> None:
        raise RuntimeError("injected")

    store.vread = broken
    with caplog.at_level(logging.ERROR), httpx.Client(base_url=base, timeout=30) as http:
        response = http.get(f"/Patient/{CPR}/_history/1")
    assert response.status_code == 500
    assert response.json()["issue"][0]["code"] == "exception"
    logged = [r.getMessage() for r in caplog.records if r.name == "testservers.national_centre"]
    assert any("internal error" in m and "/Patient/[number removed]/_history/1" in m
               for m in logged), logged
    assert not any(CPR in m for m in logged), logged
