"""The AuditEvent writer (testservers/national_centre/audit.py, AuditRecorder): each caller
returns once its event is stored, the events of concurrent exchanges share a transaction, an
exchange of the event loop waits without a pool thread, and neither a failing store nor a
closed recorder loses a caller. All data is synthetic."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testservers.national_centre._sqlite import SqliteStore
from testservers.national_centre.audit import AuditRecorder
from testservers.national_centre.storage import SearchQuery


def _event(n: int) -> dict[str, Any]:
    return {"resourceType": "AuditEvent", "id": str(uuid.uuid4()),
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                     "code": "rest"},
            "recorded": f"2026-12-07T10:{n // 60 % 60:02d}:{n % 60:02d}Z", "outcome": "0",
            "agent": [{"requestor": True}], "source": {"observer": {"display": "centre"}}}


class _CountingStore(SqliteStore):
    """The SQLite store, counting its audit transactions (and failing them on request)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.transactions: list[int] = []
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def add_audit_events(self, events: tuple[Any, ...]) -> None:
        self.gate.wait(10)
        if self.fail:
            raise OSError("disk full (synthetic)")
        super().add_audit_events(events)
        self.transactions.append(len(events))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[_CountingStore]:
    opened = _CountingStore(str(tmp_path / "audit.sqlite3"))
    yield opened
    opened.close()


def _stored(store: SqliteStore, event: dict[str, Any]) -> bool:
    return store.read("AuditEvent", event["id"]) is not None


def test_a_caller_returns_once_its_event_is_stored(store: _CountingStore) -> None:
    recorder = AuditRecorder(store)
    try:
        for n in range(3):
            event = _event(n)
            recorder.record(event)
            assert _stored(store, event)
        assert store.transactions == [1, 1, 1]
    finally:
        recorder.close()


def test_concurrent_exchanges_share_a_transaction_and_wait_for_it(
        store: _CountingStore) -> None:
    """Events handed over while the writer is busy go into its next transaction together;
    every coroutine's await ends only once its own event is stored."""
    recorder = AuditRecorder(store)
    events = [_event(n) for n in range(40)]

    async def exchanges() -> list[bool]:
        store.gate.clear()                    # the writer's first transaction waits
        first = asyncio.ensure_future(recorder.arecord(events[0]))
        await asyncio.sleep(0.05)             # ... holding the first event only
        rest = [asyncio.ensure_future(recorder.arecord(e)) for e in events[1:]]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in (first, *rest))
        store.gate.set()
        stored = []
        for task, event in zip((first, *rest), events, strict=True):
            await task
            stored.append(_stored(store, event))
        return stored

    try:
        assert asyncio.run(exchanges()) == [True] * 40
        assert store.transactions == [1, 39]
    finally:
        recorder.close()


def test_threads_and_the_event_loop_share_the_writer(store: _CountingStore) -> None:
    recorder = AuditRecorder(store)
    events = [_event(n) for n in range(20)]

    async def loop_side() -> None:
        await asyncio.gather(*(recorder.arecord(e) for e in events[10:]))

    try:
        threads = [threading.Thread(target=recorder.record, args=(e,)) for e in events[:10]]
        for thread in threads:
            thread.start()
        asyncio.run(loop_side())
        for thread in threads:
            thread.join(10)
        assert all(_stored(store, e) for e in events)
        assert sum(store.transactions) == 20
    finally:
        recorder.close()


def test_a_failing_store_releases_its_callers(store: _CountingStore,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Auditing never takes the server down: the callers go on, the failure is logged, and
    the writer stores the next events."""
    recorder = AuditRecorder(store)
    try:
        store.fail = True
        lost = _event(1)
        asyncio.run(recorder.arecord(lost))
        recorder.record(_event(2))
        assert "could not store 1 audit events: OSError" in caplog.text
        store.fail = False
        kept = _event(3)
        recorder.record(kept)
        assert not _stored(store, lost) and _stored(store, kept)
    finally:
        recorder.close()


def test_close_stores_what_was_handed_over_then_the_callers_store_their_own(
        store: _CountingStore) -> None:
    def writers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "ecan-audit-writer"}

    others = writers()  # (of apps other tests left open)
    recorder = AuditRecorder(store)
    events = [_event(n) for n in range(5)]
    store.gate.clear()
    threads = [threading.Thread(target=recorder.record, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    closing = threading.Thread(target=recorder.close)
    closing.start()
    store.gate.set()
    closing.join(10)
    for thread in threads:
        thread.join(10)
    assert all(_stored(store, e) for e in events)
    late = _event(9)
    recorder.record(late)  # after close: stored by the caller's thread
    assert _stored(store, late)
    assert writers() <= others  # this recorder's writer has ended
    page = store.search(SearchQuery("AuditEvent", count=50))
    assert page.total == 6
