"""Client and AsyncClient speaking FHIR XML to the real mock centre over HTTP on 127.0.0.1:
a message sent as XML and resent as JSON is one message; reads, searches, transactions,
$validate and $evaluate-measure in XML come back as the same dicts as in JSON; a
fhir.resources object goes through as it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.patient import Patient as PatientModel
from test_client_centre import referral

from ecanfhir.client import AsyncClient, Client, ServerError
from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "centre.sqlite3"), base_url=base))
    with serve_in_thread(app, port):
        yield base, app


def test_message_in_xml_then_json_is_one_message(centre: tuple[str, FastAPI]) -> None:
    """The XML transmission and a JSON resend of it get the same acknowledgement."""
    base, app = centre
    message = referral("CASE-CX1", seed=41)
    with Client(base, format="xml") as client:
        first = client.send_message(message)
        again = client.send_message(message, format="json")
    assert (first.code, again.code) == ("ok", "ok")
    assert first.bundle == again.bundle
    assert len(app.state.services.store.messages()) == 1


def test_rest_in_xml_reads_like_json(centre: tuple[str, FastAPI]) -> None:
    """Every interaction of the client in XML answers what it answers in JSON."""
    base, _ = centre
    patient = PatientModel(gender="female", birthDate="1970-01-02")
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5e1c2f4a-0b7d-4c33-8a8e-0f3c9d2b7a61",
         "resource": {"resourceType": "Patient", "gender": "male"},
         "request": {"method": "POST", "url": "Patient"}}]}
    with Client(base, format="xml") as xml, Client(base) as json_client:
        created = xml.transaction(transaction)
        assert created["type"] == "transaction-response"
        location = created["entry"][0]["response"]["location"]
        patient_id = location.split("Patient/", 1)[1].split("/")[0]
        assert xml.read("Patient", patient_id) == json_client.read("Patient", patient_id)
        assert xml.search("Patient", {"_id": patient_id})["total"] == 1
        assert xml.metadata()["format"] == json_client.metadata()["format"]
        verdict = xml.validate(patient)
        assert verdict["resourceType"] == "OperationOutcome"
        assert not [i for i in verdict["issue"] if i["severity"] == "error"]
        report = xml.evaluate_measure("ecan-kpi-cancer-cases", period_start="2026",
                                      period_end="2026")
        assert report == json_client.evaluate_measure(
            "ecan-kpi-cancer-cases", period_start="2026", period_end="2026") | {
                "date": report["date"]} | ({"id": report["id"]} if "id" in report else {})
        with pytest.raises(ServerError, match="HTTP 404") as missing:
            xml.read("Patient", "nobody")
        assert missing.value.outcome is not None
        assert missing.value.outcome["issue"][0]["code"] == "not-found"


def test_async_client_in_xml(centre: tuple[str, FastAPI]) -> None:
    base, _ = centre

    async def main() -> str:
        async with AsyncClient(base, format="xml") as client:
            return (await client.send_message(referral("CASE-CX2", seed=42))).code

    assert anyio.run(main) == "ok"
