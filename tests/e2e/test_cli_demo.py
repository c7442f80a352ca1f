"""`ecanfhir demo`, the README's first command: the pilot end to end in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo")
    done = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "demo", "--count", "6",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          check=False, env={"NO_COLOR": "1", "COLUMNS": "120", "PATH": ""})
    return done, out


def test_demo_exits_0_and_reports_every_stage(
        demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Centre started, messages acknowledged as expected, KPIs printed, conformance passed."""
    done, _ = demo
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    text = done.stdout
    assert "mock national cancer centre on http://127.0.0.1:" in text
    assert "ecan-kpi-cancer-cases" in text and "ecan-kpi-telemedicine-consultations" in text
    assert "-> passed" in text


def test_demo_acknowledgements_match_what_each_message_deserves(
        demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """6+6 valid messages and 1 resend: ok; 1+1 invalid ones: fatal-error (--count 6)."""
    done, _ = demo
    rows = {line.split()[1]: line.split()[3:6:2] for line in done.stdout.splitlines()
            if line.startswith("│") and line.split()[1] in ("ok", "fatal-error")}
    assert rows == {"ok": ["13", "13"], "fatal-error": ["2", "2"]}, done.stdout


def test_demo_writes_the_conformance_reports(
        demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """report.html, report.json (every test passed), junit.xml, TestReports."""
    _, out = demo
    report = json.loads((out / "report.json").read_text())
    statuses = {t["status"] for s in report["suites"] for t in s["tests"]}
    assert statuses == {"pass"}
    assert (out / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert (out / "junit.xml").is_file()
    assert list(out.glob("TestReport-*.json"))
