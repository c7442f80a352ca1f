"""Search does not scan (issue 10 §1.8): ``Condition?patient=`` reads the search index, so its
latency stays flat while the store grows from a few hundred resources of the type to 12,000
(3,000 on PostgreSQL, whose writes one by one take longer to set up). Over real HTTP on
127.0.0.1; ``benchmarks/server.py`` measures it at 100,000 stored cases."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
from fastapi import FastAPI

from testservers.national_centre.storage import Transaction


def _conditions(app: FastAPI, first: int, count: int) -> None:
    """``count`` Conditions, each of its own Patient, stored in one unit."""
    def work(tx: Transaction) -> None:
        for n in range(first, first + count):
            tx.put({"resourceType": "Condition", "id": f"c-{n}",
                    "subject": {"reference": f"Patient/p-{n}"},
                    "identifier": [{"system": "urn:test", "value": f"c-{n}"}]})

    app.state.services.store.atomic(work)


def _median_ms(http: httpx.Client, path: str, repeat: int = 25) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = http.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["total"] == 1, body
    return statistics.median(times) * 1000


def test_patient_search_stays_flat_as_the_store_grows(live_server: tuple[str, FastAPI],
                                                      database: str) -> None:
    base, app = live_server
    grown = 2_700 if database.startswith("postgresql") else 11_700
    _conditions(app, 0, 300)
    paths = ("/Condition?patient=Patient/p-7", "/Condition?subject=p-7",
             "/Condition?identifier=urn:test|c-7")
    with httpx.Client(base_url=base, timeout=60) as http:
        for path in paths:
            _median_ms(http, path, repeat=3)                       # warm up
        small = [_median_ms(http, path) for path in paths]
        _conditions(app, 300, grown)
        for path in paths:
            _median_ms(http, path, repeat=3)
        # The better of two rounds: a background pass (autovacuum, an audit batch) may
        # slow one, never both by a scan's cost.
        large = [min(_median_ms(http, path), _median_ms(http, path)) for path in paths]
    for path, before, after in zip(paths, small, large, strict=True):
        # A scan of 12,000 Conditions costs SQLite tens of ms; an index lookup none.
        assert after < 2 * before + 4, (path, before, after)
