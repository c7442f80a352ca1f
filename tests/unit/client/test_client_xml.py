"""FHIR XML over the wire with Client and AsyncClient (respx): bodies sent as
``application/fhir+xml``, answers in either format read back into the FHIR JSON form, and
``fhir.resources`` objects sent as they serialise themselves."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from _client_support import BASE, PROCESS, HarnessFactory, ack, outcome, referral
from fhir.resources.R4B.patient import Patient

from ecanfhir.client import ClientCore, RetryPolicy, ServerError
from ecanfhir.formats import parse_xml, to_xml

XML = "application/fhir+xml"
HALF = RetryPolicy(random=lambda: 0.5)


def xml_answer(status: int, body: dict[str, Any], media: str = XML) -> httpx.Response:
    return httpx.Response(status, content=to_xml(body).encode(),
                          headers={"Content-Type": f"{media}; charset=utf-8"})


def sent_xml(request: httpx.Request) -> Any:
    assert request.headers["Content-Type"] == XML
    parsed, issues = parse_xml(request.content)
    assert [i for i in issues if i.severity in ("error", "fatal")] == []
    return parsed


def test_message_sent_as_xml_and_resent_as_xml(harness: HarnessFactory,
                                               mock: respx.MockRouter) -> None:
    """send_message(format="xml"): every transmission is FHIR XML asking for XML back; the
    XML acknowledgement is read into an Acknowledgement; the resend has a new envelope."""
    message = referral()
    route = mock.post(PROCESS).mock(side_effect=[
        xml_answer(503, outcome("busy", "transient")), xml_answer(200, ack(message))])
    result = harness(retry=HALF).call("send_message", message, format="xml")
    assert (result.code, result.attempts) == ("ok", 2)
    first, second = (call.request for call in route.calls)
    assert first.headers["Accept"] == XML
    assert sent_xml(first) == message
    resent = sent_xml(second)
    assert resent["id"] != message["id"]
    assert resent["entry"][0]["resource"]["id"] == message["entry"][0]["resource"]["id"]


def test_client_format_xml_asks_for_xml(harness: HarnessFactory,
                                        mock: respx.MockRouter) -> None:
    """Client(format="xml"): reads ask for XML; the XML answer comes back as a dict."""
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-02",
               "_birthDate": {"extension": [{"url": "http://x.test/e", "valueInteger": 3}]}}
    route = mock.get(f"{BASE}/Patient/p1").mock(return_value=xml_answer(200, patient))
    assert harness(format="xml").call("read", "Patient", "p1") == patient
    assert route.calls.last.request.headers["Accept"] == XML


@pytest.mark.parametrize("media", [XML, "application/xml", "text/plain"])
def test_xml_error_answer_carries_its_outcome(harness: HarnessFactory, mock: respx.MockRouter,
                                             media: str) -> None:
    """An error answered in XML (by its type, or by its content) is a ServerError holding the
    OperationOutcome as a dict, with the first issue's words in the message."""
    mock.get(f"{BASE}/Patient/x").mock(
        return_value=xml_answer(404, outcome("no Patient/x", "not-found"), media))
    with pytest.raises(ServerError, match="HTTP 404: no Patient/x") as raised:
        harness().call("read", "Patient", "x")
    assert raised.value.outcome == outcome("no Patient/x", "not-found")


def test_xml_answer_that_is_no_fhir(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """A 200 XML answer that is not FHIR XML is a ServerError saying so."""
    mock.get(f"{BASE}/metadata").mock(return_value=httpx.Response(
        200, content=b"<html><body>hi</body></html>", headers={"Content-Type": XML}))
    with pytest.raises(ServerError, match="not FHIR XML"):
        harness().call("metadata")


def test_xml_answer_nested_too_deeply(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """Hostile nesting in an answer is a ServerError, not a crash of the client."""
    deep = ('<Patient xmlns="http://hl7.org/fhir">' + '<extension url="http://x.test/e">' * 5000
            + "</extension>" * 5000 + "</Patient>")
    mock.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(
        200, content=deep.encode(), headers={"Content-Type": XML}))
    with pytest.raises(ServerError, match="nested too deeply"):
        harness().call("read", "Patient", "p1")


def test_fhir_resources_objects_are_sent_as_they_serialise(
        harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """A fhir.resources object is posted as its own JSON (to $validate by its type), or as
    the XML of that JSON."""
    patient = Patient(id="p1", gender="female", birthDate="1970-01-02")
    route = mock.post(f"{BASE}/Patient/$validate").mock(return_value=httpx.Response(
        200, json=outcome("fine", "informational")))
    harness().call("validate", patient)
    assert json.loads(route.calls.last.request.content) == json.loads(
        patient.model_dump_json())
    harness(format="xml").call("validate", patient)
    assert sent_xml(route.calls.last.request) == json.loads(patient.model_dump_json())


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'json' or 'xml'"):
        ClientCore(BASE, format="yaml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'json' or 'xml'"):
        ClientCore(BASE).message_request(referral(), format="ttl")  # type: ignore[arg-type]
