#!/usr/bin/env python3
"""Mock national cancer centre benchmark: referral messages through ``$process-message`` over
HTTP on 127.0.0.1, with validation on, from several concurrent senders.

Usage::

    python benchmarks/server.py [--messages N] [--senders N] [--workers N] [--seconds S]
                                [--validation-processes N] [--prefill N] [--viewers N]
                                [--db URL] [--no-compare]

Each phase starts the server (uvicorn, ``--workers`` processes, default: one per core, each
validating in ``--validation-processes`` children, default: one per core) on a database,
warms it up, then sends ``--messages`` distinct referral messages (built with
``ecanfhir.builders`` before the timing starts) from ``--senders`` threads over keep-alive
connections, stopping early after ``--seconds``:

  1. empty store: messages/s and p50/p95/p99 latency;
  2. the same load after ``--prefill`` cases (default 10,000) were written straight through the
     Store API (messages, resources and acks as ``$process-message`` stores them, without
     validating them again; ``Store.commit_many``, a few thousand per transaction) and synced
     to disk: its p95 over the empty store's p95;
  3. the load of phase 1 on a new store while ``--viewers`` clients (default 4) poll the
     dashboard (``GET /``) without pause: messages/s over phase 1's;
  4. unless ``--no-compare``: phase 1 with validation switched off in the server, to show how
     much of the time validation takes (plus the validator alone, in this process).

After phases 1 and 2 it also times, one request at a time, the pilot's searches for the same
patients of phase 1 (``Patient?identifier=`` by CPR number, ``Condition``, ``ServiceRequest``
and ``Observation`` by ``patient``, ``ServiceRequest?_id=``; answered from the search index)
and the dashboard (``GET /``): p95 after the prefill over p95 on the (near) empty store.

Targets (issue 5): >= 200 messages/s with validation on the 2-core machine; ratio <= 1.5.
Issues 10 and 13: the searches' p95 after ``--prefill 100000`` within 1.5x of the empty
store's.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import ecanfhir
from ecanfhir.builders import (
    BuildContext,
    CancerDiagnosis,
    Organization,
    Patient,
    Referral,
    build_referral_message,
)
from ecanfhir.builders.patient import CPR_SYSTEM
from ecanfhir.synthetic._people import fictitious_cpr

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("testservers") is None:  # not installed: the checkout's
    sys.path.append(str(HERE.parent))
import testservers  # noqa: E402
from testservers.national_centre.running import stop_serving, wait_until_serving  # noqa: E402

# Where this process imported ecanfhir and testservers from (an installed build, or a
# checkout): the server's processes import them from there too, and measure the same build.
IMPORTED_FROM = [str(Path(module.__file__ or "").resolve().parent.parent)
                 for module in (ecanfhir, testservers)]

FHIR = {"Content-Type": "application/fhir+json"}
CENTRE = Organization("National cancer centre", sor="987654321098", gln="5790000000005")
HOSPITAL = Organization("Hospital A oncology", sor="123456789012", gln="5790000121526")
AT = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
PREFILL_CHUNK = 5_000


def cpr(n: int) -> str:
    """Case n's patient: a fictitious CPR number of its own."""
    return fictitious_cpr(date(1940, 1, 1) + timedelta(days=n % 20_000), True, random.Random(n))


def referral(n: int) -> dict[str, Any]:
    """A valid cancer-case-referral message for case n (distinct ids and patient per n)."""
    return build_referral_message(
        Referral(f"BENCH-{n:07d}", "tumour-board-review", "National tumour board assessment",
                 AT),
        sender=HOSPITAL, receiver=CENTRE,
        patient=Patient("Testpatient", ("Bruno",), cpr=cpr(n), gender="male"),
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3"),
        context=BuildContext.seeded(n, at=AT))


# -- the server, in its own processes ---------------------------------------------------------

def app_from_env() -> Any:
    """uvicorn factory (``server:app_from_env``): the app for ``BENCH_DB``; with
    ``BENCH_NO_VALIDATION=1`` the message validator finds nothing (for comparison only);
    ``BENCH_VALIDATION_PROCESSES`` is ``Settings.validation_processes``."""
    from testservers.national_centre import Settings, create_app

    app = create_app(Settings(database=os.environ["BENCH_DB"],
                              base_url=os.environ["BENCH_BASE"], warm=True,  # as serve does
                              validation_processes=int(os.environ["BENCH_VALIDATION_PROCESSES"])))
    if os.environ.get("BENCH_NO_VALIDATION") == "1":
        from ecanfhir import ValidationResult

        services = app.state.services
        services.messages.validator = _NoValidation(services.validator, ValidationResult(()))
    return app


