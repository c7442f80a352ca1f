"""``ecanfhir demo``: the pilot end to end on this machine (see :mod:`ecanfhir._demo`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import EXIT_INVALID, EXIT_OK, UsageError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    d = sub.add_parser(
        "demo", help="run the pilot end to end: mock centre, synthetic cases, KPIs, conformance",
        description="Start the mock national cancer centre on a free loopback port with a "
        "temporary store, generate synthetic referrals and telemedicine encounters (some "
        "invalid, some resent), send them, print the acknowledgements and the two KPIs, run "
        "the conformance suites and write their reports, then stop.")
    d.add_argument("--count", type=int, default=20, metavar="N",
                   help="synthetic cases per kind (default: 20)")
    d.add_argument("--seed", type=int, default=2026, help="seed of the synthetic data")
    d.add_argument("--out", default="ecanfhir-demo", metavar="DIR",
                   help="where the conformance reports go (default: ./ecanfhir-demo)")
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .._demo import run_demo

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    console = Console(file=sys.stdout, highlight=False)
    result = run_demo(args.out, count=args.count, seed=args.seed,
                      say=lambda line: console.print(f"[dim]{line}[/dim]"))
    acks = Table(title=f"acknowledgements ({result.sent} messages sent, {result.duplicates} "
                 "resent)")
    for column in ("code", "received", "expected"):
        acks.add_column(column)
    for code in sorted(set(result.acknowledgements) | set(result.expected)):
        acks.add_row(code, str(result.acknowledgements[code]), str(result.expected[code]))
    console.print(acks)
    kpis = Table(title="pilot KPIs (Measure/$evaluate-measure)")
    for column in ("measure", "population", "count"):
        kpis.add_column(column)
    for figure in result.kpis:
        kpis.add_row(figure.measure, figure.population, str(figure.count))
    console.print(kpis)
    counts = ", ".join(f"{n} {status}" for status, n in result.conformance.items())
    console.print(f"conformance: {counts} -> {'passed' if result.conformance_ok else 'FAILED'}")
    html = next((p for p in result.reports if p.suffix == ".html"), None)
    if html is not None:
        console.print(f"report: {html}")
    console.print(f"done in {result.seconds:.1f} s")
    return EXIT_OK if result.ok else EXIT_INVALID
