"""Over real HTTP on 127.0.0.1 (uvicorn in a thread): the message flow and concurrent resends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
from _centre_messages import referral
from fastapi import FastAPI

from ecanfhir.builders import resend

FHIR = {"Content-Type": "application/fhir+json"}


def test_message_flow_over_http(live_server: tuple[str, FastAPI]) -> None:
    base, _app = live_server
    message = referral("CASE-1", seed=1)
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/metadata").status_code == 200
        first = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
        assert first.status_code == 200
        assert first.json()["entry"][0]["resource"]["response"]["code"] == "ok"
        again = http.post("/Bundle", content=json.dumps(resend(message)), headers=FHIR)
        assert again.content == first.content
        bad = http.post("/$process-message", content=b"{", headers=FHIR)
        assert bad.status_code == 400
        assert bad.json()["resourceType"] == "OperationOutcome"


def test_twenty_parallel_resends_create_one_case(live_server: tuple[str, FastAPI]) -> None:
    """20 concurrent transmissions of one message (the same envelope and new envelopes):
    exactly one message stored, every answer the same acknowledgement bytes."""
    base, app = live_server
    message = referral("CASE-1", seed=1)
    bodies = [json.dumps(message if n % 2 else resend(message)) for n in range(20)]

    def send(body: str) -> bytes:
        with httpx.Client(base_url=base, timeout=60) as http:
            response = http.post("/$process-message", content=body, headers=FHIR)
            assert response.status_code == 200, response.text
            return response.content

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, bodies))
    assert len(set(answers)) == 1
    assert json.loads(answers[0])["entry"][0]["resource"]["response"]["code"] == "ok"
    store = app.state.services.store
    assert len(store.messages()) == 1
    assert store.transmission_count() == 11   # the envelope sent 10 times + 10 new envelopes
    with httpx.Client(base_url=base) as http:
        report = http.get("/Measure/ecan-kpi-cancer-cases/$evaluate-measure"
                          "?periodStart=2026&periodEnd=2026").json()
    counts = {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}
    assert counts == {"initial-population": 1, "measure-population": 1}
