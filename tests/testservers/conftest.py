"""Fixtures: the app on a fresh SQLite file, an in-process client, and a real HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from testservers.national_centre import Settings, create_app

BASE = "http://centre.test"


class AppClient:
    """A synchronous httpx client for an ASGI app, in process (no sockets)."""

    def __init__(self, app: FastAPI, portal: Any) -> None:
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self._portal.call(
            lambda: self._client.request(method, url, **kwargs))
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=str(tmp_path / "centre.sqlite3"), base_url=BASE,
                    max_body_bytes=200_000, max_json_depth=40)


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """uvicorn on 127.0.0.1 on a free port, in a thread; yields (base URL, app)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    application = create_app(Settings(database=str(tmp_path / "live.sqlite3"), base_url=base))
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port,
                                           log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield base, application
    server.should_exit = True
    thread.join(timeout=20)
