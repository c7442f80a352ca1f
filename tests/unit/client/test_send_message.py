"""Reliable sending (DOMAIN.md §2(c) point 6) with Client and AsyncClient over mocked HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from _client_support import PROCESS, HarnessFactory, ack, fhir, outcome, referral, sent_bundle

from ecanfhir import EcanfhirError
from ecanfhir.client import ClientError, RetryPolicy, ServerError, TransportError

HALF = RetryPolicy(random=lambda: 0.5)


def _header_id(bundle: dict[str, object]) -> object:
    return bundle["entry"][0]["resource"]["id"]  # type: ignore[index]


def test_ok_on_first_attempt(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """An ok acknowledgement is returned at once, with one attempt and no sleep."""
    message = referral()
    route = mock.post(PROCESS).mock(return_value=fhir(200, ack(message)))
    h = harness(retry=HALF)
    result = h.send_message(message)
    assert (result.code, result.ok, result.attempts) == ("ok", True, 1)
    assert result.message_id == _header_id(message)
    assert h.sleeps == []
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert sent_bundle(request) == message


def test_transient_error_is_resent_with_new_envelope_same_letter(
        harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """transient-error → resend: a new Bundle.id and timestamp, the same MessageHeader.id."""
    message = referral()
    route = mock.post(PROCESS).mock(side_effect=[
        fhir(200, ack(message, "transient-error")), fhir(200, ack(message, "transient-error")),
        fhir(200, ack(message))])
    h = harness(retry=HALF)
    result = h.send_message(message)
    assert (result.code, result.attempts) == ("ok", 3)
    sent = [sent_bundle(call.request) for call in route.calls]
    assert len({b["id"] for b in sent}) == 3
    assert {_header_id(b) for b in sent} == {_header_id(message)}
    assert sent[0] == message
    assert sent[1]["timestamp"] != message["timestamp"]
    assert h.sleeps == [0.5, 1.0]      # full jitter 0.5 of caps 1 s and 2 s


def test_backoff_grows_exponentially_with_fixed_jitter(
        harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """Retry n waits random() * min(backoff_max, base * 2**(n-1))."""
    message = referral()
    mock.post(PROCESS).mock(side_effect=[httpx.ConnectError("refused")] * 4
                            + [fhir(200, ack(message))])
    h = harness(retry=RetryPolicy(max_retries=4, backoff_base=2.0, backoff_max=10.0,
                                  random=lambda: 0.25))
    assert h.send_message(message).attempts == 5
    assert h.sleeps == [0.5, 1.0, 2.0, 2.5]


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("connection refused"), httpx.ReadTimeout("timed out"),
    httpx.RemoteProtocolError("server disconnected"), fhir(503, outcome("busy", "transient")),
    fhir(500, outcome("boom", "exception")), fhir(429, outcome("slow down", "throttled"))],
    ids=["connect", "timeout", "disconnect", "503", "500", "429"])
def test_retryable_failures_are_resent(harness: HarnessFactory, mock: respx.MockRouter,
                                       failure: object) -> None:
    """Timeouts, connection errors, 5xx and 429 lead to a resend of the same letter."""
    message = referral()
    route = mock.post(PROCESS).mock(side_effect=[failure, fhir(200, ack(message))])
    result = harness(retry=HALF).send_message(message)
    assert (result.code, result.attempts) == ("ok", 2)
    first, second = (sent_bundle(c.request) for c in route.calls)
    assert first["id"] != second["id"] and _header_id(first) == _header_id(second)


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7.0), ("Fri, 27 Nov 2026 09:15:12 GMT", 12.0), ("whenever", 0.5)],
    ids=["seconds", "http-date", "unreadable-falls-back-to-backoff"])
def test_retry_after_is_honoured(harness: HarnessFactory, mock: respx.MockRouter, value: str,
                                 expected: float) -> None:
    """503 with Retry-After (delay-seconds or HTTP-date) waits that long instead of backoff."""
    message = referral()
    mock.post(PROCESS).mock(side_effect=[
        fhir(503, outcome("maintenance", "transient"), {"Retry-After": value}),
        fhir(200, ack(message))])
    now = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
    h = harness(retry=RetryPolicy(random=lambda: 0.5, now=lambda: now))
    assert h.send_message(message).attempts == 2
    assert h.sleeps == [expected]


def test_retry_after_is_capped(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """A Retry-After longer than retry_after_max waits retry_after_max."""
    message = referral()
    mock.post(PROCESS).mock(side_effect=[
        fhir(429, outcome("later"), {"Retry-After": "86400"}), fhir(200, ack(message))])
    h = harness(retry=RetryPolicy(retry_after_max=60.0))
    h.send_message(message)
    assert h.sleeps == [60.0]


def test_max_retries_then_server_error(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """After max_retries resends of a 503, a ServerError carries the last OperationOutcome."""
    message = referral()
    route = mock.post(PROCESS).mock(return_value=fhir(503, outcome("still down", "transient")))
    h = harness(retry=HALF)
    with pytest.raises(ServerError) as info:
        h.send_message(message)
    assert route.call_count == 3        # the first transmission + MedCom's 2 resends
    assert info.value.status_code == 503 and info.value.attempts == 3
    assert info.value.outcome == outcome("still down", "transient")
    assert "still down" in str(info.value) and "3 attempts" in str(info.value)
    assert isinstance(info.value, ClientError) and isinstance(info.value, EcanfhirError)


def test_max_retries_of_transient_ack_then_server_error(
        harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """Still transient-error after the last resend: ServerError with the ack's outcome."""
    message = referral()
    route = mock.post(PROCESS).mock(
        return_value=fhir(200, ack(message, "transient-error", "disk full")))
    with pytest.raises(ServerError) as info:
        harness(retry=RetryPolicy(max_retries=1, random=lambda: 0.0)).send_message(message)
    assert route.call_count == 2
    assert info.value.status_code == 200 and info.value.attempts == 2
    assert info.value.outcome is not None
    assert "transient-error" in str(info.value) and "disk full" in str(info.value)


