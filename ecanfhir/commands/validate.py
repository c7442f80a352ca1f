"""``ecanfhir validate``: validate FHIR R4 JSON or XML files and report (text, json, junit)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .._collector import pause_collector, resume_collector
from ..definitions.registry import Registry
from ..validation._issue import Issue, ValidationResult
from ..validation._options import ValidationOptions
from ..validation._validator import Validator
from ..validation.report import render_json, render_junit, render_text
from . import EXIT_INVALID, EXIT_OK, UsageError, write_output

__all__ = ["ValidatorSource", "add_parser", "build_validator", "run"]

PROGRESS_THRESHOLD = 20
STDIN = "-"


def add_parser(sub: Any) -> None:
    v = sub.add_parser("validate", help="validate FHIR R4 JSON or XML resources",
                       description="Validate FHIR R4 JSON or XML files, told apart by content (a "
                                   "folder: every *.json and *.xml below it that is a FHIR "
                                   "resource; -: standard input).")
    v.add_argument("paths", nargs="+", metavar="PATH",
                   help="a JSON or XML file, a folder, or - for standard input")
    v.add_argument("--profile", action="append", default=[], metavar="URL|FILE",
                   help="a profile the resources must conform to (repeatable)")
    v.add_argument("--ig", "--supporting", dest="ig", action="append", default=[],
                   metavar="PATH|ID#VERSION",
                   help="a package folder or .tgz, a package id#version from the package cache, "
                        "or a conformance resource file or folder (repeatable; --supporting is "
                        "the HL7 validator-style name for loose conformance files)")
    v.add_argument("--format", choices=("text", "json", "junit"), default="text")
    v.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    v.add_argument("--must-support", action="store_true",
                   help="report mustSupport elements that are missing")
    v.add_argument("--advice", action="store_true",
                   help="give the HL7 validator's advice beyond the specification: an "
                        "Observation without performer (warning), a value in no slice of an "
                        "open slicing (information)")
    v.add_argument("--best-practice", choices=("warning", "error", "ignore"), default="warning",
                   help="severity of best-practice invariants (default: warning)")
    v.add_argument("--allow-any-extensions", action="store_true",
                   help="accept extensions whose definition is not loaded (reported as "
                        "information instead of an error)")
    v.add_argument("--allow-extension-domain", action="append", default=[], metavar="URL",
                   help="accept unknown extensions whose url starts with URL (repeatable)")
    v.add_argument("--assume-valid-rest-references", action="store_true",
                   help="check the type a reference names (Group/1) against the allowed target "
                        "types even when the target is not in the resource or its Bundle")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument("--no-daemon", action="store_true",
                   help="run in this process even when an ecanfhir daemon is running (see "
                        "`ecanfhir daemon`)")
    v.add_argument("--no-pilot", action="store_true",
                   help="do not load the eCAN+ pilot package (ecanfhir.pilot) shipped with "
                        "ecanfhir; R4 core and the HL7 packages known by default are always "
                        "loaded")
    v.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    files = _input_files(args.paths)
    # With several files, what the first one loads is moved out of the collector's way until
    # the report is written (gc.freeze, as `ecanfhir serve` does with its definitions): the
    # full collections that fall every few dozen files then scan the new objects only, not the
    # hundred thousand of the definitions again (300 copies of bundle-50: 7.2-8.0 s -> 6.7-7.3 s).
    # Only a run that finds nothing frozen freezes, and it thaws what it froze at its end, so a
    # program calling main() finds the collector as it left it.
    freezing = len(files) > 1 and gc.get_freeze_count() == 0
    try:
        return _run(args, files, freezing)
    finally:
        if freezing:
            gc.unfreeze()


def _run(args: argparse.Namespace, files: list[tuple[Path, bool]], freezing: bool) -> int:
    collecting = pause_collector()
    try:
        options = ValidationOptions(
            best_practice=args.best_practice, must_support=args.must_support,
            advice=args.advice, allow_any_extensions=args.allow_any_extensions,
            allow_extension_domains=tuple(args.allow_extension_domain),
            assume_valid_rest_references=args.assume_valid_rest_references)
        # A resident process (``ecanfhir daemon``) passes the validators it keeps between runs.
        validators: ValidatorSource | None = getattr(args, "validators", None)
        validator, profiles = validators.get(args, options, build_validator) \
            if validators is not None else build_validator(args, options)
        skipped: list[Path] = []
        results: list[ValidationResult] = []
        for result in _run_all(validator, files, profiles, progress=not args.no_progress,
                               skipped=skipped):
            if freezing and not results:
                gc.freeze()  # the definitions this run needs are loaded by now
            results.append(result)
            resume_collector(collecting)
    finally:
        resume_collector(collecting)
    for path in skipped:
        print(f"ecanfhir validate: skipping {path}: not a FHIR resource (no resourceType, or XML "
              "outside the FHIR namespace); name the file to validate it", file=sys.stderr)
    if not results:
        raise UsageError("no FHIR resources to validate (every file found was skipped)")
    if args.format == "json":
        report = render_json(results)
    elif args.format == "junit":
        report = render_junit(results)
    else:
        colour = args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        report = render_text(results, colour=colour)
    write_output(report, args.output)
    return EXIT_OK if all(r.ok for r in results) else EXIT_INVALID


def _input_files(paths: Sequence[str]) -> list[tuple[Path, bool]]:
    """The files to validate. A folder gives every ``*.json`` and ``*.xml`` below it except
    hidden ones and an example's expected outcome (``X.expected.json`` beside ``X.json``); a
    named file (``-``: standard input) is always validated. Each file comes with whether a
    folder walk found it."""
    files: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if raw == STDIN:
            files.append((path, False))
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".json", ".xml")
                           and p.is_file() and not _hidden(p.relative_to(path)))
            if not found:
                raise UsageError(f"{raw}: no .json files and no .xml files in this folder")
            files.extend((p, True) for p in found if not _expected_outcome(p))
        elif path.is_file():
            files.append((path, False))
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return files


def _expected_outcome(path: Path) -> bool:
    name = path.name
    return name.endswith(".expected.json") \
        and path.with_name(name.removesuffix(".expected.json") + ".json").is_file()


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


class ValidatorSource(Protocol):
    """Where a resident process keeps validators between runs (``ecanfhir.daemon``)."""

    def get(self, args: argparse.Namespace, options: ValidationOptions,
            build: Callable[[argparse.Namespace, ValidationOptions],
                            tuple[Validator, list[str]]]) -> tuple[Validator, list[str]]:
        """The validator ``build`` makes for these arguments and options, and the profiles to
        check (``build``'s own, or those of an earlier run's that ``build`` would make)."""


def build_validator(args: argparse.Namespace,
                    options: ValidationOptions) -> tuple[Validator, list[str]]:
    """The validator of a run (the registry its ``--ig`` and ``--profile`` options make) and
    the profiles its files must conform to."""
    registry, profiles = _registry(args)
    for url in profiles:
        if registry.structure_definition(url) is None:
            raise UsageError(f"--profile {url}: no such profile is loaded (load it with --ig)")
    return Validator(registry, options=options), profiles


def _registry(args: argparse.Namespace) -> tuple[Registry, list[str]]:
    from ..definitions.packages.load import load_conformance, load_ig
    from ..definitions.pilot import load_pilot

    registry = Registry()
    if not args.no_pilot:
        load_pilot(registry)
    for spec in args.ig:
        load_ig(registry, spec)
    profiles: list[str] = []
    for spec in args.profile:
        if os.path.exists(spec):
            load_conformance(registry, spec)
            # The profiles are what this file (or folder) holds, also when --ig loaded it too.
            added = [r.get("url") for r in registry.user_resources("StructureDefinition")
                     if _from(registry.source_of(r), spec)]
            if not added:
                raise UsageError(f"{spec}: holds no StructureDefinition to use as a profile")
            profiles.extend(str(u) for u in added)
        else:
            profiles.append(spec)
    return registry, profiles


def _from(source: str | None, spec: str) -> bool:
    if source is None:
        return False
    path, root = Path(source).resolve(), Path(spec).resolve()
    return path == root or root in path.parents


def _run_all(validator: Validator, files: Sequence[tuple[Path, bool]], profiles: Sequence[str],
             *, progress: bool, skipped: list[Path]) -> Iterator[ValidationResult]:
    """Validate each file; a walked file that is not a FHIR resource goes to ``skipped``."""
    show = progress and len(files) >= PROGRESS_THRESHOLD and sys.stderr.isatty()
    if not show:
        yield from _each(validator, files, profiles, skipped, advance=lambda: None)
        return
    from rich.console import Console
    from rich.progress import Progress

    # The bar lives on stderr only: stdout carries the report (JSON, JUnit) and stays clean.
    with Progress(console=Console(file=sys.stderr), transient=True, redirect_stdout=False,
                  redirect_stderr=False) as bar:
        task = bar.add_task("validating", total=len(files))
        yield from _each(validator, files, profiles, skipped,
                         advance=lambda: bar.advance(task))


def _each(validator: Validator, files: Sequence[tuple[Path, bool]], profiles: Sequence[str],
          skipped: list[Path], *, advance: Callable[[], None]) -> Iterator[ValidationResult]:
    for f, walked in files:
        if (result := _validate_file(validator, f, profiles, walked)) is not None:
            yield result
        else:
            skipped.append(f)
        advance()


def _validate_file(validator: Validator, path: Path, profiles: Sequence[str],
                   walked: bool) -> ValidationResult | None:
    """The file's result; None for a walked file that is JSON or XML but no FHIR resource (a
    generator's ``manifest.json``, a ``pom.xml``): without a ``resourceType`` there is nothing
    to check it against, so only a file named on the command line is reported as invalid."""
    try:
        data = sys.stdin.buffer.read() if str(path) == STDIN else path.read_bytes()
    except OSError as exc:
        return ValidationResult((Issue("fatal", "exception", "", f"cannot read the file: "
                                       f"{exc.strerror}", "io"),), str(path))
    if not walked:
        return validator.validate(data, profiles=profiles, source=str(path))
    from ..formats.xml_read import read_resource

    parsed, problems, form = read_resource(data)
    if parsed is None and any(p.rule == "xml-not-fhir" for p in problems):
        return None  # XML, but no FHIR resource (a build file, an XSLT)
    if parsed is None:
        return ValidationResult(tuple(problems), str(path))
    if not isinstance(parsed, dict) or "resourceType" not in parsed:
        return None
    # XML is read again by the validator, which then places each issue at a line and column.
    return validator.validate(data if form == "xml" else parsed, profiles=profiles,
                              source=str(path))
