"""$process-message rules a mutation run showed unchecked: the ecan-message profile is applied
to every message, the envelope's required ids, MedCom error codes issue by issue, the fault
rules (latency, per event), the acknowledgement's endpoint and the unknown-event issue."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from _centre_assertions import ack_header, ack_outcome, outcome_codes
from _centre_http import AppClient
from _centre_messages import consultation, referral
from fastapi import FastAPI

from ecanfhir import Issue
from ecanfhir.definitions.pilot import pilot_url
from testservers.national_centre import FaultRule, Settings, create_app
from testservers.national_centre._fhirio import FhirError
from testservers.national_centre.messaging import (
    MAX_ACK_ISSUES,
    MEDCOM_ERRORS,
    envelope_of,
    medcom_issues,
    stored_entries,
)
from testservers.national_centre.storage import Envelope

RULES = "https://ecanfhir.example/fhir/CodeSystem/ecanfhir-validation-rule"
BASE_URL = "http://centre.test/fhir/"


@contextmanager
def _centre(tmp_path: Path, *faults: FaultRule) -> Iterator[tuple[AppClient, FastAPI]]:
    """An SQLite centre injecting ``faults``."""
    app = create_app(Settings(database=str(tmp_path / "c.sqlite3"), base_url=BASE_URL,
                              faults=faults))
    with anyio.from_thread.start_blocking_portal() as portal:
        client = AppClient(app, portal)
        yield client, app
        client.close()
    app.state.services.store.close()


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[AppClient, FastAPI]]:
    with _centre(tmp_path) as started:
        yield started


def _post(client: AppClient, bundle: dict[str, Any]) -> Any:
    return client.post("/$process-message", content=json.dumps(bundle),
                       headers={"Content-Type": "application/fhir+json"})


def _stored(app: FastAPI) -> list[str | None]:
    return [m.ack_code for m in app.state.services.store.messages()]


def test_ecan_message_profile_applies_without_meta_profile(
        centre: tuple[AppClient, FastAPI]) -> None:
    """The centre validates every message against ecan-message, claimed or not: a Bundle.id
    that is not a UUID v4 breaks ecan-msg-6 at Bundle."""
    client, app = centre
    message = referral("CASE-1", seed=1)
    message.pop("meta", None)
    message["id"] = "not-a-uuid-v4"
    response = _post(client, message)
    assert ack_header(response)["response"]["code"] == "fatal-error"
    issues = ack_outcome(response)["issue"]
    assert [(i["code"], i["expression"], i["details"]["coding"][-1]["code"]) for i in issues] == [
        ("invariant", ["Bundle"], "ecan-msg-6")]
    assert _stored(app) == ["fatal-error"]


def test_message_header_id_is_required(centre: tuple[AppClient, FastAPI]) -> None:
    """No MessageHeader.id: 400, as duplicate detection needs it; nothing stored."""
    client, app = centre
    message = referral("CASE-1", seed=1)
    del message["entry"][0]["resource"]["id"]
    response = _post(client, message)
    assert response.status_code == 400
    assert outcome_codes(response) == ["required"]
    assert response.json()["issue"][0]["diagnostics"] == (
        "MessageHeader.id is required: it identifies the message for duplicate detection")
    assert _stored(app) == []


def test_unknown_event_issue_says_what_and_where(centre: tuple[AppClient, FastAPI]) -> None:
    """An event outside the pilot's (or the pilot's code in another system) is refused at
    MessageHeader.eventCoding with MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE."""
    client, _ = centre
    events = pilot_url("CodeSystem", "ecan-message-events")
    for seed, system, code in ((1, events, "lab-result"),
                               (2, "http://example.org/events", "cancer-case-referral")):
        message = referral("CASE-1", seed=seed)
        message["entry"][0]["resource"]["eventCoding"] = {"system": system, "code": code}
        issues = ack_outcome(_post(client, message))["issue"]
        text = f"this receiver does not accept messages of event {system}#{code}"
        assert issues == [{"severity": "error", "code": "not-supported", "diagnostics": text,
                           "details": {"coding": [{
                               "system": MEDCOM_ERRORS,
                               "code": "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"}],
                               "text": text},
                           "expression": ["MessageHeader.eventCoding"]}]


def test_acknowledgement_names_the_centre_endpoint(centre: tuple[AppClient, FastAPI]) -> None:
    """The ok ack's MessageHeader.source.endpoint is where the centre receives messages."""
    client, _ = centre
    response = _post(client, referral("CASE-1", seed=1))
    header = ack_header(response)
    assert header["source"]["endpoint"] == "http://centre.test/fhir/$process-message"
    # built by ecanfhir.builders (not the fallback for broken messages): it claims its profiles
    assert response.json()["meta"]["profile"] == [
        pilot_url("StructureDefinition", "ecan-acknowledgement")]
    assert header["meta"]["profile"] == [
        pilot_url("StructureDefinition", "ecan-acknowledgement-header")]


