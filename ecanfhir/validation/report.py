"""Validation reports for people and for CI: text, OperationOutcome JSON, JUnit XML.

This is an edge of the library: results become OperationOutcomes (or XML) only here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._issue import ValidationResult, to_operation_outcome

__all__ = ["render_json", "render_junit", "render_text"]

COLOURS = {"fatal": "bold red", "error": "red", "warning": "yellow", "information": "cyan"}


def _entry(result: ValidationResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": to_operation_outcome(result.issues)}
    if result.source:
        # The input file, as a file: URI, names the entry (Bundle.entry.fullUrl is a uri).
        entry["fullUrl"] = Path(result.source).resolve().as_uri()
    return entry


def render_json(results: Sequence[ValidationResult]) -> str:
    """One OperationOutcome, or a collection Bundle of them (one entry per input file)."""
    if len(results) == 1:
        body: dict[str, Any] = to_operation_outcome(results[0].issues)
    else:
        body = {"resourceType": "Bundle", "type": "collection",
                "entry": [_entry(r) for r in results]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def render_junit(results: Sequence[ValidationResult]) -> str:
    """JUnit XML: one testcase per input, failing when it has errors."""
    from xml.etree import ElementTree as ET  # (here: the other reports need no XML library)

    failures = sum(1 for r in results if not r.ok)
    suite = ET.Element("testsuite", name="ecanfhir validate", tests=str(len(results)),
                       failures=str(failures), errors="0", skipped="0")
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="ecanfhir.validate",
                             name=r.source or "resource")
        if not r.ok:
            lines = [f"{i.severity} {i.code} {i.expression}: {i.message}" for i in r.errors]
            failure = ET.SubElement(case, "failure", type="invalid",
                                    message=f"{len(r.errors)} error(s)")
            failure.text = "\n".join(lines)
        others = [f"{i.severity} {i.code} {i.expression}: {i.message}" for i in r.issues
                  if not i.is_error]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(others)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def render_text(results: Sequence[ValidationResult], *, colour: bool = False,
                width: int = 100) -> str:
    """Grouped per file, severity first, with the FHIRPath location of each issue."""
    if not colour:
        return _plain_text(results)  # the same text, without importing rich
    from rich.console import Console

    console = Console(force_terminal=colour, no_color=not colour, width=width,
                      highlight=False, soft_wrap=True)
    with console.capture() as captured:
        for r in results:
            verdict = "[green]valid[/]" if r.ok else "[red]invalid[/]"
            counts = _counts(r)
            console.print(f"[bold]{_escape(r.source or 'resource')}[/]: {verdict}{counts}")
            for issue in r.issues:
                style = COLOURS.get(issue.severity, "")
                where = f" [bold]{_escape(issue.expression)}[/]:" if issue.expression else ""
                console.print(f"  [{style}]{issue.severity:<11}[/] {issue.code:<13}{where} "
                              f"{_escape(issue.message)}")
        if len(results) > 1:
            bad = sum(1 for r in results if not r.ok)
            console.print(f"\n{len(results)} resource(s) checked: {len(results) - bad} valid, "
                          f"{bad} invalid")
    return captured.get()


def _plain_text(results: Sequence[ValidationResult]) -> str:
    lines = []
    for r in results:
        lines.append(f"{r.source or 'resource'}: {'valid' if r.ok else 'invalid'}{_counts(r)}")
        for issue in r.issues:
            where = f" {issue.expression}:" if issue.expression else ""
            lines.append(f"  {issue.severity:<11} {issue.code:<13}{where} {issue.message}")
    if len(results) > 1:
        bad = sum(1 for r in results if not r.ok)
        lines += ["", f"{len(results)} resource(s) checked: {len(results) - bad} valid, "
                      f"{bad} invalid"]
    return "".join(line.expandtabs(8) + "\n" for line in lines)


def _counts(r: ValidationResult) -> str:
    e, w = len(r.errors), len(r.warnings)
    parts = [f"{e} error(s)"] if e else []
    if w:
        parts.append(f"{w} warning(s)")
    return f" ({', '.join(parts)})" if parts else ""


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
