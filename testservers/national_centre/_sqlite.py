"""The SQLite store: WAL journal, ``synchronous=FULL`` (an ``ok`` ack is on disk), one
connection per thread, and ``BEGIN IMMEDIATE`` around every check-then-write. The threads of a
process write one at a time, queued on a lock, the processes on one file (the workers of
``serve --workers N``) one at a time, queued on a lock file (:class:`_FileLock`), and concurrent
messages are stored with group commit (:class:`_GroupCommit`: one transaction and one sync for
all that wait).

Duplicate detection under concurrency rests on two things: the write lock taken by
``BEGIN IMMEDIATE`` before the message log is read (so two transmissions of one message are
classified one after the other, in any number of threads or processes), and the UNIQUE keys
on ``messages.header_id`` and ``transmissions.bundle_id`` (so even a bug in that logic could
not store a message twice).

A write the database cannot take (``SQLITE_FULL``, a read-only file, an I/O error, a lock held
past the busy timeout) is rolled back and raised as :class:`~.storage.StoreUnavailable`; so is
a database that cannot be opened for writing at start, with the reason in one line.

WAL checkpoints (copying committed pages back into the database file, and syncing it) run in
a thread of the store's own (:class:`_Checkpointer`), after commits, not in the request whose
commit crossed SQLite's threshold: measured on a store of 100,000 cases, those checkpoints
made the commit's p95 27 ms instead of 4.6 ms, and the centre's p95 2.4 times the empty
store's. A request checkpoints only if the WAL reaches :data:`WAL_SELF_CHECKPOINT` pages,
should the thread fall behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

try:
    import fcntl
except ImportError:  # Windows: no flock (see _FileLock)
    fcntl = None  # type: ignore[assignment]

from ._aggregates import SCHEMA as AGGREGATES
from ._aggregates import backfill, overview
from ._sql import (
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
    now,
    serialised,
)

__all__ = ["SqliteStore"]

# WAL pages (4 KiB) at which a committing request checkpoints itself (SQLite's default: 1,000);
# the checkpointer thread normally keeps the WAL far below it.
WAL_SELF_CHECKPOINT = 10_000
# Seconds between two checkpoints: commits in between share one. Short, so each checkpoint is
# small: its writes and the database file's fsync hold up the commits' own fsyncs while they
# run, more so as the store grows (its pages lie further apart). On 100,000 stored cases,
# alternated runs of benchmarks/server.py's phases: 0.2 s gave a p95 1.45-2.86x the empty
# store's (p99 135-175 ms), 0.05 s 1.29-1.46x (p99 78-108 ms), 2 s worse still; the empty
# store's messages/s fall by a few per cent.
CHECKPOINT_PAUSE = 0.05

T = TypeVar("T")
P = ParamSpec("P")
# Primary result codes of a database that cannot take the request now (sqlite.org/rescode):
# PERM, BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN.
_UNAVAILABLE = frozenset({3, 5, 6, 7, 8, 10, 13, 14})

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    header_id TEXT PRIMARY KEY,
    bundle_id TEXT NOT NULL UNIQUE,
    event TEXT, sender TEXT,
    received TEXT NOT NULL, bundle_timestamp TEXT,
    ack_code TEXT NOT NULL, ack BLOB NOT NULL,
    kpi TEXT NOT NULL, reasons TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transmissions (
    bundle_id TEXT PRIMARY KEY,
    header_id TEXT NOT NULL REFERENCES messages(header_id),
    received TEXT NOT NULL,
    kind TEXT NOT NULL,
    resends INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected_transmissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bundle_id TEXT NOT NULL, header_id TEXT NOT NULL,
    received TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_versions (
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, json BLOB NOT NULL,
    PRIMARY KEY (type, id, version)
);
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS resources_by_time ON resources (type, last_updated, id);
CREATE TABLE IF NOT EXISTS search_index (
    type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT NOT NULL, value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_by_value ON search_index (type, param, value, system);
CREATE INDEX IF NOT EXISTS search_by_owner ON search_index (type, id);
CREATE TABLE IF NOT EXISTS used_jtis (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE TABLE IF NOT EXISTS centre_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + AGGREGATES


def _unavailable(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _UNAVAILABLE


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """``method`` with the database's "cannot now" errors raised as StoreUnavailable."""
    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            if not _unavailable(exc):
                raise
            raise StoreUnavailable(f"the SQLite database cannot take this request now: "
                                   f"{exc}") from exc
    return guarded


