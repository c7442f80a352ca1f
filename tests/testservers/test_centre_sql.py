"""The SQL both stores share (``national_centre/_sql.py``), run directly on each backend's
schema: the rows the duplicate rules, the message log and the resource versions leave behind,
and what read, vread and search give back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from testservers.national_centre import _postgres, _sqlite
from testservers.national_centre._aggregates import SCHEMA as AGGREGATES
from testservers.national_centre._sql import (
    Execute,
    InsertMany,
    classify,
    message_facts,
    put_resource,
    read_resource,
    record_message,
    search_resources,
    search_where,
    transmission_count,
    vread_resource,
)
from testservers.national_centre.storage import (
    Envelope,
    MessageFact,
    Processed,
    Receipt,
    SearchPage,
    SearchQuery,
    StoredResource,
    TokenParam,
)

T1, T2, T3 = ("2026-03-01T10:00:00.000000+00:00", "2026-03-02T10:00:00.000000+00:00",
              "2026-03-03T10:00:00.000000+00:00")
SYSTEM = "urn:oid:1.2.208.176.1.2"


@dataclass
class Database:
    execute: Execute
    insert_many: InsertMany
    p: str                                     # the parameter marker

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in self.execute(sql).fetchall()]

    def put(self, resource: dict[str, Any], last_updated: str, **audit: bool) -> StoredResource:
        return put_resource(self.execute, self.insert_many, resource, last_updated, self.p,
                            **audit)


@contextmanager
def _sqlite_database() -> Iterator[Database]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(_sqlite.SCHEMA)
    try:
        yield Database(conn.execute, conn.executemany, "?")
    finally:
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """An empty database with the store's schema (PostgreSQL: a fresh schema of it)."""
    if request.param == "sqlite":
        with _sqlite_database() as database:
            yield database
        return
    import psycopg

    with psycopg.connect(request.getfixturevalue("postgres_database"), autocommit=True) as pg:
        pg.execute(_postgres.SCHEMA)
        pg.execute(AGGREGATES)

        def insert_many(sql: str, rows: list[tuple[Any, ...]]) -> None:
            with pg.cursor() as cursor:
                cursor.executemany(sql, rows)

        yield Database(pg.execute, insert_many, "%s")


def envelope(bundle_id: str, header_id: str, event: str | None = "e1") -> Envelope:
    return Envelope(bundle_id, header_id, event=event, sender="123456X",
                    timestamp="2026-03-01T09:00:00+01:00")


def processed(ack: bytes = b"<ack>", **kpi: Any) -> Processed:
    return Processed(ack=ack, ack_code="ok", kpi=kpi, reasons=("late", "again"))


# -- the message log and the duplicate rules (DOMAIN.md §2(c) point 5) ---------------------

def test_a_new_message_is_logged_with_its_first_transmission(db: Database) -> None:
    """One messages row (KPI facts as JSON with sorted keys, reasons as a JSON list) and one
    'original' transmission; the log reads back field for field."""
    record_message(db.execute, envelope("b1", "h1"), processed(zeta=1, alpha="x"), T1, db.p)
    assert db.rows("SELECT * FROM messages") == [
        ("h1", "b1", "e1", "123456X", T1, "2026-03-01T09:00:00+01:00", "ok", b"<ack>",
         '{"alpha": "x", "zeta": 1}', '["late", "again"]')]
    assert db.rows("SELECT * FROM transmissions") == [("b1", "h1", T1, "original", 0)]
    assert message_facts(db.execute, None, db.p) == [
        MessageFact("h1", "e1", "123456X", T1, "2026-03-01T09:00:00+01:00", "ok",
                    {"alpha": "x", "zeta": 1}, ("late", "again"))]
    assert transmission_count(db.execute) == 1


def test_the_message_log_is_oldest_first_and_filters_by_event(db: Database) -> None:
    """Ordered by reception, then MessageHeader.id; ``event`` keeps that event's messages."""
    record_message(db.execute, envelope("b3", "h3", "e2"), processed(), T2, db.p)
    record_message(db.execute, envelope("b2", "h2", "e1"), processed(), T2, db.p)
    record_message(db.execute, envelope("b1", "h9", "e1"), processed(), T1, db.p)
    assert [f.header_id for f in message_facts(db.execute, None, db.p)] == ["h9", "h2", "h3"]
    assert [f.header_id for f in message_facts(db.execute, "e1", db.p)] == ["h9", "h2"]
    assert [f.header_id for f in message_facts(db.execute, "e2", db.p)] == ["h3"]
    assert message_facts(db.execute, "e3", db.p) == []


