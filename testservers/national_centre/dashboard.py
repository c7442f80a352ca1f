"""The dashboard page (``GET /``): server-rendered HTML with inline SVG charts, no script and
nothing loaded from elsewhere.

It shows what the message log holds (first receipts): messages per day, acknowledgements by
code, the two pilot KPIs per month and per sending department (computed by
:func:`.kpi.evaluate_measure`, so they equal ``$evaluate-measure``), and the latest rejected
messages with their reasons (FHIRPath location and issue text). No patient data: reasons are
validator texts, and any CPR-like number in them is masked; every text is escaped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from html import escape

from .settings import Settings
from .storage import MessageFact, Store

__all__ = ["Dashboard", "KpiRow", "Rejection", "collect", "render"]

MAX_DAYS = 31
MAX_MONTHS = 12
MAX_REJECTED = 20
_QUOTED = re.compile(r"(['\"])[^'\"]*\1")
_REFERENCE = re.compile(r"(?<![/\w])([A-Z][A-Za-z]{2,63})/[A-Za-z0-9\-.]{1,64}")
_DIGITS = re.compile(r"\d(?:[\d\s\-]*\d){5,}")


@dataclass(frozen=True, slots=True)
class KpiRow:
    month: str               # YYYY-MM
    department: str | None   # sender / service provider SOR; None for the month's total
    cancer_cases: int
    consultations: int


@dataclass(frozen=True, slots=True)
class Rejection:
    received: str
    event: str
    sender: str
    header_id: str
    reasons: tuple[tuple[str, str], ...]   # (FHIRPath location, text)


@dataclass(frozen=True, slots=True)
class Dashboard:
    received: int
    per_day: tuple[tuple[str, int], ...]
    acks: tuple[tuple[str, int], ...]
    kpis: tuple[KpiRow, ...]
    rejected: tuple[Rejection, ...]


def collect(store: Store, settings: Settings) -> Dashboard:
    """What the page shows, read from the store's aggregates (:meth:`Store.overview`)."""
    data = store.overview(rejected=MAX_REJECTED)
    per_day: Counter[str] = Counter()
    acks: Counter[str] = Counter()
    for day, ack_code, _sender, n in data.counts:
        per_day[day] += n
        acks[ack_code] += n
    return Dashboard(
        received=sum(acks.values()),
        per_day=tuple(sorted(per_day.items())[-MAX_DAYS:]),
        acks=tuple(sorted(acks.items())),
        kpis=tuple(_kpi_rows(data.kpis, data.months)),
        rejected=tuple(_rejection(m) for m in data.rejected),
    )


def _kpi_rows(kpis: tuple[tuple[str, str, int, int], ...],
              months: tuple[str, ...]) -> list[KpiRow]:
    """Per month (the latest MAX_MONTHS): the total, then one row per department."""
    rows = []
    for month in [m for m in months if re.fullmatch(r"\d{4}-\d{2}", m)][-MAX_MONTHS:]:
        departments = [(d, k1, k2) for m, d, k1, k2 in kpis if m == month]
        rows.append(KpiRow(month, None, sum(k1 for _, k1, _ in departments),
                           sum(k2 for _, _, k2 in departments)))
        rows.extend(KpiRow(month, d, k1, k2) for d, k1, k2 in departments)
    return rows


def _rejection(message: MessageFact) -> Rejection:
    reasons = []
    for reason in message.reasons:
        location, sep, text = reason.partition(": ")
        if not sep:
            location, text = "", reason
        reasons.append((mask(location), mask(text)))
    return Rejection(message.received[:19].replace("T", " "), message.event or "unknown",
                     message.sender or "unknown", masked_id(message.header_id),
                     tuple(reasons))


def mask(text: str) -> str:
    """A rejection reason without patient data: quoted values (the validator quotes what it
    found), runs of six or more digits (CPR-like numbers, phone numbers) and the ids of
    references are masked.

    >>> mask("Patient.identifier[0].value: '2512489996' does not match; see Patient/2512489996")
    "Patient.identifier[0].value: '…' does not match; see Patient/…"
    """
    text = _QUOTED.sub(lambda m: f"{m[1]}…{m[1]}", text)
    text = _REFERENCE.sub(lambda m: f"{m[1]}/…", text)
    return _DIGITS.sub("[number removed]", text)


