#!/usr/bin/env python3
"""Generator benchmark: ``ecanfhir generate`` figures next to baselines measured in the same run.

Usage::

    python benchmarks/generate.py [--count N] [--seed S]

Figures, per kind and for N cases (default 10,000) written to a temporary folder:
  1. ``write_cases`` end to end (draw, build, json.dumps, write, manifest);
  2. baseline A: ``json.dumps`` of the same bundles (already built, in memory; the same
     settings as the generator: compact, C encoder);
  3. baseline B: ``json.dumps`` + writing the same bytes to files (the I/O floor);
  4. the CLI (``python -m ecanfhir.cli generate``) in a new process, for the start-up cost.

Target (issue 4): 10,000 cases must be quick; here "quick" is within 10x of baseline B.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ecanfhir.synthetic._generate import dumps

KINDS = ("referral", "tumour-board-outcome", "telemedicine")


def _write_floor(bundles: list[dict[str, object]], out: Path) -> float:
    out.mkdir()
    t = time.perf_counter()
    for i, bundle in enumerate(bundles):
        (out / f"{i:06d}.json").write_bytes(dumps(bundle))
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    from ecanfhir.synthetic import generate, write_cases

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for kind in KINDS:
            t = time.perf_counter()
            summary = write_cases(kind, root / kind, count=args.count, seed=args.seed)  # type: ignore[arg-type]
            total = time.perf_counter() - t
            bundles = [f.bundle for f in generate(kind, count=args.count, seed=args.seed)]  # type: ignore[arg-type]
            t = time.perf_counter()
            for bundle in bundles:
                dumps(bundle)
            encode = time.perf_counter() - t
            floor = _write_floor(bundles, root / f"{kind}-floor")
            size = sum(p.stat().st_size for p in (root / kind).iterdir()) / 2**20
            rows.append((f"{kind}: {args.count} cases, {summary.files} files, {size:.0f} MiB",
                         total, encode, floor))
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ecanfhir.cli", "generate", "referral", "--count",
                        str(args.count), "--seed", str(args.seed), "--out", str(root / "cli")],
                       check=True, capture_output=True)
        cli = time.perf_counter() - t

    print(f"{'measurement':<58} {'generate':>9} {'dumps':>8} {'dumps+write':>12} "
          f"{'/dumps':>7} {'/write':>7}")
    for name, total, encode, floor in rows:
        print(f"{name:<58} {total:>8.2f}s {encode:>7.2f}s {floor:>11.2f}s "
              f"{total / encode:>6.1f}x {total / floor:>6.1f}x")
    ref_total = rows[0][1]
    print(f"\nCLI, new process, {args.count} referral cases: {cli:.2f}s "
          f"({cli / ref_total:.2f}x the in-process figure; per case "
          f"{cli / args.count * 1000:.2f} ms)")
    worst = max(total / floor for _, total, _, floor in rows)
    print(f"worst generate vs dumps+write: {worst:.1f}x (target <= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