def test_classify_tells_new_resent_duplicate_and_reused_envelopes(db: Database) -> None:
    """New: None, nothing written. The same envelope again: a resend (counted on its
    transmission). A new envelope of a known message: a 'duplicate' transmission. A known
    envelope with another MessageHeader.id: rejected, logged with its reason, no ack."""
    assert classify(db.execute, envelope("b1", "h1"), db.p) is None
    assert transmission_count(db.execute) == 0
    record_message(db.execute, envelope("b1", "h1"), processed(b"<stored ack>"), T1, db.p)

    assert classify(db.execute, envelope("b1", "h1"), db.p) == Receipt(
        "resend", b"<stored ack>", "ok")
    assert classify(db.execute, envelope("b2", "h1"), db.p) == Receipt(
        "duplicate", b"<stored ack>", "ok")
    assert classify(db.execute, envelope("b1", "h2"), db.p) == Receipt("bundle-id-reused")

    transmissions = db.rows("SELECT bundle_id, header_id, kind, resends FROM transmissions "
                            "ORDER BY bundle_id")
    assert transmissions == [("b1", "h1", "original", 1), ("b2", "h1", "duplicate", 0)]
    assert db.rows("SELECT bundle_id, header_id, reason FROM rejected_transmissions") == [
        ("b1", "h2", "bundle-id-reused")]
    assert transmission_count(db.execute) == 3


# -- resources ----------------------------------------------------------------------------

def patient(family: str, cpr: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", "identifier": [{"system": SYSTEM,
                                                                    "value": cpr}],
            "name": [{"family": family}], **extra}


def test_put_stores_compact_utf8_versions_and_reindexes(db: Database) -> None:
    """Each put is the next version, meta.versionId/lastUpdated set (other meta kept), the JSON
    compact and in UTF-8; the current version is what read gives, vread gives each; the
    search index holds only the current version's values."""
    first = db.put(patient("Ørsted", "0101010101", meta={"profile": ["urn:p"]}), T1)
    body = ('{"resourceType":"Patient","id":"p1","identifier":[{"system":"' + SYSTEM
            + '","value":"0101010101"}],"name":[{"family":"Ørsted"}],"meta":{"profile":'
            '["urn:p"],"versionId":"1","lastUpdated":"' + T1 + '"}}').encode()
    assert first == StoredResource("Patient", "p1", 1, T1, body)
    second = db.put(patient("Bohr", "0202020202"), T2)
    assert second.version == 2
    assert json.loads(second.json)["meta"] == {"versionId": "2", "lastUpdated": T2}

    assert read_resource(db.execute, "Patient", "p1", db.p) == second
    assert vread_resource(db.execute, "Patient", "p1", 1, db.p) == first
    assert vread_resource(db.execute, "Patient", "p1", 2, db.p) == second
    assert vread_resource(db.execute, "Patient", "p1", 3, db.p) is None
    assert read_resource(db.execute, "Patient", "p2", db.p) is None
    assert db.rows("SELECT * FROM resources") == [("Patient", "p1", 2, T2)]
    assert db.rows("SELECT * FROM search_index") == [
        ("Patient", "p1", "identifier", SYSTEM, "0202020202")]


def test_put_without_audit_refuses_audit_events(db: Database) -> None:
    """Only the audit trail writes AuditEvents, and only new ones; it writes nothing else."""
    event = {"resourceType": "AuditEvent", "id": "a1", "outcome": "0"}
    with pytest.raises(PermissionError, match=r"^AuditEvent is written by the server only$"):
        db.put(event, T1)
    with pytest.raises(PermissionError, match=r"^Patient is not written by the server only$"):
        db.put(patient("Bohr", "0202020202"), T1, audit=True)
    assert db.put(event, T1, audit=True).version == 1
    with pytest.raises(PermissionError,
                       match=r"^AuditEvent/a1 exists: the audit trail is append-only$"):
        db.put(event, T2, audit=True)
    assert db.rows("SELECT type, id, version FROM resource_versions") == [
        ("AuditEvent", "a1", 1)]


def search(db: Database, query: SearchQuery) -> SearchPage:
    where = search_where(query, db.p, ids_clause=lambda ids: (
        f"r.id IN ({','.join([db.p] * len(ids))})", list(ids)))
    return search_resources(db.execute, query, where, db.p)


