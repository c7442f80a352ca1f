"""``ecanfhir package build``: build a FHIR package (snapshots, checks, .tgz) from its sources."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("package", help="build a FHIR package from its sources",
                       description="Work with FHIR NPM packages.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    b = actions.add_parser(
        "build", help="generate snapshots, check every resource, write package/ and a .tgz",
        description="Build a FHIR package from a folder with package.json and differential-only "
        "conformance resources (default: the eCAN+ pilot package shipped with ecanfhir).")
    b.add_argument("source", nargs="?", metavar="SOURCE",
                   help="the package sources (default: the ecanfhir.pilot sources)")
    b.add_argument("--out", default="build", metavar="DIR",
                   help="where package/ and the .tgz go (default: ./build)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._package_build import build_package
    from .._pilot import pilot_source

    if args.action != "build":
        print("ecanfhir package: say what to do (build)", file=sys.stderr)
        return EXIT_USAGE
    build = build_package(args.source or pilot_source(), args.out)
    for name, issue in build.issues:
        where = f"{name}: {issue.expression}" if issue.expression else name
        print(f"{issue.severity}: {where}: {issue.message}", file=sys.stderr)
    errors = sum(1 for _, i in build.issues if i.is_error)
    print(f"{build.label}: {len(build.resources)} resources, {errors} error(s) -> {build.folder}, "
          f"{build.archive}")
    return EXIT_OK if build.ok else EXIT_INVALID
