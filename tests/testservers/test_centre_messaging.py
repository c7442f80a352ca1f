"""$process-message: acknowledgements, the four duplicate cases, rejected messages, faults."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace
from pathlib import Path

from _centre_assertions import ack_header, ack_outcome
from _centre_http import AppClient
from _centre_messages import consultation, referral
from fastapi import FastAPI

from ecanfhir.builders import resend
from testservers.national_centre import FaultRule, Settings, create_app


def _post(client: AppClient, bundle: dict[str, object], path: str = "/$process-message"):
    return client.post(path, content=json.dumps(bundle),
                       headers={"Content-Type": "application/fhir+json"})


def _message_count(app: FastAPI) -> int:
    return len(app.state.services.store.messages())


def test_valid_referral_gets_an_ok_acknowledgement(client: AppClient, app: FastAPI) -> None:
    """A valid message is stored and answered 200 with an ok ack naming its MessageHeader."""
    message = referral("CASE-1", seed=1)
    response = _post(client, message)
    assert response.status_code == 200
    header = ack_header(response)
    assert header["response"]["identifier"] == message["entry"][0]["resource"]["id"]
    assert header["response"]["code"] == "ok"
    assert response.headers["x-ecan-receipt"] == "processed"
    assert client.get(f"/Bundle/{message['id']}").status_code == 200
    assert _message_count(app) == 1


def test_post_bundle_is_process_message(client: AppClient) -> None:
    """POST /Bundle of a message bundle (MedCom's test scripts) has the same semantics."""
    response = _post(client, consultation("ENC-1", seed=2), "/Bundle")
    assert ack_header(response)["response"]["code"] == "ok"


def test_resend_of_the_same_transmission_returns_the_identical_ack(client: AppClient,
                                                                   app: FastAPI) -> None:
    """(seen Bundle.id, seen MessageHeader.id): the stored ack, byte for byte; no new case."""
    message = referral("CASE-1", seed=1)
    first, again = _post(client, message), _post(client, message)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["x-ecan-receipt"] == "resend"
    assert _message_count(app) == 1


def test_duplicate_in_a_new_envelope_returns_the_identical_ack(client: AppClient,
                                                               app: FastAPI) -> None:
    """(new Bundle.id, seen MessageHeader.id): a duplicate, answered with the first ack."""
    message = referral("CASE-1", seed=1)
    first = _post(client, message)
    duplicate = _post(client, resend(message))
    assert duplicate.content == first.content
    assert duplicate.headers["x-ecan-receipt"] == "duplicate"
    assert _message_count(app) == 1
    assert app.state.services.store.transmission_count() == 2


def test_reused_bundle_id_with_a_new_message_is_a_fatal_error(client: AppClient,
                                                             app: FastAPI) -> None:
    """(seen Bundle.id, new MessageHeader.id): fatal-error ack, nothing stored; the letter can
    still be sent in a proper new envelope."""
    first = referral("CASE-1", seed=1)
    _post(client, first)
    other = referral("CASE-2", seed=2)
    reused = {**other, "id": first["id"]}
    response = _post(client, reused)
    assert response.status_code == 200
    assert ack_header(response)["response"]["code"] == "fatal-error"
    assert [i["code"] for i in ack_outcome(response)["issue"]] == ["duplicate"]
    assert _message_count(app) == 1
    retry = _post(client, other)
    assert ack_header(retry)["response"]["code"] == "ok"
    assert _message_count(app) == 2


def test_invalid_message_gets_fatal_error_with_medcom_codes(client: AppClient,
                                                            app: FastAPI) -> None:
    """Validation errors → fatal-error ack; MedCom code and FHIRPath location per issue; a
    resend gets the same negative ack and stores nothing new."""
    message = referral("CASE-1", seed=1)
    focus = next(e["resource"] for e in message["entry"]
                 if e["resource"]["resourceType"] == "ServiceRequest")
    focus["status"] = "bogus"
    focus["authoredOn"] = "yesterday"
    response = _post(client, message)
    assert ack_header(response)["response"]["code"] == "fatal-error"
    issues = ack_outcome(response)["issue"]
    codes = {c["code"] for i in issues for c in i.get("details", {}).get("coding", [])}
    assert {"MSG_VALUESET_VALUE_UNKNOWN", "MSG_Datatype_Wrong"} <= codes
    where = f"Bundle.entry[{_index(message, focus)}].resource.status"
    assert any(i.get("expression") == [where] for i in issues)
    assert _post(client, resend(message)).content == response.content
    assert client.get(f"/ServiceRequest/{focus['id']}").status_code == 404
    assert [m.ack_code for m in app.state.services.store.messages()] == ["fatal-error"]


def test_unknown_event_is_refused_with_the_medcom_message_type_code(client: AppClient) -> None:
    message = referral("CASE-1", seed=1)
    message["entry"][0]["resource"]["eventCoding"]["code"] = "lab-result"
    response = _post(client, message)
    assert ack_header(response)["response"]["code"] == "fatal-error"
    coding = ack_outcome(response)["issue"][0]["details"]["coding"][0]
    assert coding["code"] == "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"


def test_broken_sender_still_gets_an_acknowledgement(client: AppClient) -> None:
    """A message whose sender does not resolve is still acknowledged (fatal-error)."""
    message = referral("CASE-1", seed=1)
    message["entry"][0]["resource"]["sender"] = {"reference": "urn:uuid:" + str(uuid.uuid4())}
    response = _post(client, message)
    assert response.status_code == 200
    assert ack_header(response)["response"]["code"] == "fatal-error"


def test_injected_transient_error_is_not_cached(tmp_path: Path) -> None:
    """A forced transient-error is answered but not stored: once the fault is gone, a resend
    of the very same transmission is processed, not answered with the transient ack."""
    import anyio.from_thread

    settings = Settings(database=str(tmp_path / "f.sqlite3"),
                        faults=(FaultRule("transient-error", sender="223456789012"),))
    app = create_app(settings)
    with anyio.from_thread.start_blocking_portal() as portal:
        client = AppClient(app, portal)
        message = referral("CASE-9", seed=9, hospital="B")
        assert ack_header(_post(client, message))["response"]["code"] == "transient-error"
        assert _message_count(app) == 0
        app.state.services.messages.settings = replace(settings, faults=())
        again = _post(client, message)
        assert ack_header(again)["response"]["code"] == "ok"
        assert again.headers["x-ecan-receipt"] == "processed"
        assert _message_count(app) == 1
        client.close()
    app.state.services.store.close()


def test_injected_503_has_retry_after(tmp_path: Path) -> None:
    import anyio.from_thread

    app = create_app(Settings(database=str(tmp_path / "f.sqlite3"),
                              faults=(FaultRule("http-503", retry_after=7),)))
    with anyio.from_thread.start_blocking_portal() as portal:
        client = AppClient(app, portal)
        response = _post(client, referral("CASE-9", seed=9))
        assert response.status_code == 503 and response.headers["retry-after"] == "7"
        assert response.json()["issue"][0]["code"] == "transient"
        client.close()
    app.state.services.store.close()


def test_the_original_bundle_is_not_modified_by_storage(client: AppClient) -> None:
    """Stored entries have urn:uuid references rewritten to Type/id; the Bundle keeps its own."""
    message = referral("CASE-1", seed=1)
    before = copy.deepcopy(message)
    _post(client, message)
    stored = client.get(f"/Bundle/{message['id']}").json()
    assert stored["entry"] == before["entry"]
    request = next(e["resource"] for e in message["entry"]
                   if e["resource"]["resourceType"] == "ServiceRequest")
    subject = client.get(f"/ServiceRequest/{request['id']}").json()["subject"]["reference"]
    assert subject.startswith("Patient/")


def _index(message: dict[str, object], resource: dict[str, object]) -> int:
    entries = message["entry"]
    assert isinstance(entries, list)
    return next(n for n, e in enumerate(entries) if e["resource"] is resource)