def test_max_retries_of_connection_errors_then_transport_error(
        harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """No answer at all, every time: a TransportError naming the URL."""
    route = mock.post(PROCESS).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(TransportError) as info:
        harness(retry=HALF).send_message(referral())
    assert route.call_count == 3 and info.value.attempts == 3
    assert "$process-message" in str(info.value) and "cannot connect" in str(info.value)


def test_zero_retries_sends_once(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """max_retries=0 never resends."""
    route = mock.post(PROCESS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="timed out"):
        harness(retry=RetryPolicy(max_retries=0)).send_message(referral())
    assert route.call_count == 1


def test_fatal_error_stops_at_once(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """fatal-error is returned with its OperationOutcome, and nothing is resent."""
    message = referral()
    route = mock.post(PROCESS).mock(return_value=fhir(200, ack(message, "fatal-error", "bad")))
    h = harness(retry=HALF)
    result = h.send_message(message)
    assert (result.code, result.ok, result.attempts) == ("fatal-error", False, 1)
    assert result.outcome is not None and result.outcome["resourceType"] == "OperationOutcome"
    assert result.issues[0]["diagnostics"] == "bad"
    assert route.call_count == 1 and h.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 404, 415, 422, 501])
def test_client_errors_are_not_resent(harness: HarnessFactory, mock: respx.MockRouter,
                                      status: int) -> None:
    """4xx (and 501) answers raise ServerError at once with the server's OperationOutcome."""
    route = mock.post(PROCESS).mock(return_value=fhir(status, outcome("no", "invalid")))
    with pytest.raises(ServerError) as info:
        harness(retry=HALF).send_message(referral())
    assert route.call_count == 1
    assert info.value.status_code == status and info.value.outcome == outcome("no", "invalid")


def test_ack_for_another_message_is_an_error(harness: HarnessFactory,
                                             mock: respx.MockRouter) -> None:
    """An acknowledgement of some other MessageHeader is not accepted as this one's."""
    mock.post(PROCESS).mock(return_value=fhir(200, ack(referral("OTHER", seed=5))))
    with pytest.raises(ServerError, match="acknowledgement is for MessageHeader"):
        harness().send_message(referral())


@pytest.mark.parametrize("body", [{"resourceType": "Patient"}, [], "text"],
                         ids=["not-a-bundle", "array", "string"])
def test_answer_that_is_no_acknowledgement(harness: HarnessFactory, mock: respx.MockRouter,
                                           body: object) -> None:
    """A 200 answer that is no acknowledgement raises ServerError, not a crash."""
    mock.post(PROCESS).mock(return_value=fhir(200, body))
    with pytest.raises(ServerError):
        harness().send_message(referral())


def test_non_json_answer(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    mock.post(PROCESS).mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(ServerError, match="not JSON"):
        harness().send_message(referral())


@pytest.mark.parametrize("bundle", [
    {"resourceType": "Bundle", "type": "collection"},
    {"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "Patient"}}]},
    {"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "MessageHeader"}}]}],
    ids=["not-message", "no-header", "no-header-id"])
def test_not_a_message_is_misuse(harness: HarnessFactory, bundle: dict[str, object]) -> None:
    """send_message refuses a Bundle that is no message before sending anything."""
    with pytest.raises(ValueError, match=r"message|MessageHeader"):
        harness().send_message(bundle)
