"""The conformance runner end to end: both suites against the real mock centre over HTTP, a
broken centre failing the duplicate tests, reports, and the CLI as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _conformance_centre import recording_centre
from fastapi import FastAPI

from ecanfhir import Validator, conformance
from ecanfhir.definitions.pilot import pilot_registry
from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """The mock centre with recorder and the suite's fault senders, on a free loopback port."""
    yield from recording_centre(tmp_path_factory)


@pytest.fixture(scope="module")
def run(centre: tuple[str, FastAPI]) -> conformance.RunResult:
    return conformance.run(centre[0], conformance.select([]),
                           headers={"Authorization": "Bearer s3cret-token"})


def test_every_test_of_both_suites_passes_against_the_mock_centre(
        run: conformance.RunResult) -> None:
    """26 tests, all pass; every SHALL requirement has a test."""
    failing = [(s, t.id, t.message) for s, t in run.tests() if t.status != "pass"]
    assert failing == []
    assert {s.suite for s in run.scripts} == {"ecan-centre-endpoint", "ecan-sender-behaviour"}
    assert run.ok and run.coverage.uncovered_shall == ()
    assert len(run.tests()) >= 25


def test_reports_are_written_redacted_and_valid(run: conformance.RunResult,
                                               tmp_path: Path) -> None:
    """HTML parses with balanced tags and never shows the token; TestReports are valid R4."""
    written = {p.name for p in conformance.write_reports(run, tmp_path)}
    assert {"report.html", "report.json", "junit.xml"} <= written
    html = (tmp_path / "report.html").read_text()
    assert "s3cret-token" not in html and "[redacted]" in html
    assert html.index("Summary") < html.index("Requirements coverage")
    _check_balanced(html)
    assert "s3cret-token" not in (tmp_path / "report.json").read_text()
    validator = Validator(pilot_registry())
    for name in written:
        if name.startswith("TestReport-"):
            report = json.loads((tmp_path / name).read_text())
            result = validator.validate(report)
            assert result.ok, [str(i) for i in result.errors]
            assert report["result"] == "pass"


class _Balance(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def _check_balanced(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.stack == []


class _NewAckEveryTime:
    """ASGI wrapper: a centre that answers a resend/duplicate with a fresh acknowledgement id."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def, type-arg]
        if scope["type"] != "http" or "process-message" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        parts: list[dict] = []  # type: ignore[type-arg]

        async def keep(message: dict) -> None:  # type: ignore[type-arg]
            parts.append(message)

        await self.app(scope, receive, keep)
        body = b"".join(m.get("body", b"") for m in parts if m["type"] == "http.response.body")
        import uuid

        try:
            ack = json.loads(body)
            ack["id"] = str(uuid.uuid4())
            body = json.dumps(ack).encode()
        except ValueError:
            pass
        start = next(m for m in parts if m["type"] == "http.response.start")
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_a_broken_centre_fails_the_duplicate_tests(tmp_path: Path) -> None:
    """Acknowledging a duplicate or a resend anew makes exactly those tests fail."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "b.sqlite3"), base_url=base))
    with serve_in_thread(_NewAckEveryTime(app), port):
        result = conformance.run(base, conformance.select(["ecan-centre-endpoint"]))
    status = {t.id: t.status for _, t in result.tests()}
    assert status["resend-same-envelope"] == "fail"
    assert status["duplicate-new-envelope"] == "fail"
    assert status["duplicate-of-rejected"] == "fail"
    assert status["ack-ok"] == "pass"
    assert status["transient-error"] == "skip"  # no fault rules on this centre
    assert not result.ok


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", "conformance", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


def test_cli_only_and_rerun_failed(centre: tuple[str, FastAPI], tmp_path: Path) -> None:
    """--only runs one test (exit 0); --rerun-failed of a report with a failure reruns it."""
    done = _cli("--endpoint", centre[0], "--only", "ack-ok", "--out", tmp_path / "one")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "one" / "report.json").read_text())
    assert [t["id"] for s in report["suites"] for t in s["tests"]] == ["ack-ok"]
    report["suites"][0]["tests"][0]["status"] = "fail"
    (tmp_path / "old.json").write_text(json.dumps(report))
    again = _cli("--endpoint", centre[0], "--rerun-failed", tmp_path / "old.json",
                 "--out", tmp_path / "two")
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = json.loads((tmp_path / "two" / "report.json").read_text())
    assert [t["id"] for s in rerun["suites"] for t in s["tests"]] == ["ack-ok"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    """A bad TestScript is exit 2 with a message; an unreachable endpoint fails (exit 1)."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "TestScript", "url": "x", "name": "x",
                               "status": "active", "test": [{"action": [
                                   {"assert": {"navigationLinks": True}}]}]}))
    done = _cli("--endpoint", "http://127.0.0.1:9", "--suite", bad, "--out", tmp_path)
    assert done.returncode == 2 and "not a TestScript this engine runs" in done.stderr
    assert "Traceback" not in done.stderr
    down = _cli("--endpoint", f"http://127.0.0.1:{free_port()}", "--suite", "ecan-centre-endpoint",
                "--only", "metadata", "--out", tmp_path / "down", "--timeout", "2")
    assert down.returncode == 1, down.stdout + down.stderr
    assert "ERROR" in down.stdout


def test_the_sites_own_system_is_plugged_in_by_command(centre: tuple[str, FastAPI],
                                                       tmp_path: Path) -> None:
    """--sender-command: the sender suite drives `ecanfhir send` as the site's system, and it
    passes; a sender that blindly sends every message three times fails the resend rules."""
    good = f"{sys.executable} -m ecanfhir.cli send {{file}} --endpoint {{endpoint}}"
    done = _cli("--endpoint", centre[0], "--suite", "ecan-sender-behaviour", "--sender-command",
                good, "--out", tmp_path / "good")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed, 0 failed" in done.stdout
    script = tmp_path / "thrice.py"
    script.write_text(
        "import sys, httpx\n"
        "body = open(sys.argv[1], 'rb').read()\n"
        "for _ in range(3):\n"
        "    httpx.post(sys.argv[2] + '/$process-message', content=body,\n"
        "               headers={'Content-Type': 'application/fhir+json'})\n")
    bad = f"{sys.executable} {script} {{file}} {{endpoint}}"
    done = _cli("--endpoint", centre[0], "--suite", "ecan-sender-behaviour", "--sender-command",
                bad, "--out", tmp_path / "bad")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  ecan-sender-behaviour/no-resend-after-fatal" in done.stdout


def test_sender_command_without_file_placeholder_is_a_usage_error(tmp_path: Path) -> None:
    done = _cli("--endpoint", "http://127.0.0.1:9", "--sender-command", "site-send",
                "--out", tmp_path)
    assert done.returncode == 2
    assert "{file}" in done.stderr
