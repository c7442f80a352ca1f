"""The PostgreSQL store (psycopg 3): the same :class:`~.storage.Store` as :mod:`._sqlite`, for
deployments that run several server processes on one database.

PostgreSQL runs its transactions concurrently (READ COMMITTED here), so where SQLite's
``BEGIN IMMEDIATE`` serializes every writer, this store serializes only the writers that touch
the same thing, with transaction-scoped advisory locks taken *before* the check they protect:

- ``message:`` MessageHeader.id and ``envelope:`` Bundle.id: duplicate detection (DOMAIN.md
  §2(c) point 5): two transmissions of one message, or two messages in one envelope, are
  classified one after the other; the later one's fresh snapshot sees the earlier's commit;
- ``resource:`` type/id: version numbering of concurrent updates of one resource;
- ``identifier:`` type|value: conditional create (``ifNoneExist``/``If-None-Exist``) takes it
  before its search, every write of a resource carrying that identifier takes it too.

The UNIQUE keys (``messages.header_id``, ``transmissions.bundle_id``, resource versions) stay
the last line: a unique violation, like a deadlock or a serialization failure, rolls the
transaction back and runs it again, where the locks then classify it correctly.

A database that cannot take a request (``disk_full``, a read-only transaction, a lost
connection) raises :class:`~.storage.StoreUnavailable`; the transaction is rolled back.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import psycopg
from psycopg import errors

from ._aggregates import SCHEMA as AGGREGATES
from ._aggregates import backfill, overview
from ._sql import (
    InsertMany,
    classify,
    message_facts,
    put_resource,
    put_resources,
    read_resource,
    record_message,
    search_resources,
    search_where,
    transmission_count,
    vread_resource,
)
from .masterdata import master_data
from .storage import (
    Envelope,
    MessageFact,
    Overview,
    Processed,
    Receipt,
    SearchPage,
    SearchQuery,
    Serialised,
    StoredResource,
    StoreUnavailable,
    Transaction,
    index_entries,
    now,
    serialised,
)

__all__ = ["PostgresStore"]

T = TypeVar("T")
P = ParamSpec("P")
RETRIES = 8
_RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected, errors.UniqueViolation)
# Class 53 (insufficient resources: disk_full...), 57/08 (shutdown, lost connection) are
# OperationalErrors; a standby or a read-only default_transaction_read_only is 25006.
_UNAVAILABLE = (psycopg.OperationalError, errors.ReadOnlySqlTransaction)


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """``method`` with the database's "cannot now" errors raised as StoreUnavailable."""
    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except _UNAVAILABLE as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreUnavailable("the PostgreSQL database cannot take this request now: "
                                   f"{reason}") from exc
    return guarded

