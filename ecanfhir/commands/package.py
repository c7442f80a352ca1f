"""``ecanfhir package``: build a FHIR package from its sources; install packages into the cache.

``package install`` exits 0 when everything asked for (dependencies included) is in the cache,
1 when some package could not be installed (the others are; each failure is one line on
stderr), 2 for a malformed spec or an unusable ``.tgz``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("package", help="build FHIR packages; install them into the package cache",
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
    b.add_argument("--install", action="store_true",
                   help="also put the built package in the FHIR package cache (~/.fhir/packages "
                   "or $FHIR_PACKAGE_CACHE), replacing that version, when the build has no error")
    i = actions.add_parser(
        "install", help="download packages and their dependencies into the package cache",
        description="Install FHIR packages into the FHIR package cache (~/.fhir/packages, or "
        "$FHIR_PACKAGE_CACHE), with their dependencies, from npm-compatible package registries "
        "(default: $FHIR_PACKAGE_REGISTRY, else packages.fhir.org then "
        "packages2.fhir.org/packages), or from a local .tgz.")
    i.add_argument("specs", nargs="+", metavar="ID[#VERSION]|FILE.tgz",
                   help="a package id, with a version (2.0.0, 2.0.x, latest) or not, or a .tgz")
    i.add_argument("--registry", action="append", default=[], metavar="URL",
                   help="an npm-compatible registry to ask, e.g. https://registry.npmjs.org "
                   "(repeatable: asked in order)")
    i.add_argument("--no-deps", action="store_true",
                   help="install only the packages named, not their dependencies")
    i.add_argument("--force", action="store_true",
                   help="reinstall the packages named even when the cache has that version")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return _build(args)
    if args.action == "install":
        return _install(args)
    print("ecanfhir package: say what to do (build or install)", file=sys.stderr)
    return EXIT_USAGE


def _build(args: argparse.Namespace) -> int:
    from ..definitions.packages.build import build_package, install_build
    from ..definitions.pilot import pilot_source

    build = build_package(args.source or pilot_source(), args.out)
    for name, issue in build.issues:
        where = f"{name}: {issue.expression}" if issue.expression else name
        print(f"{issue.severity}: {where}: {issue.message}", file=sys.stderr)
    errors = sum(1 for _, i in build.issues if i.is_error)
    print(f"{build.label}: {len(build.resources)} resources, {errors} error(s) -> {build.folder}, "
          f"{build.archive}")
    if not build.ok:
        if args.install:
            print(f"ecanfhir: {build.label} not installed: the build has errors", file=sys.stderr)
        return EXIT_INVALID
    if args.install:
        print(f"installed {build.label} -> {install_build(build)}")
    return EXIT_OK


def _install(args: argparse.Namespace) -> int:
    from ..definitions.packages.install import install_package

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    failed = False
    for spec in args.specs:
        result = install_package(spec, registry=args.registry or None,
                                 dependencies=not args.no_deps, replace=args.force,
                                 progress=progress)
        for package in result.packages:
            needed = f" (needed by {package.required_by})" if package.required_by else ""
            state = "installed" if package.fresh else "already in the cache:"
            print(f"{state} {package.label}{needed} -> {package.path}")
        for label in result.skipped:
            print(f"skipped {label}: FHIR R4 core is built into ecanfhir")
        for problem in result.problems:
            print(f"ecanfhir: {problem}", file=sys.stderr)
        failed = failed or not result.ok
    return EXIT_INVALID if failed else EXIT_OK
