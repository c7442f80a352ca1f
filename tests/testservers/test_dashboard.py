"""The dashboard page: numbers from the message log, escaped text, no patient data; rendered
by headless Chromium (a DOM dump and a screenshot) against uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _centre_http import AppClient
from _centre_messages import consultation, referral
from fastapi import FastAPI

FHIR = {"Content-Type": "application/fhir+json"}
CPR = "2512489996"


def _send(http: httpx.Client | AppClient) -> None:
    """3 accepted messages (2 referrals from 2 departments, 1 consultation), 1 rejected whose
    MessageHeader.id is markup, and a resend (not counted)."""
    first = referral("CASE-1", seed=1)
    for message in (first, first, referral("CASE-2", seed=2, hospital="B"),
                    consultation("ENC-1", seed=3,
                                 at=datetime(2026, 11, 20, 10, tzinfo=UTC))):
        response = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
        assert response.status_code == 200
    rejected = referral("CASE-3", seed=4)
    rejected["entry"][0]["resource"]["eventCoding"]["code"] = "unknown-event"
    rejected["entry"][0]["resource"]["id"] = "<b>bold</b>"
    assert http.post("/$process-message", content=json.dumps(rejected),
                     headers=FHIR).status_code == 200


def _cell(html: str, key: str) -> str:
    match = re.search(rf'data-key="{re.escape(key)}">(\d+)<', html)
    assert match, key
    return match[1]


def _kpi(html: str, key: str) -> tuple[int, int]:
    match = re.search(rf'data-kpi="{re.escape(key)}">.*?class="n k1">(\d+)</td>'
                      r'<td class="n k2">(\d+)</td>', html)
    assert match, key
    return int(match[1]), int(match[2])


def _assert_numbers(html: str) -> None:
    assert re.search(r'id="received-total">4<', html)
    assert _cell(html, "ok") == "3" and _cell(html, "fatal-error") == "1"
    assert _kpi(html, "2026-11/all") == (2, 1)
    assert _kpi(html, "2026-11/123456789012") == (1, 1)
    assert _kpi(html, "2026-11/223456789012") == (1, 0)
    assert "MessageHeader.eventCoding" in html          # the rejection's FHIRPath location
    assert "does not accept messages of event" in html  # and its reason


def test_dashboard_shows_the_message_log(client: AppClient) -> None:
    _send(client)
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    _assert_numbers(html)
    assert html.count("<svg") >= 3
    assert "<b>bold" not in html and "&lt;b&gt;bold&lt;…" in html   # escaped, shortened
    assert CPR not in html and "Testpatient" not in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_empty_dashboard(client: AppClient) -> None:
    html = client.get("/").text
    assert 'id="received-total">0<' in html and "No rejected messages." in html


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "headless Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser test: {reason}")
        pytest.skip(reason)
    return found


def _run_chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[Any]:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_dashboard_in_headless_chromium(live_server: tuple[str, FastAPI],
                                        tmp_path: Path) -> None:
    """Chromium renders the page served by uvicorn: the DOM holds the numbers, and the
    screenshot is a non-empty PNG."""
    chromium = _chromium()
    base, _app = live_server
    with httpx.Client(base_url=base, timeout=30) as http:
        _send(http)
    dom = _run_chromium(chromium, tmp_path, "--dump-dom", f"{base}/")
    assert dom.returncode == 0, dom.stderr[-2000:]
    _assert_numbers(dom.stdout)
    assert "&lt;b&gt;bold&lt;…" in dom.stdout and "<b>bold" not in dom.stdout
    screenshot = tmp_path / "dashboard.png"
    shot = _run_chromium(chromium, tmp_path, f"--screenshot={screenshot}", f"{base}/")
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
