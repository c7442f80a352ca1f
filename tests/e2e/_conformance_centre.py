"""The mock centre the conformance runner's end-to-end tests run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from ecanfhir import conformance
from testservers.national_centre import FaultRule, Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread

FAULTS = tuple(FaultRule(code, sender=sor)  # type: ignore[arg-type]
               for code, sor in conformance.FAULT_SENDERS.items())


def recording_centre(tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[tuple[str, FastAPI]]:
    """The mock centre with recorder and the suite's fault senders, on a free loopback port:
    its base URL and app, while the caller iterates."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path_factory.mktemp("c") / "c.sqlite3"),
                              base_url=base, faults=FAULTS, recorder=True))
    with serve_in_thread(app, port):
        yield base, app
