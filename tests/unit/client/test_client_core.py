"""The sans-IO core: the requests it builds, how it reads answers and acknowledgements; and
the REST calls of Client and AsyncClient over respx."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from _client_support import BASE, HarnessFactory, ack, fhir, outcome, referral

from ecanfhir.client import (
    ClientCore,
    RetryPolicy,
    ServerError,
    TransportError,
    parse_acknowledgement,
    read_response,
)

CORE = ClientCore(BASE + "/")


def test_requests_built() -> None:
    """Each interaction's method, URL, headers and body."""
    message = CORE.message_request({"resourceType": "Bundle", "type": "message"})
    assert (message.method, str(message.url)) == ("POST", f"{BASE}/$process-message")
    assert message.headers["Content-Type"] == "application/fhir+json"
    assert message.headers["Accept"] == "application/fhir+json"
    assert json.loads(message.content) == {"resourceType": "Bundle", "type": "message"}
    assert str(CORE.metadata_request().url) == f"{BASE}/metadata"
    search = CORE.search_request("Encounter", {"class": "VR", "date": ["ge2026", "lt2027"]})
    assert str(search.url) == f"{BASE}/Encounter?class=VR&date=ge2026&date=lt2027"
    transaction = CORE.transaction_request({"resourceType": "Bundle", "type": "transaction"})
    assert (transaction.method, str(transaction.url)) == ("POST", BASE)
    validate = CORE.validate_request({"resourceType": "Patient"}, profile="http://p")
    assert str(validate.url) == f"{BASE}/Patient/$validate?profile=http%3A%2F%2Fp"
    assert str(CORE.validate_request({}).url) == f"{BASE}/$validate"
    measure = CORE.evaluate_measure_request("ecan-kpi-cancer-cases", period_start="2026",
                                            period_end="2027")
    assert str(measure.url) == (f"{BASE}/Measure/ecan-kpi-cancer-cases/$evaluate-measure"
                                "?periodStart=2026&periodEnd=2027")


def test_next_page_request() -> None:
    """Paging follows Bundle.link[next], absolute or relative; none on the last page."""
    absolute = {"link": [{"relation": "self", "url": "x"},
                         {"relation": "next", "url": "http://other/Patient?page=2"}]}
    assert str(CORE.next_page_request(absolute).url) == "http://other/Patient?page=2"  # type: ignore[union-attr]
    relative = {"link": [{"relation": "next", "url": "Patient?page=2"}]}
    assert str(CORE.next_page_request(relative).url) == f"{BASE}/Patient?page=2"  # type: ignore[union-attr]
    assert CORE.next_page_request({"link": [{"relation": "self", "url": "x"}]}) is None


def test_read_response_without_outcome() -> None:
    """An error without an OperationOutcome still raises ServerError (outcome None)."""
    request = httpx.Request("GET", f"{BASE}/x")
    with pytest.raises(ServerError, match="HTTP 502: Bad Gateway") as info:
        read_response(httpx.Response(502, text="<html>", request=request))
    assert info.value.outcome is None
    assert read_response(httpx.Response(204, request=request)) == {}


def test_parse_acknowledgement_of_builder_output() -> None:
    """The builders' fatal-error acknowledgement parses with its OperationOutcome."""
    message = referral()
    parsed = parse_acknowledgement(ack(message, "fatal-error", "bad CPR"))
    assert parsed.code == "fatal-error"
    assert parsed.message_id == message["entry"][0]["resource"]["id"]
    assert parsed.issues[0]["diagnostics"] == "bad CPR"
    assert parse_acknowledgement(ack(message)).outcome is None


