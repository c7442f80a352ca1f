"""``ecanfhir serve``: run the mock national cancer centre (``testservers.national_centre``)
with uvicorn, on 127.0.0.1 unless told otherwise, storing into an SQLite file."""

from __future__ import annotations

import argparse
from typing import Any

from . import EXIT_OK, UsageError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    s = sub.add_parser("serve", help="run the mock national cancer centre",
                       description="Run the mock national cancer centre: FHIR $process-message "
                       "with MedCom acknowledgements, read/search, and the pilot KPIs.")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    s.add_argument("--db", default="national-centre.sqlite3", metavar="PATH|URL",
                   help="SQLite database file (default: ./national-centre.sqlite3)")
    s.add_argument("--base-url", metavar="URL",
                   help="public base URL (default: http://HOST:PORT)")
    s.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from testservers.national_centre import Settings, create_app
    except ImportError as exc:
        raise UsageError(f"serve needs the server dependencies ({exc.name} is missing): "
                         "pip install 'ecanfhir'") from exc
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a TCP port")
    base_url = args.base_url or f"http://{args.host}:{args.port}"
    try:
        app = create_app(Settings(database=args.db, base_url=base_url))
    except NotImplementedError as exc:
        raise UsageError(f"--db {args.db}: {exc}") from exc
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return EXIT_OK
