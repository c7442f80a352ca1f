"""``ecanfhir serve``: run the mock national cancer centre (``testservers.national_centre``)
with uvicorn, on 127.0.0.1 unless told otherwise, storing into an SQLite file; ``--auth``
turns on SMART Backend Services (``--client-jwks FILE --client-id ID`` registers a client).

``--harness`` makes it the test harness ``ecanfhir conformance`` expects: the fault rules of the
suites' sender SORs and the request recorder (``/$recorded-requests``). ``--faults FILE`` adds
fault rules from a JSON file (see ``testservers.national_centre.faults``)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
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
                   help="SQLite database file, or a postgresql:// URL (default: "
                        "./national-centre.sqlite3)")
    s.add_argument("--base-url", metavar="URL",
                   help="public base URL (default: http://HOST:PORT)")
    s.add_argument("--auth", action="store_true",
                   help="require SMART Backend Services bearer tokens (token endpoint: "
                   "BASE/auth/token; off by default)")
    s.add_argument("--client-jwks", metavar="FILE",
                   help="with --auth: register a client's public JWK Set (with --client-id)")
    s.add_argument("--client-id", metavar="ID", help="the client id of --client-jwks")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="server processes (default: 1); they share the database, so duplicate "
                        "detection holds across them (SQLite locking, or PostgreSQL)")
    s.add_argument("--validation-processes", type=int, default=0, metavar="N",
                   help="validate messages in N child processes per worker, so they use every "
                        "core (default: 0, in the request threads; one per core is a good N)")
    s.add_argument("--harness", action="store_true",
                   help="run as the conformance test harness: fault the conformance suites' "
                        "sender SORs and record every request (GET /$recorded-requests)")
    s.add_argument("--faults", metavar="FILE",
                   help="fault rules for $process-message from a JSON file ({\"faults\": "
                        "[{\"action\": \"transient-error|fatal-error|latency|http-503\", "
                        "\"event\": ..., \"sender\": SOR, \"seconds\": ..., "
                        "\"retryAfter\": ..., \"probability\": 0..1}]}), checked before "
                        "the --harness rules")
    s.set_defaults(run=run)


def settings_from_args(args: argparse.Namespace) -> Any:
    """The server ``Settings`` for the command line (UsageError for bad combinations)."""
    from testservers.national_centre import AuthSettings, Settings
    from testservers.national_centre.auth import client_from_jwks_file
    from testservers.national_centre.faults import FaultFileError, harness_faults, load_fault_file

    base_url = args.base_url or f"http://{args.host}:{args.port}"
    if (args.client_jwks or args.client_id) and not args.auth:
        raise UsageError("--client-jwks and --client-id need --auth")
    if bool(args.client_jwks) != bool(args.client_id):
        raise UsageError("--client-jwks and --client-id go together")
    auth = None
    if args.auth:
        try:
            clients = ((client_from_jwks_file(args.client_jwks, args.client_id),)
                       if args.client_jwks else ())
        except ValueError as exc:
            raise UsageError(f"--client-jwks {exc}") from exc
        # Several workers must sign and check tokens with one secret.
        auth = AuthSettings(clients=clients, token_secret=getattr(args, "token_secret", None))
    harness = bool(getattr(args, "harness", False))
    try:
        faults = load_fault_file(args.faults) if getattr(args, "faults", None) else ()
    except FaultFileError as exc:
        raise UsageError(f"--faults {exc}") from exc
    if harness:
        faults += harness_faults()
    processes = int(getattr(args, "validation_processes", 0) or 0)
    if processes < 0:
        raise UsageError(f"--validation-processes {processes}: 0 or more")
    return Settings(database=args.db, base_url=base_url, auth=auth, faults=faults,
                    recorder=harness, warm=True, validation_processes=processes)


SETTINGS_VARIABLE = "ECANFHIR_SERVE_ARGS"


def app_from_env() -> Any:
    """uvicorn factory for ``--workers N``: each worker process builds the app from the command
    line its parent put in :data:`SETTINGS_VARIABLE`."""
    from testservers.national_centre import create_app

    args = argparse.Namespace(**json.loads(os.environ[SETTINGS_VARIABLE]))
    return create_app(settings_from_args(args))


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from testservers.national_centre import create_app
        from testservers.national_centre.http_protocol import protocol_class
        from testservers.national_centre.storage import StoreUnavailable
    except ImportError as exc:
        raise UsageError(f"serve needs the server dependencies ({exc.name} is missing): "
                         "pip install 'ecanfhir'") from exc
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a TCP port")
    if args.harness and args.workers != 1:
        raise UsageError("--harness keeps the recorded requests in memory: use --workers 1")
    settings = settings_from_args(args)
    try:
        app = create_app(settings)
    except NotImplementedError as exc:
        raise UsageError(f"--db {args.db}: {exc}") from exc
    except StoreUnavailable as exc:     # one line: read-only file, no such folder...
        raise UsageError(f"serve cannot start: {exc}") from exc
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: at least 1")
    # uvicorn's HTTP/1.1 protocol, answering a request it cannot parse with an OperationOutcome
    http = protocol_class()
    if args.workers == 1:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", http=http)
        return EXIT_OK
    # The app above was built once to check the settings (and create the database schema);
    # each worker builds its own from the same arguments.
    shared = {k: v for k, v in vars(args).items() if k != "run"}
    shared["token_secret"] = secrets.token_urlsafe(32)
    os.environ[SETTINGS_VARIABLE] = json.dumps(shared)
    uvicorn.run(f"{__name__}:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="info", http=http)
    return EXIT_OK
