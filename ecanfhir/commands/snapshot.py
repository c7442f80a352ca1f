"""``ecanfhir snapshot``: write a profile with its generated snapshot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..definitions.packages.load import load_ig
from ..definitions.registry import Registry
from ..definitions.snapshot import generate_snapshot, snapshot_issues
from . import EXIT_INVALID, EXIT_OK, UsageError, write_output

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    sn = sub.add_parser("snapshot", help="write a profile with its generated snapshot",
                        description="Generate the snapshot of a StructureDefinition from its "
                        "differential, as the HL7 tools do, and report what the profile gets "
                        "wrong (e.g. loosening its base).")
    sn.add_argument("file", metavar="FILE", help="a StructureDefinition JSON file")
    sn.add_argument("--ig", action="append", default=[], metavar="PATH|ID#VERSION",
                    help="packages or conformance resources its base may come from (repeatable)")
    sn.add_argument("--output", metavar="FILE", help="where to write it (default: stdout)")
    sn.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        sd = json.loads(Path(args.file).read_bytes())
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"{args.file}: not valid JSON ({exc})") from exc
    if not isinstance(sd, dict) or sd.get("resourceType") != "StructureDefinition":
        raise UsageError(f"{args.file}: not a StructureDefinition")
    registry = Registry()
    for spec in args.ig:
        load_ig(registry, spec)
    issues = snapshot_issues(sd, registry)
    text = json.dumps(generate_snapshot(sd, registry), indent=2, ensure_ascii=False) + "\n"
    write_output(text, args.output)
    for issue in issues:
        print(f"{issue.severity}: {issue.expression}: {issue.message}", file=sys.stderr)
    return EXIT_INVALID if any(i.is_error for i in issues) else EXIT_OK