class _NoValidation:
    def __init__(self, validator: Any, empty: Any) -> None:
        self.registry, self._empty = validator.registry, empty

    def validate(self, *_args: Any, **_kwargs: Any) -> Any:
        return self._empty


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(database: str, workers: int, *, validation: bool = True,
           validation_processes: int = 0) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BENCH_DB": database, "BENCH_BASE": base,
           "BENCH_NO_VALIDATION": "0" if validation else "1",
           "BENCH_VALIDATION_PROCESSES": str(validation_processes),
           "PYTHONPATH": os.pathsep.join(dict.fromkeys(
               [*IMPORTED_FROM, os.environ.get("PYTHONPATH", "")]))}
    # as ecanfhir serve runs it (BENCH_HTTP=h11 for uvicorn's pure-Python parser instead)
    http = "'h11'" if os.environ.get("BENCH_HTTP") == "h11" else "protocol_class()"
    code = ("import uvicorn; from testservers.national_centre.http_protocol import "
            "protocol_class; uvicorn.run('server:app_from_env', factory=True, "
            f"host='127.0.0.1', port={port}, workers={workers}, log_level='warning', "
            f"app_dir={str(HERE)!r}, http={http})")
    process = subprocess.Popen([sys.executable, "-c", code], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_serving(base, process)
        time.sleep(0.5 * workers)   # let every worker finish starting
        yield base
    finally:
        stop_serving(process, timeout=30)


# -- load -------------------------------------------------------------------------------------

def load(base: str, bodies: list[bytes], senders: int, max_seconds: float, *, viewers: int = 0
         ) -> tuple[float, list[float], int]:
    """Send the bodies from ``senders`` threads while ``viewers`` threads poll the dashboard;
    (elapsed s, latencies s, non-ok answers)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    start = time.perf_counter()
    deadline = start + max_seconds

    def sender() -> None:
        connection = _connection(base)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    n = next(cursor, None)
                if n is None:
                    return
                t = time.perf_counter()
                status, content = _post(connection, "/$process-message", bodies[n])
                elapsed = time.perf_counter() - t
                ok = (status == 200 and b'"code":"ok"' in content)
                with lock:
                    latencies.append(elapsed)
                    failures[0] += not ok
                    if not ok and failures[0] == 1:
                        print(f"  first non-ok answer: {status} {_diagnostics(content)}",
                              flush=True)
        finally:
            connection.close()

    done = threading.Event()

    def viewer() -> None:
        connection = _connection(base)
        try:
            while not done.is_set():
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
        finally:
            connection.close()

    watching = [threading.Thread(target=viewer) for _ in range(viewers)]
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in watching + threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    done.set()
    for thread in watching:
        thread.join()
    return elapsed, latencies, failures[0]


def _connection(base: str) -> http.client.HTTPConnection:
    """A keep-alive HTTP/1.1 connection for one load thread. The standard library's client,
    not httpx: the load runs on the cores the server uses, and httpx took about 1.5 ms of CPU
    per message sent there, this 0.3 ms (measured on the 2-core machine)."""
    host, _, port = base.removeprefix("http://").partition(":")
    return http.client.HTTPConnection(host, int(port), timeout=120)


def _post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", path, body=body, headers=FHIR)
    response = connection.getresponse()
    return response.status, response.read()


def _diagnostics(content: bytes) -> str:
    """The first issue of a failed answer (an ack's OperationOutcome, or the error body)."""
    try:
        body = json.loads(content)
        outcome = next((e["resource"] for e in body.get("entry", [])
                        if e["resource"]["resourceType"] == "OperationOutcome"), body)
        issue = outcome["issue"][0]
        return f"{issue.get('expression')} {issue.get('diagnostics', '')}"[:300]
    except (ValueError, KeyError, IndexError, TypeError, StopIteration):
        return content[:300].decode("utf-8", "replace")


def _timed(http: httpx.Client, path: str, times: list[float]) -> dict[str, Any]:
    t = time.perf_counter()
    response = http.get(path)
    times.append(time.perf_counter() - t)
    assert response.status_code == 200, response.text[:300]
    found: dict[str, Any] = response.json()
    return found


def read_latencies(base: str, cases: list[int], repeat: int = 3) -> dict[str, float]:
    """p95 (s) of the pilot's searches for the patients of ``cases``, and of the dashboard,
    one request at a time."""
    searches: list[float] = []
    dashboard: list[float] = []
    with httpx.Client(base_url=base, timeout=120) as http:
        for _ in range(repeat):
            for n in cases:
                found = _timed(http, f"/Patient?identifier={CPR_SYSTEM}|{cpr(n)}", searches)
                assert found.get("total", len(found.get("entry", []))) == 1, found
                patient = "Patient/" + found["entry"][0]["resource"]["id"]
                for resource_type in ("Condition", "Observation", "ServiceRequest"):
                    found = _timed(http, f"/{resource_type}?patient={patient}", searches)
                request = found["entry"][0]["resource"]["id"]    # the case's referral
                _timed(http, f"/ServiceRequest?_id={request}", searches)
        for _ in range(20):
            t = time.perf_counter()
            assert http.get("/").status_code == 200
            dashboard.append(time.perf_counter() - t)
    return {"search": percentile(searches, 95), "searches": len(searches),
            "dashboard": percentile(dashboard, 95)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_phase(label: str, database: str, bodies: list[bytes], args: argparse.Namespace, *,
              validation: bool = True, cases: list[int] | None = None,
              viewers: int = 0) -> dict[str, float]:
    """One load on a server of ``database``; with ``cases``, then the searches for their
    patients (they must be stored by then)."""
    warm, measured = bodies[:args.warmup], bodies[args.warmup:]
    with server(database, args.workers, validation=validation,
                validation_processes=args.validation_processes) as base:
        load(base, warm, args.senders, args.seconds)
        elapsed, latencies, failures = load(base, measured, args.senders, args.seconds,
                                            viewers=viewers)
        reads = read_latencies(base, cases) if cases else {}
    row = {"rate": len(latencies) / elapsed, "p50": percentile(latencies, 50),
           "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
           "n": len(latencies), "failures": failures, **reads}
    print(f"{label:<44} {row['n']:>6.0f} {row['rate']:>9.1f} {row['p50'] * 1000:>8.1f}"
          f" {row['p95'] * 1000:>8.1f} {row['p99'] * 1000:>8.1f} {failures:>6}", flush=True)
    if reads:
        print(f"  one at a time, p95: {reads['searches']:.0f} searches "
              f"{reads['search'] * 1000:.1f} ms, dashboard {reads['dashboard'] * 1000:.1f} ms",
              flush=True)
    return row


# -- prefill ----------------------------------------------------------------------------------

def prefill(database: str, count: int, first: int) -> float:
    """Store ``count`` accepted referral messages straight through the Store API, a few
    thousand per transaction."""
    from ecanfhir import Validator
    from testservers.national_centre import Settings
    from testservers.national_centre._kpifacts import kpi_facts
    from testservers.national_centre.database import open_store
    from testservers.national_centre.messaging import (
        MessageService,
        envelope_of,
        stored_entries,
    )
    from testservers.national_centre.storage import Processed

    store = open_store(database)
    service = MessageService(Settings(database=database), store, Validator())
    start = time.perf_counter()
    try:
        for chunk in range(first, first + count, PREFILL_CHUNK):
            batch = []
            for n in range(chunk, min(first + count, chunk + PREFILL_CHUNK)):
                bundle = referral(n)
                envelope = envelope_of(bundle)
                ack = service._ack(bundle, "ok", [])
                batch.append((envelope, Processed(
                    json.dumps(ack, separators=(",", ":")).encode(), "ok",
                    (bundle, *stored_entries(bundle), ack), kpi_facts(bundle, envelope.event))))
            store.commit_many(batch)
    finally:
        store.close()
    took = time.perf_counter() - start
    # The prefill's gigabytes reach the disk now, not while the next phase is measured (its
    # fsyncs would wait behind them).
    os.sync()
    return took


def validator_alone(bodies: list[bytes], repeat: int = 20) -> float:
    from ecanfhir import Validator
    from ecanfhir.definitions.pilot import pilot_registry, pilot_url

    validator = Validator(pilot_registry())
    profiles = (pilot_url("StructureDefinition", "ecan-message"),)
    validator.validate(json.loads(bodies[0]), profiles=profiles)
    times = []
    for body in bodies[:repeat]:
        t = time.perf_counter()
        validator.validate(json.loads(body), profiles=profiles)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=1000, help="per phase (default 1000)")
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--senders", type=int, default=8)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--validation-processes", type=int, default=os.cpu_count() or 1,
                    help="per worker: the server's Settings.validation_processes (default: "
                    "one per core; 0 validates in the request threads)")
    ap.add_argument("--seconds", type=float, default=60.0, help="time cap per phase")
    ap.add_argument("--prefill", type=int, default=10_000)
    ap.add_argument("--viewers", type=int, default=4, help="dashboard pollers in phase 3 "
                    "(0 skips it)")
    ap.add_argument("--db", help="a postgresql:// URL of an EMPTY database (default: a new "
                    "SQLite file)")
    ap.add_argument("--no-compare", action="store_true", help="skip the run without validation")
    args = ap.parse_args(argv)

    per_phase = args.warmup + args.messages
    bodies = [json.dumps(referral(n), separators=(",", ":")).encode()
              for n in range(4 * per_phase)]
    cases = list(range(min(30, args.warmup)))   # phase 1's first cases: always sent
    with tempfile.TemporaryDirectory() as tmp:
        def database(name: str) -> str:
            return args.db or os.path.join(tmp, f"{name}.sqlite3")

        backend = "PostgreSQL" if args.db else "SQLite"
        from ecanfhir._build import build_name

        print(f"ecanfhir build: {build_name()}")
        print(f"{args.senders} senders, {args.workers} server workers with "
              f"{args.validation_processes} validation processes each, {backend}, "
              f"{os.cpu_count()} cores; at most {args.messages} messages or "
              f"{args.seconds:.0f} s per phase\n")
        print(f"{'phase':<44} {'msgs':>6} {'msgs/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8} {'not ok':>6}")
        empty = run_phase("empty store, validation on", database("main"),
                          bodies[:per_phase], args, cases=cases)
        took = prefill(database("main"), args.prefill, first=10_000_000)
        print(f"  (prefill of {args.prefill:,} cases through the Store API: {took:.0f} s)",
              flush=True)
        full = run_phase(f"after {args.prefill:,} more stored cases", database("main"),
                         bodies[per_phase:2 * per_phase], args, cases=cases)
        watched = None
        if args.viewers and not args.db:
            watched = run_phase(f"new store, {args.viewers} dashboard viewers polling",
                                database("watched"), bodies[3 * per_phase:], args,
                                viewers=args.viewers)
        if not args.no_compare and not args.db:
            off = run_phase("empty store, validation OFF (comparison)", database("off"),
                            bodies[2 * per_phase:3 * per_phase], args, validation=False)
        alone = validator_alone(bodies)

    ratio = full["p95"] / empty["p95"]
    print(f"\nmessages/s with validation: {empty['rate']:.1f} (target >= 200)")
    print(f"p95 after {args.prefill:,} cases / p95 on an empty store: {ratio:.2f} "
          "(target <= 1.5)")
    print(f"the pilot's searches, p95 after {args.prefill:,} cases / on an empty store: "
          f"{full['search'] / empty['search']:.2f} (target <= 1.5); dashboard p95 "
          f"{full['dashboard'] * 1000:.0f} ms")
    if watched is not None:
        print(f"messages/s with {args.viewers} dashboard viewers / with none: "
              f"{watched['rate'] / empty['rate']:.2f}")
    print(f"validator alone, one message, one core: {alone * 1000:.1f} ms "
          f"(at most {(os.cpu_count() or 1) / alone:.0f} messages/s on all cores)")
    if not args.no_compare and not args.db:
        share = 1 - empty["rate"] / off["rate"]
        print(f"without validation: {off['rate']:.1f} messages/s; validation takes "
              f"{share:.0%} of the server's capacity")
    return 0


if __name__ == "__main__":
    sys.exit(main())
