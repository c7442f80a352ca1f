#!/usr/bin/env python3
"""JSON → XML → JSON on the FHIR R4 core examples: the identity, example by example.

Source: HL7's R4 (4.0.1) examples as published in the npm package ``hl7.fhir.r4.examples``
(CC0; about 5,300 resources, 19 MB packed): not copied into the repository, which keeps a
small set of JSON/XML pairs in ``tests/fixtures/xml-pairs`` instead. The package is fetched
with ``npm pack`` into a temporary folder unless ``--package`` names a ``.tgz`` already here.

Each example is written as XML by :func:`ecanfhir.formats.to_xml`, read back by
:func:`ecanfhir.formats.parse_xml`, and compared with the published JSON (numbers by value,
the narrative as XHTML: ``ecanfhir.formats._equivalence``). Prints the counts and each
failure (write refused, read issues, differences); exit 1 when any example fails.

Usage::

    python scripts/xml_round_trip.py [--package hl7.fhir.r4.examples-4.0.1.tgz] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecanfhir.formats import parse_xml, to_xml
from ecanfhir.formats._equivalence import json_differences
from ecanfhir.formats.xml_write import XmlWriteError

PACKAGE = "hl7.fhir.r4.examples@4.0.1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, help="the package .tgz (default: npm pack)")
    parser.add_argument("--limit", type=int, default=0, help="the first N examples only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.package or _npm_pack(Path(tmp))
        counts = {"examples": 0, "identical": 0, "failed": 0}
        start = time.perf_counter()
        for name, resource in _examples(tgz, args.limit):
            counts["examples"] += 1
            problem = _round_trip(resource)
            if problem is None:
                counts["identical"] += 1
            else:
                counts["failed"] += 1
                print(f"{name}: {problem}")
    elapsed = time.perf_counter() - start
    print(f"{counts['examples']} examples: {counts['identical']} identical after JSON → XML → "
          f"JSON, {counts['failed']} failed ({elapsed:.1f} s)")
    return 1 if counts["failed"] else 0


def _npm_pack(folder: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", str(folder)], check=True,
                   capture_output=True, timeout=600)
    return next(folder.glob("*.tgz"))


def _examples(tgz: Path, limit: int) -> Iterator[tuple[str, Any]]:
    n = 0
    with tarfile.open(tgz) as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            name = member.name.removeprefix("package/")
            if not member.isfile() or "/" in name or not name.endswith(".json") \
                    or name.startswith(".") or name == "package.json":
                continue
            data = archive.extractfile(member)
            assert data is not None
            resource = json.loads(data.read(), parse_float=Decimal)
            if isinstance(resource, dict) and "resourceType" in resource:
                yield name, resource
                n += 1
                if n == limit:
                    return


def _round_trip(resource: Any) -> str | None:
    try:
        text = to_xml(resource)
    except XmlWriteError as exc:
        return f"not written: {exc}"
    back, issues = parse_xml(text)
    errors = [f"{i.expression}: {i.message}" for i in issues if i.is_error]
    if errors:
        return f"read with errors: {errors[:3]}"
    differences = json_differences(resource, back)
    return f"differs: {differences[:5]}" if differences else None


if __name__ == "__main__":
    sys.exit(main())
