"""FHIR over HTTP at the edge: request bodies, content negotiation, responses, errors.

Every error leaves the server as an OperationOutcome (FHIR R4 §3.1.0.4 "http" page):
:class:`FhirError` carries the status and the outcome; the app's exception handlers turn it,
and every framework error, into an OperationOutcome in the negotiated format.

Both FHIR formats are spoken (R4 §3.1.0.1.10 "Content Types and encodings"): a body in
``application/fhir+xml`` (or ``application/xml``, ``text/xml``) is read into the FHIR JSON form,
the one form handlers, checks and the store know; the answer is written in the format asked
for. How the answer's format is chosen:

=========================================  ===============================================
request says                               answer
=========================================  ===============================================
``_format`` (json, xml or a media type)    that format (it wins over ``Accept``); else 406
``Accept`` naming a JSON or XML type       the best of them by q-value; none supported: 406
no ``Accept``, or only ``*/*``             the format of the request body (XML in, XML
                                           out), JSON when there is no body
=========================================  ===============================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response

from ecanfhir import Issue, formats, to_operation_outcome
from ecanfhir.formats.json_read import parse_json

__all__ = ["FHIR_JSON", "FHIR_XML", "MEDIA_TYPES", "FhirError", "body_issues", "check_accept",
           "fhir_response", "json_depth", "operation_outcome", "read_body",
           "refuse_body_errors"]

Format = Literal["json", "xml"]
FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
# Each media type a client may name (Content-Type, Accept, _format), with the type answered.
_JSON_TYPES = {"application/fhir+json": FHIR_JSON, "application/json+fhir": FHIR_JSON,
               "application/json": "application/json", "text/json": "application/json"}
_XML_TYPES = {"application/fhir+xml": FHIR_XML, "application/xml+fhir": FHIR_XML,
              "application/xml": "application/xml", "text/xml": "text/xml"}
MEDIA_TYPES = {**_JSON_TYPES, **_XML_TYPES}
_FORMATS = {"json": FHIR_JSON, "xml": FHIR_XML, **MEDIA_TYPES}
_DEFAULT = {"json": FHIR_JSON, "xml": FHIR_XML}
_BODY_ISSUES = "ecanfhir_body_issues"
_BODY_FORMAT = "ecanfhir_body_format"


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


def format_of(media_type: str) -> Format:
    """``xml`` for an XML media type, else ``json``."""
    return "xml" if _media_type(media_type) in _XML_TYPES else "json"


def _body_format(request: Request) -> Format | None:
    """The format of the request body by its Content-Type (None when it names none)."""
    content_type = request.headers.get("content-type")
    if content_type is None or not content_type.strip():
        return None
    media = _media_type(content_type)
    if media not in MEDIA_TYPES:
        raise FhirError(415, "not-supported", f"Content-Type {content_type[:100]} is not "
                        "supported: send application/fhir+json or application/fhir+xml")
    return format_of(media)


def response_media_type(request: Request) -> str:
    """The media type to answer with: ``_format`` first, then ``Accept``, then the format of
    the body (406 when neither FHIR format is acceptable)."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        chosen = _FORMATS.get(fmt.strip().lower().replace(" ", "+"))
        if chosen is None:
            raise FhirError(406, "not-supported", f"_format={fmt[:100]} is not supported: "
                            "this server speaks FHIR JSON and FHIR XML")
        return chosen
    accept = request.headers.get("accept", "")
    ranked = sorted(((_quality(part), -n, _media_type(part))
                     for n, part in enumerate(accept.split(",")) if part.strip()), reverse=True)
    for quality, _, media in ranked:
        if quality <= 0:
            continue
        if media in ("*/*", "application/*"):
            break   # anything goes: the body's format
        if media in MEDIA_TYPES:
            return MEDIA_TYPES[media]
    else:
        if ranked:
            raise FhirError(406, "not-supported", f"cannot answer in any of the accepted media "
                            f"types ({accept[:200]}): this server speaks FHIR JSON and FHIR XML")
    body: Format | None = getattr(request.state, _BODY_FORMAT, None)  # as read, if it was
    if body is None:
        try:
            body = _body_format(request)
        except FhirError:
            body = None
    return _DEFAULT[body or "json"]


def _quality(part: str) -> float:
    """The q-value of one Accept entry (1 when absent, 0 when unreadable)."""
    for param in part.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


async def check_accept(request: Request) -> None:
    """406 before the handler runs when neither FHIR format is acceptable (a coroutine: it
    does no blocking work, so FastAPI need not hand it to its thread pool)."""
    response_media_type(request)


