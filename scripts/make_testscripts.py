# ruff: noqa: E501
"""Generate the pilot's conformance suites, ``profiles/TestScript/*.json``.

Usage::

    python3 scripts/make_testscripts.py [--out DIR]     # default: profiles/TestScript

The contained fixture messages are built with ``ecanfhir.builders`` from fixed inputs (synthetic
organisations and a fictitious CPR number, a seeded BuildContext), so the output is the same
byte for byte on every run; ``tests/unit/conformance/test_testscripts.py`` checks the shipped
files are what this script writes. The runner renews every UUID of a fixture per test, so the
fixed ids here never collide with earlier runs.
"""
from __future__ import annotations

import argparse
import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ecanfhir.builders import (
    BuildContext,
    CancerDiagnosis,
    Organization,
    Patient,
    PractitionerRole,
    Referral,
    TelemedicineConsultation,
    build_referral_message,
    build_telemedicine_message,
)
from ecanfhir.conformance import FAULT_SENDERS

ROOT = Path(__file__).resolve().parents[1]
CANON = "https://ecanfhir.example/fhir"
OPS = "http://terminology.hl7.org/CodeSystem/testscript-operation-codes"
PATCH = "{{canonical}}/StructureDefinition/ecan-testscript-body-patch"
PRE = "{{canonical}}/StructureDefinition/ecan-testscript-precondition"
NEW1 = "0b9a1c7e-5d2f-4e8a-9c31-7f0e2d4b6a01"   # renewed per test: "another new UUID"
NEW2 = "0b9a1c7e-5d2f-4e8a-9c31-7f0e2d4b6a02"
NEW3 = "0b9a1c7e-5d2f-4e8a-9c31-7f0e2d4b6a03"
ACK = "Bundle.entry[0].resource.response.code"
OO = "Bundle.entry.resource.ofType(OperationOutcome)"
TZ = ".toString().matches('.*(Z|[+-][0-9]{2}:[0-9]{2})$')"


def op(code=None, *, patches=(), **kw):
    out = {}
    if code:
        out["type"] = {"system": OPS, "code": code}
    out["encodeRequestUrl"] = True
    out.update(kw)
    if patches:
        out["extension"] = [{"url": PATCH, "valueString": p} for p in patches]
    return {"operation": out}


def raw(method, url, **kw):
    return op(None, method=method, url=url, **kw)


def check(description, *, pre=False, **kw):
    out = {"description": description, **kw, "warningOnly": kw.pop("warningOnly", False)}
    out["warningOnly"] = kw.get("warningOnly", False)
    if pre:
        out["extension"] = [{"url": PRE, "valueBoolean": True}]
    return {"assert": out}


def test(test_id, name, text, reqs, actions):
    return {"id": test_id, "name": name, "description": f"{text} Verifies: {', '.join(reqs)}.",
            "action": actions}


def binary(bid, text, content_type="application/fhir+json"):
    return {"resourceType": "Binary", "id": bid, "contentType": content_type,
            "data": base64.b64encode(text.encode()).decode()}


def fixtures(names, data, extra=()):
    contained, refs = [], []
    for name in names:
        res = json.loads(json.dumps(data[name]).replace(CANON, "{{canonical}}"))
        contained.append(res)
        refs.append({"id": name, "autocreate": False, "autodelete": False,
                     "resource": {"reference": "#" + res["id"]}})
    for res in extra:
        contained.append(res)
        refs.append({"id": res["id"], "autocreate": False, "autodelete": False,
                     "resource": {"reference": "#" + res["id"]}})
    return contained, refs


def var(name, expression, source=None, **kw):
    out = {"name": name, "expression": expression, **kw}
    if source:
        out["sourceId"] = source
    return out


def ack_ok(fixture):
    return [check("answered 200", response="okay"),
            check("an acknowledgement message", resource="Bundle"),
            check("ack code ok", expression=ACK, value="ok")]


