"""The dashboard's KPI chart over a year of messages: months with their year, a K1/K2 legend,
and no two labels on top of each other (measured by headless Chromium where it is installed,
estimated from the SVG otherwise)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from _centre_messages import consultation, referral
from fastapi import FastAPI

FHIR = {"Content-Type": "application/fhir+json"}
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
# Text in the charts is 11px; no character is wider than this.
CHAR_PX = 7.0


def _year_of_messages(base: str) -> str:
    """A referral and a consultation in each month of 2026; the page served afterwards."""
    with httpx.Client(base_url=base, timeout=60) as http:
        for m in range(1, 13):
            at = datetime(2026, m, 10, 9, tzinfo=UTC)
            for message in (referral(f"CASE-{m}", seed=m, at=at),
                            consultation(f"ENC-{m}", seed=100 + m, at=at)):
                answer = http.post("/$process-message", content=json.dumps(message),
                                   headers=FHIR)
                assert answer.status_code == 200
                assert answer.json()["entry"][0]["resource"]["response"]["code"] == "ok"
        page = http.get("/")
    assert page.status_code == 200
    return page.text


def _kpi_svg(html: str) -> str:
    section = html.split('<section id="kpis">', 1)[1].split("</section>", 1)[0]
    return section[section.index("<svg"):section.index("</svg>") + len("</svg>")]


def _boxes(svg: str) -> list[tuple[str, float, float, float]]:
    """(text, left, right, baseline) of every text, its width estimated."""
    boxes = []
    for attrs, text in re.findall(r"<text ([^>]*)>([^<]*)</text>", svg):
        x, y = (float(re.search(rf'\b{a}="([\d.]+)"', attrs)[1])  # type: ignore[index]
                for a in ("x", "y"))
        width = len(text) * CHAR_PX
        left = x - width / 2 if 'text-anchor="middle"' in attrs else x
        boxes.append((text, left, left + width, y))
    return boxes


def _overlapping(boxes: list[tuple[str, float, float, float]]) -> list[tuple[str, str]]:
    return [(a[0], b[0]) for n, a in enumerate(boxes) for b in boxes[n + 1:]
            if abs(a[3] - b[3]) < 11 and a[1] < b[2] and b[1] < a[2]]


def test_kpi_chart_of_a_year(live_server: tuple[str, FastAPI]) -> None:
    base, _app = live_server
    svg = _kpi_svg(_year_of_messages(base))
    texts = [t for t, *_ in _boxes(svg)]
    assert "K1 cancer cases" in texts and "K2 telemedicine consultations" in texts
    assert [t for t in texts if re.fullmatch(r"\d{4}-\d\d", t)] == MONTHS
    assert _overlapping(_boxes(svg)) == []


def test_kpi_chart_labels_do_not_overlap_in_chromium(live_server: tuple[str, FastAPI],
                                                      tmp_path: Path) -> None:
    """Chromium lays the chart out; no two of its texts' boxes intersect."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    base, _app = live_server
    svg = _kpi_svg(_year_of_messages(base))
    # The served page allows no script (its CSP): the chart is measured in a page of its own.
    page = tmp_path / "chart.html"
    page.write_text(
        "<!DOCTYPE html><html><head><style>svg text{font:11px system-ui,sans-serif}</style>"
        f"</head><body>{svg}<pre id=\"result\"></pre><script>"
        "const b=[...document.querySelectorAll('svg text')].map(t=>[t.textContent,"
        "t.getBBox()]);const o=[];b.forEach(([s,p],i)=>b.slice(i+1).forEach(([u,q])=>{"
        "if(p.x<q.x+q.width&&q.x<p.x+p.width&&p.y<q.y+q.height&&q.y<p.y+p.height)"
        "o.push(s+' / '+u)}));document.getElementById('result').textContent="
        "JSON.stringify({texts:b.length,overlaps:o});</script></body></html>",
        encoding="utf-8")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout)
    assert found, done.stdout[-2000:]
    result = json.loads(found[1].replace("&quot;", '"'))
    assert result["texts"] >= 12 + 24 + 2
    assert result["overlaps"] == []
