"""Search does not scan (issue 10 §1.8): ``Condition?patient=`` reads the search index, so the
work a search costs the database stays flat while the store grows from a few hundred resources
of the type to 12,000 (3,000 on PostgreSQL, whose writes one by one take longer to set up).

The searches run over real HTTP on 127.0.0.1; the statements each one sent to the database are
recorded, and their cost is measured as work, not time: SQLite's virtual-machine steps (a
progress handler), PostgreSQL's buffer accesses (``EXPLAIN (ANALYZE, BUFFERS)``). Both count
what a scan would multiply and do not depend on the machine's load, so the test cannot fail on a
busy machine nor pass on a scan. ``benchmarks/server.py`` times it at 100,000 stored cases."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from testservers.national_centre import _postgres, _sqlite
from testservers.national_centre.storage import Transaction

Statement = tuple[str, tuple[Any, ...]]


def _conditions(app: FastAPI, first: int, count: int) -> None:
    """``count`` Conditions, each of its own Patient, stored in one unit."""
    def work(tx: Transaction) -> None:
        for n in range(first, first + count):
            tx.put({"resourceType": "Condition", "id": f"c-{n}",
                    "subject": {"reference": f"Patient/p-{n}"},
                    "identifier": [{"system": "urn:test", "value": f"c-{n}"}]})

    app.state.services.store.atomic(work)


@contextmanager
def _recorded_searches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Statement]]:
    """Every SQL statement the stores' searches send, with its arguments."""
    statements: list[Statement] = []
    for module in (_sqlite, _postgres):
        original = module.search_resources

        def recording(execute: Any, *args: Any, _original: Any = original) -> Any:
            def execute_recorded(sql: str, params: Any = ()) -> Any:
                statements.append((sql, tuple(params)))
                return execute(sql, params)
            return _original(execute_recorded, *args)

        monkeypatch.setattr(module, "search_resources", recording)
    yield statements


def _sqlite_steps(database: str, statements: list[Statement]) -> int:
    """SQLite virtual-machine steps (in tens) to run the statements again."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn = sqlite3.connect(database)
    try:
        conn.set_progress_handler(count, 10)
        for sql, params in statements:
            conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    return steps


def _postgres_buffers(database: str, statements: list[Statement]) -> int:
    """Shared buffers PostgreSQL reads or hits to run the statements again."""
    import psycopg

    total = 0
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ANALYZE")                  # the planner sees the grown tables
        for sql, params in statements:
            row = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}",
                               params).fetchone()
            assert row is not None
            plan = row[0][0]["Plan"]
            total += int(plan.get("Shared Hit Blocks", 0)) + int(
                plan.get("Shared Read Blocks", 0))
    return total


def _work(http: httpx.Client, database: str, path: str, statements: list[Statement]) -> int:
    statements.clear()
    response = http.get(path)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1, response.text
    assert statements, "the search sent no statement to the store"
    recorded = list(statements)
    if database.startswith("postgresql"):
        return _postgres_buffers(database, recorded)
    return _sqlite_steps(database, recorded)


def test_patient_search_stays_flat_as_the_store_grows(live_server: tuple[str, FastAPI],
                                                      database: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    base, app = live_server
    grown = 2_700 if database.startswith("postgresql") else 11_700
    _conditions(app, 0, 300)
    paths = ("/Condition?patient=Patient/p-7", "/Condition?subject=p-7",
             "/Condition?identifier=urn:test|c-7")
    with _recorded_searches(monkeypatch) as statements, \
            httpx.Client(base_url=base, timeout=60) as http:
        small = [_work(http, database, path, statements) for path in paths]
        _conditions(app, 300, grown)
        large = [_work(http, database, path, statements) for path in paths]
    for path, before, after in zip(paths, small, large, strict=True):
        # A scan grows with the store (10x to 40x more rows); an index lookup by a B-tree's
        # depth, a step or two.
        assert after <= 2 * before + 10, (path, before, after)


def test_a_scan_would_be_seen(tmp_path: Any) -> None:
    """The measure itself: a search the index cannot serve costs SQLite more as rows grow."""
    database = str(tmp_path / "scan.sqlite3")
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE t (id TEXT, body TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(f"r-{n}", "x") for n in range(300)])
    conn.commit()
    scan = [("SELECT id FROM t WHERE body = ?", ("y",))]
    before = _sqlite_steps(database, scan)
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(f"r-{n}", "x") for n in range(300, 12_000)])
    conn.commit()
    conn.close()
    after = _sqlite_steps(database, scan)
    assert after > 2 * before + 10, (before, after)
