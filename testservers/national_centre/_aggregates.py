"""What the dashboard shows, kept as aggregates when a message is stored, so ``GET /`` reads a
few rows instead of every message (the same SQL for both stores, like :mod:`._sql`).

- ``message_counts``: messages per (day received, acknowledgement code, sender SOR);
- ``message_kpis``: one row per accepted KPI message, its facts as columns (UTC month,
  hashed case key, department SOR, retraction, consultation start month, class, status), from
  which two window queries give K1 and K2 per month and department with the rules of
  :mod:`.kpi` (K1: distinct cases by their first message in the month, retracted cases left
  out; K2: an encounter's latest message decides, counted in the month it started);
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
CREATE INDEX IF NOT EXISTS messages_rejected ON messages (received) WHERE ack_code <> 'ok';
"""
MARKER = "aggregates-v1"
K1_EVENT, K2_EVENT = "cancer-case-referral", "telemedicine-encounter"

# K1: the first message of each case in each month names its department.
_K1 = """
SELECT month, department, count(*) FROM (
    SELECT month, department, row_number() OVER (
        PARTITION BY month, case_key ORDER BY received, header_id) AS nth
    FROM message_kpis k
    WHERE event = 'cancer-case-referral' AND month IS NOT NULL AND case_key IS NOT NULL
      AND retract = 0 AND NOT EXISTS (
          SELECT 1 FROM message_kpis x WHERE x.event = k.event AND x.case_key = k.case_key
          AND x.retract = 1)
) firsts WHERE nth = 1 GROUP BY month, department
"""
# K2: the latest message of each encounter decides; finished video consultations count in
# the month they started.
_K2 = """
SELECT start_month, department, count(*) FROM (
    SELECT start_month, department, class, status, row_number() OVER (
        PARTITION BY case_key ORDER BY received DESC, header_id DESC) AS nth
    FROM message_kpis WHERE event = 'telemedicine-encounter' AND case_key IS NOT NULL
) latest WHERE nth = 1 AND class = 'VR' AND status = 'finished' AND start_month IS NOT NULL
GROUP BY start_month, department
"""


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
    execute("DELETE FROM message_counts")
    execute("DELETE FROM message_kpis")
    rows = execute("SELECT header_id, event, sender, received, bundle_timestamp, ack_code, kpi "
                   "FROM messages").fetchall()
    for header_id, event, sender, received, timestamp, ack_code, kpi in rows:
        _record(execute, p, header_id=header_id, event=event, sender=sender,
                received=received, timestamp=timestamp, ack_code=ack_code,
                kpi=json.loads(kpi))
    execute(f"INSERT INTO centre_meta VALUES ({p}, {p})", (MARKER, "1"))


def overview(execute: Any, p: str, *, rejected: int) -> Overview:
    """The dashboard's numbers: counters, K1/K2 per month and department, latest rejections."""
    counts = execute("SELECT day, ack_code, department, n FROM message_counts").fetchall()
    k1 = {(m, d): int(n) for m, d, n in execute(_K1).fetchall()}
    k2 = {(m, d): int(n) for m, d, n in execute(_K2).fetchall()}
    months = [r[0] for r in execute(
        "SELECT month FROM message_kpis WHERE month IS NOT NULL UNION "
        "SELECT start_month FROM message_kpis WHERE start_month IS NOT NULL").fetchall()]
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
