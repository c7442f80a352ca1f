#!/usr/bin/env python3
"""Memory benchmark: a loaded validator's resident size, and what validating a big bundle adds.

Usage::

    python benchmarks/memory.py [--size-mb 50]

Figures, each next to a baseline measured in the same run:
  1. the resident set (peak RSS) of a new process holding a validator with R4 core, the default
     packages and the pilot, after validating a pilot referral and a 50-resource bundle of the
     examples' resources (so the definitions those need are loaded and compiled, and the default
     packages indexed), against a new Python process that only imports json;
  2. a bundle of about ``--size-mb`` megabytes (the examples' resources repeated with new ids),
     already parsed: the most memory the validation allocates on top of it (``tracemalloc``
     peak), in copies of the parsed bundle (its own size, measured the same way while
     ``json.loads`` builds it).

Targets (issue 13): (1) under 150 MB; (2) no more than 2 copies.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from validate import PILOT_MESSAGE, build_bundle  # noqa: E402

# Peak resident set of the process, in MiB (ru_maxrss is KiB on Linux, bytes on macOS).
_RSS = ("import resource, sys; r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "print(r / (1 << 20) if sys.platform == 'darwin' else r / 1024)")
_LOADED = f"""
import json
from pathlib import Path
from ecanfhir import Validator, pilot_registry
import validate
validator = Validator(pilot_registry())
validator.validate(Path({str(PILOT_MESSAGE)!r}).read_bytes())
validator.validate(validate.build_bundle(50))
# the default packages are indexed when first asked: an extension of the extensions pack and
# a code system of HL7 terminology make sure they are
assert validator.registry.get("http://hl7.org/fhir/StructureDefinition/organization-brand")
assert validator.registry.code_system("http://terminology.hl7.org/CodeSystem/v3-ActCode")
"""


def resident_mib(code: str) -> float:
    """Peak RSS of a new Python process that runs ``code``."""
    done = subprocess.run([sys.executable, "-c", f"{code}\n{_RSS}"], capture_output=True,
                          text=True, check=True, cwd=HERE)
    return float(done.stdout.strip().splitlines()[-1])


def big_bundle(size_mb: float) -> bytes:
    """The examples' resources repeated, with new ids, to about ``size_mb`` megabytes."""
    one = len(json.dumps(build_bundle(50)).encode()) / 50
    return json.dumps(build_bundle(int(size_mb * 1e6 / one))).encode()


def traced(fn: object) -> tuple[int, int]:
    """(memory still held after ``fn()``, peak during it), in bytes, as tracemalloc counts."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = fn()  # type: ignore[operator]
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return held - before, peak - before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=50.0, help="size of the big bundle")
    args = ap.parse_args(argv)

    floor = resident_mib("import json")
    loaded = resident_mib(_LOADED)
    print(f"{'measurement':<64} {'value':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{'validator with core, default packages and pilot, loaded (RSS)':<64} "
          f"{loaded:>7.1f}MiB {floor:>7.1f}MiB {loaded / floor:>6.1f}x")

    from ecanfhir import Validator

    validator = Validator()
    validator.validate(build_bundle(50))  # load what the resources need before measuring
    raw = big_bundle(args.size_mb)
    parsed_size, _ = traced(lambda: json.loads(raw))
    bundle = json.loads(raw)
    _, peak = traced(lambda: validator.validate(bundle))
    copies = peak / parsed_size
    label = f"validating a {len(raw) / 1e6:.0f} MB bundle ({len(bundle['entry'])} entries), peak"
    print(f"{label:<64} {peak / (1 << 20):>7.1f}MiB {parsed_size / (1 << 20):>7.1f}MiB "
          f"{copies:>6.2f}x")
    print(f"\nloaded validator: {loaded:.0f} MiB resident (target < 150 MB)")
    print(f"big bundle: the validation allocates at most {copies:.2f} copies of the parsed "
          "bundle (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
