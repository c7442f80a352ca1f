"""`ecanfhir serve --workers 2`: two processes on one SQLite file, one duplicate rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from _centre_http import free_port
from _centre_messages import referral

from ecanfhir.builders import resend
from testservers.national_centre.running import stop_serving, wait_until_serving

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.mark.parametrize("validation_processes", [0, 2])
def test_two_workers_share_the_store_and_the_duplicate_rules(tmp_path: Path,
                                                              validation_processes: int) -> None:
    """Messages and their resends spread over two worker processes: one case per message and
    the same acknowledgement bytes for every copy (validated in the request threads, or in
    child processes of each worker)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "ecanfhir.cli", "serve", "--port", str(port), "--workers", "2",
         "--db", str(tmp_path / "centre.sqlite3"),
         "--validation-processes", str(validation_processes)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    try:
        wait_until_serving(base, server)
        messages = [referral(f"CASE-{n}", seed=n) for n in range(4)]
        copies = [m for m in messages for _ in range(3)]
        copies = [c if i % 3 == 0 else resend(c) for i, c in enumerate(copies)]

        def post(bundle: dict[str, object]) -> bytes:
            answer = httpx.post(f"{base}/$process-message", content=json.dumps(bundle),
                                headers=FHIR, timeout=60)
            assert answer.status_code == 200, answer.text
            return answer.content

        with ThreadPoolExecutor(max_workers=6) as pool:
            acks = list(pool.map(post, copies))
        for n in range(len(messages)):
            assert len(set(acks[3 * n:3 * n + 3])) == 1          # byte-identical
        codes = {json.loads(a)["entry"][0]["resource"]["response"]["code"] for a in acks}
        assert codes == {"ok"}
        report = httpx.get(f"{base}/Measure/ecan-kpi-cancer-cases/$evaluate-measure",
                           params={"periodStart": "2000-01-01", "periodEnd": "2100-12-31"},
                           timeout=30).json()
        populations = {p["code"]["coding"][0]["code"]: p["count"]
                       for p in report["group"][0]["population"]}
        assert populations["measure-population"] == len(messages)
    finally:
        stop_serving(server)
        log.close()
    started = [line for line in (tmp_path / "serve.log").read_text().splitlines()
               if "Started server process" in line]
    assert len(set(started)) == 2, started          # two worker processes