def test_acknowledgement_issues_are_capped(centre: tuple[AppClient, FastAPI]) -> None:
    """A message with more errors than MAX_ACK_ISSUES gets exactly that many in its ack."""
    client, _ = centre
    message = referral("CASE-1", seed=1)
    request = next(e["resource"] for e in message["entry"]
                   if e["resource"]["resourceType"] == "ServiceRequest")
    request["identifier"] = [{"system": "not a uri", "value": str(n)}
                             for n in range(MAX_ACK_ISSUES + 5)]
    issues = ack_outcome(_post(client, message))["issue"]
    assert len(issues) == MAX_ACK_ISSUES


def test_latency_fault_then_processes_normally(tmp_path: Path) -> None:
    """latency only delays: the message is processed and its ack stored (a resend is a
    resend)."""
    with _centre(tmp_path, FaultRule("latency", seconds=0.01)) as (client, app):
        message = referral("CASE-1", seed=1)
        first = _post(client, message)
        assert ack_header(first)["response"]["code"] == "ok"
        assert first.headers["x-ecan-receipt"] == "processed"
        again = _post(client, message)
        assert again.headers["x-ecan-receipt"] == "resend" and again.content == first.content
        assert _stored(app) == ["ok"]


def test_fault_rule_applies_to_its_event_only(tmp_path: Path) -> None:
    """A rule for one event leaves the others alone; the forced ack says why."""
    fault = FaultRule("fatal-error", event="telemedicine-encounter")
    with _centre(tmp_path, fault) as (client, app):
        assert ack_header(_post(client, referral("CASE-1", seed=1)))["response"]["code"] == "ok"
        faulted = _post(client, consultation("ENC-1", seed=2))
        assert ack_header(faulted)["response"]["code"] == "fatal-error"
        assert faulted.headers["x-ecan-receipt"] == "fault"
        assert [(i["code"], i["diagnostics"]) for i in ack_outcome(faulted)["issue"]] == [
            ("processing", "fatal-error forced by fault injection")]
        assert _stored(app) == ["ok"]


@pytest.mark.parametrize(("issue", "medcom"), [
    (Issue.error("structure", "Patient.active", "m", "type-boolean"), "MSG_Datatype_Wrong"),
    (Issue.error("structure", "Patient.active", "m", "json-form"), "MSG_Datatype_Wrong"),
    (Issue.error("structure", "Observation.value", "m", "choice-type"), "MSG_Datatype_Wrong"),
    (Issue.error("too-long", "Patient.name[0].family", "m"), "MSG_Element_To_Long"),
    (Issue.error("value", "Patient.name[0].family", "m", "max-length"), "MSG_Element_To_Long"),
    (Issue.error("code-invalid", "Patient.gender", "m", "code-unknown"),
     "MSG_CodeSystem_VALUE_UNKNOWN"),
    (Issue.error("code-invalid", "Patient.gender", "m"), "MSG_VALUESET_VALUE_UNKNOWN"),
    (Issue.error("invalid", "Patient.gender", "m", "binding-required"),
     "MSG_VALUESET_VALUE_UNKNOWN"),
])
def test_medcom_code_per_issue(issue: Issue, medcom: str) -> None:
    """Each issue gets the one MedCom code that fits, before its own rule coding, and keeps
    its code, location and message."""
    rule = [{"system": RULES, "code": issue.rule}] if issue.rule else []
    assert medcom_issues([issue]) == [{
        "severity": "error", "code": issue.code, "diagnostics": "m",
        "details": {"coding": [{"system": MEDCOM_ERRORS, "code": medcom}, *rule], "text": "m"},
        "expression": [issue.expression]}]