def script(sid, title, description, contained, refs, variables, profiles, tests, setup=None,
           teardown=None):
    out = {"resourceType": "TestScript", "id": sid, "url": f"{{{{canonical}}}}/TestScript/{sid}",
           "version": "0.1.0", "name": title.replace(" ", "").replace("-", ""), "title": title,
           "status": "active", "experimental": True, "publisher": "ecanfhir",
           "description": description, "contained": contained,
           "origin": [{"index": 1, "profile": {
               "system": "http://terminology.hl7.org/CodeSystem/testscript-profile-origin-types",
               "code": "FHIR-Client"}}],
           "destination": [{"index": 1, "profile": {
               "system": "http://terminology.hl7.org/CodeSystem/testscript-profile-destination-types",
               "code": "FHIR-Server"}}],
           "fixture": refs, "profile": profiles}
    if variables:
        out["variable"] = variables
    if setup:
        out["setup"] = {"action": setup}
    out["test"] = tests
    if teardown:
        out["teardown"] = {"action": teardown}
    return out


def centre(data):
    pm = lambda src, **kw: op("process-message", resource="Bundle", sourceId=src, **kw)  # noqa: E731
    contained, refs = fixtures(
        ["referral", "consultation", "consultation-planned", "referral-transient",
         "referral-fatal"], data,
        [binary("not-json", "{not json"), binary("turtle-body", "[ a fhir:Bundle ] .", "text/turtle"),
         binary("a-patient", '{"resourceType": "Patient", "gender": "male"}')])
    variables = [
        var("bundleId", "Bundle.id", "referral"), var("mhId", "Bundle.entry[0].resource.id", "referral"),
        var("srId", "Bundle.entry.resource.where(resourceType = 'ServiceRequest').id", "referral"),
        var("transientBundleId", "Bundle.id", "referral-transient"),
        var("fatalBundleId", "Bundle.id", "referral-fatal"),
        var("k1Measure", "MeasureReport.group[0].population.where(code.coding.code = 'measure-population').count", "k1-before"),
        var("k1Initial", "MeasureReport.group[0].population.where(code.coding.code = 'initial-population').count", "k1-before"),
        var("k2Measure", "MeasureReport.group[0].population.where(code.coding.code = 'measure-population').count", "k2-before"),
    ]
    profiles = [{"id": "ecan-acknowledgement", "reference": "{{canonical}}/StructureDefinition/ecan-acknowledgement"}]
    k1 = "Measure/ecan-kpi-cancer-cases/$evaluate-measure?periodStart=2026-11-01&periodEnd=2026-11-30"
    k2 = "Measure/ecan-kpi-telemedicine-consultations/$evaluate-measure?periodStart=2026-11-01&periodEnd=2026-11-30"
    mp = "MeasureReport.group[0].population.where(code.coding.code = '{}').count"
    tests = [
        test("metadata", "CapabilityStatement", "GET [base]/metadata.", ["REST-01", "REST-02", "REST-11"], [
            op("capabilities"),
            check("200", response="okay"), check("FHIR JSON", contentType="application/fhir+json"),
            check("a CapabilityStatement", resource="CapabilityStatement"),
            check("FHIR 4.0.1", expression="CapabilityStatement.fhirVersion", value="4.0.1"),
            check("json format", expression="CapabilityStatement.format", operator="contains", value="json"),
            check("declares messaging", expression="CapabilityStatement.messaging.exists()")]),
        test("ack-ok", "A valid message is acknowledged ok",
             "A new valid referral: ok acknowledgement naming the message, two Provenance, back to the sender, conformant, stored.",
             ["MSG-01", "ACK-01", "ACK-02", "ACK-06", "ACK-07", "ACK-08", "ACK-09", "DUP-01", "REST-11"], [
            pm("referral", responseId="ack"), *ack_ok("referral"),
            check("FHIR JSON", contentType="application/fhir+json"),
            check("event acknowledgement", expression="Bundle.entry[0].resource.eventCoding.code", value="acknowledgement"),
            check("response.identifier is the MessageHeader.id", expression="Bundle.entry[0].resource.response.identifier",
                  compareToSourceId="referral", compareToSourceExpression="Bundle.entry[0].resource.id"),
            check("acknowledgement Provenance names the original message",
                  expression="Bundle.entry.resource.ofType(Provenance).where(activity.coding.code = 'acknowledgement').entity.where(role = 'revision').what.reference",
                  value="MessageHeader/${mhId}"),
            check("two Provenance", expression="Bundle.entry.resource.ofType(Provenance).count()", value="2"),
            check("destination is the original sender", expression="Bundle.entry[0].resource.destination.endpoint",
                  compareToSourceId="referral", compareToSourceExpression="Bundle.entry[0].resource.source.endpoint"),
            check("EcanAcknowledgement", validateProfileId="ecan-acknowledgement"),
            check("timestamp with timezone", expression="Bundle.timestamp" + TZ),
            check("a new Bundle.id", expression="Bundle.id", operator="notEquals", value="${bundleId}"),
            op("read", resource="Bundle", params="/${bundleId}"),
            check("the message is stored", response="okay")]),
        test("resend-same-envelope", "Resend of the same transmission",
             "(seen Bundle.id, seen MessageHeader.id): the same acknowledgement again.", ["DUP-02", "MSG-01"], [
            pm("referral", responseId="first"), pm("referral"), *ack_ok("referral"),
            check("the same acknowledgement", expression="Bundle.id", compareToSourceId="first",
                  compareToSourceExpression="Bundle.id")]),
        test("duplicate-new-envelope", "Duplicate in a new envelope",
             "(new Bundle.id, seen MessageHeader.id): the same acknowledgement as the first time, nothing stored twice.",
             ["DUP-03", "DUP-06"], [
            pm("referral", responseId="first"), pm("referral", patches=[f"id={NEW1}"]), *ack_ok("referral"),
            check("the same acknowledgement", expression="Bundle.id", compareToSourceId="first",
                  compareToSourceExpression="Bundle.id"),
            check("the same content", expression="Bundle.entry[0].resource.response.identifier",
                  compareToSourceId="first", compareToSourceExpression="Bundle.entry[0].resource.response.identifier"),
            op("read", resource="Bundle", params=f"/{NEW1}"),
            check("the duplicate envelope is not stored as a message", response="notFound")]),
        test("duplicate-of-rejected", "Duplicate of a rejected message",
             "An invalid message is refused fatal-error with an OperationOutcome and MedCom codes; its duplicate gets the same negative acknowledgement.",
             ["ACK-03", "ACK-04", "ACK-05", "DUP-04", "MSG-01"], [
            pm("referral", responseId="first", patches=["entry[1].resource.status=bogus"]),
            check("200", response="okay"), check("fatal-error", expression=ACK, value="fatal-error"),
            check("details reference the OperationOutcome", expression="Bundle.entry[0].resource.response.details.reference",
                  operator="notEmpty"),
            check("an OperationOutcome in the ack", expression=OO + ".exists()"),
            check("MedCom error codes", expression=OO + ".issue.details.coding.code", operator="contains",
                  value="MSG_VALUESET_VALUE_UNKNOWN"),
            pm("referral", patches=["entry[1].resource.status=bogus", f"id={NEW1}"]),
            check("the same negative acknowledgement", expression="Bundle.id", compareToSourceId="first",
                  compareToSourceExpression="Bundle.id"),
            op("read", resource="ServiceRequest", params="/${srId}"),
            check("nothing of it stored", response="notFound")]),
        test("bundle-id-reused", "Bundle.id reused for another message",
             "(seen Bundle.id, new MessageHeader.id) is an error: fatal-error, issue code duplicate.", ["DUP-05", "MSG-01"], [
            pm("referral"), pm("consultation", patches=["id=${bundleId}"]),
            check("200", response="okay"), check("fatal-error", expression=ACK, value="fatal-error"),
            check("issue code duplicate", expression=OO + ".issue.code", value="duplicate")]),
        test("ack-not-acknowledged", "An acknowledgement is not acknowledged",
             "An acknowledgement posted to the centre gets no acknowledgement (422 OperationOutcome).", ["MSG-02", "REST-07"], [
            pm("referral", patches=["entry[0].resource.eventCoding.code=acknowledgement"]),
            check("422", response="unprocessable"), check("no acknowledgement", resource="OperationOutcome")]),
        test("unknown-event", "Unknown event",
             "A message of an event the centre does not take: fatal-error, MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE.", ["MSG-04", "MSG-01"], [
            pm("referral", patches=["entry[0].resource.eventCoding.code=lab-result"]),
            check("200", response="okay"), check("fatal-error", expression=ACK, value="fatal-error"),
            check("MedCom code", expression=OO + ".issue.details.coding.code",
                  value="MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE")]),
        test("transient-error", "transient-error is not final",
             "A message the centre answers transient-error (it must be configured to fault sender SOR 555555555501) carries an OperationOutcome and is not stored.",
             ["TRN-01", "ACK-03"], [
            pm("referral-transient"),
            check("the endpoint faults sender SOR 555555555501 with transient-error (the mock centre: ecanfhir serve --harness)", pre=True,
                  expression=ACK, value="transient-error"),
            check("an OperationOutcome", expression=OO + ".issue.exists()"),
            check("details reference it", expression="Bundle.entry[0].resource.response.details.reference", operator="notEmpty"),
            op("read", resource="Bundle", params="/${transientBundleId}"),
            check("not stored", response="notFound")]),
        test("fatal-error", "fatal-error stores nothing",
             "A message the centre answers fatal-error (it must be configured to fault sender SOR 555555555502) is not stored.",
             ["TRN-02", "ACK-03"], [
            pm("referral-fatal"),
            check("the endpoint faults sender SOR 555555555502 with fatal-error (the mock centre: ecanfhir serve --harness)", pre=True,
                  expression=ACK, value="fatal-error"),
            check("an OperationOutcome", expression=OO + ".issue.exists()"),
            op("read", resource="Bundle", params="/${fatalBundleId}"),
            check("not stored", response="notFound")]),
        test("read-stored", "Read a stored resource", "A resource of an accepted message can be read, with an ETag.",
             ["REST-03", "REST-04", "REST-11"], [
            pm("referral"), op("read", resource="ServiceRequest", params="/${srId}"),
            check("200", response="okay"), check("a ServiceRequest", resource="ServiceRequest"),
            check("FHIR JSON", contentType="application/fhir+json"),
            check("the same id", expression="ServiceRequest.id", value="${srId}"),
            check("the same identifier", expression="ServiceRequest.identifier.value", compareToSourceId="referral",
                  compareToSourceExpression="Bundle.entry.resource.where(resourceType = 'ServiceRequest').identifier.value"),
            check("ETag", headerField="ETag", operator="notEmpty")]),
        test("read-unknown", "Read an unknown id", "404 with an OperationOutcome.", ["REST-05", "REST-07"], [
            op("read", resource="Patient", params=f"/{NEW2}"),
            check("404", response="notFound"), check("OperationOutcome", resource="OperationOutcome")]),
        test("search", "Search", "A searchset Bundle with total and self link.", ["REST-06"], [
            pm("referral"), op("search", resource="ServiceRequest", params="?_id=${srId}"),
            check("200", response="okay"), check("a Bundle", resource="Bundle"),
            check("searchset", expression="Bundle.type", value="searchset"),
            check("total", expression="Bundle.total", value="1"),
            check("self link", expression="Bundle.link.where(relation = 'self').exists()")]),
        test("bad-json", "Invalid JSON", "A body that is not JSON: 400 OperationOutcome.", ["REST-08", "REST-07"], [
            raw("post", "$process-message", sourceId="not-json"),
            check("400", response="bad"), check("OperationOutcome", resource="OperationOutcome")]),
        test("unsupported-content-type", "Unsupported media type", "A body in RDF Turtle, a FHIR format the centre does not speak: 415.", ["REST-09", "REST-07"], [
            raw("post", "$process-message", sourceId="turtle-body"),
            check("415", responseCode="415"), check("OperationOutcome", resource="OperationOutcome")]),
        test("unsupported-accept", "Accept the server cannot honour", "Accept RDF Turtle only: 406.", ["REST-10"], [
            raw("get", "metadata", requestHeader=[{"field": "Accept", "value": "text/turtle"}]),
            check("406", responseCode="406"), check("OperationOutcome", resource="OperationOutcome")]),
        test("not-a-message", "Not a message Bundle", "A Patient, or a collection Bundle, posted to $process-message: 400.",
             ["REST-13", "REST-07"], [
            raw("post", "$process-message", sourceId="a-patient"),
            check("400", response="bad"), check("OperationOutcome", resource="OperationOutcome"),
            pm("referral", patches=["type=collection"]), check("400", response="bad")]),
        test("validate", "$validate", "$validate answers 200 with an OperationOutcome without errors for a valid message.",
             ["REST-12"], [
            op("validate", resource="Bundle", sourceId="consultation"),
            check("200", response="okay"), check("OperationOutcome", resource="OperationOutcome"),
            check("no errors", expression="OperationOutcome.issue.where(severity = 'error' or severity = 'fatal').empty()")]),
        test("post-bundle", "POST /Bundle of a message", "POST [base]/Bundle is $process-message.", ["MSG-03"], [
            op("create", resource="Bundle", sourceId="consultation"), *ack_ok("consultation")]),
        test("kpi-cancer-cases", "K1 cancer cases",
             "A new case sent, resent and duplicated counts once; a rejected case not at all; no patient data in the report.",
             ["KPI-01", "KPI-02", "KPI-03", "KPI-05", "DUP-06"], [
            raw("get", k1, responseId="k1-before"), check("200", response="okay"),
            pm("referral"), pm("referral"), pm("referral", patches=[f"id={NEW1}"]),
            pm("referral", patches=[f"id={NEW2}", f"entry[0].resource.id={NEW3}", "entry[1].resource.status=bogus"]),
            raw("get", k1), check("200", response="okay"), check("a MeasureReport", resource="MeasureReport"),
            check("summary", expression="MeasureReport.type", value="summary"),
            check("complete", expression="MeasureReport.status", value="complete"),
            check("one more case", expression=mp.format("measure-population") + " = ${k1Measure} + 1"),
            check("one more accepted message", expression=mp.format("initial-population") + " = ${k1Initial} + 1"),
            check("no patient data", expression="MeasureReport.subject.empty() and MeasureReport.evaluatedResource.empty()")]),
        test("kpi-telemedicine", "K2 telemedicine consultations",
             "A finished virtual consultation and its duplicate count once; a planned one not at all.", ["KPI-04", "KPI-01"], [
            raw("get", k2, responseId="k2-before"), check("200", response="okay"),
            pm("consultation"), pm("consultation", patches=[f"id={NEW1}"]), pm("consultation-planned"),
            raw("get", k2), check("a MeasureReport", resource="MeasureReport"),
            check("one more consultation", expression=mp.format("measure-population") + " = ${k2Measure} + 1")]),
        test("kpi-no-period", "$evaluate-measure without a period", "400.", ["KPI-06"], [
            raw("get", "Measure/ecan-kpi-cancer-cases/$evaluate-measure"),
            check("400", response="bad"), check("OperationOutcome", resource="OperationOutcome")]),
    ]
    return script("ecan-centre-endpoint", "eCAN national centre endpoint",
                  "What a national cancer centre endpoint must do for the eCAN+ pilot: acknowledgements (MedCom KR1/KR2), the four duplicate cases, transient/fatal handling, REST basics, errors and the KPIs. The transient-error and fatal-error tests need the centre to fault sender SOR 555555555501 (transient-error) and 555555555502 (fatal-error); otherwise they are skipped (ecanfhir serve --harness sets this up). Each test names the requirements (profiles/requirements.csv) it verifies.",
                  contained, refs, variables, profiles, tests)


