"""An R4 AuditEvent per exchange (FHIR R4 §6.4 AuditEvent, IHE BALP-like), searchable with
``GET /AuditEvent?date=…&outcome=…``.

:class:`AuditMiddleware` (pure ASGI) opens an :class:`Exchange` for each request; the auth
dependency and :class:`AuditedMessageService` fill in the client id and the message ids; when
the last byte of the response is sent, the event is built and handed to :class:`AuditRecorder`,
which stores it before the exchange ends (concurrent exchanges share one transaction).

An event names the client and the server (agents), the centre (source) and the exchanged
resources by id only (entity: Bundle.id and MessageHeader.id of a message, ``Type/id`` of a
read). Never patient data: no query strings (they may hold a CPR number), no bodies.

Also here: the uvicorn access log filter that drops query strings for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ecanfhir import Issue

from ._fhirio import FhirError
from ._kpifacts import SOR_SYSTEM
from .messaging import MessageService, Reply, envelope_of
from .search import parse_search
from .settings import Settings
from .storage import SearchQuery, Store, TokenParam, now

__all__ = ["CPR_LIKE", "AuditMiddleware", "AuditRecorder", "AuditedMessageService", "Exchange",
           "QueryStringFilter", "audit_event", "current_exchange", "masked_path",
           "parse_audit_search"]

log = logging.getLogger("testservers.national_centre")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# A Danish CPR number (DDMMYY-SSSS): never logged nor audited, even as a resource id.
CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


def masked_path(path: str) -> str:
    """A request path fit for a log: no query string, CPR-like numbers masked.

    >>> masked_path("/Patient/2512489996/_history/2?identifier=x")
    '/Patient/[number removed]/_history/2'
    """
    return CPR_LIKE.sub("[number removed]", path.split("?", 1)[0])


def _safe_id(value: str) -> str | None:
    return value if _ID.fullmatch(value) and not CPR_LIKE.search(value) else None


@dataclass(slots=True)
class Exchange:
    """What one request's handlers learn for its AuditEvent (mutable, one per request)."""

    client_id: str | None = None
    sender: str | None = None
    bundle_id: str | None = None
    header_id: str | None = None
    ack_code: str | None = None


_current: ContextVar[Exchange | None] = ContextVar("ecan_exchange", default=None)


def current_exchange() -> Exchange | None:
    """The exchange of the request being handled (None outside the audit middleware)."""
    return _current.get()


class AuditedMessageService(MessageService):
    """The message receiver, noting the message ids and the ack code on the exchange."""

    def receive(self, bundle: Any, format_issues: Sequence[Issue] = ()) -> Reply:
        exchange = _current.get()
        if exchange is not None:
            with contextlib.suppress(FhirError):   # receive() raises it again
                envelope = envelope_of(bundle)
                exchange.bundle_id, exchange.header_id = envelope.bundle_id, envelope.header_id
                exchange.sender = envelope.sender
        reply = super().receive(bundle, format_issues)
        if exchange is not None:
            exchange.ack_code = reply.ack_code
        return reply


# -- the event --------------------------------------------------------------------------------

