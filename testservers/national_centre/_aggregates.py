"""What the dashboard shows, kept as aggregates when a message is stored, so ``GET /`` reads a
few rows instead of every message (the same SQL for both stores, like :mod:`._sql`).

- ``message_counts``: messages per (day received, acknowledgement code, sender SOR);
- ``message_kpis``: one row per accepted KPI message, its facts as columns (UTC month,
  hashed case key, department SOR, retraction, consultation start month, class, status);
- ``kpi_counts``: K1 and K2 per month and department, kept up to date as each message is
  stored with the rules of :mod:`.kpi` (K1: distinct cases by their first message in the
  month, retracted cases left out; K2: an encounter's latest message decides, counted in the
  month it started), from ``kpi_firsts`` (a case's first message per month),
  ``kpi_retracted`` and ``kpi_latest`` (an encounter's latest message), so a dashboard view
  reads a few rows however many messages there are (a query over ``message_kpis`` would cost
  every view time in proportion to the log, and slow intake while it runs);
- the latest rejections come from a partial index on ``messages (received)``.

A database written before these tables existed is filled from its message log once, when the
store opens it (``centre_meta`` remembers that it was).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._dates import bounds
from .storage import Envelope, MessageFact, Overview, Processed

__all__ = ["SCHEMA", "backfill", "overview", "record_aggregates"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS message_counts (
    day TEXT NOT NULL, ack_code TEXT NOT NULL, department TEXT NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (day, ack_code, department)
);
CREATE TABLE IF NOT EXISTS message_kpis (
    header_id TEXT PRIMARY KEY, event TEXT NOT NULL, received TEXT NOT NULL,
    month TEXT, case_key TEXT, department TEXT NOT NULL, retract INTEGER NOT NULL,
    start_month TEXT, class TEXT, status TEXT
);
CREATE INDEX IF NOT EXISTS message_kpis_by_case ON message_kpis (event, case_key);
CREATE TABLE IF NOT EXISTS kpi_counts (
    kpi TEXT NOT NULL, month TEXT NOT NULL, department TEXT NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (kpi, month, department)
);
CREATE TABLE IF NOT EXISTS kpi_months (month TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS kpi_firsts (
    case_key TEXT NOT NULL, month TEXT NOT NULL, department TEXT NOT NULL,
    received TEXT NOT NULL, header_id TEXT NOT NULL, PRIMARY KEY (case_key, month)
);
CREATE TABLE IF NOT EXISTS kpi_retracted (case_key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS kpi_latest (
    case_key TEXT PRIMARY KEY, received TEXT NOT NULL, header_id TEXT NOT NULL,
    start_month TEXT, department TEXT NOT NULL, counted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_rejected ON messages (received) WHERE ack_code <> 'ok';
"""
MARKER = "aggregates-v2"
K1_EVENT, K2_EVENT = "cancer-case-referral", "telemedicine-encounter"

def _month(instant: Any) -> str | None:
    """The UTC month (YYYY-MM) an instant falls in, as ``Period.contains`` places it."""
    if not isinstance(instant, str):
        return None
    try:
        return bounds(instant)[0].strftime("%Y-%m")
    except (ValueError, OverflowError):
        return None


def _kpi_row(header_id: str, event: str | None, received: str, timestamp: str | None,
             kpi: Mapping[str, Any]) -> tuple[Any, ...] | None:
    case = kpi.get("case")
    case_key = case if isinstance(case, str) else None
    if event == K1_EVENT:
        retract = int("retract-message" in (kpi.get("activities") or ()))
        return (header_id, event, received, _month(timestamp or received), case_key,
                str(kpi.get("sender", "unknown")), retract, None, None, None)
    if event == K2_EVENT:
        return (header_id, event, received, None, case_key,
                str(kpi.get("provider", "unknown")), 0, _month(kpi.get("start")),
                kpi.get("class") if isinstance(kpi.get("class"), str) else None,
                kpi.get("status") if isinstance(kpi.get("status"), str) else None)
    return None


def _record(execute: Any, p: str, *, header_id: str, event: str | None, sender: str | None,
            received: str, timestamp: str | None, ack_code: str,
            kpi: Mapping[str, Any]) -> None:
    execute(f"INSERT INTO message_counts VALUES ({p},{p},{p},1) ON CONFLICT (day, ack_code, "
            "department) DO UPDATE SET n = message_counts.n + 1",
            (received[:10], ack_code, sender or ""))
    row = _kpi_row(header_id, event, received, timestamp, kpi) if ack_code == "ok" else None
    if row is not None:
        execute(f"INSERT INTO message_kpis VALUES ({', '.join([p] * 10)})", row)
        _count_kpis(execute, p, row)


def _count_kpis(execute: Any, p: str, row: tuple[Any, ...]) -> None:
    """Update K1 or K2 for one accepted message (a ``message_kpis`` row)."""
    header_id, event, received, month, case_key, department, retract, start, cls, status = row
    for known in (month, start):
        if known is not None:
            execute(f"INSERT INTO kpi_months VALUES ({p}) ON CONFLICT (month) DO NOTHING",
                    (known,))
    if case_key is None:
        return
    if event == K1_EVENT:
        _count_k1(execute, p, (received, header_id), month, case_key, department, retract)
    else:
        counted = cls == "VR" and status == "finished" and start is not None
        _count_k2(execute, p, (received, header_id), start, case_key, department, counted)


