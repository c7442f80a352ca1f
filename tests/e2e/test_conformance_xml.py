"""The conformance runner in FHIR XML (``--format xml``) against the mock centre over loopback:
every suite passes with XML bodies and Accept, the default sender sends its messages as XML,
and the CLI takes the option."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _conformance_centre import recording_centre
from fastapi import FastAPI

from ecanfhir import conformance
from ecanfhir.conformance._model import Exchange

XML = "application/fhir+xml"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """The mock centre with recorder and the suite's fault senders, on a free loopback port."""
    yield from recording_centre(tmp_path_factory)


def _exchanges(run: conformance.RunResult) -> list[Exchange]:
    return [e for script in run.scripts for test in script.tests for action in test.actions
            for e in action.exchanges]


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "").split(";")[0]


def test_every_suite_passes_in_xml(centre: tuple[str, FastAPI]) -> None:
    """All tests of both suites pass with XML on the wire: the runner's resource bodies are
    FHIR XML, its requests ask for XML and get it, and the sender under test (ecanfhir's
    client) sends its messages as XML."""
    base, _ = centre
    run = conformance.run(base, conformance.select([]), format="xml")
    failing = [(s, t.id, t.message) for s, t in run.tests() if t.status != "pass"]
    assert failing == [] and run.ok
    assert len(run.tests()) >= 25
    exchanges = _exchanges(run)
    by_runner = [e for e in exchanges if e.by == "runner" and e.request_body.startswith("<")]
    assert len(by_runner) >= 10
    assert {_header(e.request_headers, "content-type") for e in by_runner} == {XML}
    answered = [e for e in exchanges if _header(e.request_headers, "accept") == XML]
    assert answered and all(
        _header(e.response_headers, "content-type") == XML for e in answered
        if e.response_body and e.status not in (406, 415)), [(e.url, e.status)
                                                             for e in answered]
    # The centre's record of what the sender under test sent, with its Content-Type.
    sent = [e for e in exchanges if e.url.endswith("/$recorded-requests/-1")]
    assert sent and {_header(e.response_headers, "content-type") for e in sent} == {XML}


def test_cli_format_option(centre: tuple[str, FastAPI], tmp_path: Path) -> None:
    """``ecanfhir conformance --format xml``: the report shows XML exchanges; a bad value is a
    usage error."""
    done = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "conformance", "--endpoint",
                           centre[0], "--suite", "ecan-centre-endpoint", "--only", "ack-ok",
                           "--format", "xml", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    text = json.dumps(report)
    assert XML in text and "<Bundle xmlns" in text
    bad = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "conformance", "--endpoint",
                          centre[0], "--format", "ttl", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 2 and "--format" in bad.stderr
