"""The mock centre speaks FHIR XML, over real HTTP on 127.0.0.1: XML bodies on every endpoint
that takes one, answers in the format asked for (``_format`` over ``Accept`` over the body's
format), one canonical store whatever the format of a message, and hostile XML refused."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from _centre_assertions import outcome_codes
from _centre_messages import referral
from fastapi import FastAPI

from ecanfhir.builders import resend
from ecanfhir.formats import parse_xml, to_xml

LiveServer = tuple[str, FastAPI]
XML = "application/fhir+xml"
JSON = "application/fhir+json"
SEND_XML = {"Content-Type": XML}
SEND_JSON = {"Content-Type": JSON}


def from_xml(response: httpx.Response, media: str = XML) -> dict[str, Any]:
    """The XML answer in the FHIR JSON form (its Content-Type checked)."""
    assert response.headers["content-type"] == f"{media}; charset=utf-8", response.text[:300]
    parsed, issues = parse_xml(response.content)
    assert parsed is not None and [i for i in issues if i.severity != "information"] == [], (
        issues)
    body: dict[str, Any] = parsed
    return body


def xml_outcome_codes(response: httpx.Response) -> list[tuple[str, str | None]]:
    """(code, first expression) of each issue of an OperationOutcome answered in XML."""
    body = from_xml(response)
    assert body["resourceType"] == "OperationOutcome", body
    return [(i["code"], (i.get("expression") or [None])[0]) for i in body["issue"]]


def ack_code(ack: dict[str, Any]) -> str:
    code: str = ack["entry"][0]["resource"]["response"]["code"]
    return code


def cases_counted(http: httpx.Client) -> dict[str, int]:
    report = http.get("/Measure/ecan-kpi-cancer-cases/$evaluate-measure"
                      "?periodStart=2026&periodEnd=2026").json()
    return {p["code"]["coding"][0]["code"]: p["count"]
            for p in report["group"][0]["population"]}


def test_message_in_xml_resent_in_json_is_one_message(live_server: LiveServer) -> None:
    """A referral sent as XML is acknowledged in XML; resent as JSON (new envelope) it gets the
    same acknowledgement as JSON, the JSON form of the XML one; resent as XML, the same XML
    bytes. One message stored, counted once."""
    base, app = live_server
    message = referral("CASE-X1", seed=21)
    with httpx.Client(base_url=base, timeout=60) as http:
        first = http.post("/$process-message", content=to_xml(message), headers=SEND_XML)
        assert first.status_code == 200
        xml_ack = from_xml(first)
        assert ack_code(xml_ack) == "ok"
        as_json = http.post("/Bundle", content=json.dumps(resend(message)), headers=SEND_JSON)
        assert as_json.status_code == 200
        assert as_json.headers["content-type"] == f"{JSON}; charset=utf-8"
        assert json.loads(as_json.content) == xml_ack
        again = http.post("/$process-message", content=to_xml(resend(message)),
                          headers=SEND_XML)
        assert again.content == first.content
        assert cases_counted(http) == {"initial-population": 1, "measure-population": 1}
    assert len(app.state.services.store.messages()) == 1


def test_json_message_and_xml_resend(live_server: LiveServer) -> None:
    """The other way round: stored from JSON, the XML resend's ack is the XML of the JSON ack."""
    base, _ = live_server
    message = referral("CASE-X2", seed=22)
    with httpx.Client(base_url=base, timeout=60) as http:
        first = http.post("/$process-message", content=json.dumps(message), headers=SEND_JSON)
        again = http.post("/$process-message", content=to_xml(resend(message)),
                          headers=SEND_XML)
        assert from_xml(again) == first.json()


