"""Fuzz the mock national cancer centre over HTTP and print what came back.

    python3 scripts/fuzz_centre.py [--requests 10000] [--seed 1] [--db URL | --url URL] [--auth]

Without ``--url`` a centre is started on a free loopback port with a temporary SQLite store
(or the database ``--db`` names, such as a ``postgresql://`` URL). With ``--auth`` it is a real
``ecanfhir serve --auth`` with one registered client: half the requests carry mutated JWTs
(client assertions at the token endpoint, bearer tokens on FHIR routes; see
``tests/testservers/_centre_fuzz_auth.py``), the rest a valid bearer token.
The requests (see ``tests/testservers/_centre_fuzz.py``) go over one keep-alive connection:
arbitrary JSON, valid messages with elements replaced or deleted, odd transactions, odd URLs,
query strings and headers. Exit 0 when no answer was a 5xx and every 4xx was an
OperationOutcome, else 1 (the first offending requests are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "testservers")]

import httpx  # noqa: E402
from _centre_fuzz import Tally, fuzz_requests, send  # noqa: E402
from _centre_fuzz_auth import FuzzSite, auth_requests  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis.strategies import integers  # noqa: E402

from testservers.national_centre import Settings, create_app  # noqa: E402
from testservers.national_centre.running import (  # noqa: E402
    free_port,
    serve_in_thread,
    stop_serving,
    wait_until_serving,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="examples to send")
    parser.add_argument("--seed", type=int, default=1, help="hypothesis seed (reproducible)")
    parser.add_argument("--url", help="fuzz a running centre instead of starting one")
    parser.add_argument("--db", help="the started centre's database (default: temporary "
                        "SQLite)")
    parser.add_argument("--auth", action="store_true", help="start `ecanfhir serve --auth` "
                        "and add mutated JWTs (not with --url)")
    parser.add_argument("--dump", type=Path, help="write the offending requests here, one "
                        "JSON file each (method, url, headers, body)")
    args = parser.parse_args(argv)
    if args.auth and args.url:
        parser.error("--auth starts its own centre: leave out --url")
    with ExitStack() as stack:
        site = _start_auth_centre(stack, args.db) if args.auth else None
        base = site.base_url if site else args.url or _start_centre(stack, args.db)
        http = stack.enter_context(httpx.Client(base_url=base, timeout=60))
        tally, started = Tally(), time.monotonic()
        _run(http, tally, examples=args.requests, at_seed=args.seed, site=site)
        _report(tally, time.monotonic() - started)
    if args.dump is not None:
        _dump(tally, args.dump)
    return 0 if tally.ok else 1


def _start_centre(stack: ExitStack, database: str | None) -> str:
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="ecanfhir-fuzz-"))
    port = free_port()
    app = create_app(Settings(database=database or os.path.join(folder, "centre.sqlite3"),
                              base_url=f"http://127.0.0.1:{port}"))
    return stack.enter_context(serve_in_thread(app, port))


def _start_auth_centre(stack: ExitStack, database: str | None) -> FuzzSite:
    """`ecanfhir serve --auth` as a subprocess, the fuzzing site its one registered client."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecanfhir-fuzz-")))
    port = free_port()
    site = FuzzSite(f"http://127.0.0.1:{port}")
    (folder / "jwks.json").write_text(json.dumps(site.jwks()), "utf-8")
    log = stack.enter_context((folder / "serve.log").open("wb"))
    server = subprocess.Popen(
        [sys.executable, "-m", "ecanfhir.cli", "serve", "--auth", "--port", str(port),
         "--client-jwks", str(folder / "jwks.json"), "--client-id", site.client_id,
         "--db", database or str(folder / "centre.sqlite3")],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    stack.callback(stop_serving, server)
    wait_until_serving(site.base_url, server)
    return site


def _run(http: httpx.Client, tally: Tally, *, examples: int, at_seed: int,
         site: FuzzSite | None) -> None:
    requests = fuzz_requests()
    if site is not None:    # as many mutated JWTs as other requests
        both = (requests, auth_requests(site))
        requests = integers(0, 1).flatmap(lambda i: both[i])

    @seed(at_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(request=requests)
    def fuzz(request: object) -> None:
        send(http, request, tally,  # type: ignore[arg-type]
             bearer=None if site is None else site.access_token())
        if tally.sent % 1000 == 0:
            print(f"  {tally.sent} requests", file=sys.stderr, flush=True)

    fuzz()


def _report(tally: Tally, seconds: float) -> None:
    print(f"{tally.sent} requests in {seconds:.0f} s")
    print("by kind:   " + ", ".join(f"{k} {n}" for k, n in sorted(tally.by_kind.items())))
    print("by status: " + ", ".join(f"{s} {n}" for s, n in sorted(tally.by_status.items())))
    print(f"5xx: {tally.server_errors}, 4xx without an OperationOutcome: {tally.not_outcome}")
    for problem in tally.problems:
        print("  " + problem)


def _dump(tally: Tally, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, request in enumerate(tally.failed, 1):
        record = {"method": request.method, "url": request.url,
                  "headers": [[k, v.decode("latin-1")] for k, v in request.headers],
                  "body": (request.content or b"").decode("utf-8", "surrogateescape")}
        (folder / f"request-{n}.json").write_text(json.dumps(record, indent=1), "utf-8")


if __name__ == "__main__":
    sys.exit(main())
