"""FHIR over HTTP at the edge: request bodies, content negotiation, responses, errors.

Every error leaves the server as an OperationOutcome (FHIR R4 §3.1.0.4 "http" page):
:class:`FhirError` carries the status and the outcome; the app's exception handlers turn it,
and every framework error, into ``application/fhir+json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ecanfhir.validation._validator import parse_json

__all__ = ["FHIR_JSON", "FhirError", "check_accept", "fhir_response", "json_depth",
           "operation_outcome", "read_json_body"]

FHIR_JSON = "application/fhir+json"
_JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir", "text/json"}
_FORMATS = {"json": FHIR_JSON, "application/json": "application/json",
            "application/fhir+json": FHIR_JSON, "application/json+fhir": FHIR_JSON}


class FhirError(Exception):
    """An HTTP error answered with an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str, *,
                 headers: Mapping[str, str] | None = None,
                 outcome: Mapping[str, Any] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.headers = dict(headers or {})
        self.outcome = dict(outcome) if outcome is not None else operation_outcome(
            "error", code, diagnostics)


def operation_outcome(severity: str, code: str, diagnostics: str, *,
                      expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def response_media_type(request: Request) -> str:
    """The JSON media type to answer with: ``_format`` first, then ``Accept`` (406 if neither
    allows JSON)."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        chosen = _FORMATS.get(fmt.strip().lower().replace(" ", "+"))
        if chosen is None:
            raise FhirError(406, "not-supported", f"_format={fmt} is not supported: this "
                            "server speaks FHIR JSON only")
        return chosen
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return FHIR_JSON
    for part in accept.split(","):
        media = _media_type(part)
        if not _positive_q(part):
            continue
        if media in ("*/*", "application/*", FHIR_JSON, "application/json+fhir"):
            return FHIR_JSON
        if media in ("application/json", "text/json"):
            return "application/json"
    raise FhirError(406, "not-supported", f"cannot answer in any of the accepted media types "
                    f"({accept[:200]}): this server speaks FHIR JSON only")


def _positive_q(part: str) -> bool:
    for param in part.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value) > 0
            except ValueError:
                return False
    return True


def check_accept(request: Request) -> None:
    response_media_type(request)


async def read_json_body(request: Request, *, max_bytes: int, max_depth: int) -> Any:
    """The request body parsed as JSON: 415 for a non-JSON Content-Type, 413 when it is larger
    than ``max_bytes``, 400 for invalid JSON or nesting deeper than ``max_depth``."""
    content_type = request.headers.get("content-type")
    if content_type is not None and _media_type(content_type) not in _JSON_TYPES:
        raise FhirError(415, "not-supported", f"Content-Type {content_type[:100]} is not "
                        "supported: send application/fhir+json")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise FhirError(400, "required", "the request has no body: send a FHIR resource")
    parsed, problem = parse_json(body)
    if problem is not None:
        raise FhirError(400, "structure", problem.message)
    if json_depth(parsed) > max_depth:
        raise FhirError(400, "too-costly", f"the JSON is nested deeper than {max_depth} levels")
    if _ODD_ESCAPE.search(body):
        odd = _odd_text(parsed)
        if odd is not None:
            # "\ud800" alone or "\u0000" is valid JSON, but the one is no Unicode text
            # (RFC 8259 §8.2) and FHIR strings exclude the other (R4 datatypes, string):
            # refused like invalid UTF-8, before a Bundle.id holding one reaches the store.
            raise FhirError(400, "structure", f"the JSON holds {odd}")
    return parsed


_ODD_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")


def _odd_text(value: Any) -> str | None:
    """What makes a string of parsed JSON unusable, if one is: a lone surrogate or NUL."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and not node.isprintable():
            if "\x00" in node:
                return "a NUL character (\\u0000), which FHIR strings exclude"
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return ("an unpaired UTF-16 surrogate escape (such as \\ud800), which is "
                        "no Unicode character")
    return None


def _too_large(max_bytes: int) -> FhirError:
    return FhirError(413, "too-costly", f"the request body is larger than {max_bytes} bytes")


def json_depth(value: Any) -> int:
    """The nesting depth of parsed JSON (a scalar is 0, ``{}`` is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node)
    return deepest


def dumps(resource: Mapping[str, Any]) -> bytes:
    """The one serialization of resources this server sends (compact UTF-8 JSON)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


def fhir_response(request: Request, body: Mapping[str, Any] | bytes, *, status_code: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    """A FHIR JSON response in the negotiated media type (bytes are sent as they are)."""
    try:
        media = response_media_type(request)
    except FhirError:
        media = FHIR_JSON  # errors are still answered, in FHIR JSON
    content = body if isinstance(body, bytes) else dumps(body)
    return Response(content, status_code=status_code, headers=dict(headers or {}),
                    media_type=f"{media}; charset=utf-8")