@pytest.mark.parametrize(("headers", "query", "answered"), [
    ({"Accept": JSON}, "", JSON),                               # Accept says otherwise
    ({"Accept": "application/json"}, "", "application/json"),
    ({"Accept": XML}, "?_format=json", JSON),                    # _format wins over Accept
    ({"Accept": "text/html, application/fhir+json;q=0.5, application/xml;q=0.9"}, "",
     "application/xml"),                                        # the best q-value
    ({"Accept": "*/*"}, "", XML),                               # no preference: the body's
    ({}, "?_format=text/xml", "text/xml"),
])
def test_answer_format_is_negotiated(live_server: LiveServer, headers: dict[str, str],
                                     query: str, answered: str) -> None:
    """An XML message's acknowledgement in the format asked for (R4 http.html §3.1.0.1.10)."""
    base, _ = live_server
    message = to_xml(referral("CASE-X3", seed=23))
    answer = httpx.post(f"{base}/$process-message{query}", content=message,
                        headers={**SEND_XML, **headers}, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{answered}; charset=utf-8"
    body = from_xml(answer, answered) if "xml" in answered else answer.json()
    assert ack_code(body) == "ok"


@pytest.mark.parametrize("media", ["application/fhir+xml", "application/xml", "text/xml", None])
def test_xml_content_types_and_sniffing(live_server: LiveServer, media: str | None) -> None:
    """Each XML media type is read as FHIR XML; without a Content-Type, by the content."""
    base, _ = live_server
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1970-01-02"}
    headers = {"Accept": JSON, **({"Content-Type": media} if media else {})}
    created = httpx.post(f"{base}/Patient", content=to_xml(patient).encode(), headers=headers,
                         timeout=60)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert {k: stored[k] for k in patient} == patient
    read = httpx.get(f"{base}/Patient/{stored['id']}?_format=xml", timeout=60)
    assert from_xml(read) == stored
    if media is None:   # XML told by its content is answered in XML too
        again = httpx.post(f"{base}/Patient", content=to_xml(patient).encode(), timeout=60)
        assert again.status_code == 201
        assert from_xml(again)["gender"] == "female"


def test_capability_statement_lists_both_formats(live_server: LiveServer) -> None:
    base, _ = live_server
    answer = httpx.get(f"{base}/metadata", headers={"Accept": XML}, timeout=60)
    assert {"json", "xml", JSON, XML} <= set(from_xml(answer)["format"])


def test_errors_are_answered_in_the_format_asked_for(live_server: LiveServer) -> None:
    """404, not well-formed XML, the wrong root: OperationOutcomes in XML."""
    base, _ = live_server
    with httpx.Client(base_url=base, timeout=60) as http:
        missing = http.get("/Patient/nobody", params={"_format": "xml"})
        assert missing.status_code == 404
        assert [code for code, _ in xml_outcome_codes(missing)] == ["not-found"]
        broken = http.post("/$process-message", content=b"<Bundle xmlns='http://hl7.org/fhir'",
                           headers=SEND_XML)
        assert broken.status_code == 400
        assert xml_outcome_codes(broken) == [("structure", None)]
        json_as_xml = http.post("/$validate", content=json.dumps(referral("C", seed=1)),
                                headers={**SEND_XML, "Accept": JSON})
        assert json_as_xml.status_code == 400
        assert outcome_codes(json_as_xml) == ["structure"]


@pytest.mark.parametrize(("headers", "query", "status"), [
    ({"Content-Type": "text/plain"}, "", 415),
    ({"Content-Type": "application/fhir+turtle"}, "", 415),
    ({**SEND_XML, "Accept": "text/html"}, "", 406),
    ({**SEND_XML, "Accept": "application/fhir+xml;q=0"}, "", 406),
    (SEND_XML, "?_format=html", 406),
])
def test_unsupported_media_types(live_server: LiveServer, headers: dict[str, str], query: str,
                                 status: int) -> None:
    """415 for a body type neither FHIR format; 406 when no acceptable answer type is ours
    (answered in FHIR JSON, the one format left)."""
    base, _ = live_server
    answer = httpx.post(f"{base}/$process-message{query}", headers=headers, timeout=60,
                        content=to_xml(referral("CASE-X4", seed=24)))
    assert answer.status_code == status
    assert outcome_codes(answer) == ["not-supported"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
              for n in range(1, 10))
    + ']><Bundle xmlns="http://hl7.org/fhir"><id value="&lol9;"/></Bundle>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE b [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   '<Bundle xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Bundle>')
PARAMETER_ENTITY = ('<?xml version="1.0"?><!DOCTYPE b [<!ENTITY % p SYSTEM '
                    '"http://127.0.0.1:9/evil.dtd"> %p;]><Bundle xmlns="http://hl7.org/fhir"/>')


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
                         ids=["billion-laughs", "external-entity", "parameter-entity"])
@pytest.mark.parametrize("path", ["/$process-message", "/$validate", "/Patient", "/"])
def test_hostile_xml_is_refused_quickly(live_server: LiveServer, payload: str,
                                        path: str) -> None:
    """Entity expansion and external entities: 400 with an OperationOutcome (code security),
    at once, nothing expanded or fetched."""
    base, _ = live_server
    started = time.perf_counter()
    answer = httpx.post(f"{base}{path}", content=payload.encode(), headers=SEND_XML,
                        timeout=60)
    assert time.perf_counter() - started < 5
    assert answer.status_code == 400
    assert [code for code, _ in xml_outcome_codes(answer)] == ["security"]
    assert b"lollol" not in answer.content and b"root:" not in answer.content