def masked_id(value: str) -> str:
    """A message id shown in part: its first 8 characters, never a number run.

    >>> masked_id("2512489996")
    '[number removed]'
    >>> masked_id("6f1c1a52-8f1e-4d43-9a39-1f6c2b0d2a11")
    '6f1c1a52…'
    """
    shown = _DIGITS.sub("[number removed]", value)
    return shown if shown != value or len(value) <= 8 else value[:8] + "…"


# -- HTML -------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f23;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;
margin-bottom:16px}table{border-collapse:collapse;margin-top:8px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.n{text-align:right}.muted{color:#57606a}
svg text{font:11px system-ui,sans-serif;fill:#1b1f23}code{font-size:12px}
"""
_COLOURS = {"ok": "#2da44e", "fatal-error": "#cf222e", "transient-error": "#bf8700"}


def render(data: Dashboard, settings: Settings) -> str:
    """The whole page (every text escaped)."""
    centre = escape(settings.centre.name)
    return "".join([
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{centre}: dashboard</title><style>{_STYLE}</style></head><body>",
        f"<h1>{centre}</h1><p class=\"muted\">Mock national cancer centre for the eCAN+ "
        f"pilot. Messages received: <strong id=\"received-total\">{data.received}</strong>."
        "</p>",
        _section("Received messages per day", "per-day",
                 _bar_chart(data.per_day, "messages per day"),
                 _table(("Day", "Messages"), data.per_day, "per-day-table")),
        _section("Acknowledgements by code", "acks",
                 _bar_chart(data.acks, "acknowledgements by code", colours=_COLOURS),
                 _table(("Code", "Messages"), data.acks, "acks-table")),
        _section("KPIs per month", "kpis", _kpi_chart(data.kpis), _kpi_table(data.kpis)),
        _section("Latest rejected messages", "rejected", _rejected_table(data.rejected)),
        "</body></html>",
    ])


def _section(title: str, ident: str, *parts: str) -> str:
    return f"<section id=\"{ident}\"><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _table(head: tuple[str, str], rows: tuple[tuple[str, int], ...], ident: str) -> str:
    if not rows:
        return "<p class=\"muted\">Nothing received yet.</p>"
    body = "".join(f"<tr><td>{escape(k)}</td><td class=\"n\" data-key=\"{escape(k)}\">{v}</td>"
                   "</tr>" for k, v in rows)
    return (f"<table id=\"{ident}\"><tr><th>{escape(head[0])}</th><th>{escape(head[1])}</th>"
            f"</tr>{body}</table>")


# Text in the charts is 11px; a character is at most this wide (digits, '-', letters).
_CHAR_PX = 7.0
_KPI_COLOURS = (("K1 cancer cases", "#0969da"), ("K2 telemedicine consultations", "#8250df"))


def _bar_chart(items: tuple[tuple[str, int], ...], label: str, *,
               colours: dict[str, str] | None = None) -> str:
    if not items:
        return ""
    width, height, pad = 720, 180, 28
    step = (width - 2 * pad) / len(items)
    top = max(v for _, v in items) or 1
    names = [key[-5:] if len(items) > 8 else key for key, _ in items]
    # Every n-th axis label, so that neighbours never overlap (the table lists them all).
    every = max(1, math.ceil((max(map(len, names)) * _CHAR_PX + 6) / step))
    bars = []
    for i, (key, value) in enumerate(items):
        h = (height - 2 * pad) * value / top
        x, y = pad + i * step + step * 0.1, height - pad - h
        colour = (colours or {}).get(key, "#0969da")
        name = (f"<text x=\"{x + step * 0.4:.1f}\" y=\"{height - pad + 14}\" "
                f"text-anchor=\"middle\">{escape(names[i])}</text>") if i % every == 0 else ""
        bars.append(
            f"<g><title>{escape(key)}: {value}</title>"
            f"<rect x=\"{x:.1f}\" y=\"{y:.1f}\" width=\"{step * 0.8:.1f}\" height=\"{h:.1f}\" "
            f"fill=\"{colour}\"></rect>"
            f"<text x=\"{x + step * 0.4:.1f}\" y=\"{y - 4:.1f}\" text-anchor=\"middle\">{value}"
            f"</text>{name}</g>")
    return (f"<svg role=\"img\" aria-label=\"{escape(label)}\" width=\"{width}\" "
            f"height=\"{height}\" viewBox=\"0 0 {width} {height}\" "
            f"xmlns=\"http://www.w3.org/2000/svg\">"
            f"<line x1=\"{pad}\" y1=\"{height - pad}\" x2=\"{width - pad}\" "
            f"y2=\"{height - pad}\" stroke=\"#57606a\"></line>{''.join(bars)}</svg>")


def _kpi_chart(rows: tuple[KpiRow, ...]) -> str:
    """One group of two bars (K1, K2) per month, labelled with the month and its year, under
    a legend; wide enough that no two labels meet."""
    totals = sorted((r for r in rows if r.department is None), key=lambda r: r.month)
    if not totals:
        return ""
    pad, legend, group = 28, 24, 72.0
    width, height = max(720, round(2 * pad + group * len(totals))), 200
    top = max(max(r.cancer_cases, r.consultations) for r in totals) or 1
    base = height - pad
    parts = [f"<g class=\"legend\"><rect x=\"{pad + n * 180}\" y=\"4\" width=\"12\" "
             f"height=\"12\" fill=\"{colour}\"></rect><text x=\"{pad + n * 180 + 16}\" "
             f"y=\"14\">{escape(name)}</text></g>"
             for n, (name, colour) in enumerate(_KPI_COLOURS)]
    for i, r in enumerate(totals):
        left = pad + i * group
        for j, value in enumerate((r.cancer_cases, r.consultations)):
            name, colour = _KPI_COLOURS[j]
            h = (base - pad - legend) * value / top
            x = left + group * (0.1 + 0.4 * j)
            parts.append(
                f"<g><title>{escape(r.month)} {escape(name)}: {value}</title>"
                f"<rect x=\"{x:.1f}\" y=\"{base - h:.1f}\" width=\"{group * 0.38:.1f}\" "
                f"height=\"{h:.1f}\" fill=\"{colour}\"></rect><text x=\"{x + group * 0.19:.1f}\" "
                f"y=\"{base - h - 4:.1f}\" text-anchor=\"middle\">{value}</text></g>")
        parts.append(f"<text class=\"month\" x=\"{left + group / 2:.1f}\" y=\"{base + 14}\" "
                     f"text-anchor=\"middle\">{escape(r.month)}</text>")
    return (f"<svg role=\"img\" aria-label=\"KPIs per month: K1 cancer cases, K2 "
            f"telemedicine consultations\" width=\"{width}\" height=\"{height}\" "
            f"viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
            f"<line x1=\"{pad}\" y1=\"{base}\" x2=\"{width - pad}\" y2=\"{base}\" "
            f"stroke=\"#57606a\"></line>{''.join(parts)}</svg>")


def _kpi_table(rows: tuple[KpiRow, ...]) -> str:
    if not rows:
        return "<p class=\"muted\">No accepted messages yet.</p>"
    body = []
    for r in rows:
        who = "all departments" if r.department is None else f"SOR {escape(r.department)}"
        key = escape(f"{r.month}/{r.department or 'all'}")
        body.append(f"<tr data-kpi=\"{key}\"><td>{escape(r.month)}</td><td>{who}</td>"
                    f"<td class=\"n k1\">{r.cancer_cases}</td>"
                    f"<td class=\"n k2\">{r.consultations}</td></tr>")
    return ("<table id=\"kpi-table\"><tr><th>Month</th><th>Sending department</th>"
            "<th>K1 cancer cases</th><th>K2 telemedicine consultations</th></tr>"
            f"{''.join(body)}</table>")


def _rejected_table(rejected: tuple[Rejection, ...]) -> str:
    if not rejected:
        return "<p class=\"muted\">No rejected messages.</p>"
    body = []
    for r in rejected:
        reasons = "".join(f"<li><code>{escape(loc) or '(message)'}</code> {escape(text)}</li>"
                          for loc, text in r.reasons) or "<li>(no reason recorded)</li>"
        body.append(f"<tr class=\"rejection\"><td>{escape(r.received)}</td>"
                    f"<td>{escape(r.event)}</td><td>{escape(r.sender)}</td>"
                    f"<td><code>{escape(r.header_id)}</code></td><td><ul>{reasons}</ul></td>"
                    "</tr>")
    return ("<table id=\"rejected-table\"><tr><th>Received (UTC)</th><th>Event</th>"
            "<th>Sender SOR</th><th>MessageHeader.id</th><th>Reasons</th></tr>"
            f"{''.join(body)}</table>")