def sender(data):
    contained, refs = fixtures(["referral", "referral-transient", "consultation"], data)
    log = "Bundle.entry.where(request.url.contains('$process-message'))"
    clear = raw("delete", "$recorded-requests")
    # The record is read in FHIR JSON whatever the run's format: it is the harness's view of
    # what was sent, not the exchange under test.
    fetch = raw("get", "$recorded-requests", accept="application/fhir+json")
    send = lambda src, **kw: op("process-message", resource="Bundle", sourceId=src, origin=2, **kw)  # noqa: E731
    tests = [
        test("sends-valid-message", "A valid message is sent once, as EcanMessage JSON",
             "The sender under test sends a valid referral: one POST to $process-message, application/fhir+json, EcanMessage, zoned timestamp, not sent again after ok.",
             ["SND-06", "SND-07", "SND-08", "SND-09", "SND-01"], [
            clear, send("referral"), fetch, check("200", response="okay"),
            check("one POST to $process-message", expression=log + ".count()", value="1"),
            check("POST", expression=log + ".request.method", value="POST"),
            raw("get", "$recorded-requests/-1"),
            check("application/fhir+json", contentType="application/fhir+json"),
            check("EcanMessage", validateProfileId="ecan-message"),
            check("the letter handed over", expression="Bundle.entry[0].resource.id", compareToSourceId="referral",
                  compareToSourceExpression="Bundle.entry[0].resource.id"),
            check("timestamp with timezone", expression="Bundle.timestamp" + TZ)]),
        test("resend-on-transient", "Resend after transient-error",
             "The centre answers transient-error (it faults sender SOR 555555555501): the sender resends at most twice, each time with a new Bundle.id and the same MessageHeader.id.",
             ["SND-01", "SND-02", "SND-04", "SND-05"], [
            clear, send("referral-transient"), fetch,
            check("the centre answered transient-error to SOR 555555555501 (the mock centre: ecanfhir serve --harness)", pre=True,
                  expression="Bundle.entry.first().response.outcome.entry[0].resource.response.code", value="transient-error"),
            check("resent", expression=log + ".count()", operator="greaterThan", value="1"),
            check("at most 2 resends", expression=log + ".count()", operator="lessThan", value="4"),
            check("the same MessageHeader.id", expression=log + ".resource.entry[0].resource.id.distinct().count() = 1"),
            check("a new Bundle.id each time", expression=log + ".resource.id.isDistinct()")]),
        test("no-resend-after-fatal", "No resend after fatal-error",
             "An invalid message is answered fatal-error: the sender does not send it again.", ["SND-03"], [
            clear, send("referral", patches=["entry[1].resource.status=bogus"]), fetch,
            check("the centre answered fatal-error", pre=True,
                  expression="Bundle.entry.first().response.outcome.entry[0].resource.response.code", value="fatal-error"),
            check("sent once", expression=log + ".count()", value="1")]),
        test("no-ack-of-ack", "Acknowledgements are not acknowledged",
             "After receiving an acknowledgement the sender sends no acknowledgement back.", ["SND-10", "SND-09"], [
            clear, send("consultation"), fetch,
            check("nothing but the message", expression="Bundle.entry.count()", value="1"),
            check("no acknowledgement sent",
                  expression="Bundle.entry.resource.entry[0].resource.where(eventCoding.code = 'acknowledgement').empty()")]),
    ]
    profiles = [{"id": "ecan-message", "reference": "{{canonical}}/StructureDefinition/ecan-message"}]
    return script("ecan-sender-behaviour", "eCAN sender behaviour",
                  "What the site's system sends (origin 2 is the sender under test; the runner hands it the fixture message). The mock centre records every request (ecanfhir serve --harness; GET /$recorded-requests) and the asserts read that record. The resend test needs the centre to fault sender SOR 555555555501 with transient-error.",
                  contained, refs, [], profiles, tests,
                  setup=[fetch, check("the endpoint records requests (GET /$recorded-requests; the mock centre: ecanfhir serve --harness)", pre=True, response="okay")],
                  teardown=[clear])


