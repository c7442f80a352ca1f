"""Details of the sans-IO client core a mutation run showed unchecked: the words of transport
errors, the Accept header of next-page requests, and the steps of a message exchange (first
transmission, answers that end it with an error, the transient-error after the last resend), how
answers are decoded by their type, and what error messages say."""

from __future__ import annotations

import json

import httpx
import pytest
from _client_support import AT, BASE, ack, fhir, outcome, referral

from ecanfhir.builders import BuildContext, resend
from ecanfhir.client import (
    ClientCore,
    MessageExchange,
    RetryPolicy,
    ServerError,
    Transmit,
    TransportError,
    read_response,
)
from ecanfhir.client._core import (
    FHIR_JSON,
    FHIR_XML,
    decode_body,
    encode,
    server_error,
    transport_error,
)

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


def test_exchange_refuses_what_is_not_an_object() -> None:
    with pytest.raises(ValueError) as refused:
        MessageExchange(ClientCore(BASE + "/"), ["not", "a", "bundle"])  # type: ignore[arg-type]
    assert str(refused.value) == "send_message needs a Bundle of type 'message'"


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


# -- error messages and bodies --------------------------------------------------------------

def test_server_error_words_fall_back_from_reason_to_outcome_to_status() -> None:
    """The text is the caller's reason, else the outcome's first issue with words
    (diagnostics, else details.text), else the reason phrase, else "error"; more than one
    attempt is counted."""
    request = httpx.Request("GET", f"{BASE}/Patient/1")
    words = {"resourceType": "OperationOutcome", "issue": [
        "not an issue", {"severity": "error", "code": "invalid", "details": "not a concept"},
        {"severity": "error", "code": "invalid", "details": {"text": "from details"}}]}
    assert str(server_error(httpx.Response(400, json=words, request=request))) == (
        f"GET {BASE}/Patient/1: HTTP 400: from details")
    assert str(server_error(httpx.Response(599, request=request), attempts=2)) == (
        f"GET {BASE}/Patient/1: HTTP 599: error (after 2 attempts)")
    assert str(server_error(httpx.Response(503, request=request), reason="why")) == (
        f"GET {BASE}/Patient/1: HTTP 503: why")


def test_bodies_are_sent_compact_and_in_utf8() -> None:
    """JSON keeps non-ASCII letters as UTF-8; XML has no whitespace between elements."""
    patient = {"resourceType": "Patient", "name": [{"family": "Ørsted"}]}
    assert encode(patient, "json") == (
        '{"resourceType": "Patient", "name": [{"family": "Ørsted"}]}'.encode(), FHIR_JSON)
    content, media = encode(patient, "xml")
    assert media == FHIR_XML
    assert content.decode().partition("?>")[2] == (
        '<Patient xmlns="http://hl7.org/fhir"><name><family value="Ørsted"/></name></Patient>')


def test_transaction_posts_the_bundle_itself() -> None:
    bundle = {"resourceType": "Bundle", "type": "batch"}
    request = ClientCore(BASE + "/").transaction_request(bundle)
    assert (request.method, str(request.url)) == ("POST", BASE)
    assert json.loads(request.content) == bundle


def test_validate_request_of_what_is_no_resource_goes_to_base_validate() -> None:
    """A body without a resource type (or not an object at all) is posted to [base]/$validate
    as it is: the server says what is wrong with it."""
    request = ClientCore(BASE).validate_request(["not", "a", "resource"])
    assert str(request.url) == f"{BASE}/$validate"
    assert json.loads(request.content) == ["not", "a", "resource"]


def test_base_and_paths_keep_their_other_characters() -> None:
    """Only slashes are trimmed: a base or path ending or starting in another character is
    kept whole."""
    core = ClientCore("http://centre.test/fhirX//")
    assert core.base_url == "http://centre.test/fhirX"
    assert core.url("//XPatient/1") == "http://centre.test/fhirX/XPatient/1"


@pytest.mark.parametrize(("content", "media", "expected"), [
    (b'{"resourceType": "Patient"}', "", ({"resourceType": "Patient"}, None)),
    (b"<Patient", "application/fhir+xml;charset=utf-8",
     (None, "the answer is not FHIR XML: the input is not well-formed XML: unclosed token "
      "(line 1, column 1)")),
    (b"<Patient", "application/fhir+xml; charset=utf-8; x=y",
     (None, "the answer is not FHIR XML: the input is not well-formed XML: unclosed token "
      "(line 1, column 1)")),
    (b"<Patient", "application/xml+fhir",
     (None, "the answer is not FHIR XML: the input is not well-formed XML: unclosed token "
      "(line 1, column 1)")),
    (b"<Patient", "text/plain",
     (None, "the answer is not JSON, nor FHIR XML: the input is not well-formed XML: unclosed "
      "token (line 1, column 1)")),
    (b'<Patient xmlns="http://hl7.org/fhir"/>', "application/fhir+json",
     (None, "the answer is not JSON")),
    (b'<Patient xmlns="http://hl7.org/fhir"/>', "application/json+fhir",
     (None, "the answer is not JSON")),
    (b'<Patient xmlns="http://hl7.org/fhir">' + b'<extension url="http://x.test/e">' * 3000
     + b"</extension>" * 3000 + b"</Patient>", "application/fhir+xml",
     (None, "the answer's XML is nested too deeply to read")),
], ids=["json-untyped", "xml-param", "xml-two-params", "xml+fhir", "text-xml", "xml-as-json",
        "xml-as-json+fhir", "too-deep"])
