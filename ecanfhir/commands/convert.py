"""``ecanfhir convert IN [--to json|xml] [--out FILE]``: one resource between FHIR JSON and
FHIR XML (R4 §2.6), through :mod:`ecanfhir.formats`.

The input's format is read from its content (a file of any name, or ``-`` for stdin); the
target is the other format unless ``--to`` says. Input that cannot be read as FHIR, or that
has no form in the target format (an unknown property would be lost), is not converted: its
issues go to stderr as an OperationOutcome's would read, and the exit code is 1. Warnings are
shown and the conversion goes on. Exit 2: the file cannot be read, or bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import EXIT_INVALID, EXIT_OK, UsageError, write_output

__all__ = ["add_parser", "run"]

STDIN = "-"
FORMATS = ("json", "xml")


def add_parser(sub: Any) -> None:
    c = sub.add_parser(
        "convert", help="convert a resource between FHIR JSON and FHIR XML",
        description="Convert one FHIR R4 resource between JSON and XML. The input format is "
                    "read from the content; the output is the other format unless --to says. "
                    "Nothing is dropped: input with issues that would lose data is refused "
                    "(exit 1), with its issues on stderr.")
    c.add_argument("input", metavar="IN", help="a FHIR JSON or XML file, or - for stdin")
    c.add_argument("--to", choices=FORMATS, help="the output format (default: the other one)")
    c.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    c.add_argument("--compact", action="store_true",
                   help="no indentation (default: two spaces per level)")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..formats.json_write import to_json
    from ..formats.xml_read import read_resource
    from ..formats.xml_write import XmlWriteError, to_xml
    from ..validation._issue import Issue

    data = _read(args.input)
    # Decimals as written (1.00 stays 1.00), from either format.
    resource, issues, form = read_resource(data, parse_float=Decimal)
    target = args.to or ("xml" if form == "json" else "json")
    problems = [i for i in issues if i.is_error]
    text = ""
    if resource is not None and not problems:
        try:
            text = (to_xml(resource, pretty=not args.compact) if target == "xml"
                    else to_json(resource, pretty=not args.compact))
        except XmlWriteError as exc:
            problems.append(Issue("error", "structure", exc.expression,
                                  str(exc).removeprefix(f"{exc.expression}: "), "xml-write"))
        except ValueError as exc:  # a number JSON cannot hold (NaN)
            problems.append(Issue("error", "structure", "", str(exc), "json-write"))
    _report(args.input, form, target, [i for i in issues if not i.is_error] + problems)
    if resource is None or problems:
        return EXIT_INVALID
    write_output(text, args.out)
    return EXIT_OK


def _read(name: str) -> bytes:
    if name == STDIN:
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"{name}: {exc.strerror or exc}") from exc


def _report(name: str, form: str, target: str, issues: list[Any]) -> None:
    """Issues on stderr, one a line: severity, code, FHIRPath location, message."""
    if not issues:
        return
    errors = sum(1 for i in issues if i.is_error)
    source = "stdin" if name == STDIN else name
    head = (f"cannot convert {form.upper()} to {target.upper()}" if errors
            else f"converted {form.upper()} to {target.upper()} with warnings")
    lines = [f"ecanfhir convert: {source}: {head}"]
    for issue in issues:
        where = f" {issue.expression}:" if issue.expression else ""
        lines.append(f"  {issue.severity:<11} {issue.code:<13}{where} {issue.message}")
    print("\n".join(lines), file=sys.stderr)
