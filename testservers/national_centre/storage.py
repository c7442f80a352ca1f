"""The storage interface of the mock national cancer centre, shared by every backend.

A backend keeps three things, atomically together:

- the **message log**: one row per message (MessageHeader.id, the *letter*) holding the
  serialized acknowledgement returned the first time, and one row per transmission (Bundle.id,
  the *envelope*); both ids are unique keys, which is what makes duplicate detection hold under
  concurrent resends (DOMAIN.md §2(c) point 5);
- the **resources** of accepted messages, versioned (id, version, lastUpdated, JSON);
- a **search index** (identifier, subject/patient, status, class) of current versions, which
  also backs conditional create.

:class:`Store` is the protocol; :mod:`._sqlite` implements it on SQLite, :mod:`._postgres` on
PostgreSQL (:func:`.database.open_store` picks by URL). REST writes (transaction/batch Bundles,
conditional create) go through :meth:`Store.atomic`, which hands a :class:`Transaction` to a
function and commits all its writes or none.

When the database cannot take a request (a full disk, a read-only file, a lost connection),
a store raises :class:`StoreUnavailable` and has stored nothing of it: the server answers
503 with ``Retry-After``, never an ``ok`` acknowledgement nor a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

__all__ = ["SERVER_WRITTEN", "Envelope", "IndexEntry", "MessageFact", "Overview", "Processed",
           "Receipt", "ReceiptKind", "SearchPage", "SearchQuery", "Serialised", "Store",
           "StoreUnavailable", "StoredResource", "TokenParam", "Transaction", "compact_json",
           "composed_json", "index_entries", "now", "rewrite_references", "serialised",
           "split_reference", "texts_rewritten"]

T = TypeVar("T")
ReceiptKind = Literal["processed", "resend", "duplicate", "bundle-id-reused"]
# Resource types only the server writes: the audit trail is append-only, and no client may
# create, update or delete an AuditEvent (only Store.add_audit_events stores them).
SERVER_WRITTEN = frozenset({"AuditEvent"})
# The one JSON form the centre stores and sends: compact, UTF-8 (no \u escapes). One encoder
# for every call: json.dumps with arguments builds a new one each time.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode_string: Callable[[str], str] = json.encoder.encode_basestring


class StoreUnavailable(Exception):
    """The database cannot take this request now (full disk, read-only, unreachable): nothing
    of it was stored. ``str()`` is one line saying why."""


def now() -> str:
    """The current instant in the one fixed-width UTC form stored everywhere (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What reliable messaging keys on, read from a message before it is validated."""

    bundle_id: str
    header_id: str
    event: str | None = None
    sender: str | None = None          # the sender's SOR number
    timestamp: str | None = None       # Bundle.timestamp


def compact_json(value: Any) -> str:
    """The compact JSON text the centre stores and sends (``json.dumps`` with
    ``ensure_ascii=False, separators=(",", ":")``)."""
    return _COMPACT.encode(value)


def composed_json(node: Any, known: Mapping[int, str], *, depth: int = 3) -> str:
    """:func:`compact_json` of ``node``, the texts of the objects in ``known`` (by ``id()``;
    each alive, so no other object has its id) taken as they are: an object's compact text is
    its members' texts joined, so a message Bundle's text is made from its entries' resources'
    texts instead of serialising them again. Objects and arrays are composed ``depth`` levels
    down (Bundle, ``entry``, an entry), below that serialised."""
    text = known.get(id(node))
    if text is not None:
        return text
    if type(node) is str:               # what the encoder does with a string, without it
        return _encode_string(node)
    if depth and isinstance(node, dict) and node and all(type(k) is str for k in node):
        return "{" + ",".join([f"{_encode_string(k)}:{composed_json(v, known, depth=depth - 1)}"
                               for k, v in node.items()]) + "}"
    if depth and isinstance(node, list) and node:
        return "[" + ",".join([composed_json(v, known, depth=depth - 1) for v in node]) + "]"
    return _COMPACT.encode(node)


class Serialised:
    """A resource with its :func:`compact_json` text, made once when a message is received and
    carried through the reference rewrites to the store, which splices ``meta`` into it: no
    resource of a message is serialised twice. ``text`` is always ``resource``'s text.

    A rewritten text is parsed only when ``resource`` is asked for; ``like`` is the resource
    before the rewrite, the same but for ``reference`` values: its type, id, identifier
    values and which elements it has are the resource's own.
    """

    __slots__ = ("_like", "_resource", "text")

    def __init__(self, resource: Mapping[str, Any] | None, text: str, *,
                 like: Mapping[str, Any] | None = None) -> None:
        like = resource if like is None else like
        if like is None:
            raise ValueError("a resource or a resource like it is needed")
        self._resource, self._like, self.text = resource, like, text

    @property
    def resource(self) -> Mapping[str, Any]:
        if self._resource is None:
            self._resource = json.loads(self.text)
        return self._resource

    @property
    def like(self) -> Mapping[str, Any]:
        return self._like


def serialised(resource: Mapping[str, Any] | Serialised) -> Serialised:
    """``resource`` with its text (made now unless it came with it)."""
    if isinstance(resource, Serialised):
        return resource
    return Serialised(resource, _COMPACT.encode(resource))


@dataclass(frozen=True, slots=True)
class Processed:
    """A message processed once: the acknowledgement to keep and what to store with it.

    ``resources`` may come with their text (:class:`Serialised`) or not (it is made then).
    ``kpi`` holds the facts the KPIs need (hashed case keys, strata); never patient data.
    ``reasons`` are short texts for rejected messages (no message content).
    """

    ack: bytes
    ack_code: str
    resources: tuple[Mapping[str, Any] | Serialised, ...] = ()
    kpi: Mapping[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the store did with a transmission.

    ``processed``: first time this message was seen, stored now. ``resend``: this very
    envelope (Bundle.id) was received before. ``duplicate``: a new envelope of a known message.
    For those three ``ack`` is the byte-identical stored acknowledgement.
    ``bundle-id-reused``: a known Bundle.id with a new MessageHeader.id (an error); no ack.
    """

    kind: ReceiptKind
    ack: bytes | None = None
    ack_code: str | None = None


@dataclass(frozen=True, slots=True)
class StoredResource:
    resource_type: str
    id: str
    version: int
    last_updated: str
    json: bytes


@dataclass(frozen=True, slots=True)
class TokenParam:
    """One token/reference search value: ``system`` None matches any system, "" no system."""

    system: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: each tuple of alternatives is OR-ed, the tuples are AND-ed."""

    resource_type: str
    ids: tuple[str, ...] = ()
    tokens: tuple[tuple[str, tuple[TokenParam, ...]], ...] = ()   # (param, alternatives)
    last_updated: tuple[tuple[str, str], ...] = ()                # (SQL operator, instant)
    count: int = 20
    offset: int = 0
    summary_count: bool = False


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    resources: tuple[StoredResource, ...]


@dataclass(frozen=True, slots=True)
class MessageFact:
    """One message of the log, as the KPIs and the dashboard see it."""

    header_id: str
    event: str | None
    sender: str | None
    received: str
    bundle_timestamp: str | None
    ack_code: str
    kpi: Mapping[str, Any]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard's numbers, read from aggregates (never a scan of the message log)."""

    counts: tuple[tuple[str, str, str, int], ...]    # (day, ack code, sender SOR, messages)
    kpis: tuple[tuple[str, str, int, int], ...]      # (month, department SOR, K1, K2)
    months: tuple[str, ...]                          # months with accepted KPI messages
    rejected: tuple[MessageFact, ...]                # the latest rejections, newest first


class Transaction(Protocol):
    """The store inside one atomic unit of REST work (:meth:`Store.atomic`): reads see the
    unit's own writes, and nothing is visible to others before the unit commits."""

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None: ...

    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None: ...

    def search(self, query: SearchQuery) -> SearchPage: ...

    def match(self, query: SearchQuery) -> list[str]:
        """The ids of the current resources matching a conditional-create criterion (at most
        ``query.count``), holding a lock on that criterion until the unit ends: two conditional
        creates of one identifier, or one and a write of a resource carrying that identifier,
        happen one after the other."""

    def put(self, resource: Mapping[str, Any]) -> StoredResource:
        """Create ``resourceType/id``, or store a new version of it (meta set here)."""


class Store(Protocol):
    """Storage of the mock centre; every method is safe to call from several threads."""

    def prior(self, envelope: Envelope) -> Receipt | None:
        """The receipt of an already known envelope or message (recording this transmission),
        or None when the message is new and must be processed."""

    def commit(self, envelope: Envelope, processed: Processed) -> Receipt:
        """Store a processed message, its resources and its ack in one transaction.

        When a concurrent transmission of the same message won the race, nothing is stored
        and the winner's receipt (``duplicate``/``resend``) is returned instead.
        """

    def commit_many(self, messages: Sequence[tuple[Envelope, Processed]]) -> list[Receipt]:
        """:meth:`commit` for several messages in one transaction (bulk loading: a site's
        back catalogue, a benchmark's prefill); one receipt per message, in order."""

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None: ...

    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None: ...

    def search(self, query: SearchQuery) -> SearchPage: ...

    def messages(self, event: str | None = None) -> list[MessageFact]:
        """Every message of the log (first receipts only), oldest first."""

    def transmission_count(self) -> int: ...

    def overview(self, *, rejected: int) -> Overview:
        """The dashboard's aggregates, with the ``rejected`` latest rejections."""

    def atomic(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one database transaction and commit its writes, or none of them when
        it raises. A backend may run ``work`` again after a serialization failure or deadlock,
        so it must act on nothing but the :class:`Transaction` it is given."""

    def use_jti(self, client_id: str, jti: str, expires: str) -> bool:
        """Remember a client assertion's ``jti`` until ``expires`` (an instant in the stored
        form of :func:`now`): True the first time, False for a replay of an unexpired one.
        Expired entries may be forgotten."""

    def add_audit_events(self, events: tuple[Mapping[str, Any], ...]) -> None:
        """Store AuditEvents (each with its ``id``) in one transaction, ``meta.lastUpdated``
        set to the event's ``recorded`` (so ``date`` searches are ``_lastUpdated`` ones)."""

    def close(self) -> None: ...


# -- search index -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IndexEntry:
    param: str
    system: str
    value: str


def index_entries(resource: Mapping[str, Any]) -> list[IndexEntry]:
    """The search index rows of a resource: identifier, status, class, subject and patient.

    References are indexed as (type, id) so ``subject=Patient/1`` and ``subject=1`` both work;
    a ``subject`` that is a Patient is also indexed as ``patient``.
    """
    rows: list[IndexEntry] = []
    for ident in _list(resource.get("identifier")):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            rows.append(IndexEntry("identifier", str(ident.get("system") or ""), ident["value"]))
    status = resource.get("status")
    if isinstance(status, str):
        rows.append(IndexEntry("status", "", status))
    cls = resource.get("class")
    for coding in _list(cls):  # R4 Encounter.class is one Coding
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            rows.append(IndexEntry("class", str(coding.get("system") or ""), coding["code"]))
    for name in ("subject", "patient"):
        for ref in _references(resource.get(name)):
            rows.append(IndexEntry(name, ref[0], ref[1]))
            if name == "subject" and ref[0] == "Patient":
                rows.append(IndexEntry("patient", ref[0], ref[1]))
    outcome = resource.get("outcome")
    if resource.get("resourceType") == "AuditEvent" and isinstance(outcome, str):
        rows.append(IndexEntry("outcome", "", outcome))      # 0, 4, 8 or 12
    return list(dict.fromkeys(rows))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _references(value: Any) -> Iterator[tuple[str, str]]:
    for item in _list(value):
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            parsed = split_reference(item["reference"])
            if parsed is not None:
                yield parsed


def split_reference(reference: str) -> tuple[str, str] | None:
    """("Patient", "1") for ``Patient/1``, ``http://x/fhir/Patient/1`` or
    ``Patient/1/_history/2``; None for references that name no type (``urn:uuid:``)."""
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2 and parts[-2][:1].isupper() and parts[-1]:
        return parts[-2], parts[-1]
    return None


def rewrite_references(node: Any, targets: Mapping[str, str]) -> Any:
    """A copy of ``node`` whose ``reference``s to a key of ``targets`` (a ``urn:uuid`` fullUrl of
    the same Bundle) name the stored ``Type/id`` instead (R4 http.html §3.1.0.11.2).

    Done on the compact JSON text, by C code rather than a walk in Python (every message's
    every resource passes here): quotes inside strings are escaped, so a ``"reference":"…"``
    pair of the text is a ``reference`` key with that string value (or a key ending in an
    escaped quote and "reference", which no FHIR element has)."""
    return json.loads(_rewritten(_COMPACT.encode(node), _rewrites(targets)))


def texts_rewritten(items: Sequence[Serialised], targets: Mapping[str, str]
                    ) -> list[Serialised]:
    """:func:`rewrite_references` for the resources of one Bundle, which carry their text, the
    rewrites worked out once for all of them: the same item when no reference changes, else one
    with the rewritten text (parsed when first needed)."""
    rewrites = _rewrites(targets)
    if not rewrites:
        return list(items)
    out = []
    for item in items:
        text = _rewritten(item.text, rewrites)
        out.append(item if text is item.text else Serialised(None, text, like=item.like))
    return out


def _rewrites(targets: Mapping[str, str]) -> list[tuple[str, str]]:
    encode = _COMPACT.encode
    return [('"reference":' + encode(source), '"reference":' + encode(target))
            for source, target in targets.items()]


def _rewritten(text: str, rewrites: list[tuple[str, str]]) -> str:
    """``text`` with the rewrites made (the very same string when none applies)."""
    for needle, replacement in rewrites:
        if needle in text:
            text = text.replace(needle, replacement)
    return text