def test_xml_nested_too_deeply_is_refused(live_server: LiveServer) -> None:
    """Extensions nested thousands deep: a 400 OperationOutcome (too-costly), no 500."""
    base, _ = live_server
    body = ('<Patient xmlns="http://hl7.org/fhir">' + '<extension url="http://x.test/e">' * 5000
            + "</extension>" * 5000 + "</Patient>")
    for path in ("/$process-message", "/$validate", "/Patient"):
        answer = httpx.post(f"{base}{path}", content=body.encode(), headers=SEND_XML,
                            timeout=60)
        assert answer.status_code == 400
        assert xml_outcome_codes(answer) == [("too-costly", None)]


def _out_of_order(message: dict[str, Any]) -> bytes:
    """The message's XML with the first Patient's gender written before its identifier."""
    xml = to_xml(message, pretty=False)
    start = xml.index("<Patient")
    patient_xml = xml[start:xml.index("</Patient>", start)]
    gender = patient_xml[patient_xml.index("<gender "):]
    gender = gender[:gender.index("/>") + 2]
    moved = patient_xml.replace(gender, "").replace("<identifier>", gender + "<identifier>", 1)
    return xml.replace(patient_xml, moved).encode()


def _patient_index(message: dict[str, Any]) -> int:
    return next(n for n, e in enumerate(message["entry"])
                if e["resource"]["resourceType"] == "Patient")


def test_xml_structure_errors_fail_the_message(live_server: LiveServer) -> None:
    """An element out of order (which the JSON form cannot show) is a fatal-error
    acknowledgement naming its location, like any validation error; $validate reports it."""
    base, _ = live_server
    message = referral("CASE-X5", seed=25)
    body = _out_of_order(message)
    parsed, issues = parse_xml(body)
    assert parsed == message   # the JSON form alone would pass
    expected = [("invalid", i.expression) for i in issues if i.severity == "error"]
    patient = f"Bundle.entry[{_patient_index(message)}].resource."
    assert expected and all(where.startswith(patient) for _, where in expected)
    with httpx.Client(base_url=base, timeout=60) as http:
        ack = from_xml(http.post("/$process-message", content=body, headers=SEND_XML))
        assert ack_code(ack) == "fatal-error"
        details = ack["entry"][0]["resource"]["response"]["details"]["reference"]
        outcome = next(e["resource"] for e in ack["entry"] if e["fullUrl"] == details)
        assert [(i["code"], i["expression"][0]) for i in outcome["issue"]] == expected
        validated = http.post("/$validate", content=body, headers=SEND_XML)
        assert validated.status_code == 200
        assert set(expected) <= set(xml_outcome_codes(validated))


def test_xml_structure_errors_refuse_a_create(live_server: LiveServer) -> None:
    """A create whose XML has text where none is allowed: 422, nothing stored."""
    base, _ = live_server
    body = b'<Patient xmlns="http://hl7.org/fhir">stray<gender value="male"/></Patient>'
    answer = httpx.post(f"{base}/Patient", content=body, headers=SEND_XML, timeout=60)
    assert answer.status_code == 422
    assert xml_outcome_codes(answer) == [("structure", "Patient")]
    assert httpx.get(f"{base}/Patient", timeout=60).json()["total"] == 0


def test_transaction_and_evaluate_measure_take_xml(live_server: LiveServer) -> None:
    """The other endpoints with a body: a transaction Bundle, a Parameters body."""
    base, _ = live_server
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0f0e9a38-2c43-4f0f-9f3c-7f1b2f0d4a11",
         "resource": {"resourceType": "Patient", "active": True},
         "request": {"method": "POST", "url": "Patient"}}]}
    with httpx.Client(base_url=base, timeout=60) as http:
        answer = http.post("/", content=to_xml(transaction), headers=SEND_XML)
        assert answer.status_code == 200, answer.text
        assert from_xml(answer)["type"] == "transaction-response"
        parameters = {"resourceType": "Parameters", "parameter": [
            {"name": "periodStart", "valueDate": "2026-01-01"},
            {"name": "periodEnd", "valueDate": "2026-12-31"}]}
        report = http.post("/Measure/ecan-kpi-cancer-cases/$evaluate-measure",
                           content=to_xml(parameters), headers=SEND_XML)
        assert report.status_code == 200, report.text
        assert from_xml(report)["period"]["start"].startswith("2026-01-01")