# "C" collation: text sorts by code point, as in SQLite (the instants sort as text).
SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    header_id TEXT COLLATE "C" PRIMARY KEY,
    bundle_id TEXT COLLATE "C" NOT NULL UNIQUE,
    event TEXT, sender TEXT,
    received TEXT COLLATE "C" NOT NULL, bundle_timestamp TEXT,
    ack_code TEXT NOT NULL, ack BYTEA NOT NULL,
    kpi TEXT NOT NULL, reasons TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transmissions (
    bundle_id TEXT COLLATE "C" PRIMARY KEY,
    header_id TEXT COLLATE "C" NOT NULL REFERENCES messages(header_id),
    received TEXT NOT NULL,
    kind TEXT NOT NULL,
    resends INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected_transmissions (
    seq BIGSERIAL PRIMARY KEY,
    bundle_id TEXT NOT NULL, header_id TEXT NOT NULL,
    received TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_versions (
    type TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT COLLATE "C" NOT NULL, json BYTEA NOT NULL,
    PRIMARY KEY (type, id, version)
);
CREATE TABLE IF NOT EXISTS resources (
    type TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS resources_by_time ON resources (type, last_updated, id);
CREATE TABLE IF NOT EXISTS search_index (
    type TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, param TEXT NOT NULL,
    system TEXT COLLATE "C" NOT NULL, value TEXT COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS search_by_value ON search_index (type, param, value, system);
CREATE INDEX IF NOT EXISTS search_by_owner ON search_index (type, id);
CREATE TABLE IF NOT EXISTS used_jtis (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE TABLE IF NOT EXISTS centre_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class PostgresStore:
    """:class:`~.storage.Store` on one PostgreSQL database (or schema, via ``search_path``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        try:
            conn = self._conn()
            with conn.transaction():
                # One creator at a time: CREATE TABLE IF NOT EXISTS races with itself.
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('schema', 0))")
                conn.execute(SCHEMA)
                conn.execute(AGGREGATES)
                backfill(conn.execute, "%s")
        except psycopg.Error as exc:
            self.close()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreUnavailable(f"cannot open the PostgreSQL database: {reason}") from exc

    # -- connections ------------------------------------------------------------------------

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.url, autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` in a transaction, run again after a deadlock, serialization failure or
        unique violation (the advisory locks make the retry see the winner's commit)."""
        conn = self._conn()
        for attempt in range(RETRIES):
            try:
                with conn.transaction():
                    return work(conn)
            except _RETRYABLE:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- messages -----------------------------------------------------------------------------

    @_guarded
    def prior(self, envelope: Envelope) -> Receipt | None:
        # Read first without locks: most messages are new.
        known = self._conn().execute(
            "SELECT 1 FROM transmissions WHERE bundle_id = %s UNION ALL "
            "SELECT 1 FROM messages WHERE header_id = %s",
            (envelope.bundle_id, envelope.header_id)).fetchone()
        if known is None:
            return None

        def classify(conn: psycopg.Connection[Any]) -> Receipt | None:
            _lock(conn, _envelope_keys(envelope))
            return self._classify(conn, envelope)

        return self._run(classify)

    @_guarded
    def commit(self, envelope: Envelope, processed: Processed) -> Receipt:
        return self._run(lambda conn: self._store(conn, envelope, processed))

    @_guarded
    def commit_many(self, messages: Sequence[tuple[Envelope, Processed]]) -> list[Receipt]:
        return self._run(lambda conn: [self._store(conn, envelope, processed)
                                       for envelope, processed in messages])

    def _store(self, conn: psycopg.Connection[Any], envelope: Envelope,
               processed: Processed) -> Receipt:
        keys = _envelope_keys(envelope)
        items = [serialised(r) for r in processed.resources]
        keys += [key for item in items for key in _resource_keys(item.like)]
        _lock(conn, keys)
        earlier = self._classify(conn, envelope)
        if earlier is not None:
            return earlier
        received = now()
        record_message(conn.execute, envelope, processed, received, "%s")
        put_resources(conn.execute, _insert_many(conn), master_data(
            items, _PostgresTransaction(conn)), received, "%s")   # locked above
        return Receipt("processed", processed.ack, processed.ack_code)

    def _classify(self, conn: psycopg.Connection[Any], envelope: Envelope) -> Receipt | None:
        """DOMAIN.md §2(c) point 5, under the envelope's advisory locks."""
        return classify(conn.execute, envelope, "%s")

    @_guarded
    def messages(self, event: str | None = None) -> list[MessageFact]:
        return message_facts(self._conn().execute, event, "%s")

    @_guarded
    def transmission_count(self) -> int:
        return transmission_count(self._conn().execute)

    @_guarded
    def overview(self, *, rejected: int) -> Overview:
        return overview(self._conn().execute, "%s", rejected=rejected)

    @_guarded
    def use_jti(self, client_id: str, jti: str, expires: str) -> bool:
        def use(conn: psycopg.Connection[Any]) -> bool:
            conn.execute("DELETE FROM used_jtis WHERE expires < %s", (now(),))
            # ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to end,
            # so of two replays racing exactly one gets rowcount 1.
            cursor = conn.execute("INSERT INTO used_jtis (client_id, jti, expires) VALUES "
                                  "(%s,%s,%s) ON CONFLICT DO NOTHING", (client_id, jti, expires))
            return cursor.rowcount == 1

        return self._run(use)

    @_guarded
    def add_audit_events(self, events: tuple[Mapping[str, Any], ...]) -> None:
        def add(conn: psycopg.Connection[Any]) -> None:
            for event in events:
                _put(conn, event, str(event["recorded"]), locked=False, audit=True)

        self._run(add)

    # -- resources ----------------------------------------------------------------------------

    @_guarded
    def atomic(self, work: Callable[[Transaction], T]) -> T:
        return self._run(lambda conn: work(_PostgresTransaction(conn)))

    @_guarded
    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return _read(self._conn(), resource_type, resource_id)

    @_guarded
    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None:
        return _vread(self._conn(), resource_type, resource_id, version)

    @_guarded
    def search(self, query: SearchQuery) -> SearchPage:
        return _search(self._conn(), query)


class _PostgresTransaction:
    """:class:`~.storage.Transaction` on a connection inside ``conn.transaction()``."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return _read(self._conn, resource_type, resource_id)

    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None:
        return _vread(self._conn, resource_type, resource_id, version)

    def search(self, query: SearchQuery) -> SearchPage:
        return _search(self._conn, query)

    def match(self, query: SearchQuery) -> list[str]:
        identifiers = [alt.value for param, alts in query.tokens if param == "identifier"
                       for alt in alts if alt.value is not None]
        # Writers lock each identifier they store; criteria on anything else serialize
        # with the other conditional creates of the type only.
        keys = ([f"identifier:{query.resource_type}|{v}" for v in identifiers]
                or [f"conditional:{query.resource_type}"])
        _lock(self._conn, keys)
        return [r.id for r in _search(self._conn, query).resources]

    def put(self, resource: Mapping[str, Any]) -> StoredResource:
        return _put(self._conn, resource, now(), locked=False)


# -- locks ------------------------------------------------------------------------------------

def _lock(conn: psycopg.Connection[Any], keys: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on these keys, in one sorted order (no deadlock
    between callers that lock all their keys at once)."""
    ordered = sorted(set(keys))
    if ordered:
        conn.execute("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
                     "FROM unnest(%s::text[]) AS k", (ordered,))


def _envelope_keys(envelope: Envelope) -> list[str]:
    return [f"message:{envelope.header_id}", f"envelope:{envelope.bundle_id}"]


def _resource_keys(resource: Mapping[str, Any]) -> list[str]:
    rtype = str(resource["resourceType"])
    keys = [f"resource:{rtype}/{resource['id']}"]
    keys += [f"identifier:{rtype}|{e.value}" for e in index_entries(resource)
             if e.param == "identifier"]
    return keys


# -- resources ----------------------------------------------------------------------------------

def _put(conn: psycopg.Connection[Any], resource: Mapping[str, Any] | Serialised,
         last_updated: str, *, locked: bool, audit: bool = False) -> StoredResource:
    item = serialised(resource)
    if not locked:
        _lock(conn, _resource_keys(item.like))
    return put_resource(conn.execute, _insert_many(conn), item, last_updated, "%s", audit=audit)


def _insert_many(conn: psycopg.Connection[Any]) -> InsertMany:
    def insert_many(sql: str, rows: list[tuple[Any, ...]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    return insert_many


def _read(conn: psycopg.Connection[Any], resource_type: str,
          resource_id: str) -> StoredResource | None:
    return read_resource(conn.execute, resource_type, resource_id, "%s")


def _vread(conn: psycopg.Connection[Any], resource_type: str, resource_id: str,
           version: int) -> StoredResource | None:
    return vread_resource(conn.execute, resource_type, resource_id, version, "%s")


def _search(conn: psycopg.Connection[Any], query: SearchQuery) -> SearchPage:
    return search_resources(conn.execute, query, _where(query), "%s")


def _where(query: SearchQuery) -> tuple[str, list[Any]]:
    return search_where(query, "%s", ids_clause=lambda ids: ("r.id = ANY(%s)", [list(ids)]))
