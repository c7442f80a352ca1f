"""Property, over real HTTP on one keep-alive connection: odd requests (arbitrary JSON, mutated
messages, odd transactions, URLs, query strings and headers) never get a 5xx, and every 4xx is
an OperationOutcome. A bounded, deterministic run; ``scripts/fuzz_centre.py`` sends 10,000."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from _centre_fuzz import FuzzRequest, Tally, fuzz_requests, send
from _centre_http import free_port
from hypothesis import HealthCheck, Phase, given, settings

from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import serve_in_thread


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One SQLite centre for the whole run, and one client (one connection) to it."""
    port = free_port()
    app = create_app(Settings(database=str(tmp_path_factory.mktemp("fuzz") / "c.sqlite3"),
                              base_url=f"http://127.0.0.1:{port}"))
    with serve_in_thread(app, port) as base, httpx.Client(base_url=base, timeout=60) as http:
        yield http
    app.state.services.store.close()


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=fuzz_requests())
def test_odd_requests_get_no_5xx(centre: httpx.Client, request: FuzzRequest) -> None:
    tally = Tally()
    send(centre, request, tally)
    assert tally.ok, tally.problems
