"""Details of the sans-IO client core a mutation run showed unchecked: the words of transport
errors, the Accept header of next-page requests, and the steps of a message exchange (first
transmission, answers that end it with an error, the transient-error after the last resend)."""

from __future__ import annotations

import httpx
import pytest
from _client_support import BASE, ack, fhir, outcome, referral

from ecanfhir.client import (
    ClientCore,
    MessageExchange,
    RetryPolicy,
    ServerError,
    Transmit,
    read_response,
)
from ecanfhir.client._core import transport_error

REQUEST = httpx.Request("POST", f"{BASE}/$process-message")


@pytest.mark.parametrize(("error", "attempts", "message"), [
    (httpx.ConnectTimeout("slow"), 1, "timed out"),
    (httpx.ConnectError(""), 1, "cannot connect (connection refused)"),
    (httpx.ConnectError("no route to host"), 3, "cannot connect (no route to host) (after 3 "
     "attempts)"),
    (httpx.RemoteProtocolError("peer closed"), 2, "peer closed (after 2 attempts)"),
    (httpx.ReadError(""), 1, "ReadError"),
])
def test_transport_error_says_what_happened(error: Exception, attempts: int,
                                            message: str) -> None:
    """The request, what went wrong in plain words, and the attempts when more than one."""
    raised = transport_error(REQUEST, error, attempts=attempts)
    assert str(raised) == f"POST {BASE}/$process-message: {message}"
    assert raised.attempts == attempts
    assert transport_error(REQUEST, error).attempts == 1


@pytest.mark.parametrize(("fmt", "media"), [("json", "application/fhir+json"),
                                            ("xml", "application/fhir+xml")])
def test_next_page_request_asks_for_the_clients_format(fmt: str, media: str) -> None:
    core = ClientCore(BASE + "/", format=fmt)  # type: ignore[arg-type]
    page = core.next_page_request({"link": [
        {"relation": "self", "url": "Patient?_page=1"},
        {"relation": "next", "url": "Patient?_page=2"}]})
    assert page is not None
    assert (page.method, str(page.url)) == ("GET", f"{BASE}/Patient?_page=2")
    assert page.headers["Accept"] == media
    assert core.next_page_request({"link": [{"relation": "self", "url": "x"}]}) is None


def _exchange(max_retries: int = 2) -> tuple[MessageExchange, dict[str, object]]:
    message = referral()
    core = ClientCore(BASE + "/", retry=RetryPolicy(max_retries=max_retries,
                                                    random=lambda: 0.5))
    return MessageExchange(core, message), message


def test_first_transmission_is_at_once() -> None:
    exchange, _ = _exchange()
    first = exchange.start()
    assert (first.delay, first.attempt) == (0.0, 1)
    assert str(first.request.url) == f"{BASE}/$process-message"
    assert exchange.attempts == 1


def test_transient_error_after_the_last_resend_is_a_server_error() -> None:
    """transient-error acks are resent (after a backoff) until max_retries; the last one ends
    the exchange with a ServerError carrying the ack's outcome, status 200 and attempts."""
    exchange, message = _exchange(max_retries=1)
    exchange.start()
    transient = ack(message, "transient-error", "mailbox full")
    step = exchange.received(fhir(200, transient, {}))
    assert isinstance(step, Transmit) and (step.delay, step.attempt) == (0.5, 2)
    with pytest.raises(ServerError) as ended:
        exchange.received(fhir(200, ack(exchange.bundles[-1], "transient-error",
                                        "mailbox full"), {}))
    header_id = message["entry"][0]["resource"]["id"]  # type: ignore[index]
    assert str(ended.value) == (f"MessageHeader {header_id}: transient-error: mailbox full "
                                "(after 2 attempts)")
    assert (ended.value.status_code, ended.value.attempts) == (200, 2)
    assert ended.value.outcome is not None


def test_answers_that_end_the_exchange_name_why_and_attempts() -> None:
    """An error status not worth a resend, a body that is no acknowledgement, and the
    acknowledgement of another message each end the exchange with a ServerError."""
    exchange, message = _exchange()
    exchange.start()
    with pytest.raises(ServerError) as refused:
        exchange.received(httpx.Response(400, json=outcome("bad message"), request=REQUEST))
    assert refused.value.attempts == 1 and "bad message" in str(refused.value)
    not_ack = httpx.Response(200, json={"resourceType": "Patient"}, request=REQUEST)
    with pytest.raises(ServerError) as unreadable:
        exchange.received(not_ack)
    assert unreadable.value.attempts == 1 and unreadable.value.status_code == 200
    other = ack(referral("CASE-2", seed=2))
    response = httpx.Response(200, json=other, request=REQUEST)
    with pytest.raises(ServerError) as wrong:
        exchange.received(response)
    header_id = message["entry"][0]["resource"]["id"]  # type: ignore[index]
    other_id = other["entry"][0]["resource"]["response"]["identifier"]
    assert str(wrong.value).endswith(
        f"the acknowledgement is for MessageHeader {other_id}, not {header_id}")
    assert wrong.value.attempts == 1


@pytest.mark.parametrize(("bundle", "message"), [
    ({"resourceType": "Patient"}, "send_message needs a Bundle of type 'message'"),
    ({"resourceType": "Bundle", "type": "collection"},
     "send_message needs a Bundle of type 'message'"),
    ({"resourceType": "Bundle", "type": "message"},
     "a message Bundle's first entry must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": []},
     "a message Bundle's first entry must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": ["x"]},
     "a message Bundle's first entry must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "Patient", "id": "p"}}]},
     "a message Bundle's first entry must be its MessageHeader"),
    ({"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "MessageHeader", "id": ""}}]},
     "MessageHeader.id is required: it identifies the message on resends"),
    ({"resourceType": "Bundle", "type": "message", "entry": [{"resource": {
        "resourceType": "MessageHeader"}}]},
     "MessageHeader.id is required: it identifies the message on resends"),
])
def test_exchange_refuses_what_is_not_a_message(bundle: dict[str, object],
                                                message: str) -> None:
    """A message exchange needs a message Bundle whose MessageHeader (first) has an id."""
    with pytest.raises(ValueError) as refused:
        MessageExchange(ClientCore(BASE + "/"), bundle)
    assert str(refused.value) == message


def test_exchange_keeps_the_message_id() -> None:
    exchange, message = _exchange()
    assert exchange.message_id == message["entry"][0]["resource"]["id"]  # type: ignore[index]


def test_core_defaults_and_urls() -> None:
    """A trailing slash of the base is dropped, paths are joined with one slash, JSON is the
    default format, and a default retry policy is made."""
    core = ClientCore("http://centre.test/fhir/")
    assert core.base_url == "http://centre.test/fhir"
    assert core.url("/Patient/1") == "http://centre.test/fhir/Patient/1"
    assert core.url("Patient/") == "http://centre.test/fhir/Patient/"
    assert core.format == "json" and isinstance(core.retry, RetryPolicy)
    request = core.message_request({"resourceType": "Bundle", "type": "message"})
    assert request.headers["Accept"] == "application/fhir+json"
    policy = RetryPolicy(max_retries=0)
    assert ClientCore(BASE, retry=policy).retry is policy


def test_answer_that_is_no_fhir_resource_is_a_server_error() -> None:
    request = httpx.Request("GET", f"{BASE}/Patient/1")
    with pytest.raises(ServerError) as refused:
        read_response(httpx.Response(200, json=["not", "a", "resource"], request=request))
    assert str(refused.value) == (f"GET {BASE}/Patient/1: HTTP 200: the answer is not a FHIR "
                                  "resource")
