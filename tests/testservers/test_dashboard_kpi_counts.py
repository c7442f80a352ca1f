"""The dashboard's K1/K2 counters, kept up to date message by message, equal what the rules of
``kpi.py`` give over the whole message log (here: the window queries the dashboard ran over
``message_kpis`` before, as the oracle), for any order of referrals, retractions and
encounter updates."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from testservers.national_centre._aggregates import _record, overview
from testservers.national_centre._sqlite import SCHEMA

K1_ORACLE = """
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
K2_ORACLE = """
SELECT start_month, department, count(*) FROM (
    SELECT start_month, department, class, status, row_number() OVER (
        PARTITION BY case_key ORDER BY received DESC, header_id DESC) AS nth
    FROM message_kpis WHERE event = 'telemedicine-encounter' AND case_key IS NOT NULL
) latest WHERE nth = 1 AND class = 'VR' AND status = 'finished' AND start_month IS NOT NULL
GROUP BY start_month, department
"""
MONTHS = ("2026-01-15T10:00:00+01:00", "2026-02-03T09:00:00+01:00",
          "2026-02-28T23:30:00-02:00")     # the last one is in March, UTC
referral = st.fixed_dictionaries({
    "event": st.just("cancer-case-referral"), "case": st.sampled_from(("c1", "c2", "c3", None)),
    "sender": st.sampled_from(("D1", "D2")), "timestamp": st.sampled_from(MONTHS),
    "retract": st.integers(0, 5).map(lambda n: n == 0)})
consultation = st.fixed_dictionaries({
    "event": st.just("telemedicine-encounter"), "case": st.sampled_from(("e1", "e2", None)),
    "provider": st.sampled_from(("D1", "D2")), "start": st.sampled_from((*MONTHS, None)),
    "class": st.sampled_from(("VR", "AMB")),
    "status": st.sampled_from(("finished", "planned", "cancelled"))})


def _store(conn: sqlite3.Connection, n: int, received: str, message: dict[str, Any]) -> None:
    kpi = {k: v for k, v in message.items() if k not in ("event", "timestamp", "retract")}
    if message.get("retract"):
        kpi["activities"] = ["retract-message"]
    _record(conn.execute, "?", header_id=f"h{n:03d}", event=message["event"],
            sender=message.get("sender") or message.get("provider"), received=received,
            timestamp=message.get("timestamp"), ack_code="ok", kpi=kpi)


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(st.tuples(st.integers(0, 5), st.one_of(referral, consultation)),
                         max_size=14))
def test_counters_equal_the_rules_over_the_whole_log(
        messages: list[tuple[int, dict[str, Any]]]) -> None:
    """Messages stored in any order of receipt (equal instants broken by header id)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    for n, (second, message) in enumerate(messages):
        _store(conn, n, f"2026-03-01T10:00:0{second}.000Z", message)
    k1 = {(m, d): n for m, d, n in conn.execute(K1_ORACLE)}
    k2 = {(m, d): n for m, d, n in conn.execute(K2_ORACLE)}
    expected = tuple((m, d, k1.get((m, d), 0), k2.get((m, d), 0))
                     for m, d in sorted(k1.keys() | k2.keys()))
    assert overview(conn.execute, "?", rejected=0).kpis == expected
