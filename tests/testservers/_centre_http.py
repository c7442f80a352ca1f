"""HTTP helpers of the mock-centre tests: an in-process client and a free loopback port.

(A module of its own, not conftest.py: several test folders have a conftest, and importing
"conftest" by name picks whichever was imported first.)
"""

from __future__ import annotations

import socket
from typing import Any

import httpx
from fastapi import FastAPI

__all__ = ["BASE", "AppClient", "free_port"]

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
