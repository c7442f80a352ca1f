"""Run an app with uvicorn on 127.0.0.1 in a background thread (tests, the demo).

``ecanfhir serve`` is the way to run the centre for real; this is for code that needs a live
HTTP server for a moment and must not leave it behind.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["free_port", "serve_in_thread", "wait_until_serving"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: Any, port: int, *, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` on ``127.0.0.1:port`` until the ``with`` block ends; yields the base URL.

    Raises:
        RuntimeError: the server did not start within ``start_timeout`` seconds.
    """
    import uvicorn

    from .http_protocol import protocol_class

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="none", lifespan="on", http=protocol_class()))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on 127.0.0.1:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_until_serving(base_url: str, process: Any, *, timeout: float = 60.0) -> None:
    """Wait for a server started as a subprocess (``ecanfhir serve``) to answer ``/metadata``.

    Raises:
        RuntimeError: the process ended, or no answer within ``timeout`` seconds.
    """
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}/metadata", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the server at {base_url} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server at {base_url} did not answer in {timeout:.0f} s")
        time.sleep(0.2)


def stop_serving(process: Any, *, timeout: float = 20.0) -> None:
    """Stop a server started as a subprocess as Ctrl-C would (SIGINT: uvicorn shuts down
    gracefully), and kill it if it has not ended after ``timeout`` seconds."""
    import signal
    import subprocess

    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