def test_issue_without_a_medcom_code_is_kept_as_it_is() -> None:
    """An issue no MedCom code fits (a cardinality, an invariant) gets none."""
    issue = Issue.error("required", "Patient.name", "m", "cardinality-min")
    assert medcom_issues([issue]) == [issue.to_fhir()]
    plain = Issue.error("invariant", "Patient", "m")
    assert medcom_issues([plain]) == [plain.to_fhir()]
    assert "details" not in plain.to_fhir()


def test_replies_carry_receipt_and_ack_code(tmp_path: Path) -> None:
    """What the service answers (and the audit trail records): receipt kind and ack code, for
    a first receipt, a resend and a reused Bundle.id, whose ack says what went wrong."""
    with _centre(tmp_path) as (_, app):
        service = app.state.services.messages
        first = referral("CASE-1", seed=1)
        reply = service.receive(first)
        assert (reply.kind, reply.ack_code) == ("processed", "ok")
        again = service.receive(first)
        assert (again.kind, again.ack_code) == ("resend", "ok")
        reused = {**referral("CASE-2", seed=2), "id": first["id"]}
        reply = service.receive(reused)
        assert (reply.kind, reply.ack_code) == ("bundle-id-reused", "fatal-error")
        issues = json.loads(reply.body)["entry"]
        outcome = next(e["resource"] for e in issues
                       if e["resource"]["resourceType"] == "OperationOutcome")
        assert [(i["severity"], i["code"], i["diagnostics"]) for i in outcome["issue"]] == [
            ("error", "duplicate", f"Bundle.id {first['id']} was already used for another "
             "message: every transmission needs a new Bundle.id")]


@pytest.mark.parametrize(("action", "issue_code"), [("transient-error", "transient"),
                                                    ("fatal-error", "processing")])
def test_forced_ack_reply(tmp_path: Path, action: str, issue_code: str) -> None:
    """A forced acknowledgement: receipt 'fault', the forced code, and one error issue."""
    with _centre(tmp_path, FaultRule(action)) as (_, app):  # type: ignore[arg-type]
        reply = app.state.services.messages.receive(referral("CASE-1", seed=1))
        assert (reply.kind, reply.ack_code) == ("fault", action)
        outcome = next(e["resource"] for e in json.loads(reply.body)["entry"]
                       if e["resource"]["resourceType"] == "OperationOutcome")
        assert [(i["severity"], i["code"], i["diagnostics"]) for i in outcome["issue"]] == [
            ("error", issue_code, f"{action} forced by fault injection")]


def test_injected_503_says_why(tmp_path: Path) -> None:
    with _centre(tmp_path, FaultRule("http-503", retry_after=9)) as (client, _):
        response = _post(client, referral("CASE-1", seed=1))
        assert response.status_code == 503 and response.headers["Retry-After"] == "9"
        assert response.json()["issue"] == [{
            "severity": "error", "code": "transient",
            "diagnostics": "the service is unavailable (injected fault)"}]


def test_stored_entries_skip_what_is_not_a_resource_and_give_ids() -> None:
    """Entries without a resource (or with a non-object one) are skipped, the rest kept in
    order; a resource without an id gets a new UUID, and urn:uuid references to it follow."""
    patient_url = "urn:uuid:7d5a3c8e-0000-4000-8000-000000000001"
    bundle = {"entry": [
        "not an entry", {"resource": 1}, {"resource": {"id": "no-type"}},
        {"fullUrl": patient_url, "resource": {"resourceType": "Patient"}},
        {"resource": {"resourceType": "Observation", "id": "o1",
                      "subject": {"reference": patient_url}}}]}
    patient, observation = stored_entries(bundle)
    assert patient["resourceType"] == "Patient"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        patient["id"])
    assert observation == {"resourceType": "Observation", "id": "o1",
                           "subject": {"reference": f"Patient/{patient['id']}"}}
    assert "id" not in bundle["entry"][3]["resource"]  # type: ignore[index]


def _header_bundle(**header: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "message", "id": "b1",
            "entry": [{"resource": {"resourceType": "MessageHeader", "id": "h1", **header}}]}


