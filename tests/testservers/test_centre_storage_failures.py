"""A database that cannot take a write (issue 10 §1.7): a full disk gives 503 with
Retry-After and an OperationOutcome, never an ``ok`` acknowledgement nor a 500, and nothing
already accepted is lost; ``ecanfhir serve`` says in one line why it cannot start.

The full disk is real to the database: SQLite's ``max_page_count`` pinned to the file's size
(SQLITE_FULL), and on PostgreSQL a trigger raising ``disk_full`` (SQLSTATE 53100)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _centre_assertions import ack_header, outcome_codes
from _centre_messages import referral
from fastapi import FastAPI

from ecanfhir.cli import main
from testservers.national_centre.database import open_store
from testservers.national_centre.storage import StoreUnavailable

FHIR = {"Content-Type": "application/fhir+json"}


@contextmanager
def _full_disk(app: FastAPI, database: str) -> Iterator[None]:
    """Every write of the centre fails as on a full disk, until the block ends."""
    store = app.state.services.store
    if database.startswith("postgresql"):
        import psycopg

        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute("CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ "
                          "BEGIN RAISE EXCEPTION 'could not extend file: No space left on "
                          "device' USING ERRCODE = 'disk_full'; END $$")
            admin.execute("CREATE TRIGGER full_disk BEFORE INSERT OR UPDATE ON messages "
                          "FOR EACH ROW EXECUTE FUNCTION full_disk()")
            try:
                yield
            finally:
                admin.execute("DROP TRIGGER full_disk ON messages")
        return
    pages = sqlite3.connect(database).execute("PRAGMA page_count").fetchone()[0]
    original = store._conn
    limits: list[sqlite3.Connection] = []

    def full() -> sqlite3.Connection:
        conn: sqlite3.Connection = original()
        conn.execute(f"PRAGMA max_page_count = {pages}")
        limits.append(conn)
        return conn

    store._conn = full
    try:
        yield
    finally:
        del store._conn
        for conn in limits:
            conn.execute("PRAGMA max_page_count = 1073741823")


def test_full_disk_is_503_with_retry_after_and_loses_nothing(
        live_server: tuple[str, FastAPI], database: str) -> None:
    base, app = live_server
    accepted = referral("CASE-KEPT", seed=1)
    refused = referral("CASE-FULL", seed=2)
    with httpx.Client(base_url=base, timeout=30) as http:
        first = http.post("/$process-message", content=json.dumps(accepted), headers=FHIR)
        assert ack_header(first)["response"]["code"] == "ok"
        with _full_disk(app, database):
            response = http.post("/$process-message", content=json.dumps(refused),
                                 headers=FHIR)
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert outcome_codes(response) == ["transient"]
            assert b'"ok"' not in response.content
            again = http.post("/$process-message", content=json.dumps(accepted), headers=FHIR)
            assert again.content == first.content         # a resend still gets its ack
            assert http.get("/Patient?_summary=count").status_code == 200
        assert len(app.state.services.store.messages()) == 1
        later = http.post("/$process-message", content=json.dumps(refused), headers=FHIR)
        assert later.status_code == 200
        assert ack_header(later)["response"]["code"] == "ok"
        assert len(app.state.services.store.messages()) == 2


def _serve(database: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["serve", "--db", database, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_serve_says_in_one_line_why_it_cannot_start(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing" / "centre.sqlite3"
    assert f"no such folder {missing.parent}" in _serve(str(missing), capsys)
    assert "it is a folder" in _serve(str(tmp_path), capsys)
    existing = tmp_path / "centre.sqlite3"
    open_store(str(existing)).close()
    assert "read-only" in _serve(f"file:{existing}?mode=ro", capsys)


def test_serve_says_why_postgresql_cannot_be_reached(
        capsys: pytest.CaptureFixture[str]) -> None:
    err = _serve("postgresql://nobody@127.0.0.1:1/none?connect_timeout=5", capsys)
    assert "cannot open the PostgreSQL database" in err


def test_read_only_store_refuses_to_open(tmp_path: Path) -> None:
    existing = tmp_path / "centre.sqlite3"
    open_store(str(existing)).close()
    with pytest.raises(StoreUnavailable, match="read-only"):
        open_store(f"file:{existing}?mode=ro")