def test_decode_body_by_declared_type_then_content(content: bytes, media: str,
                                                   expected: tuple[object, str | None]) -> None:
    """A declared XML type (with parameters, or the old xml+fhir) is read as XML; a declared
    JSON type as JSON, whatever the content looks like; otherwise the content decides."""
    assert decode_body(content, media) == expected


def test_answer_without_content_type_is_read_by_its_content() -> None:
    request = httpx.Request("GET", f"{BASE}/Patient/1")
    answer = httpx.Response(200, content=b'{"resourceType": "Patient"}', request=request)
    assert "content-type" not in answer.headers
    assert read_response(answer) == {"resourceType": "Patient"}


# -- the message exchange -------------------------------------------------------------------

def test_resends_take_ids_and_time_from_the_clients_context() -> None:
    """A new envelope per resend, its Bundle.id and timestamp from ``ClientCore(context=)``."""
    message = referral()
    later = AT.replace(hour=11)
    core = ClientCore(BASE, context=BuildContext.seeded(7, at=later))
    exchange = MessageExchange(core, message)
    exchange.start()
    step = exchange.received(httpx.Response(503, request=REQUEST))
    assert isinstance(step, Transmit)
    assert exchange.bundles[1] == resend(message, context=BuildContext.seeded(7, at=later))
    assert json.loads(step.request.content) == exchange.bundles[1]


def test_transient_error_ack_waits_as_its_retry_after_says() -> None:
    exchange, message = _exchange()
    exchange.start()
    step = exchange.received(fhir(200, ack(message, "transient-error"), {"Retry-After": "7"}))
    assert isinstance(step, Transmit) and (step.delay, step.attempt) == (7.0, 2)


def test_last_transient_error_without_words_says_technical_error() -> None:
    exchange, message = _exchange(max_retries=0)
    exchange.start()
    transient = ack(message, "transient-error")
    for entry in transient["entry"]:
        if entry["resource"]["resourceType"] == "OperationOutcome":
            del entry["resource"]["issue"][0]["diagnostics"]
    with pytest.raises(ServerError) as ended:
        exchange.received(fhir(200, transient))
    assert str(ended.value) == (f"MessageHeader {exchange.message_id}: transient-error: the "
                                "receiver had a technical error (after 1 attempts)")


def test_no_acknowledgement_after_a_resend_counts_both_attempts() -> None:
    """An answer that is no acknowledgement (or of another message) after a resend: a
    ServerError with the reason and both transmissions."""
    exchange, _ = _exchange()
    exchange.start()
    exchange.received(httpx.Response(503, request=REQUEST))
    with pytest.raises(ServerError) as unreadable:
        exchange.received(httpx.Response(200, json={"resourceType": "Patient"}, request=REQUEST))
    assert str(unreadable.value) == (f"POST {BASE}/$process-message: HTTP 200: the answer "
                                     "is not a Bundle (after 2 attempts)")
    assert unreadable.value.attempts == 2
    with pytest.raises(ServerError) as wrong:
        exchange.received(httpx.Response(200, json=ack(referral("CASE-2", seed=2)),
                                         request=REQUEST))
    assert wrong.value.attempts == 2


@pytest.mark.parametrize(("error", "named"), [
    (httpx.ConnectError("refused"), f"POST {BASE}/$process-message: cannot connect (refused)"),
    (httpx.ConnectError("refused", request=httpx.Request("POST", "http://proxy.test/x")),
     "POST http://proxy.test/x: cannot connect (refused)"),
    (OSError("network is down"), f"POST {BASE}/$process-message: network is down"),
], ids=["without-request", "with-request", "not-httpx"])
def test_last_failure_names_the_request_that_failed(error: Exception, named: str) -> None:
    """The request the error carries, else the transmission's own."""
    exchange, _ = _exchange(max_retries=0)
    exchange.start()
    with pytest.raises(TransportError) as ended:
        exchange.failed(error)
    assert str(ended.value) == named