@pytest.mark.parametrize("bundle", [
    None, {"resourceType": "Bundle"},
    {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MessageHeader"}}]},
    {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MessageHeader", "response": {"identifier": "m", "code": "maybe"}}}]},
    {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MessageHeader", "response": {"code": "ok"}}}]}],
    ids=["none", "empty", "no-response", "bad-code", "no-identifier"])
def test_parse_acknowledgement_refuses(bundle: object) -> None:
    with pytest.raises(ValueError):
        parse_acknowledgement(bundle)


def test_retry_policy_decisions() -> None:
    """Which failures the policy resends."""
    policy = RetryPolicy(random=lambda: 1.0)
    request = httpx.Request("POST", BASE)
    assert policy.delay(1, error=httpx.ConnectTimeout("t")) == 1.0
    assert policy.delay(1, error=httpx.UnsupportedProtocol("ftp")) is None
    assert policy.delay(2, response=httpx.Response(502, request=request)) == 2.0
    assert policy.delay(1, response=httpx.Response(404, request=request)) is None
    assert policy.delay(3, response=httpx.Response(503, request=request)) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)


def test_rest_calls(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """read, metadata, transaction, $validate and $evaluate-measure return the FHIR body."""
    mock.get(f"{BASE}/Patient/p1").mock(return_value=fhir(200, {"resourceType": "Patient"}))
    mock.get(f"{BASE}/metadata").mock(return_value=fhir(200, {
        "resourceType": "CapabilityStatement"}))
    mock.post(BASE).mock(return_value=fhir(200, {"resourceType": "Bundle",
                                                 "type": "transaction-response"}))
    mock.post(f"{BASE}/Patient/$validate").mock(return_value=fhir(200, outcome("x")))
    mock.get(f"{BASE}/Measure/k1/$evaluate-measure").mock(return_value=fhir(200, {
        "resourceType": "MeasureReport"}))
    h = harness()
    assert h.call("read", "Patient", "p1")["resourceType"] == "Patient"
    assert h.call("metadata")["resourceType"] == "CapabilityStatement"
    assert h.call("transaction", {"resourceType": "Bundle", "type": "transaction"})[
        "type"] == "transaction-response"
    assert h.call("validate", {"resourceType": "Patient"})["resourceType"] == "OperationOutcome"
    assert h.call("evaluate_measure", "k1", period_start="2026", period_end="2026")[
        "resourceType"] == "MeasureReport"


def test_read_not_found(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """404 raises ServerError with the OperationOutcome, and is not retried."""
    route = mock.get(f"{BASE}/Patient/nope").mock(
        return_value=fhir(404, outcome("no Patient/nope", "not-found")))
    with pytest.raises(ServerError, match="no Patient/nope") as info:
        harness().call("read", "Patient", "nope")
    assert info.value.outcome is not None and route.call_count == 1


def test_connection_refused_is_transport_error(harness: HarnessFactory,
                                               mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/metadata").mock(side_effect=httpx.ConnectError("[Errno 111] refused"))
    with pytest.raises(TransportError, match="cannot connect"):
        harness().call("metadata")


def test_search_all_follows_pages(harness: HarnessFactory, mock: respx.MockRouter) -> None:
    """search_all yields every entry of every page; search/next_page go one page at a time."""
    def page(ids: list[str], nxt: str | None) -> httpx.Response:
        links = [{"relation": "next", "url": nxt}] if nxt else []
        return fhir(200, {"resourceType": "Bundle", "type": "searchset", "link": links,
                          "entry": [{"resource": {"resourceType": "Patient", "id": i}}
                                    for i in ids]})
    mock.get(f"{BASE}/Patient", params={"page": "2"}).mock(
        return_value=page(["c"], f"{BASE}/Patient?page=3"))
    mock.get(f"{BASE}/Patient", params={"page": "3"}).mock(return_value=page(["d"], None))
    mock.get(f"{BASE}/Patient").mock(return_value=page(["a", "b"], f"{BASE}/Patient?page=2"))
    resources = harness().call("search_all", "Patient", {"gender": "male"})
    assert [r["id"] for r in list(resources)] == ["a", "b", "c", "d"]
    h = harness()
    first = h.call("search", "Patient")
    assert h.call("next_page", first)["entry"][0]["resource"]["id"] == "c"