@pytest.mark.parametrize(("body", "status", "code", "diagnostics"), [
    ([], 400, "invalid", "expected a message Bundle, found list"),
    ({"resourceType": "Patient"}, 400, "invalid", "expected a message Bundle, found Patient"),
    ({}, 400, "invalid", "expected a message Bundle, found None"),
    ({"resourceType": "Bundle", "type": "collection"}, 400, "invalid",
     "Bundle.type must be 'message', found collection"),
    ({"resourceType": "Bundle", "type": "message"}, 400, "structure",
     "the first entry of a message must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": []}, 400, "structure",
     "the first entry of a message must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": {"0": {}}}, 400, "structure",
     "the first entry of a message must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": ["x"]}, 400, "structure",
     "the first entry of a message must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "Patient"}}]}, 400, "structure",
     "the first entry of a message must be its MessageHeader"),
    ({**_header_bundle(), "id": " "}, 400, "required",
     "Bundle.id is required: it identifies the transmission for duplicate detection"),
    (_header_bundle(eventCoding={"code": "acknowledgement"}), 422, "business-rule",
     "this server sends no messages, so it takes no acknowledgements (and an acknowledgement "
     "is never acknowledged)"),
])
def test_envelope_refusals(body: Any, status: int, code: str, diagnostics: str) -> None:
    """What is not a message with its two ids is refused with the status and issue that say
    why (400, or 422 for an acknowledgement sent to the centre)."""
    with pytest.raises(FhirError) as refused:
        envelope_of(body)
    assert refused.value.status == status
    assert refused.value.outcome["issue"] == [
        {"severity": "error", "code": code, "diagnostics": diagnostics}]


def test_envelope_keys() -> None:
    """The ids (at most 200 characters each), the event code, the sender's SOR number and the
    timestamp; what is not a string is left out."""
    sor = "urn:oid:1.2.208.176.1.1"
    bundle = _header_bundle(eventCoding={"code": "cancer-case-referral"},
                            sender={"reference": "Organization/o1"})
    bundle["id"] = "b" * 250
    bundle["entry"][0]["resource"]["id"] = "h" * 250
    bundle["timestamp"] = "2026-11-27T09:15:00Z"
    bundle["entry"].append({"resource": {"resourceType": "Organization", "id": "o1",
                                         "identifier": [{"system": sor, "value": "123"}]}})
    assert envelope_of(bundle) == Envelope("b" * 200, "h" * 200, "cancer-case-referral", "123",
                                           "2026-11-27T09:15:00Z")
    odd = _header_bundle(eventCoding={"code": 7})
    odd["timestamp"] = 20261127
    assert envelope_of(odd) == Envelope("b1", "h1", None, None, None)


def test_stored_log_keeps_reasons_and_kpi_facts(tmp_path: Path) -> None:
    """The message log keeps, for a rejected message, its first ten issues as 'location:
    diagnostics' (at most 300 characters each); for an accepted referral, its KPI facts."""
    with _centre(tmp_path) as (_, app):
        service = app.state.services.messages
        service.receive(referral("CASE-1", seed=1, icd10="C50.4"))
        bad = referral("CASE-2", seed=2)
        request = next(e["resource"] for e in bad["entry"]
                       if e["resource"]["resourceType"] == "ServiceRequest")
        for n in range(12):  # unknown properties, named in the location: long reasons
            request[f"unknown{n:02d}" + "x" * 300] = True
        service.receive(bad)
        accepted, rejected = app.state.services.store.messages()
    assert accepted.ack_code == "ok" and accepted.reasons == ()
    assert accepted.kpi["case"] and accepted.kpi["cancer_site"] != "unknown"
    assert rejected.ack_code == "fatal-error" and len(rejected.reasons) == 10
    index = next(n for n, e in enumerate(bad["entry"]) if e["resource"] is request)
    first = rejected.reasons[0]
    assert first.startswith(f"Bundle.entry[{index}].resource.unknown00xxx")
    assert [len(reason) for reason in rejected.reasons] == [300] * 10
    assert "kpi" not in rejected.kpi and "case" not in rejected.kpi


def test_event_coding_that_is_not_an_object_is_an_unknown_event(tmp_path: Path) -> None:
    """eventCoding given as a string: no event, refused as a message type it cannot take."""
    with _centre(tmp_path) as (_, app):
        message = referral("CASE-1", seed=1)
        message["entry"][0]["resource"]["eventCoding"] = "cancer-case-referral"
        reply = app.state.services.messages.receive(message)
    outcome = next(e["resource"] for e in json.loads(reply.body)["entry"]
                   if e["resource"]["resourceType"] == "OperationOutcome")
    assert [(i["code"], i["diagnostics"], i["expression"]) for i in outcome["issue"]] == [
        ("not-supported", "this receiver does not accept messages of event None#None",
         ["MessageHeader.eventCoding"])]