def _open_problem(path: str, exc: sqlite3.Error) -> str:
    """Why a database file cannot be opened for writing, in a few words."""
    if path.startswith("file:"):
        return "the database is opened read-only" if "mode=ro" in path else str(exc)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"no such folder {folder}"
    if os.path.isdir(path):
        return "it is a folder"
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == 8:                                    # SQLITE_READONLY
        return "the database file is read-only"
    if code in (3, 14) or not os.access(folder, os.W_OK):
        return "permission denied"
    return str(exc)


class SqliteStore:
    """:class:`~.storage.Store` on one SQLite database file."""

    def __init__(self, path: str, *, uri: bool = False) -> None:
        # ":memory:" would give every thread its own empty database: use a scratch file.
        self._scratch = tempfile.mkdtemp(prefix="ecanfhir-centre-") if path == ":memory:" else None
        self.path = os.path.join(self._scratch, "centre.sqlite3") if self._scratch else path
        self._uri = uri
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # One writer at a time in this process, queued on a lock: SQLite's own busy handler
        # makes a thread that finds the database locked sleep 1, 2, 5, 10... ms before it
        # tries again, so threads of one process would leave the lock free while they sleep.
        self._writer = threading.RLock()
        # ... and one process at a time, queued on a lock file, for the same reason: two
        # workers on one file otherwise take turns through that busy handler, and the one that
        # lost sleeps up to 100 ms at a time while the other commits again (measured: one
        # worker's senders stalled 0.2 to 1.3 s at a time, every second or two).
        self._between_processes = _FileLock(None if uri or self._scratch else f"{path}-writer")
        self._group = _GroupCommit()
        self._checkpointer = _Checkpointer(self._connect)
        try:
            self._conn().executescript(SCHEMA)
            with self._transaction() as conn:   # a database we cannot write is no use
                conn.execute("INSERT INTO centre_meta VALUES ('opened', ?) ON CONFLICT (key) "
                             "DO UPDATE SET value = excluded.value", (now(),))
                backfill(conn.execute, "?")
        except sqlite3.Error as exc:
            self.close()
            raise StoreUnavailable(f"cannot open the database {path}: "
                                   f"{_open_problem(path, exc)}") from exc

    # -- connections ------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_SELF_CHECKPOINT}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=60.0, uri=self._uri)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the database write lock is held from its first statement."""
        conn = self._conn()
        with self._writer, self._between_processes:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
                self._checkpointer.poke()
            except BaseException:
                if conn.in_transaction:     # SQLite has rolled back itself after SQLITE_FULL
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._checkpointer.stop()
        self._between_processes.close()
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- messages -----------------------------------------------------------------------------

    @_guarded
    def prior(self, envelope: Envelope) -> Receipt | None:
        conn = self._conn()
        # Read first without the write lock: most messages are new.
        known = conn.execute("SELECT 1 FROM transmissions WHERE bundle_id = ? UNION ALL "
                             "SELECT 1 FROM messages WHERE header_id = ?",
                             (envelope.bundle_id, envelope.header_id)).fetchone()
        if known is None:
            return None
        with self._transaction() as conn:
            return self._classify(conn, envelope)

    @_guarded
    def commit(self, envelope: Envelope, processed: Processed) -> Receipt:
        store = self._storing(envelope, processed)
        receipt = self._group.run(store, self._run_many)
        if receipt is not _FAILED:
            return cast(Receipt, receipt)
        with self._transaction() as conn:    # its group failed: alone, as if never grouped
            return store(conn)

    @_guarded
    def commit_many(self, messages: Sequence[tuple[Envelope, Processed]]) -> list[Receipt]:
        return self._run_many([self._storing(envelope, processed)
                               for envelope, processed in messages])

    def _storing(self, envelope: Envelope,
                 processed: Processed) -> Callable[[sqlite3.Connection], Receipt]:
        """The write that stores one message, for a transaction of one or of a group."""
        return lambda conn: self._store(conn, envelope, processed)

    def _run_many(self, works: Sequence[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
        """A group's works in one transaction, one after the other."""
        with self._transaction() as conn:
            return [work(conn) for work in works]

    def _store(self, conn: sqlite3.Connection, envelope: Envelope,
               processed: Processed) -> Receipt:
        earlier = self._classify(conn, envelope)
        if earlier is not None:
            return earlier
        received = now()
        record_message(conn.execute, envelope, processed, received, "?")
        items = [serialised(r) for r in processed.resources]
        put_resources(conn.execute, conn.executemany,
                      master_data(items, _SqliteTransaction(self, conn)), received, "?")
        return Receipt("processed", processed.ack, processed.ack_code)

    def _classify(self, conn: sqlite3.Connection, envelope: Envelope) -> Receipt | None:
        """DOMAIN.md §2(c) point 5, inside the write transaction."""
        return classify(conn.execute, envelope, "?")

    @_guarded
    def messages(self, event: str | None = None) -> list[MessageFact]:
        return message_facts(self._conn().execute, event, "?")

    @_guarded
    def transmission_count(self) -> int:
        return transmission_count(self._conn().execute)

    @_guarded
    def overview(self, *, rejected: int) -> Overview:
        return overview(self._conn().execute, "?", rejected=rejected)

    @_guarded
    def atomic(self, work: Callable[[Transaction], T]) -> T:
        # BEGIN IMMEDIATE: the write lock is held before the first read, so a conditional
        # create's match and its put are never interleaved with another writer.
        with self._transaction() as conn:
            return work(_SqliteTransaction(self, conn))

    # -- security -----------------------------------------------------------------------------

    @_guarded
    def use_jti(self, client_id: str, jti: str, expires: str) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM used_jtis WHERE expires < ?", (now(),))
            cursor = conn.execute("INSERT INTO used_jtis (client_id, jti, expires) VALUES "
                                  "(?,?,?) ON CONFLICT DO NOTHING", (client_id, jti, expires))
            return cursor.rowcount == 1

    @_guarded
    def add_audit_events(self, events: tuple[Mapping[str, Any], ...]) -> None:
        # In the group commit of the messages being stored meanwhile, if any: the exchanges
        # that just ended share the transaction (and the sync) of those still going on.
        def put(conn: sqlite3.Connection) -> None:
            for event in events:
                self._put(conn, event, str(event["recorded"]), audit=True)

        if self._group.run(put, self._run_many) is _FAILED:
            with self._transaction() as conn:    # its group failed: alone
                put(conn)

    # -- resources ----------------------------------------------------------------------------

    def _put(self, conn: sqlite3.Connection, resource: Mapping[str, Any] | Serialised,
             last_updated: str, *, audit: bool = False) -> StoredResource:
        return put_resource(conn.execute, conn.executemany, resource, last_updated, "?",
                            audit=audit)

    @_guarded
    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return read_resource(self._conn().execute, resource_type, resource_id, "?")

    @_guarded
    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None:
        return vread_resource(self._conn().execute, resource_type, resource_id, version, "?")

    @_guarded
    def search(self, query: SearchQuery) -> SearchPage:
        return search_resources(self._conn().execute, query, _where(query), "?")


class _Checkpointer:
    """PASSIVE checkpoints of the WAL in a thread of its own, started by the first commit.

    A commit pokes it; it checkpoints what has been committed, pauses
    :data:`CHECKPOINT_PAUSE` so that the commits meanwhile share the next checkpoint, and waits
    for the next poke. PASSIVE copies the frames no reader still needs and never blocks a
    writer (SQLite's wal.html, "Checkpointing"). Durability does not
    depend on it: a commit is on disk in the WAL (``synchronous=FULL``) before it returns.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name="ecanfhir-checkpoint")
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stopping.is_set():
                    return
                self._wake.clear()
                # busy, or the file gone (even before the thread's connection is open): the
                # next poke retries; a request checkpoints itself past WAL_SELF_CHECKPOINT.
                with suppress(sqlite3.Error):
                    if conn is None:
                        conn = self._connect()
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stopping.wait(CHECKPOINT_PAUSE):
                    return
        finally:
            if conn is not None:
                conn.close()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)


class _FileLock:
    """An exclusive lock on a file (``flock``), held around the store's write transactions
    so that processes writing one database queue in the kernel, each woken as the lock is
    released, rather than in SQLite's busy handler. Taken by one thread at a time (the
    caller holds the store's writer lock), re-entered by counting. Without a path (an
    in-memory or URI database) or without ``fcntl`` (Windows) it does nothing: SQLite's busy
    handler still serialises the writers, only less fairly."""

    def __init__(self, path: str | None) -> None:
        self._path = path if fcntl is not None else None
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        if self._path is None:
            return
        if self._depth == 0:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError:   # (a folder we may not write): SQLite's busy handler then
                self._path = None
                return
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        if self._path is None or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _GroupCommit:
    """Group commit of one process's concurrent writes (messages, :meth:`SqliteStore.commit`;
    audit events, :meth:`SqliteStore.add_audit_events`): the first caller to get the turn runs
    every write waiting by then in one transaction, one commit and one sync of the log for all
    of them; each caller returns once the transaction holding its write is committed, so an
    ``ok`` is still on disk first.

    The writes of one group run one after the other as single commits would (a second
    transmission of a message sees the first's rows). When a group fails as a whole, nothing
    of it was stored and :meth:`run` answers ``_FAILED``: the caller writes alone, so a failure
    is the write's own, as without grouping.
    """

    def __init__(self) -> None:
        self._waiting: list[_Waiting] = []
        self._waiting_lock = threading.Lock()
        self._turn = threading.Lock()

    def run(self, work: Callable[[sqlite3.Connection], Any],
            run_many: Callable[[Sequence[Callable[[sqlite3.Connection], Any]]], list[Any]]
            ) -> Any:
        """``work``'s result, once its group is committed; ``_FAILED`` if the group failed."""
        mine = _Waiting(work)
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._turn:
            if not mine.done:
                with self._waiting_lock:
                    group, self._waiting = self._waiting, []
                try:
                    results = list(run_many([w.work for w in group]))
                except Exception:
                    results = [_FAILED] * len(group)
                for waiting, result in zip(group, results, strict=True):
                    waiting.result, waiting.done = result, True
        return mine.result


_FAILED: Any = object()  # what a write of a failed group gets


@dataclass(slots=True)
class _Waiting:
    work: Callable[[sqlite3.Connection], Any]
    result: Any = _FAILED
    done: bool = False


class _SqliteTransaction:
    """:class:`~.storage.Transaction` on the thread's connection, inside BEGIN IMMEDIATE."""

    def __init__(self, store: SqliteStore, conn: sqlite3.Connection) -> None:
        self._store, self._conn = store, conn

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return self._store.read(resource_type, resource_id)

    def vread(self, resource_type: str, resource_id: str,
              version: int) -> StoredResource | None:
        return self._store.vread(resource_type, resource_id, version)

    def search(self, query: SearchQuery) -> SearchPage:
        return self._store.search(query)

    def match(self, query: SearchQuery) -> list[str]:
        return [r.id for r in self._store.search(query).resources]

    def put(self, resource: Mapping[str, Any]) -> StoredResource:
        return self._store._put(self._conn, resource, now())


def _where(query: SearchQuery) -> tuple[str, list[Any]]:
    return search_where(query, "?", ids_clause=lambda ids: (
        f"r.id IN ({','.join('?' * len(ids))})", list(ids)))
