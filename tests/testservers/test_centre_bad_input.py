"""Bad input is a 4xx OperationOutcome, never a 500 or a framework body."""

from __future__ import annotations

import json

import pytest
from _centre_assertions import outcome_codes
from _centre_http import AppClient
from _centre_messages import referral

FHIR = {"Content-Type": "application/fhir+json"}
MESSAGE = json.dumps(referral("CASE-1", seed=1))


def _message_with(**changes: object) -> str:
    bundle = json.loads(MESSAGE)
    bundle.update(changes)
    return json.dumps(bundle)


def _no_header_first() -> str:
    bundle = json.loads(MESSAGE)
    bundle["entry"] = bundle["entry"][1:]
    return json.dumps(bundle)


def _ack_posted() -> str:
    bundle = json.loads(MESSAGE)
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "acknowledgement"
    return json.dumps(bundle)


CASES = [
    ("not json", "{not json", FHIR, 400, "structure"),
    ("empty body", "", FHIR, 400, "required"),
    ("duplicate keys", '{"resourceType": "Bundle", "resourceType": "Bundle"}', FHIR, 400,
     "structure"),
    ("NaN", '{"resourceType": "Bundle", "total": NaN}', FHIR, 400, "structure"),
    ("array", "[]", FHIR, 400, "invalid"),
    ("patient", '{"resourceType": "Patient"}', FHIR, 400, "invalid"),
    ("collection", _message_with(type="collection"), FHIR, 400, "invalid"),
    ("no header first", _no_header_first(), FHIR, 400, "structure"),
    ("no bundle id", _message_with(id=None), FHIR, 400, "required"),
    ("no entries", _message_with(entry=[]), FHIR, 400, "structure"),
    ("ack posted", _ack_posted(), FHIR, 422, "business-rule"),
    ("text content type", MESSAGE, {"Content-Type": "text/plain"}, 415, "not-supported"),
    ("form content type", MESSAGE, {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "not-supported"),
    ("html accepted only", MESSAGE, {**FHIR, "Accept": "text/html"}, 406, "not-supported"),
    ("deep nesting", '{"resourceType": "Bundle", "x": ' + "[" * 60 + "]" * 60 + "}", FHIR, 400,
     "too-costly"),
    ("nesting past the parser", "[" * 90_000 + "]" * 90_000, FHIR, 400, "structure"),
    ("huge body", '{"resourceType": "Bundle", "x": "' + "a" * 300_000 + '"}', FHIR, 413,
     "too-costly"),
]


@pytest.mark.parametrize(("body", "headers", "status", "code"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("path", ["/$process-message", "/Bundle"])
def test_bad_message_input(client: AppClient, path: str, body: str, headers: dict[str, str],
                           status: int, code: str) -> None:
    response = client.post(path, content=body.encode(), headers=headers)
    assert response.status_code == status, response.text
    assert outcome_codes(response)[0] == code


def test_format_parameter_asking_for_html_is_406(client: AppClient) -> None:
    response = client.get("/metadata?_format=html")
    assert response.status_code == 406
    assert outcome_codes(response) == ["not-supported"]


def test_accept_json_is_answered_as_json(client: AppClient) -> None:
    response = client.get("/metadata", headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/no/such/endpoint/here", 404, "not-found"),
    ("DELETE", "/metadata", 405, "not-supported"),
    ("GET", "/NotAType/1", 404, "not-supported"),
    ("GET", "/Patient/" + "x" * 65, 400, "invalid"),
    ("GET", "/Patient/unknown", 404, "not-found"),
    ("GET", "/Patient/unknown/_history/abc", 404, "not-found"),
    ("GET", "/Patient?_count=-1", 400, "invalid"),
    ("GET", "/Patient?_lastUpdated=gtyesterday", 400, "invalid"),
    ("GET", "/Patient?_lastUpdated=ne2026", 400, "not-supported"),
    ("GET", "/Patient?identifier:missing=true", 400, "not-supported"),
    ("GET", "/Patient?_summary=text", 400, "not-supported"),
    ("GET", "/Measure/ecan-kpi-cancer-cases/$evaluate-measure", 400, "required"),
    ("GET", "/Measure/ecan-kpi-cancer-cases/$evaluate-measure?periodStart=x&periodEnd=2026",
     400, "invalid"),
    ("GET", "/Measure/unknown/$evaluate-measure?periodStart=2026&periodEnd=2026", 404,
     "not-found"),
])
def test_bad_rest_input(client: AppClient, method: str, path: str, status: int,
                        code: str) -> None:
    response = client.request(method, path)
    assert response.status_code == status, response.text
    assert outcome_codes(response) == [code]


def test_strict_handling_refuses_unknown_search_parameters(client: AppClient) -> None:
    assert client.get("/Patient?foo=bar").status_code == 200
    strict = client.get("/Patient?foo=bar", headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and outcome_codes(strict) == ["not-supported"]


def test_internal_error_is_a_500_outcome_with_correlation_id(client: AppClient,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             app: object) -> None:
    def boom(*_args: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.state.services.store, "read", boom)  # type: ignore[attr-defined]
    response = client.get("/Patient/x")
    assert response.status_code == 500
    assert outcome_codes(response) == ["exception"]
    correlation = response.headers["x-correlation-id"]
    assert correlation in response.text and "secret" not in response.text
    assert "Traceback" not in response.text
