"""The ``ecanfhir`` command: parse arguments, call the library, map the result to an exit code.

Exit codes: 0 valid / done, 1 errors found, 2 usage or unreadable input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ._exceptions import EcanfhirError
from ._registry import Registry
from ._report import render_json, render_junit, render_text
from .validation._issue import Issue, ValidationResult
from .validation._validator import Validator

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
PROGRESS_THRESHOLD = 20


class UsageError(Exception):
    """Bad arguments or unreadable input: exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecanfhir", description="FHIR R4 tooling for the eCAN+ "
                                     "cancer-care pilots.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    v = sub.add_parser("validate", help="validate FHIR R4 JSON resources",
                       description="Validate FHIR R4 JSON files (a folder: every *.json in it).")
    v.add_argument("paths", nargs="+", metavar="PATH", help="a JSON file or a folder")
    v.add_argument("--profile", action="append", default=[], metavar="URL|FILE",
                   help="a profile the resources must conform to (repeatable)")
    v.add_argument("--ig", action="append", default=[], metavar="PATH|ID#VERSION",
                   help="a package folder or .tgz, a package id#version from the package cache, "
                        "or a conformance resource file or folder (repeatable)")
    v.add_argument("--format", choices=("text", "json", "junit"), default="text")
    v.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    v.add_argument("--must-support", action="store_true",
                   help="report mustSupport elements that are missing")
    v.add_argument("--best-practice", choices=("warning", "error", "ignore"), default="warning",
                   help="severity of best-practice invariants (default: warning)")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    sn = sub.add_parser("snapshot", help="write a profile with its generated snapshot",
                        description="Generate the snapshot of a StructureDefinition from its "
                        "differential, as the HL7 tools do, and report what the profile gets "
                        "wrong (e.g. loosening its base).")
    sn.add_argument("file", metavar="FILE", help="a StructureDefinition JSON file")
    sn.add_argument("--ig", action="append", default=[], metavar="PATH|ID#VERSION",
                    help="packages or conformance resources its base may come from (repeatable)")
    sn.add_argument("--output", metavar="FILE", help="where to write it (default: stdout)")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "snapshot":
            return _snapshot(args)
    except UsageError as exc:
        print(f"ecanfhir: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EcanfhirError as exc:
        print(f"ecanfhir: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return EXIT_USAGE


def _input_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if not _hidden(p.relative_to(path)))
            if not found:
                raise UsageError(f"{raw}: no .json files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return files


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _registry(args: argparse.Namespace) -> tuple[Registry, list[str]]:
    from ._package import load_conformance, load_ig

    registry = Registry()
    for spec in args.ig:
        load_ig(registry, spec)
    profiles: list[str] = []
    for spec in args.profile:
        if os.path.exists(spec):
            before = {r.get("url") for r in registry.user_resources("StructureDefinition")}
            load_conformance(registry, spec)
            added = [r.get("url") for r in registry.user_resources("StructureDefinition")
                     if r.get("url") not in before]
            if not added:
                raise UsageError(f"{spec}: holds no StructureDefinition to use as a profile")
            profiles.extend(str(u) for u in added)
        else:
            profiles.append(spec)
    return registry, profiles


def _validate(args: argparse.Namespace) -> int:
    from .validation._options import ValidationOptions

    files = _input_files(args.paths)
    registry, profiles = _registry(args)
    for url in profiles:
        if registry.structure_definition(url) is None:
            raise UsageError(f"--profile {url}: no such profile is loaded (load it with --ig)")
    options = ValidationOptions(best_practice=args.best_practice, must_support=args.must_support)
    validator = Validator(registry, options=options)
    results = list(_run_all(validator, files, profiles, progress=not args.no_progress))
    if args.format == "json":
        report = render_json(results)
    elif args.format == "junit":
        report = render_junit(results)
    else:
        colour = args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        report = render_text(results, colour=colour)
    _write(report, args.output)
    return EXIT_OK if all(r.ok for r in results) else EXIT_INVALID


def _write(text: str, output: str | None) -> None:
    """Write a report to --output, or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror}") from exc


def _snapshot(args: argparse.Namespace) -> int:
    import json

    from ._package import load_ig
    from ._snapshot import generate_snapshot, snapshot_issues

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
    _write(text, args.output)
    for issue in issues:
        print(f"{issue.severity}: {issue.expression}: {issue.message}", file=sys.stderr)
    return EXIT_INVALID if any(i.is_error for i in issues) else EXIT_OK


def _run_all(validator: Validator, files: Sequence[Path], profiles: Sequence[str], *,
             progress: bool) -> Iterator[ValidationResult]:
    show = progress and len(files) >= PROGRESS_THRESHOLD and sys.stderr.isatty()
    if not show:
        for f in files:
            yield _validate_file(validator, f, profiles)
        return
    from rich.console import Console
    from rich.progress import Progress

    # The bar lives on stderr only: stdout carries the report (JSON, JUnit) and stays clean.
    with Progress(console=Console(file=sys.stderr), transient=True, redirect_stdout=False,
                  redirect_stderr=False) as bar:
        task = bar.add_task("validating", total=len(files))
        for f in files:
            yield _validate_file(validator, f, profiles)
            bar.advance(task)


def _validate_file(validator: Validator, path: Path, profiles: Sequence[str]) -> ValidationResult:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ValidationResult((Issue("fatal", "exception", "", f"cannot read the file: "
                                       f"{exc.strerror}", "io"),), str(path))
    return validator.validate(data, profiles=profiles, source=str(path))


if __name__ == "__main__":
    sys.exit(main())
