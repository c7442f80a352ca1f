"""Every error as an OperationOutcome: FhirError, the framework's 404/405/422, and internal
errors (500 with a correlation id, never a stack trace in the body).

An internal error is answered by a middleware of our own, not only by Starlette's
``ServerErrorMiddleware``: that one re-raises after answering, and uvicorn then closes the
connection, so a client's next request on the same keep-alive connection was reset.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._fhirio import FhirError, fhir_response, operation_outcome
from .audit import masked_path
from .storage import StoreUnavailable

__all__ = ["install_error_handlers"]

log = logging.getLogger("testservers.national_centre")
RETRY_AFTER_SECONDS = 30

_CODES = {404: "not-found", 405: "not-supported", 406: "not-supported", 413: "too-costly",
          415: "not-supported"}


async def _fhir_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return fhir_response(request, exc.outcome, status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = {404: f"no such endpoint: {request.method} {request.url.path[:100]}",
            405: f"{request.method} is not allowed on {request.url.path[:100]}"}.get(
                exc.status_code, str(exc.detail)[:200])
    outcome = operation_outcome("error", _CODES.get(exc.status_code, "processing"), text)
    return fhir_response(request, outcome, status_code=exc.status_code,
                         headers=dict(exc.headers or {}))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                         for e in exc.errors()[:5])
    return fhir_response(request, operation_outcome("error", "invalid", problems[:500]),
                         status_code=400)


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    """503 + Retry-After when the database cannot take the request (full disk, read-only,
    unreachable): nothing was stored, and a sender retries later (never an ``ok``)."""
    log.error("storage unavailable on %s %s: %s", request.method,
              masked_path(request.url.path)[:100], str(exc)[:300])
    outcome = operation_outcome("error", "transient", "the centre cannot store this now (its "
                                "database is full, read-only or unreachable); nothing of this "
                                "request was stored: try again later")
    return fhir_response(request, outcome, status_code=503,
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _internal_error(request: Request, exc: Exception) -> Response:
    correlation = str(uuid.uuid4())
    log.error("internal error %s on %s %s: %s", correlation, request.method,
              masked_path(request.url.path)[:100], type(exc).__name__)
    outcome = operation_outcome("fatal", "exception", "internal server error; quote "
                                f"correlation id {correlation} when reporting it")
    return fhir_response(request, outcome, status_code=500,
                         headers={"X-Correlation-Id": correlation})


class _InternalErrors:
    """Answers an exception with the 500 OperationOutcome and keeps the connection open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            if started:  # a response cut short: only closing the connection tells the client
                raise
            response = await _internal_error(Request(scope, receive), exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """The handlers, and the internal-error middleware (install it before other middleware:
    it then sits inside them, so they see the 500 as an ordinary response)."""
    app.add_middleware(_InternalErrors)
    app.add_exception_handler(FhirError, _fhir_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(Exception, _internal_error)
