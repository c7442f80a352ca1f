#!/usr/bin/env python3
"""Validator benchmark: every figure next to ``json.loads`` of the same bytes, measured in one run.

Usage::

    python benchmarks/validate.py [BUNDLE.json] [--repeat N] [--files N] [--jobs N]

Figures:
  1. median warm time to validate a ~50-resource bundle (BUNDLE, default: one built from the
     project's synthetic examples), against json.loads of the same bytes;
  2. a 500-entry bundle (the same resources repeated with new ids), and its ratio to (1):
     growth should be linear (target: no more than 12x the 50-resource figure);
  3. throughput over a folder of 1,000 bundles using all cores (one validator per process),
     against json.loads of the same files on the same cores;
  4. the CLI's cold start (``ecanfhir validate`` on one small file in a new process), against
     a new Python process that only runs json.loads on it.

Targets (issue 2): (1) within 20x of its json.loads; (2) <= 12x (1).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "bundles"


def _resources(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        bundle = json.loads(path.read_bytes())
        out.extend(e["resource"] for e in bundle.get("entry", []) if "resource" in e)
    return out


def build_bundle(n: int, seed: int = 0, base: list[dict[str, Any]] | None = None
                 ) -> dict[str, Any]:
    """A collection Bundle of n resources (default: the examples'), copies with new ids."""
    base = base or _resources(sorted(EXAMPLES.glob("*.json")))
    entries = []
    rng = uuid.UUID(int=seed)
    for i in range(n):
        resource = copy.deepcopy(base[i % len(base)])
        if i >= len(base) and "id" in resource:  # new ids for copies, references alongside
            old = resource["id"]
            new = str(uuid.uuid5(rng, f"{i}-{old}"))
            if len(old) == 36:  # a uuid: rewrite urn:uuid references to it as well
                resource = json.loads(json.dumps(resource).replace(old, new))
            resource["id"] = new
        entry = {"resource": resource}
        if "id" in resource:
            entry = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
        entries.append(entry)
    return {"resourceType": "Bundle", "id": str(uuid.uuid5(rng, "bundle")), "type": "collection",
            "entry": entries}


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _validate_files(paths: list[str]) -> int:
    from ecanfhir.validation._validator import Validator

    validator = Validator()
    bad = 0
    for p in paths:
        with open(p, "rb") as fh:
            bad += not validator.validate(fh.read()).ok
    return bad


def _load_files(paths: list[str]) -> int:
    n = 0
    for p in paths:
        with open(p, "rb") as fh:
            n += len(json.loads(fh.read()))
    return n


def _parallel(fn: Callable[[list[str]], int], paths: list[str], jobs: int) -> float:
    chunks = [paths[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_noop, range(jobs)))  # start the workers before timing
        t = time.perf_counter()
        list(pool.map(fn, chunks))
        return time.perf_counter() - t


def _noop(_: int) -> None:
    import ecanfhir.validation._validator  # noqa: F401 - warm the import in each worker


def cold_start(path: str, repeat: int) -> tuple[float, float]:
    cli = [sys.executable, "-m", "ecanfhir.cli", "validate", path, "--format", "json"]
    floor = [sys.executable, "-c", f"import json; json.loads(open({path!r}, 'rb').read())"]

    def run(cmd: list[str]) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    return run(cli), run(floor)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("bundle", nargs="?", help="a ~50-resource bundle (default: synthetic)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)

    from ecanfhir.validation._validator import Validator

    validator = Validator()
    source = None
    if args.bundle:
        raw50 = Path(args.bundle).read_bytes()
        label = Path(args.bundle).name
        source = _resources([Path(args.bundle)])
    else:
        raw50 = json.dumps(build_bundle(50)).encode()
        label = "synthetic 50-resource bundle"
    # The 500-entry bundle repeats the same resources, so the two figures compare growth only.
    raw500 = json.dumps(build_bundle(500, seed=1, base=source)).encode()

    t50 = median_time(lambda: validator.validate(json.loads(raw50)), args.repeat)
    f50 = median_time(lambda: json.loads(raw50), args.repeat * 5)
    t500 = median_time(lambda: validator.validate(json.loads(raw500)), max(3, args.repeat // 4))
    f500 = median_time(lambda: json.loads(raw500), args.repeat)
    errors50 = len(validator.validate(raw50).errors)

    rows = [
        (f"50-resource bundle ({label}, {len(raw50) // 1024} KiB, {errors50} errors)", t50, f50),
        (f"500-entry bundle ({len(raw500) // 1024} KiB)", t500, f500),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.files):
            path = os.path.join(tmp, f"bundle-{i:04d}.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(build_bundle(10, seed=i + 2), fh)
            paths.append(path)
        tv = _parallel(_validate_files, paths, args.jobs)
        tf = _parallel(_load_files, paths, args.jobs)
        rows.append((f"{args.files} bundles of 10 resources, {args.jobs} processes "
                     f"({args.files / tv:.0f} bundles/s)", tv, tf))
        cli, floor = cold_start(paths[0], max(5, args.repeat // 2))
        rows.append(("CLI cold start (new process, one file)", cli, floor))

    print(f"{'measurement':<72} {'time':>10} {'json.loads':>11} {'ratio':>7}")
    for name, value, base in rows:
        print(f"{name:<72} {value * 1000:>8.2f}ms {base * 1000:>9.2f}ms {value / base:>6.1f}x")
    growth = t500 / t50
    print(f"\n500-entry vs 50-resource bundle: {growth:.1f}x (target <= 12x)")
    print(f"50-resource bundle vs json.loads: {t50 / f50:.1f}x (target <= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
