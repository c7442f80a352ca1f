"""Processes writing one SQLite store queue on a lock file (testservers/national_centre/_sqlite.py,
_FileLock), not in SQLite's busy handler: a write transaction holds an exclusive ``flock`` on
``<database>-writer``, released at its end; stores of several processes on one file all commit;
a store the lock file cannot be made for still works. All data is synthetic."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testservers.national_centre._sqlite import SqliteStore
from testservers.national_centre.storage import SearchQuery


def _locked_elsewhere(path: str) -> bool:
    """Whether another open of the lock file (as another process has it) cannot take it now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "writers.sqlite3"))
    yield opened
    opened.close()


def _patient(n: int) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": f"synthetic-{n}",
            "name": [{"family": f"Testpatient{n}"}]}


def test_a_write_transaction_holds_the_lock_file(store: SqliteStore) -> None:
    lock = f"{store.path}-writer"
    seen: list[bool] = []

    def work(transaction: Any) -> None:
        seen.append(_locked_elsewhere(lock))
        transaction.put(_patient(1))
        seen.append(_locked_elsewhere(lock))

    store.atomic(work)
    assert seen == [True, True]
    assert not _locked_elsewhere(lock)
    assert store.read("Patient", "synthetic-1") is not None


def _write(path: str, first: int, count: int) -> None:
    opened = SqliteStore(path)
    try:
        for n in range(first, first + count):
            opened.atomic(lambda transaction, n=n: transaction.put(_patient(n)))
    finally:
        opened.close()


def test_processes_writing_one_store_all_commit(store: SqliteStore) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write, args=(store.path, 100 * k, 40))
               for k in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    assert store.search(SearchQuery("Patient", summary_count=True)).total == 120


def test_a_store_whose_folder_takes_no_lock_file_still_writes(
        store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is a courtesy between processes: when its file cannot be made, SQLite's busy
    handler serialises the writers as before."""
    lock = f"{store.path}-writer"
    os.remove(lock)
    store.close()
    real_open = os.open

    def refusing(path: str, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("-writer"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    reopened = SqliteStore(store.path)
    try:
        reopened.atomic(lambda transaction: transaction.put(_patient(7)))
        assert reopened.read("Patient", "synthetic-7") is not None
        assert not os.path.exists(lock)
    finally:
        reopened.close()


def test_an_in_memory_store_makes_no_lock_file(tmp_path: Path) -> None:
    memory = SqliteStore(":memory:")
    try:
        memory.atomic(lambda transaction: transaction.put(_patient(3)))
        assert not any(name.endswith("-writer") for name in os.listdir(os.path.dirname(
            memory.path)))
    finally:
        memory.close()
