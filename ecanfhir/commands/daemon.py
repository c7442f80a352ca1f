"""``ecanfhir daemon start|stop|status``: the resident validation process."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from ..daemon import package_dir, private_folder, socket_path
from ..daemon.client import exchange
from . import EXIT_INVALID, EXIT_OK, UsageError

__all__ = ["add_parser", "run"]

DEFAULT_IDLE_TIMEOUT = 3600.0  # seconds
START_TIMEOUT = 300.0  # seconds: a first start compiles the definitions the cache lacks


def add_parser(sub: Any) -> None:
    d = sub.add_parser(
        "daemon", help="keep a validation process running, for a fast `ecanfhir validate`",
        description="Start, stop or ask about this installation's resident validation process. "
                    "While it runs, `ecanfhir validate` hands its work to it (same arguments, "
                    "folder, environment, report and exit code) and starts in milliseconds; "
                    "`validate --no-daemon` or ECANFHIR_DAEMON=0 runs in its own process. It "
                    "stops when a file of this installation changes, on `daemon stop`, or when "
                    "idle for --idle-timeout seconds. POSIX only.")
    d.add_argument("action", choices=("start", "stop", "status"))
    d.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                   help=f"stop after this long without a command (default: "
                        f"{DEFAULT_IDLE_TIMEOUT:g})")
    d.add_argument("--foreground", action="store_true",
                   help="with start: run in this process, logging to stderr, until stopped")
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = socket_path()
    if path is None:
        raise UsageError("the daemon needs Unix sockets (POSIX); `validate` runs on its own")
    if args.action == "status":
        return _status(path)
    if args.action == "stop":
        return _stop(path)
    if args.idle_timeout <= 0:
        raise UsageError("--idle-timeout must be positive")
    if args.foreground:
        from ..daemon.server import Daemon

        return Daemon(path, args.idle_timeout).serve(ready=sys.stderr)
    return _start(path, args.idle_timeout)


def _status_of(path: str) -> str | None:
    """What the daemon at ``path`` says of itself; None when none answers."""
    reply = exchange(path, "status", [])
    return reply.removeprefix("status ").rstrip("\n") \
        if reply and reply.startswith("status ") else None


def _status(path: str) -> int:
    status = _status_of(path)
    if status is None:
        print(f"ecanfhir daemon: not running ({path})")
        return EXIT_INVALID
    print(status)
    return EXIT_OK


def _stop(path: str) -> int:
    reply = exchange(path, "stop", [])
    if not reply or not reply.startswith("stopping"):
        print("ecanfhir daemon: not running")
        return EXIT_OK
    deadline = time.monotonic() + 30
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("ecanfhir daemon: stopped")
    return EXIT_OK


def _start(path: str, idle_timeout: float) -> int:
    """Start the daemon in the background (a new session, so the terminal's Ctrl-C does not
    reach it) and wait until it answers; its log is beside its socket."""
    if _status_of(path) is not None:
        print(f"ecanfhir daemon: running already ({path})")
        return EXIT_OK
    folder = os.path.dirname(path)
    if not private_folder(folder, create=True):
        raise UsageError(f"{folder} is not a folder of this user's alone")
    log_path = path.removesuffix(".sock") + ".log"
    # The daemon runs from the root folder (it holds no other busy), and must import this
    # ecanfhir, found here perhaps through the working folder: its folder goes first.
    here = os.path.dirname(package_dir())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p)}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecanfhir", "daemon", "start", "--foreground",
             "--idle-timeout", str(idle_timeout)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, cwd="/",
            start_new_session=True, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as log_text:
                tail = log_text.read()[-2000:].strip()
            print(f"ecanfhir daemon: it did not start (exit {process.returncode}); its log, "
                  f"{log_path}:\n{tail}", file=sys.stderr)
            return EXIT_INVALID
        if _status_of(path) is not None:
            print(f"ecanfhir daemon: started (pid {process.pid}, socket {path}, log {log_path})")
            return EXIT_OK
        time.sleep(0.05)
    process.terminate()
    raise UsageError(f"the daemon did not answer within {START_TIMEOUT:g} s; see {log_path}")