async def read_body(request: Request, *, max_bytes: int, max_depth: int) -> Any:
    """The request body in the FHIR JSON form, from FHIR JSON or FHIR XML: 415 for another
    Content-Type, 413 when it is larger than ``max_bytes``, 400 for a body that cannot be read
    (not JSON, not well-formed or hostile XML) or is nested deeper than ``max_depth``.

    Without a Content-Type the body is read by its content (XML starts with ``<``). The
    problems an XML body has that its JSON form cannot show (an element out of order, text
    where none is allowed) are kept for the handler: :func:`body_issues`.
    """
    declared_format = _body_format(request)
    body = await _body_bytes(request, max_bytes)
    if not body.strip():
        raise FhirError(400, "required", "the request has no body: send a FHIR resource")
    fmt: Format = declared_format or ("xml" if formats.looks_like_xml(body) else "json")
    setattr(request.state, _BODY_FORMAT, fmt)
    if fmt == "xml":
        parsed = _read_xml(request, body)
    else:
        parsed, problem = parse_json(body)
        if problem is not None:
            raise FhirError(400, "structure", problem.message)
    if json_depth(parsed) > max_depth:
        raise FhirError(400, "too-costly", f"the {fmt.upper()} is nested deeper than "
                        f"{max_depth} levels")
    if fmt == "xml" or _ODD_ESCAPE.search(body):
        odd = _odd_text(parsed)
        if odd is not None:
            # "\ud800" alone or "\u0000" is valid JSON, but the one is no Unicode text
            # (RFC 8259 §8.2) and FHIR strings exclude the other (R4 datatypes, string):
            # refused like invalid UTF-8, before a Bundle.id holding one reaches the store.
            raise FhirError(400, "structure", f"the {fmt.upper()} holds {odd}")
    return parsed


async def _body_bytes(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_xml(request: Request, body: bytes) -> Any:
    """FHIR XML → the FHIR JSON form; a fatal problem (not well-formed, a DTD or entity, not
    FHIR) is a 400 with the parser's issues, the others are kept for :func:`body_issues`."""
    try:
        parsed, issues = formats.parse_xml(body)
    except RecursionError:  # the reader descends element by element
        raise FhirError(400, "too-costly", "the XML is nested too deeply to read") from None
    if parsed is None or any(issue.severity == "fatal" for issue in issues):
        raise FhirError(400, "structure", _first_text(issues),
                        outcome=to_operation_outcome(issues))
    setattr(request.state, _BODY_ISSUES, list(issues))
    return parsed


def body_issues(request: Request) -> list[Issue]:
    """The problems of an XML request body that its FHIR JSON form does not show."""
    issues: list[Issue] = getattr(request.state, _BODY_ISSUES, [])
    return issues


def refuse_body_errors(request: Request) -> None:
    """422 with the XML body's errors, as an invalid resource is refused (a create, a
    transaction: nothing is stored)."""
    errors = [issue for issue in body_issues(request) if issue.severity in ("error", "fatal")]
    if errors:
        raise FhirError(422, "processing", "invalid resource",
                        outcome=to_operation_outcome(errors))


def _first_text(issues: list[Issue]) -> str:
    return issues[0].message if issues else "the XML cannot be read as a FHIR resource"


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
    """The nesting depth of parsed JSON (a scalar is 0, ``{}`` is 1), without recursion: one
    level of objects and arrays at a time, scalars never queued (a third of the time of a
    walk over every value, on a referral message)."""
    depth, level = 0, [value] if isinstance(value, (dict, list)) else []
    while level:
        depth += 1
        below = []
        for node in level:
            for child in (node.values() if isinstance(node, dict) else node):
                if isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return depth


def dumps(resource: Mapping[str, Any]) -> bytes:
    """The one serialization of resources this server sends (compact UTF-8 JSON)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


def fhir_response(request: Request, body: Mapping[str, Any] | bytes, *, status_code: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    """A FHIR response in the negotiated media type; ``body`` is a resource, or the bytes of
    one in FHIR JSON (sent as they are, or written as FHIR XML when XML was asked for)."""
    try:
        media = response_media_type(request)
    except FhirError:
        media = FHIR_JSON  # errors are still answered, in FHIR JSON
    if format_of(media) == "xml":
        content = _xml_content(json.loads(body) if isinstance(body, bytes) else body)
        if content is None:
            return fhir_response(request, operation_outcome(
                "error", "not-supported", "the answer cannot be written as FHIR XML: ask for "
                "FHIR JSON"), status_code=406)
    else:
        content = body if isinstance(body, bytes) else dumps(body)
    return Response(content, status_code=status_code, headers=dict(headers or {}),
                    media_type=f"{media}; charset=utf-8")


def _xml_content(resource: Mapping[str, Any]) -> bytes | None:
    """The resource as compact FHIR XML; None when it has no XML form."""
    try:
        return str(formats.to_xml(resource, pretty=False)).encode()
    except ValueError:
        pass
    try:
        # Text XML 1.0 cannot carry (a control character a diagnostic quotes from the
        # request) is written as U+FFFD: the answer still says what it says.
        return str(formats.to_xml(_xml_text(resource), pretty=False)).encode()
    except ValueError:
        return None


_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: Any) -> Any:
    """``value`` with every string's non-XML characters (XML 1.0 §2.2 Char) replaced."""
    if isinstance(value, str):
        return _NOT_XML_CHAR.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _xml_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml_text(item) for item in value]
    return value