def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _classify(method: str, path: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """(type, subtype, action) of a request."""
    parts = [p for p in path.split("/") if p]
    rest = _coding(EVENT_TYPE, "rest", "RESTful Operation")
    if parts == ["auth", "token"]:
        return (_coding(DCM, "110114", "User Authentication"),
                [_coding(DCM, "110122", "Login")], "E")
    if parts == ["$process-message"] or (method == "POST" and parts == ["Bundle"]):
        return (_coding(LIFECYCLE, "transmit", "Transmit Record Lifecycle Event"),
                [_coding(INTERACTION, "operation", "$process-message")], "C")
    if parts == ["metadata"]:
        return rest, [_coding(INTERACTION, "capabilities", "capabilities")], "R"
    operation = next((p for p in parts if p.startswith("$")), None)
    if operation is not None:
        return rest, [_coding(INTERACTION, "operation", operation[:40])], "E"
    if not parts:
        return rest, [_coding(INTERACTION, "transaction", "transaction")], "E"
    if method == "GET" and len(parts) == 1:
        return rest, [_coding(INTERACTION, "search-type", "search-type")], "E"
    if method == "GET" and len(parts) == 4 and parts[2] == "_history":
        return rest, [_coding(INTERACTION, "vread", "vread")], "R"
    if method == "GET":
        return rest, [_coding(INTERACTION, "read", "read")], "R"
    return rest, [_coding(INTERACTION, "create", "create")], "C"


def _entities(method: str, path: str, exchange: Exchange) -> list[dict[str, Any]]:
    def entity(rtype: str, rid: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": _coding(RESOURCE_TYPES, rtype, rtype)}
        if rid is not None:
            out["what"] = {"reference": f"{rtype}/{rid}"}
        return out

    if exchange.bundle_id is not None and exchange.header_id is not None:
        return [entity("Bundle", _safe_id(exchange.bundle_id)),
                entity("MessageHeader", _safe_id(exchange.header_id))]
    parts = [p for p in path.split("/") if p]
    if not parts or not parts[0][:1].isupper() or (parts[0] == "Bundle" and method == "POST"):
        return []
    rid = _safe_id(parts[1]) if len(parts) >= 2 else None
    return [entity(parts[0][:64], rid)]


def _outcome(status: int, ack_code: str | None) -> str:
    if status >= 500 or ack_code == "transient-error":
        return "8"
    if status >= 400 or ack_code == "fatal-error":
        return "4"
    return "0"


def audit_event(settings: Settings, exchange: Exchange, *, method: str, path: str,
                status: int, client_address: str | None) -> dict[str, Any]:
    """The AuditEvent of one finished exchange."""
    kind, subtype, action = _classify(method, path)
    centre = settings.centre
    server_ref = {"identifier": {"system": SOR_SYSTEM, "value": centre.sor},
                  "display": centre.name}
    if exchange.client_id is not None:
        who: dict[str, Any] = {"identifier": {"system": settings.base_url.rstrip("/") +
                                              "/auth/clients", "value": exchange.client_id}}
    elif exchange.sender is not None:
        who = {"identifier": {"system": SOR_SYSTEM, "value": exchange.sender}}
    else:
        who = {"display": "unauthenticated client"}
    client: dict[str, Any] = {"type": {"coding": [_coding(DCM, "110153", "Source Role ID")]},
                              "who": who, "requestor": True}
    if client_address:
        client["network"] = {"address": client_address[:64], "type": "2"}
    outcome_text = f"HTTP {status}" + (f", acknowledgement {exchange.ack_code}"
                                       if exchange.ack_code else "")
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": str(uuid.uuid4()), "type": kind,
        "subtype": subtype, "action": action, "recorded": now(),
        "outcome": _outcome(status, exchange.ack_code), "outcomeDesc": outcome_text,
        "agent": [client, {
            "type": {"coding": [_coding(DCM, "110152", "Destination Role ID")]},
            "who": server_ref, "requestor": False,
            "network": {"address": (urlsplit(settings.base_url).hostname or "")[:64] or
                        "localhost", "type": "1"}}],
        "source": {"site": centre.name, "observer": server_ref,
                   "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                    "4", "Application Server")]},
    }
    entities = _entities(method, path, exchange)
    if entities:
        event["entity"] = entities
    return event


# -- recording --------------------------------------------------------------------------------

class AuditRecorder:
    """Stores AuditEvents with group commit, from a writer thread of its own.

    A caller hands its event over and waits until the transaction holding it is committed,
    so an event is stored before its exchange ends, as a caller storing it itself would have
    it. The writer takes every event handed over since its last transaction into the next one:
    one transaction (and one sync of the log) for all the exchanges that ended meanwhile. An
    exchange of the event loop waits without a thread of the pool (:meth:`arecord`): the
    writer wakes each loop once per transaction, whatever the number of its events in it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[_Handed] = []
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closed = False

    def record(self, event: dict[str, Any]) -> None:
        """Store one event; returns once it is stored (or could not be)."""
        done = threading.Event()
        self._hand_over(_Handed(event, done))
        done.wait()

    async def arecord(self, event: dict[str, Any]) -> None:
        """:meth:`record` for a coroutine of the running event loop."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._hand_over(_Handed(event, future))
        await future

    def close(self) -> None:
        """Store what is handed over, then stop the writer (later events are stored by the
        caller's thread)."""
        with self._wake:
            self._closed = True
            writer, self._writer = self._writer, None
            self._wake.notify()
        if writer is not None:
            writer.join(timeout=30)

    def _hand_over(self, handed: _Handed) -> None:
        with self._wake:
            if not self._closed:
                self._pending.append(handed)
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write, daemon=True,
                                                    name="ecan-audit-writer")
                    self._writer.start()
                self._wake.notify()
                return
        self._store([handed])  # closed: as the caller would store it itself

    def _write(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                batch, self._pending = self._pending, []
                if not batch and self._closed:
                    return
            self._store(batch)

    def _store(self, batch: list[_Handed]) -> None:
        try:
            self.store.add_audit_events(tuple(h.event for h in batch))
        except Exception as exc:  # auditing must never take the server down
            log.error("could not store %d audit events: %s", len(batch), type(exc).__name__)
        finally:
            _release(batch)


@dataclass(slots=True)
class _Handed:
    """An event handed to the writer, and how its caller learns that it is stored: a
    threading.Event, or a future of an event loop."""

    event: dict[str, Any]
    done: threading.Event | asyncio.Future[None]


def _release(batch: list[_Handed]) -> None:
    """Let the callers of a stored batch go on: one wake-up per event loop."""
    futures: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for handed in batch:
        if isinstance(handed.done, threading.Event):
            handed.done.set()
        else:
            futures.setdefault(handed.done.get_loop(), []).append(handed.done)
    for loop, waiting in futures.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # (a cancelled request's future)
            future.set_result(None)


class AuditMiddleware:
    """Records an AuditEvent for every HTTP exchange but the dashboard page."""

    def __init__(self, app: ASGIApp, *, settings: Settings, recorder: AuditRecorder) -> None:
        self.app = app
        self.settings = settings
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope.get("path") in ("/", "/favicon.ico"):
            await self.app(scope, receive, send)
            return
        exchange, status = Exchange(), [500]
        client = scope.get("client")
        method, path = str(scope.get("method")), str(scope.get("path"))

        async def audited_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        token = _current.set(exchange)
        try:
            await self.app(scope, receive, audited_send)
        finally:
            _current.reset(token)
            # After the response: the event is stored before the exchange is over.
            event = audit_event(self.settings, exchange, method=method, path=path,
                                status=status[0],
                                client_address=str(client[0]) if client else None)
            await self.recorder.arecord(event)


# -- search -----------------------------------------------------------------------------------

def parse_audit_search(params: Sequence[tuple[str, str]], *, default_count: int,
                       max_count: int, strict: bool) -> tuple[SearchQuery,
                                                              list[tuple[str, str]]]:
    """AuditEvent search: ``date`` (AuditEvent.recorded, kept as the event's lastUpdated)
    and ``outcome`` on top of the common parameters; 400 for bad values."""
    outcomes: list[TokenParam] = []
    rest: list[tuple[str, str]] = []
    for name, value in params:
        if name == "outcome":
            codes = [v.partition("|")[2] if "|" in v else v for v in value.split(",")]
            if not all(c in ("0", "4", "8", "12") for c in codes):
                raise FhirError(400, "invalid", f"outcome={value[:20]}: the codes are 0, 4, 8 "
                                "and 12")
            outcomes.extend(TokenParam(None, c) for c in codes)
        else:
            rest.append(("_lastUpdated" if name == "date" else name, value))
    query, used = parse_search("AuditEvent", rest, default_count=default_count,
                               max_count=max_count, strict=strict)
    dated = any(name == "date" for name, _ in params)
    used = [("date" if dated and name == "_lastUpdated" else name, value)
            for name, value in used]
    if outcomes:
        query = replace(query, tokens=(*query.tokens, ("outcome", tuple(outcomes))))
        used.append(("outcome", ",".join(t.value or "" for t in outcomes)))
    return query, used


# -- logs -------------------------------------------------------------------------------------

class QueryStringFilter(logging.Filter):
    """Drops the query string from uvicorn access log lines (a search may carry a CPR number
    in ``identifier=``) and masks CPR-like numbers in the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], masked_path(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Add :class:`QueryStringFilter` to the ``uvicorn.access`` logger (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryStringFilter) for f in logger.filters):
        logger.addFilter(QueryStringFilter())
