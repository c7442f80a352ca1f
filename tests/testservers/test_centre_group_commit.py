"""Group commit in the SQLite store: messages committed concurrently by one process's threads
share transactions, each caller getting its own receipt once its transaction is committed; a
group that fails is stored message by message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from _centre_messages import referral
from test_centre_storage_bulk import _accepted

from ecanfhir import Validator
from ecanfhir.builders import resend
from testservers.national_centre import Settings
from testservers.national_centre._sqlite import SqliteStore
from testservers.national_centre.messaging import MessageService
from testservers.national_centre.storage import (
    Envelope,
    Processed,
    Receipt,
    SearchQuery,
    StoreUnavailable,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "group.sqlite3"))
    yield opened
    opened.close()


def _counted(store: SqliteStore, groups: list[int], *, fail_first: bool = False) -> None:
    """Record the size of each group ``store`` commits (failing the first one if asked)."""
    run_many = store._run_many

    def counting(works: Sequence[Callable[[Any], Any]]) -> list[Any]:
        groups.append(len(works))
        if fail_first and len(groups) == 1:
            raise StoreUnavailable("the database cannot take this request now (test)")
        return run_many(works)

    store._run_many = counting  # type: ignore[method-assign]


def _commit_while_writing_is_held(store: SqliteStore,
                                  messages: list[tuple[Envelope, Processed]], *,
                                  groups: list[int], hold: bool = True) -> list[Receipt]:
    """Commit ``messages`` from one thread each while this thread holds the store's writer
    lock (with ``hold``), releasing it once all of them wait: the first group (taken by the
    first caller to get the turn) waits for the lock, the other callers wait for it and then
    go together. ``groups`` must be counting (:func:`_counted`)."""
    receipts: list[Receipt | None] = [None] * len(messages)

    def commit(n: int) -> None:
        receipts[n] = store.commit(*messages[n])

    threads = [threading.Thread(target=commit, args=(n,)) for n in range(len(messages))]
    with store._writer:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while hold and sum(groups) + len(store._group._waiting) < len(messages):
            assert time.monotonic() < deadline, "the committing threads did not queue"
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in receipts)
    return [r for r in receipts if r is not None]


def test_concurrent_messages_share_a_transaction(store: SqliteStore) -> None:
    service = MessageService(Settings(), store, Validator())
    messages = [_accepted(service, referral(f"CASE-GROUP-{n}", seed=500 + n)) for n in range(4)]
    groups: list[int] = []
    _counted(store, groups)
    receipts = _commit_while_writing_is_held(store, messages, groups=groups)
    assert len(groups) == 2 and sum(groups) == 4     # four messages, two transactions
    assert [r.kind for r in receipts] == ["processed"] * 4
    assert [r.ack for r in receipts] == [p.ack for _, p in messages]   # each its own ack
    assert len(store.messages()) == 4
    assert store.search(SearchQuery("ServiceRequest")).total == 4


def test_a_resend_in_the_same_group_is_answered_as_a_resend(store: SqliteStore) -> None:
    service = MessageService(Settings(), store, Validator())
    first = referral("CASE-GROUP-R", seed=520)
    messages = [_accepted(service, first), _accepted(service, resend(first)),
                _accepted(service, referral("CASE-GROUP-S", seed=521))]
    groups: list[int] = []
    _counted(store, groups)
    receipts = _commit_while_writing_is_held(store, messages, groups=groups)
    assert len(groups) == 2
    assert sorted(r.kind for r in receipts) == ["duplicate", "processed", "processed"]
    duplicate = next(r for r in receipts if r.kind == "duplicate")
    original = next(r for r, (e, _) in zip(receipts, messages, strict=True)
                    if e.header_id == messages[0][0].header_id and r.kind == "processed")
    assert duplicate.ack == original.ack
    assert len(store.messages()) == 2


def test_a_failed_group_is_stored_message_by_message(store: SqliteStore) -> None:
    service = MessageService(Settings(), store, Validator())
    messages = [_accepted(service, referral(f"CASE-GROUP-F{n}", seed=540 + n))
                for n in range(3)]
    groups: list[int] = []
    _counted(store, groups, fail_first=True)
    receipts = _commit_while_writing_is_held(store, messages, groups=groups, hold=False)
    assert len(groups) >= 2      # the failed first group, then the rest
    assert [r.kind for r in receipts] == ["processed"] * 3
    assert len(store.messages()) == 3


def test_audit_events_share_the_messages_transaction(store: SqliteStore) -> None:
    """AuditEvents handed over while messages are being stored go into the messages' group
    (one transaction and one sync for both), each caller returning once it is committed."""
    service = MessageService(Settings(), store, Validator())
    messages = [_accepted(service, referral(f"CASE-GROUP-A{n}", seed=560 + n))
                for n in range(3)]
    events = [({"resourceType": "AuditEvent", "id": f"synthetic-audit-{n}",
                "recorded": "2026-12-07T10:00:00Z", "outcome": "0",
                "type": {"code": "rest"}, "agent": [{"requestor": True}],
                "source": {"observer": {"display": "centre"}}},) for n in range(2)]
    groups: list[int] = []
    _counted(store, groups)
    receipts: list[Receipt] = []
    threads = [*(threading.Thread(target=store.add_audit_events, args=(e,)) for e in events),
               *(threading.Thread(target=lambda m=m: receipts.append(store.commit(*m)))
                 for m in messages)]
    with store._writer:      # every write queues while this thread holds the writer lock
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while sum(groups) + len(store._group._waiting) < len(threads):
            assert time.monotonic() < deadline, "the writers did not queue"
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=60)
    assert [r.kind for r in receipts] == ["processed"] * 3
    assert all(store.read("AuditEvent", e[0]["id"]) is not None for e in events)
    assert sum(groups) == 5 and len(groups) == 2     # the first caller's group, then the rest
