"""Crash safety: ``ecanfhir serve`` killed with SIGKILL in the middle of a load and started
again on the same SQLite file loses no acknowledged message and stores none twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from _centre_http import free_port as _free_port
from _centre_messages import referral

from testservers.national_centre.database import open_store
from testservers.national_centre.running import wait_until_serving

FHIR = {"Content-Type": "application/fhir+json"}
SENDERS = 8
MESSAGES = 160
KILL_AFTER_ACKS = 30


@contextmanager
def serve(database: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``ecanfhir serve`` in a new process on 127.0.0.1; yields (base URL, process)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecanfhir.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--db", str(database)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        try:
            wait_until_serving(base, process, timeout=30)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-2000:]}") from exc
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ack_code(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return None
    header = response.json()["entry"][0]["resource"]
    code: str = header["response"]["code"]
    return code


def test_kill_9_mid_load_loses_no_acknowledged_message(tmp_path: Path) -> None:
    """Every message acknowledged ``ok`` before a SIGKILL is stored after the restart, none
    twice, its resend answers the same ack bytes, and K1 counts each distinct message once."""
    database, log = tmp_path / "centre.sqlite3", tmp_path / "serve.log"
    messages = [json.dumps(referral(f"CASE-{n:04d}", seed=n)) for n in range(MESSAGES)]
    acked: dict[int, bytes] = {}
    lock = threading.Lock()
    killed = threading.Event()

    with serve(database, log) as (base, process):
        def send(n: int) -> None:
            if killed.is_set():
                return
            try:
                with httpx.Client(base_url=base, timeout=30) as http:
                    response = http.post("/$process-message", content=messages[n],
                                         headers=FHIR)
            except httpx.TransportError:
                return          # the server died while this one was in flight
            if ack_code(response) == "ok":
                with lock:
                    acked[n] = response.content
                    if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                        killed.set()
                        os.kill(process.pid, signal.SIGKILL)

        # One message alone first: a fresh Validator used from several threads at once can
        # report spurious errors while it compiles its schemas (a validator issue, not this
        # test's subject).
        send(0)
        assert 0 in acked
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            list(pool.map(send, range(1, MESSAGES)))
        assert killed.is_set() and process.wait(timeout=10) == -signal.SIGKILL

    sent_before_kill = len(acked)
    with serve(database, log) as (base, _process), httpx.Client(base_url=base,
                                                                timeout=60) as http:
        store = open_store(str(database))
        try:
            logged = [m.header_id for m in store.messages()]
        finally:
            store.close()
        header_ids = {n: json.loads(messages[n])["entry"][0]["resource"]["id"]
                      for n in range(MESSAGES)}
        assert len(logged) == len(set(logged)), "a message was stored twice"
        assert {header_ids[n] for n in acked} <= set(logged), "an acknowledged message is lost"
        assert _k1(http) == len(logged)
        for n, ack in acked.items():       # a resend after the crash: the very same ack
            assert http.post("/$process-message", content=messages[n],
                             headers=FHIR).content == ack
        for n in range(MESSAGES):          # the rest, sent (again) once: each counted once
            if n not in acked:
                assert ack_code(http.post("/$process-message", content=messages[n],
                                          headers=FHIR)) == "ok"
        assert _k1(http) == MESSAGES
    assert KILL_AFTER_ACKS <= sent_before_kill < MESSAGES


def _k1(http: httpx.Client) -> int:
    report: dict[str, Any] = http.get("/Measure/ecan-kpi-cancer-cases/$evaluate-measure",
                                      params={"periodStart": "2026",
                                              "periodEnd": "2026"}).json()
    counts = {p["code"]["coding"][0]["code"]: p["count"]
              for p in report["group"][0]["population"]}
    assert counts["initial-population"] == counts["measure-population"]
    total: int = counts["measure-population"]
    return total