@pytest.mark.parametrize("tokens", [(), (("identifier", (TokenParam(SYSTEM, None),)),)],
                         ids=["by-type", "by-token"])
def test_search_pages_by_last_updated_then_id(db: Database, tokens: Any) -> None:
    """A page is sorted by lastUpdated, then id, and cut by count/offset; the total counts
    every match; ``_summary=count`` gives the total and no resources."""
    stored = [db.put({**patient("A", str(n)), "id": rid}, when)
              for n, (rid, when) in enumerate([("c", T1), ("a", T2), ("b", T1)])]
    c, a, b = stored
    query = SearchQuery("Patient", tokens=tokens, count=2)
    assert search(db, query) == SearchPage(3, (b, c))
    assert search(db, SearchQuery("Patient", tokens=tokens, count=2, offset=2)) == SearchPage(
        3, (a,))
    assert search(db, SearchQuery("Patient", tokens=tokens, summary_count=True)) == SearchPage(
        3, ())


def test_sqlite_serves_each_search_from_its_index() -> None:
    """Without token criteria the page is read in order from ``resources_by_time`` (no sort
    of every match); with them the search index drives the query and the resources are
    looked up by key, never walked in time order (test_centre_search_scale measures it)."""
    with _sqlite_database() as db:
        sent: list[tuple[str, list[Any]]] = []

        def recorded(sql: str, args: Any = ()) -> Any:
            sent.append((sql, list(args)))
            return db.execute(sql, args)

        def plan(query: SearchQuery) -> str:
            search(Database(recorded, db.insert_many, db.p), query)
            sql, args = sent[-1]
            return " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args))

        by_type = plan(SearchQuery("Patient"))
        assert "USING INDEX resources_by_time" in by_type and "TEMP B-TREE" not in by_type
        by_token = plan(SearchQuery("Patient", tokens=(
            ("identifier", (TokenParam(None, "2"),)),)))
        assert "USING INDEX search_by_value" in by_token
        assert "resources_by_time" not in by_token


def test_search_where_combines_ids_dates_and_tokens(db: Database) -> None:
    """Ids, each _lastUpdated comparison and each token parameter are AND-ed; a parameter's
    alternatives are OR-ed; a token without system matches any system, '' no system."""
    p = db.p
    query = SearchQuery("Patient", ids=("x", "y"), last_updated=(("=", T1), (">=", T2)),
                        tokens=(("identifier", (TokenParam(SYSTEM, "1"), TokenParam(None, "2"),
                                                TokenParam("", None))),))
    clause, args = search_where(query, p, ids_clause=lambda ids: ("r.id IN (ids)", list(ids)))
    assert clause == (
        f"r.type = {p} AND r.id IN (ids) AND r.last_updated = {p} AND r.last_updated >= {p} "
        f"AND r.id IN (SELECT s.id FROM search_index s WHERE s.type = {p} AND "
        f"((s.param = {p} AND s.system = {p} AND s.value = {p}) OR (s.param = {p} AND "
        f"s.value = {p}) OR (s.param = {p} AND s.system = {p})))")
    assert args == ["Patient", "x", "y", T1, T2, "Patient", "identifier", SYSTEM, "1",
                    "identifier", "2", "identifier", ""]
    with pytest.raises(ValueError, match=r"^not a comparison operator: <>$"):
        search_where(SearchQuery("Patient", last_updated=(("<>", T1),)), p,
                     ids_clause=lambda ids: ("", []))


def test_search_by_ids_dates_and_tokens_finds_the_matches(db: Database) -> None:
    """The clause run: lastUpdated equal to an instant, ids, and a token of any system."""
    a = db.put({**patient("A", "1"), "id": "a"}, T1)
    b = db.put({**patient("B", "2"), "id": "b"}, T2)
    db.put({**patient("C", "2"), "id": "c"}, T3)
    assert search(db, SearchQuery("Patient", last_updated=(("=", T1),))) == SearchPage(1, (a,))
    assert search(db, SearchQuery("Patient", ids=("a", "b", "zz"))) == SearchPage(2, (a, b))
    query = SearchQuery("Patient", ids=("b", "c"), last_updated=(("<", T3),),
                        tokens=(("identifier", (TokenParam(None, "2"),)),))
    assert search(db, query) == SearchPage(1, (b,))
    assert search(db, SearchQuery("Observation")) == SearchPage(0, ())
