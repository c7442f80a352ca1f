"""Assertions shared by the server tests."""

from __future__ import annotations

from typing import Any

import httpx


def outcome_codes(response: httpx.Response) -> list[str]:
    """The issue codes of an OperationOutcome response (fails if the body is not one)."""
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert response.headers["content-type"].startswith("application/fhir+json")
    return [issue["code"] for issue in body["issue"]]


def ack_header(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "message"
    header: dict[str, Any] = body["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "acknowledgement"
    return header


def ack_outcome(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    ref = ack_header(response)["response"]["details"]["reference"]
    return next(e["resource"] for e in body["entry"] if e["fullUrl"] == ref)
