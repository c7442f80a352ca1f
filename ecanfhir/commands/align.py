"""``ecanfhir align``: the pilot's generated messages against the national and European
profiles they claim to meet, as a matrix (Markdown, HTML, JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import EXIT_INVALID, EXIT_OK, UsageError

__all__ = ["add_parser", "run"]

REPORTS = (("alignment.md", "render_markdown"), ("alignment.html", "render_html"),
           ("alignment.json", "render_json"))


def add_parser(sub: Any) -> None:
    a = sub.add_parser(
        "align", help="check generated messages against DK-core, MedCom, HL7 Europe and IPS",
        description="Generate N cases of every message kind (every cancer site, Danish and "
                    "foreign patients) and validate each resource against its national and "
                    "European counterpart profiles. Writes alignment.md, alignment.html and "
                    "alignment.json; exit 1 when a cell is neither conformant nor an intended "
                    "deviation (profiles/deviations.md). Counterpart packages not given with "
                    "--ig are taken from the package cache; cells whose package is absent are "
                    "reported as not checked.")
    a.add_argument("--ig", action="append", default=[], metavar="PATH|ID#VERSION",
                   help="a counterpart package or conformance folder (repeatable)")
    a.add_argument("--count", type=int, default=10, metavar="N",
                   help="cases of each message kind (default 10)")
    a.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    a.add_argument("--out", default="alignment", metavar="DIR",
                   help="folder for the reports (default ./alignment)")
    a.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import alignment

    if args.count < 1:
        raise UsageError(f"--count: at least 1, not {args.count}")
    result = alignment.align(count=args.count, seed=args.seed, igs=args.ig,
                             deviations=alignment.load_deviations())
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, render in REPORTS:
            (out / name).write_text(getattr(alignment, render)(result), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write there ({exc.strerror or exc})"
                         ) from exc
    for package in result.missing:
        print(f"not checked: package {package} is not installed (ecanfhir package install "
              f"{package}, or --ig its folder)", file=sys.stderr)
    print(f"{alignment.summary_line(result)}; reports in {out}")
    return EXIT_OK if result.ok else EXIT_INVALID
