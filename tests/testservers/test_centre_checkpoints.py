"""WAL checkpoints of the SQLite store run in a thread of its own, after commits, instead of
in the request whose commit crosses SQLite's threshold (testservers/national_centre/_sqlite.py,
_Checkpointer). All data is synthetic."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _centre_messages import referral
from test_centre_storage_bulk import _accepted

from ecanfhir import Validator
from testservers.national_centre import Settings, _sqlite
from testservers.national_centre._sqlite import SqliteStore
from testservers.national_centre.messaging import MessageService


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "checkpoints.sqlite3"))
    yield opened
    opened.close()


def _store_messages(store: SqliteStore, count: int, seed: int) -> None:
    service = MessageService(Settings(database=store.path), store, Validator())
    for n in range(count):
        store.commit(*_accepted(service, referral(f"CASE-CKPT-{seed}-{n}", seed=seed + n)))


def _settled_size(path: Path, seconds: float = 10) -> int:
    """The database file's size once it has stopped changing for half a second."""
    deadline = time.monotonic() + seconds
    size = path.stat().st_size
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = path.stat().st_size
        if now == size:
            break
        size = now
    return size


def test_committed_pages_reach_the_database_file_without_a_request_checkpointing(
        store: SqliteStore) -> None:
    """Five messages fill far fewer WAL pages than a request's own threshold; once the
    checkpointer has run, a checkpoint finds nothing more to copy: the file does not grow."""
    assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == \
        _sqlite.WAL_SELF_CHECKPOINT
    _store_messages(store, 5, seed=700)
    thread = store._checkpointer._thread
    assert thread is not None and thread.is_alive() and thread.name == "ecanfhir-checkpoint"
    path = Path(store.path)
    settled = _settled_size(path)
    with sqlite3.connect(store.path) as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert path.stat().st_size == settled


def test_without_the_checkpointer_the_pages_stay_in_the_wal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with the thread kept from starting: nothing reaches the database file until a
    checkpoint, which then grows it (so the test above sees the thread's work, not SQLite's)."""
    monkeypatch.setattr(_sqlite._Checkpointer, "poke", lambda self: None)
    store = SqliteStore(str(tmp_path / "unchecked.sqlite3"))
    try:
        path = Path(store.path)
        before = path.stat().st_size
        _store_messages(store, 5, seed=720)
        assert store._checkpointer._thread is None
        assert _settled_size(path, seconds=2) == before
        with sqlite3.connect(store.path) as other:
            other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert path.stat().st_size > before
    finally:
        store.close()


def test_close_stops_the_thread_and_later_commits_start_none(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "closed.sqlite3"))
    _store_messages(store, 1, seed=740)
    thread = store._checkpointer._thread
    assert thread is not None and thread.is_alive()
    store.close()
    assert not thread.is_alive()
    store._checkpointer.poke()
    assert store._checkpointer._thread is None


def test_a_connection_that_cannot_be_opened_ends_no_thread_and_the_next_poke_retries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread opens its connection at its first poke; if the database cannot be opened
    then, the thread stays (no traceback) and the next poke opens it and checkpoints."""
    failures: list[BaseException] = []
    monkeypatch.setattr("threading.excepthook", lambda args: failures.append(args.exc_value))
    path = tmp_path / "retried.sqlite3"
    sqlite3.connect(path).close()
    opened: list[int] = []

    def connect() -> sqlite3.Connection:
        opened.append(1)
        if len(opened) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        conn = sqlite3.connect(path, check_same_thread=False)
        checkpoints.append(conn)
        return conn

    checkpoints: list[sqlite3.Connection] = []
    checkpointer = _sqlite._Checkpointer(connect)
    try:
        checkpointer.poke()
        deadline = time.monotonic() + 10
        while not opened and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(_sqlite.CHECKPOINT_PAUSE + 0.1)
        thread = checkpointer._thread
        assert thread is not None and thread.is_alive()
        checkpointer.poke()
        while len(opened) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(opened) == 2 and len(checkpoints) == 1
    finally:
        checkpointer.stop()
    assert not thread.is_alive() and failures == []