def test_message_carrying_an_audit_event_is_refused(tmp_path: Path) -> None:
    """AuditEvents are the centre's own: a message with one is a fatal-error, at the entry."""
    with _centre(tmp_path) as (_, app):
        message = referral("CASE-1", seed=1)
        message["entry"].append({"fullUrl": "urn:uuid:0c2b1a4e-0000-4000-8000-000000000001",
                                 "resource": {"resourceType": "AuditEvent", "id": "a1"}})
        reply = app.state.services.messages.receive(message)
    assert reply.ack_code == "fatal-error"
    outcome = next(e["resource"] for e in json.loads(reply.body)["entry"]
                   if e["resource"]["resourceType"] == "OperationOutcome")
    assert outcome["issue"] == [{
        "severity": "error", "code": "business-rule",
        "diagnostics": "a message may not carry an AuditEvent: they are written by the centre "
                       "only",
        "expression": [f"Bundle.entry[{len(message['entry']) - 1}].resource"]}]


def test_format_errors_reject_and_are_kept_with_the_ack(tmp_path: Path) -> None:
    """Problems of the XML form that JSON does not show (format_issues): errors and fatal
    ones reject the message, warnings do not; the reasons keep them (no location: ': ...'),
    and the fatal-error ack is stored."""
    with _centre(tmp_path) as (_, app):
        service = app.state.services.messages
        warned = service.receive(referral("CASE-1", seed=1), format_issues=[
            Issue.warning("informational", "", "a processing instruction was ignored")])
        assert warned.ack_code == "ok"
        for seed, severity in ((2, "error"), (3, "fatal")):
            issue = Issue(severity, "structure", "", f"bad XML {seed}")  # type: ignore[arg-type]
            reply = service.receive(referral(f"CASE-{seed}", seed=seed), format_issues=[issue])
            assert reply.ack_code == "fatal-error"
            ack = json.loads(reply.body)
            stored = app.state.services.store.read("Bundle", ack["id"])
            assert stored is not None
        reasons = [m.reasons for m in app.state.services.store.messages()]
    assert reasons == [(), (": bad XML 2",), (": bad XML 3",)]


def test_resend_is_answered_from_the_store_before_faults_apply(tmp_path: Path) -> None:
    """A message already processed gets its stored ack on a resend, even when a fault rule
    would now match it."""
    with _centre(tmp_path) as (_, app):
        service = app.state.services.messages
        message = referral("CASE-1", seed=1)
        first = service.receive(message)
        service.settings = dataclasses.replace(service.settings,
                                               faults=(FaultRule("transient-error"),))
        again = service.receive(message)
    assert (again.kind, again.ack_code, again.body) == ("resend", "ok", first.body)


def test_message_profile_that_is_not_loaded_is_not_applied(tmp_path: Path) -> None:
    """A configured message profile the validator does not know is left out (not an error
    on every message)."""
    app = create_app(Settings(database=str(tmp_path / "p.sqlite3"),
                              message_profile="http://example.org/fhir/StructureDefinition/x"))
    try:
        assert app.state.services.messages.profiles == ()
        assert app.state.services.messages.receive(referral("CASE-1", seed=1)).ack_code == "ok"
    finally:
        app.state.services.store.close()


@pytest.mark.parametrize(("base_url", "endpoint"), [
    ("http://centre.test/fhir", "http://centre.test/fhir/$process-message"),
    ("http://centre.test/fhir//", "http://centre.test/fhir/$process-message"),
    ("http://centre.test/R4X/", "http://centre.test/R4X/$process-message")])
def test_endpoint_is_the_base_url_without_trailing_slashes(tmp_path: Path, base_url: str,
                                                           endpoint: str) -> None:
    """Only slashes are taken off the base URL: its last segment stays as it is."""
    app = create_app(Settings(database=str(tmp_path / "e.sqlite3"), base_url=base_url))
    try:
        assert app.state.services.messages.endpoint == endpoint
    finally:
        app.state.services.store.close()
