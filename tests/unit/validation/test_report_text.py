"""The text report (ecanfhir.validation.report.render_text): without colour it is written
directly, the same text rich writes with colour off, and rich is not imported; with colour, rich
styles it. All data is synthetic."""

from __future__ import annotations

import subprocess
import sys

from rich.console import Console

from ecanfhir.validation._issue import Issue, ValidationResult
from ecanfhir.validation.report import COLOURS, render_text

RESULTS = (
    ValidationResult((Issue.error("required", "Patient.name[0].family", "minimum required = 1",
                                  "cardinality-min"),
                      Issue.warning("invalid", "", "the value [x] has\ta tab", "text"),
                      Issue.information("informational", "Patient.meta.profile[1]",
                                        "[bold]not markup[/bold] ", "note")),
                     "synthetic-patient.json"),
    ValidationResult((), "synthetic-observation.json"),
    ValidationResult((Issue.warning("invalid", "Observation", "check [this]", "x"),), None),
)


def _with_rich(results: tuple[ValidationResult, ...]) -> str:
    """What render_text wrote through rich with colour off (the reference)."""
    console = Console(force_terminal=False, no_color=True, width=100, highlight=False,
                      soft_wrap=True)
    with console.capture() as captured:
        for r in results:
            verdict = "[green]valid[/]" if r.ok else "[red]invalid[/]"
            counts = [f"{len(r.errors)} error(s)"] if r.errors else []
            if r.warnings:
                counts.append(f"{len(r.warnings)} warning(s)")
            shown = f" ({', '.join(counts)})" if counts else ""
            source = (r.source or "resource").replace("[", r"\[")
            console.print(f"[bold]{source}[/]: {verdict}{shown}")
            for issue in r.issues:
                where = issue.expression.replace("[", r"\[")
                where = f" [bold]{where}[/]:" if where else ""
                style = COLOURS.get(issue.severity, "")
                console.print(f"  [{style}]{issue.severity:<11}[/] {issue.code:<13}{where} "
                              + issue.message.replace("[", r"\["))
        bad = sum(1 for r in results if not r.ok)
        console.print(f"\n{len(results)} resource(s) checked: {len(results) - bad} valid, "
                      f"{bad} invalid")
    return captured.get()


def test_plain_text_is_what_rich_writes_without_colour() -> None:
    assert render_text(RESULTS) == _with_rich(RESULTS)


def test_plain_text_lines() -> None:
    lines = render_text(RESULTS[:1]).splitlines()
    assert lines[0] == "synthetic-patient.json: invalid (1 error(s), 1 warning(s))"
    assert lines[1] == ("  error       required      Patient.name[0].family: minimum required "
                        "= 1")
    assert lines[2] == "  warning     invalid       the value [x] has   a tab"  # tab stops of 8
    assert lines[3].endswith("Patient.meta.profile[1]: [bold]not markup[/bold] ")


def test_colour_is_written_by_rich() -> None:
    assert "\x1b[" in render_text(RESULTS, colour=True)


def test_plain_text_does_not_import_rich() -> None:
    code = ("import sys\nfrom ecanfhir.validation._issue import ValidationResult\n"
            "from ecanfhir.validation.report import render_text\n"
            "render_text([ValidationResult((), 'x.json')])\nprint('rich' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
