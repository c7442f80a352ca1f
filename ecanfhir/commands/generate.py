"""``ecanfhir generate``: deterministic synthetic eCAN+ messages (valid, or labelled invalid)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import EXIT_OK, UsageError

__all__ = ["add_parser", "run"]

KINDS = ("referral", "tumour-board-outcome", "telemedicine")
PROGRESS_THRESHOLD = 200


def add_parser(sub: Any) -> None:
    g = sub.add_parser(
        "generate", help="generate synthetic eCAN+ messages",
        description="Generate deterministic synthetic cases (same seed and count: identical "
                    "files) into a folder, with a manifest.json listing every file; --invalid "
                    "makes negative cases, each labelled with the rule it breaks and where.")
    g.add_argument("kind", choices=KINDS, help="the message flow")
    g.add_argument("--count", type=int, default=1, metavar="N", help="cases (default 1)")
    g.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    g.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    g.add_argument("--invalid", action="store_true",
                   help="negative cases, one targeted rule violation each")
    g.add_argument("--format", choices=("json", "xml"), default="json",
                   help="write the messages as FHIR JSON (default) or FHIR XML (.xml files; "
                        "the manifest stays JSON)")
    g.add_argument("--pretty", action="store_true",
                   help="indent the message files (default: compact, fastest)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..synthetic import write_cases

    if args.count < 1:
        raise UsageError(f"--count: at least 1, not {args.count}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")
    show = (not args.no_progress and args.count >= PROGRESS_THRESHOLD
            and sys.stderr.isatty())
    start = time.perf_counter()
    try:
        if show:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(file=sys.stderr), transient=True,
                          redirect_stdout=False, redirect_stderr=False) as bar:
                task = bar.add_task(f"generating {args.kind}", total=args.count)
                summary = write_cases(args.kind, out, count=args.count, seed=args.seed,
                                      invalid=args.invalid, pretty=args.pretty,
                                      advance=lambda: bar.advance(task), format=args.format)
        else:
            summary = write_cases(args.kind, out, count=args.count, seed=args.seed,
                                  invalid=args.invalid, pretty=args.pretty, format=args.format)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write there "
                         f"({exc.strerror or exc})") from exc
    elapsed = time.perf_counter() - start
    what = "invalid " if args.invalid else ""
    print(f"generated {summary.cases} {what}{args.kind} cases ({summary.files} files, seed "
          f"{args.seed}) in {out} in {elapsed:.2f} s")
    return EXIT_OK