AT = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
CENTRE = Organization("National cancer centre", sor="987654321098", gln="5790000000005")
PATIENT = Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male")  # fictitious CPR


def _renewed(seed: int) -> str:
    """A case or consultation identifier in UUID form, so that the runner renews it per test
    (each test then sends a new case, which the KPI tests count)."""
    return f"6f1c0b8e-7d2a-4c3b-9e5f-{seed:012d}"


def _hospital(sor: str) -> Organization:
    return Organization(f"Hospital oncology {sor}", sor=sor, gln="5790000121526")


def _referral(seed: int, sor: str) -> dict[str, Any]:
    return build_referral_message(
        Referral(_renewed(seed), "tumour-board-review", "National tumour board assessment",
                 AT),
        sender=_hospital(sor), receiver=CENTRE, patient=PATIENT,
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3"),
        context=BuildContext.seeded(seed, at=AT))


def _consultation(seed: int, status: str) -> dict[str, Any]:
    end = AT.replace(hour=AT.hour + 1) if status == "finished" else None
    return build_telemedicine_message(
        TelemedicineConsultation(_renewed(seed), "video", status, AT, end),  # type: ignore[arg-type]
        sender=_hospital("123456789012"), receiver=CENTRE, patient=PATIENT,
        practitioner=PractitionerRole("Onkolog", ("Olga",)),
        context=BuildContext.seeded(seed, at=AT))


def fixture_messages() -> dict[str, dict[str, Any]]:
    """The suites' fixture messages by fixture id."""
    return {
        "referral": _referral(1, "123456789012"),
        "consultation": _consultation(2, "finished"),
        "consultation-planned": _consultation(3, "planned"),
        "referral-transient": _referral(4, FAULT_SENDERS["transient-error"]),
        "referral-fatal": _referral(5, FAULT_SENDERS["fatal-error"]),
    }


def render() -> dict[str, str]:
    """File name -> JSON text of each suite."""
    data = fixture_messages()
    return {f"{doc['id']}.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
            for doc in (centre(data), sender(data))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "profiles" / "TestScript")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