def _add(execute: Any, p: str, kpi: str, month: str, department: str, n: int) -> None:
    execute(f"INSERT INTO kpi_counts VALUES ({p},{p},{p},{p}) ON CONFLICT (kpi, month, "
            "department) DO UPDATE SET n = kpi_counts.n + excluded.n",
            (kpi, month, department, n))


def _count_k1(execute: Any, p: str, order: tuple[str, str], month: str | None, case_key: str,
              department: str, retract: int) -> None:
    """K1: a case counts once per month, for the department of its first message there; a
    retracted case counts nowhere, also for the messages before its retraction."""
    if execute(f"SELECT 1 FROM kpi_retracted WHERE case_key = {p}", (case_key,)).fetchone():
        return
    if retract:
        execute(f"INSERT INTO kpi_retracted VALUES ({p})", (case_key,))
        for earlier_month, earlier in execute(f"SELECT month, department FROM kpi_firsts "
                                              f"WHERE case_key = {p}", (case_key,)).fetchall():
            _add(execute, p, "K1", earlier_month, earlier, -1)
        return
    if month is None:
        return
    first = execute(f"SELECT department, received, header_id FROM kpi_firsts WHERE "
                    f"case_key = {p} AND month = {p}", (case_key, month)).fetchone()
    if first is not None and order >= (first[1], first[2]):
        return
    execute(f"INSERT INTO kpi_firsts VALUES ({p},{p},{p},{p},{p}) ON CONFLICT (case_key, "
            "month) DO UPDATE SET department = excluded.department, received = "
            "excluded.received, header_id = excluded.header_id",
            (case_key, month, department, *order))
    if first is not None:
        _add(execute, p, "K1", month, first[0], -1)
    _add(execute, p, "K1", month, department, 1)


def _count_k2(execute: Any, p: str, order: tuple[str, str], start: str | None, case_key: str,
              department: str, counted: bool) -> None:
    """K2: an encounter's latest message decides; a finished video consultation counts in
    the month it started."""
    latest = execute(f"SELECT received, header_id, start_month, department, counted FROM "
                     f"kpi_latest WHERE case_key = {p}", (case_key,)).fetchone()
    if latest is not None and order < (latest[0], latest[1]):
        return
    if latest is not None and latest[4]:
        _add(execute, p, "K2", latest[2], latest[3], -1)
    execute(f"INSERT INTO kpi_latest VALUES ({p},{p},{p},{p},{p},{p}) ON CONFLICT (case_key) "
            "DO UPDATE SET received = excluded.received, header_id = excluded.header_id, "
            "start_month = excluded.start_month, department = excluded.department, "
            "counted = excluded.counted", (case_key, *order, start, department, int(counted)))
    if counted and start is not None:
        _add(execute, p, "K2", start, department, 1)


def record_aggregates(execute: Any, envelope: Envelope, processed: Processed, received: str,
                      p: str) -> None:
    """Count a newly stored message (in the transaction that stores it)."""
    _record(execute, p, header_id=envelope.header_id, event=envelope.event,
            sender=envelope.sender, received=received, timestamp=envelope.timestamp,
            ack_code=processed.ack_code, kpi=processed.kpi)


def backfill(execute: Any, p: str) -> None:
    """Fill the aggregates from the message log once (a database older than them)."""
    if execute(f"SELECT 1 FROM centre_meta WHERE key = {p}", (MARKER,)).fetchone():
        return
    for table in ("message_counts", "message_kpis", "kpi_counts", "kpi_months", "kpi_firsts",
                  "kpi_retracted", "kpi_latest"):
        execute(f"DELETE FROM {table}")
    rows = execute("SELECT header_id, event, sender, received, bundle_timestamp, ack_code, kpi "
                   "FROM messages ORDER BY received, header_id").fetchall()
    for header_id, event, sender, received, timestamp, ack_code, kpi in rows:
        _record(execute, p, header_id=header_id, event=event, sender=sender,
                received=received, timestamp=timestamp, ack_code=ack_code,
                kpi=json.loads(kpi))
    execute(f"INSERT INTO centre_meta VALUES ({p}, {p})", (MARKER, "1"))


def overview(execute: Any, p: str, *, rejected: int) -> Overview:
    """The dashboard's numbers: counters, K1/K2 per month and department, latest rejections."""
    counts = execute("SELECT day, ack_code, department, n FROM message_counts").fetchall()
    counted: dict[str, dict[tuple[str, str], int]] = {"K1": {}, "K2": {}}
    for kpi, month, department, n in execute(
            "SELECT kpi, month, department, n FROM kpi_counts WHERE n > 0").fetchall():
        counted[kpi][(month, department)] = int(n)
    k1, k2 = counted["K1"], counted["K2"]
    months = [r[0] for r in execute("SELECT month FROM kpi_months").fetchall()]
    kpis = tuple((m, d, k1.get((m, d), 0), k2.get((m, d), 0))
                 for m, d in sorted(k1.keys() | k2.keys()))
    latest = execute(
        "SELECT header_id, event, sender, received, bundle_timestamp, ack_code, kpi, reasons "
        f"FROM messages WHERE ack_code <> 'ok' ORDER BY received DESC LIMIT {p}",
        (rejected,)).fetchall()
    return Overview(
        counts=tuple((str(d), str(a), str(s), int(n)) for d, a, s, n in counts),
        kpis=kpis, months=tuple(sorted(months)),
        rejected=tuple(MessageFact(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]),
                                   tuple(json.loads(r[7]))) for r in latest))
