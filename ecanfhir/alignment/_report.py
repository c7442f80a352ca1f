"""The alignment matrix as Markdown (for the README and a pull request), a self-contained HTML
page and JSON (for tools). One row per pilot profile × counterpart; under each cell that is not
conformant, one line per error group."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from ._matrix import Alignment, Cell

__all__ = ["STATUS_TEXT", "render_html", "render_json", "render_markdown", "summary_line"]

STATUS_TEXT = {"conformant": "conformant", "deviation": "intended deviation",
               "non-conformant": "NOT CONFORMANT", "no-instances": "no instances generated"}


def status_text(cell: Cell) -> str:
    if cell.status == "not-checked":
        return f"not checked (package {cell.package} not installed)"
    return STATUS_TEXT[cell.status]


def summary_line(alignment: Alignment) -> str:
    counts: dict[str, int] = {}
    for cell in alignment.cells:
        counts[cell.status] = counts.get(cell.status, 0) + 1
    order = ("conformant", "deviation", "non-conformant", "not-checked", "no-instances")
    parts = ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
    return f"{len(alignment.cells)} cells: {parts}"


def _notes(cell: Cell) -> Iterator[str]:
    for group in sorted(cell.groups.values(), key=lambda g: (-g.count, g.rule, g.path)):
        why = " (intended deviation)" if group.deviation is not None else ""
        yield f"{group.count}× {group.line}{why}"


def _coverage(alignment: Alignment) -> str:
    cov = alignment.coverage
    kinds = ", ".join(f"{n} {k}" for k, n in cov.cases.items())
    return (f"{kinds} cases (seed {alignment.seed}); {len(cov.sites)} cancer sites; "
            f"{cov.danish_patients} Danish and {cov.foreign_patients} foreign patients; "
            f"{cov.with_stage} with TNM staging, {cov.with_ecog} with ECOG, "
            f"{cov.with_markers} with a tumour marker, {cov.with_metastases} with metastases")


def render_markdown(alignment: Alignment) -> str:
    """The matrix as a Markdown table, the error groups as a list under it."""
    lines = ["| pilot profile | counterpart | checked | conformant | status |",
             "|---|---|---:|---:|---|"]
    details: list[str] = []
    for cell in alignment.cells:
        lines.append(f"| {cell.row.label} | {cell.name} | {cell.checked} | {cell.conformant} "
                     f"| {status_text(cell)} |")
        notes = list(_notes(cell))
        if notes:
            details.append(f"\n**{cell.row.label} × {cell.name}**\n")
            details.extend(f"- {_md(n)}" for n in notes)
            reasons = dict.fromkeys(g.deviation.reason for g in cell.groups.values()
                                    if g.deviation is not None)
            details.extend(f"- deviation: {_md(r)}" for r in reasons)
    head = [f"Generated: {_coverage(alignment)}.", "", summary_line(alignment) + ".", ""]
    missing = [f"- {p}: not installed" for p in alignment.missing]
    return "\n".join([*head, *lines, *(["", *missing] if missing else []), *details]) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def render_html(alignment: Alignment) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external resources)."""
    rows = []
    for cell in alignment.cells:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(cell))
        rows.append(
            f'<tr class="{cell.status}"><td>{html.escape(cell.row.label)}</td>'
            f"<td>{html.escape(cell.name)}</td><td>{cell.checked}</td><td>{cell.conformant}</td>"
            f"<td>{html.escape(status_text(cell))}{f'<ul>{notes}</ul>' if notes else ''}</td>"
            "</tr>")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}"
             ".conformant{background:#e8f5e9}.deviation{background:#fff8e1}"
             "[class=non-conformant]{background:#ffebee}.not-checked{background:#eceff1}"
             "ul{margin:.3em 0;padding-left:1.2em;font-size:90%}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>eCAN+ alignment matrix</title><style>{style}</style></head><body>"
            f"<h1>eCAN+ pilot: alignment with national and European profiles</h1>"
            f"<p>{html.escape(_coverage(alignment))}</p>"
            f"<p>{html.escape(summary_line(alignment))}</p>"
            "<table><tr><th>pilot profile</th><th>counterpart</th><th>checked</th>"
            f"<th>conformant</th><th>status</th></tr>{''.join(rows)}</table></body></html>\n")


def render_json(alignment: Alignment) -> str:
    """The matrix as JSON: one object per cell, its error groups and deviations."""
    body: dict[str, Any] = {
        "count": alignment.count, "seed": alignment.seed, "ok": alignment.ok,
        "packages": list(alignment.packages), "missing": dict(alignment.missing),
        "coverage": {"cases": dict(alignment.coverage.cases),
                     "sites": list(alignment.coverage.sites),
                     "danish": alignment.coverage.danish_patients,
                     "foreign": alignment.coverage.foreign_patients},
        "cells": [{
            "pilot": cell.row.key, "counterpart": cell.counterpart, "package": cell.package,
            "checked": cell.checked, "conformant": cell.conformant, "status": cell.status,
            "errors": [{"rule": g.rule, "path": g.path, "count": g.count, "message": g.message,
                        "deviation": None if g.deviation is None else {
                            "reason": g.deviation.reason, "proposal": g.deviation.proposal}}
                       for g in cell.groups.values()],
        } for cell in alignment.cells],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
