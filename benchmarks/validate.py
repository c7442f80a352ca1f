#!/usr/bin/env python3
"""Validator benchmark: every figure next to ``json.loads`` of the same bytes, measured in one run.

Usage::

    python benchmarks/validate.py [BUNDLE.json] [--repeat N] [--files N] [--jobs N]
                                  [--peer-medplum DIR]

Figures:
  1. median warm time to validate a ~50-resource bundle (BUNDLE, default: one built from the
     project's synthetic examples), against json.loads of the same bytes;
  2. a 500-entry bundle (the same resources repeated with new ids), and its ratio to (1):
     growth should be linear (target: no more than 10x the 50-resource figure);
  3. throughput over a folder of 1,000 bundles using all cores (one validator per process),
     against json.loads of the same files on the same cores;
  4. the CLI's cold start (``ecanfhir validate`` on one pilot message in a new process), against
     a new Python process that only imports json and parses the same file; and the same
     command once ``ecanfhir daemon start`` has started a resident process, which it hands the
     work to (a daemon of its own, in a temporary folder, stopped at the end);
  5. the 50-resource bundle as FHIR XML (written by ``to_xml``): read and validated, and read
     only, against ``xml.etree.ElementTree`` parsing the same bytes; and written by ``to_xml``
     from its JSON form, against ``ElementTree.tostring`` writing the parsed document;
  6. with ``--peer-medplum DIR`` (Medplum's validator installed there by the shared setup
     script: ``DIR/node22`` and ``DIR/medplum5/bench.mjs``), Medplum's warm median on the same
     bundle, measured in the same run, and the ratio ecanfhir / Medplum.

Targets (issue 13): (1) within 12x of its json.loads and below Medplum's time (ratio < 1.0);
(2) <= 10x (1); (4) <= 0.25 s and <= 1.2x the json-only process.
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import shutil
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
PILOT_MESSAGE = EXAMPLES / "cancer-case-referral.json"


def _entries(paths: list[Path]) -> list[dict[str, Any]]:
    """The entries of the Bundles at ``paths`` that hold a resource (with their fullUrls)."""
    out: list[dict[str, Any]] = []
    for path in paths:
        bundle = json.loads(path.read_bytes())
        out.extend({k: e[k] for k in ("fullUrl", "resource") if k in e}
                   for e in bundle.get("entry", []) if "resource" in e)
    return out


def build_bundle(n: int, seed: int = 0, base: list[dict[str, Any]] | None = None
                 ) -> dict[str, Any]:
    """A collection Bundle of n entries: the base entries (default: the examples') as they are,
    then copies of them with new ids.

    A copy is valid where its original is: its resource gets a new id, and its fullUrl a new
    ``urn:uuid:`` (or, for a RESTful fullUrl, the new id in place of the old), written wherever
    the original's own URN appears in it; its references to other resources still resolve, to
    the original entries. So the bundles of every size hold the same kinds of content and the
    same problems per entry, and their times compare growth only.
    """
    base = base or _entries(sorted(EXAMPLES.glob("*.json")))
    entries = []
    rng = uuid.UUID(int=seed)
    for i in range(n):
        entry = copy.deepcopy(base[i % len(base)])
        if i >= len(base):
            entry = _copied(entry, uuid.uuid5(rng, str(i)))
        entries.append(entry)
    return {"resourceType": "Bundle", "id": str(uuid.uuid5(rng, "bundle")), "type": "collection",
            "entry": entries}


def _copied(entry: dict[str, Any], new: uuid.UUID) -> dict[str, Any]:
    resource = entry["resource"]
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
        text = json.dumps(entry).replace(full_url, f"urn:uuid:{new}")
        entry = json.loads(text)
        resource = entry["resource"]
    old = resource.get("id")
    if isinstance(old, str):
        resource["id"] = str(new)
        if isinstance(full_url, str) and full_url.endswith(f"/{old}"):
            entry["fullUrl"] = full_url[: -len(old)] + str(new)
    return entry


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def alternated_medians(small: Callable[[], object], large: Callable[[], object], *, rounds: int,
                       small_per_round: int) -> tuple[float, float]:
    """The median times of ``small`` and ``large``, timed in alternation: each round runs
    ``large`` once and ``small`` ``small_per_round`` times. A shared machine's speed drifts by
    several per cent within a minute; two medians taken one after the other put that drift
    into their ratio, and the growth from 50 to 500 entries is a ratio. Alternated, the drift
    weighs on both alike."""
    small()
    large()
    smalls: list[float] = []
    larges: list[float] = []
    for _ in range(rounds):
        for fn, times, n in ((large, larges, 1), (small, smalls, small_per_round)):
            for _ in range(n):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
    return statistics.median(smalls), statistics.median(larges)


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


def cold_start(path: str, repeat: int
               ) -> tuple[float, float, list[tuple[str, float]] | None]:
    """Median times of ``ecanfhir validate PATH`` in a new process on its own, of the
    json-only process, and of the command handed to a running ``ecanfhir daemon`` by each way
    of starting it (None if the daemon would not start, or did not run every command)."""
    import ecanfhir

    # The processes start elsewhere than in the checkout, so that they import the ecanfhir
    # this process imports (an installed, compiled build; or the checkout's, on PYTHONPATH).
    package = Path(ecanfhir.__file__).resolve().parent
    if ROOT in package.parents:
        # An installed package has its bytecode compiled (pip does it); a checkout edited since
        # its last run, with PYTHONDONTWRITEBYTECODE set, would compile every changed module
        # anew in each process and time the compiler, not the start-up.
        compileall.compile_dir(package, quiet=1)
    # The command as users run it: the `ecanfhir` script beside this Python (a virtual
    # environment's; pip's script imports re), and `python -m ecanfhir` (which imports runpy).
    script = shutil.which("ecanfhir", path=os.path.dirname(sys.executable))
    launchers = [("ecanfhir script", [script])] if script else []
    launchers.append(("python -m ecanfhir", [sys.executable, "-m", "ecanfhir"]))
    arguments = ["validate", path, "--format", "json"]
    floor = [sys.executable, "-c", f"import json; json.loads(open({path!r}, 'rb').read())"]

    def run(cmd: list[str], where: str, env: dict[str, str]) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False, cwd=where, env=env)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    with tempfile.TemporaryDirectory(prefix="ecd-") as elsewhere:
        env = {**os.environ, "ECANFHIR_DAEMON_DIR": os.path.join(elsewhere, "d")}
        alone = run([*launchers[0][1], *arguments], elsewhere, {**env, "ECANFHIR_DAEMON": "0"})
        json_only = run(floor, elsewhere, env)
        daemon = [sys.executable, "-m", "ecanfhir", "daemon"]
        if subprocess.run([*daemon, "start"], capture_output=True, check=False, cwd=elsewhere,
                          env=env).returncode != 0:
            return alone, json_only, None
        try:
            handed = [(name, run([*launcher, *arguments], elsewhere, env))
                      for name, launcher in launchers]
            status = subprocess.run([*daemon, "status"], capture_output=True, text=True,
                                    check=False, cwd=elsewhere, env=env).stdout
        finally:
            subprocess.run([*daemon, "stop"], capture_output=True, check=False, cwd=elsewhere,
                           env=env)
        # Every timed command went through the daemon, or the figures are not the daemon's.
        if f"commands run: {repeat * len(launchers)}\n" not in status:
            return alone, json_only, None
        return alone, json_only, handed


def medplum_files(directory: str) -> tuple[Path, Path]:
    """The node binary and the bench script the peer's setup installs in ``directory``."""
    return (Path(directory) / "node22" / "node_modules" / ".bin" / "node",
            Path(directory) / "medplum5" / "bench.mjs")


def medplum(directory: str, bundle: Path, runs: int) -> dict[str, Any]:
    """Medplum's warm median on ``bundle`` (its bench script prints one JSON line)."""
    node, script = medplum_files(directory)
    done = subprocess.run([str(node), str(script), str(bundle), str(runs)], capture_output=True,
                          text=True, check=True, timeout=600)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def xml_figures(validator: Any, raw50: bytes, label: str,
                repeat: int) -> list[tuple[str, float, float]]:
    """The bundle as FHIR XML: parse + validate and parse alone, each against xml.etree parsing
    the same bytes (the floor for reading XML in Python, with no FHIR mapping); and written
    from its JSON form, against xml.etree writing the same document from its tree."""
    from xml.etree import ElementTree

    from ecanfhir.formats import parse_xml, to_xml

    resource = json.loads(raw50)
    xml = to_xml(resource).encode()
    tree = median_time(lambda: ElementTree.fromstring(xml), repeat * 5)
    both = median_time(lambda: validator.validate(xml), repeat)
    parse = median_time(lambda: parse_xml(xml), repeat * 2)
    errors = len(validator.validate(xml).errors)
    element = ElementTree.fromstring(xml)
    write = median_time(lambda: to_xml(resource), repeat * 2)
    written = median_time(lambda: ElementTree.tostring(element), repeat * 5)
    return [(f"XML: 50-resource bundle, parse + validate ({len(xml) // 1024} KiB, {errors} "
             "errors)", both, tree),
            (f"XML: 50-resource bundle, parse_xml only ({label})", parse, tree),
            ("XML: 50-resource bundle, to_xml (against xml.etree writing it)", write, written)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("bundle", nargs="?", help="a ~50-resource bundle (default: synthetic)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--peer-medplum", metavar="DIR",
                    help="time Medplum's validator (installed in DIR) on the same bundle")
    args = ap.parse_args(argv)
    if args.peer_medplum:  # said before the minutes of timing, not after them
        missing = [str(f) for f in medplum_files(args.peer_medplum) if not f.is_file()]
        if missing:
            ap.error(f"--peer-medplum {args.peer_medplum}: no {' or '.join(missing)} (install "
                     "the peer there with its setup.sh)")

    from ecanfhir.validation._validator import Validator

    validator = Validator()
    source = None
    if args.bundle:
        raw50 = Path(args.bundle).read_bytes()
        label = Path(args.bundle).name
        source = _entries([Path(args.bundle)])
    else:
        raw50 = json.dumps(build_bundle(50)).encode()
        label = "synthetic 50-resource bundle"
    # The 500-entry bundle repeats the same resources, so the two figures compare growth only.
    raw500 = json.dumps(build_bundle(500, seed=1, base=source)).encode()

    # A full garbage collection falls in about one run of the 500-entry bundle in three (it
    # walks the loaded definitions and the bundle, 60-100 ms): enough runs that the median is
    # the common case, as it is for the 50-resource bundle.
    t50, t500 = alternated_medians(lambda: validator.validate(json.loads(raw50)),
                                   lambda: validator.validate(json.loads(raw500)),
                                   rounds=max(5, args.repeat // 2), small_per_round=10)
    growth = t500 / t50
    f50 = median_time(lambda: json.loads(raw50), args.repeat * 5)
    f500 = median_time(lambda: json.loads(raw500), args.repeat)
    errors50 = len(validator.validate(raw50).errors)
    xml_rows = xml_figures(validator, raw50, label, args.repeat)
    peer = None
    if args.peer_medplum:
        with tempfile.TemporaryDirectory() as tmp:
            bundle_file = Path(args.bundle) if args.bundle else Path(tmp) / "bundle-50.json"
            if not args.bundle:
                bundle_file.write_bytes(raw50)
            peer = medplum(args.peer_medplum, bundle_file, max(30, args.repeat))
        # ecanfhir before and after the peer, averaged, so a drifting machine weighs on both.
        t50 = (t50 + median_time(lambda: validator.validate(json.loads(raw50)), args.repeat)) / 2

    rows = [
        (f"50-resource bundle ({label}, {len(raw50) // 1024} KiB, {errors50} errors)", t50, f50),
        (f"500-entry bundle ({len(raw500) // 1024} KiB)", t500, f500),
        *xml_rows,
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[str] = []
        for i in range(args.files):
            path = os.path.join(tmp, f"bundle-{i:04d}.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(build_bundle(10, seed=i + 2), fh)
            paths.append(path)
        if paths:
            tv = _parallel(_validate_files, paths, args.jobs)
            tf = _parallel(_load_files, paths, args.jobs)
            rows.append((f"{args.files} bundles of 10 resources, {args.jobs} processes "
                         f"({args.files / tv:.0f} bundles/s)", tv, tf))
    cli, floor, handed = cold_start(str(PILOT_MESSAGE), max(5, args.repeat // 2))
    rows.append((f"CLI cold start (new process, {PILOT_MESSAGE.name})", cli, floor))
    for launcher, seconds in handed or ():
        rows.append((f"CLI with `ecanfhir daemon` running ({launcher})", seconds, floor))

    from ecanfhir._build import build_name

    print(f"ecanfhir build: {build_name()}")
    print(f"{'measurement':<72} {'time':>10} {'json.loads':>11} {'ratio':>7}")
    print("(rows marked 'XML' compare with xml.etree.ElementTree.fromstring of the same bytes, "
          "to_xml with ElementTree.tostring)")
    for name, value, base in rows:
        print(f"{name:<72} {value * 1000:>8.2f}ms {base * 1000:>9.2f}ms {value / base:>6.1f}x")
    print(f"\n500-entry vs 50-resource bundle: {growth:.1f}x (target <= 10x)")
    print(f"50-resource bundle vs json.loads: {t50 / f50:.1f}x (target <= 12x)")
    print(f"XML 50-resource bundle, parse + validate vs the JSON path: "
          f"{xml_rows[0][1] / t50:.2f}x")
    print(f"CLI cold start: {cli:.3f}s, {cli / floor:.2f}x the json-only process "
          "(target <= 0.25 s, <= 1.2x)")
    if handed is None:
        print("CLI with a daemon: the daemon did not start, or did not run every command")
    for launcher, seconds in handed or ():
        print(f"CLI with a daemon ({launcher}): {seconds:.3f}s, {seconds / floor:.2f}x the "
              "json-only process (target <= 0.25 s, <= 1.2x)")
    if peer is not None:
        ms = float(peer["validate_ms"])
        print(f"Medplum 50-resource bundle, same run: {ms:.2f}ms (its JSON.parse "
              f"{float(peer['parse_ms']):.2f}ms); ecanfhir / Medplum: {t50 * 1000 / ms:.2f} "
              "(target < 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
