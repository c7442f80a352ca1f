"""Fixtures: the app on a fresh database of each backend (an SQLite file, a PostgreSQL
schema), an in-process client, and a real HTTP server.

PostgreSQL comes from ``ECANFHIR_TEST_POSTGRES_URL`` (``.ci/run`` starts one, see
``.ci/postgres.sh``); without it a throwaway cluster is started here when the server binaries
are installed, else the PostgreSQL cases are skipped, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import anyio.from_thread
import pytest
from _centre_http import BASE, AppClient, free_port
from fastapi import FastAPI

from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import serve_in_thread

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL_VARIABLE = "ECANFHIR_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server URL for the session (see the module docstring)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        yield url
        return
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bindirs and shutil.which("initdb") is None:
        reason = (f"PostgreSQL is not available: set {POSTGRES_URL_VARIABLE} or install the "
                  "Debian package postgresql (.ci/run does)")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    bindir = os.path.dirname(bindirs[-1]) if bindirs else os.path.dirname(
        shutil.which("initdb") or "")
    with _ThrowawayCluster(bindir) as started:
        yield started


class _ThrowawayCluster:
    """initdb + pg_ctl in a temporary directory on 127.0.0.1 (as user postgres when root)."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="ecanfhir-pg-")
        self.owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.owner, *args], check=True, capture_output=True, timeout=120)

    def __enter__(self) -> str:
        if self.owner:
            shutil.chown(self.dir, "postgres")
        port = free_port()
        data = os.path.join(self.dir, "data")
        self._run(f"{self.bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self._run(f"{self.bindir}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"),
                  "-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {port} -k {self.dir} "
                  "-c fsync=off -c max_connections=300", "start")
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def __exit__(self, *_exc: object) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", os.path.join(self.dir, "data"),
                      "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty schema (``search_path``), dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each backend: the storage and server tests run on both."""
    if request.param == "sqlite":
        return str(tmp_path / "centre.sqlite3")
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def settings(database: str) -> Settings:
    return Settings(database=database, base_url=BASE, max_body_bytes=200_000,
                    max_json_depth=40)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.services.store.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[AppClient]:
    with anyio.from_thread.start_blocking_portal() as portal:
        c = AppClient(app, portal)
        yield c
        c.close()


@pytest.fixture
def live_server(database: str) -> Iterator[tuple[str, FastAPI]]:
    """uvicorn on 127.0.0.1 on a free port, in a thread; yields (base URL, app)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    application = create_app(Settings(database=database, base_url=base))
    with serve_in_thread(application, port):
        yield base, application
