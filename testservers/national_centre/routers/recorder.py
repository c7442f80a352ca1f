"""``/$recorded-requests``: every request the mock centre received, for a site debugging its
sender and for the sender conformance suite.

The conformance suite ``ecan-sender-behaviour`` lets the site's system send to this server and
then asserts on what arrived (right profile, resend keeps MessageHeader.id and changes
Bundle.id, no resend after ``fatal-error``). This module records every request (except its own)
in memory, with the response status and, for FHIR answers, the response body. The names follow
FHIR's ``$operation`` convention at the system level:

- ``GET /$recorded-requests``: a ``history`` Bundle, oldest first; ``entry.resource`` is the
  request body when it was a FHIR resource (FHIR XML shown in its JSON form),
  ``entry.request`` the method and URL, ``entry.response.status`` the status,
  ``entry.response.outcome`` the answer (the acknowledgement of ``$process-message``).
- ``GET /$recorded-requests/{n}``: the raw body of request ``n`` (0-based, as in the Bundle;
  ``-1`` is the last) with its original Content-Type, and the method and URL in
  ``X-Recorded-Method`` / ``X-Recorded-Url``.
- ``DELETE /$recorded-requests``: forget everything (204).

The last 500 requests are kept, each body up to 2 MB. Test harness only: :func:`install` does
nothing unless ``Settings.recorder`` is set (``ecanfhir serve --harness``); otherwise these
paths are unknown (404), and nothing is kept.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from ecanfhir import formats

from .._fhirio import FhirError, fhir_response

__all__ = ["PATH", "Recorder", "install"]

PATH = "/$recorded-requests"
MAX_RECORDS = 500
MAX_KEPT_BYTES = 2 * 1024 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(slots=True)
class Recorded:
    method: str
    url: str
    content_type: str | None
    body: bytes
    status: int = 0
    response_type: str | None = None
    response: bytes = b""


class Recorder:
    """The in-memory log (bounded, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: deque[Recorded] = deque(maxlen=MAX_RECORDS)

    def add(self, record: Recorded) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[Recorded]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


class _Middleware:
    """Pure ASGI middleware: copies the request body and the response as they pass."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(PATH):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        record = Recorded(scope["method"], scope["path"] + (f"?{query}" if query else ""),
                          headers.get("content-type"), b"")
        chunks: list[bytes] = []

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request" and sum(map(len, chunks)) < MAX_KEPT_BYTES:
                chunks.append(message.get("body", b""))
            return message

        async def send_copy(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Logged before the client can see the answer, so a client reading the log
                # right after its request finds it (the body fills in below, also before).
                record.body = b"".join(chunks)
                self.recorder.add(record)
                record.status = int(message["status"])
                for key, value in message.get("headers", ()):
                    if key.decode("latin-1").lower() == "content-type":
                        record.response_type = value.decode("latin-1")
            elif message["type"] == "http.response.body" and len(record.response) < (
                    MAX_KEPT_BYTES):
                record.response += message.get("body", b"")
            await send(message)

        await self.app(scope, receive_copy, send_copy)


router = APIRouter()


def _recorder(request: Request) -> Recorder:
    recorder: Recorder = request.app.state.recorder
    return recorder


@router.get(PATH)
def list_requests(request: Request) -> Response:
    entries = [_entry(r) for r in _recorder(request).all()]
    return fhir_response(request, {"resourceType": "Bundle", "type": "history",
                                   "total": len(entries), "entry": entries})


@router.get(PATH + "/{index}")
def request_body(request: Request, index: int) -> Response:
    records = _recorder(request).all()
    if not -len(records) <= index < len(records):
        raise FhirError(404, "not-found", f"no recorded request {index} "
                        f"({len(records)} recorded)")
    found = records[index]
    return Response(found.body, media_type=found.content_type or "application/octet-stream",
                    headers={"X-Recorded-Method": found.method,
                             "X-Recorded-Url": found.url[:500]})


@router.delete(PATH, status_code=204)
def clear_requests(request: Request) -> Response:
    _recorder(request).clear()
    return Response(status_code=204)


def _entry(record: Recorded) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{uuid.uuid4()}"}
    body = _resource(record.body)
    if isinstance(body, dict) and isinstance(body.get("resourceType"), str):
        entry["resource"] = body
    entry["request"] = {"method": record.method, "url": record.url}
    entry["response"] = {"status": str(record.status)}
    answer = _resource(record.response)
    if isinstance(answer, dict) and isinstance(answer.get("resourceType"), str):
        entry["response"]["outcome"] = answer
    return entry


def _resource(data: bytes) -> Any:
    """A recorded body in the FHIR JSON form, whichever FHIR format it was (None if neither)."""
    if not data.strip():
        return None
    try:
        resource, _issues, _format = formats.read_resource(data)
    except RecursionError:  # XML nested deeper than the reader descends
        return None
    return resource


def install(app: FastAPI, *, enabled: bool) -> None:
    """Record requests on ``app`` and serve ``/$recorded-requests`` when ``enabled``."""
    if not enabled:
        return
    recorder = Recorder()
    app.state.recorder = recorder
    app.add_middleware(_Middleware, recorder=recorder)
    before = len(app.router.routes)
    app.include_router(router)
    # Ahead of the ``/{type}/{id}`` read pattern, which would otherwise take these paths.
    routes = app.router.routes
    routes[:] = routes[before:] + routes[:before]
