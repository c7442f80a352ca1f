"""`ecanfhir serve --harness` and `--faults FILE`: the test harness a site runs on its own,
with `ecanfhir conformance --endpoint` against it, both as subprocesses on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _centre_messages import consultation, referral

from ecanfhir.builders import resend
from testservers.national_centre import Settings, create_app
from testservers.national_centre.faults import (
    FAULT_FILE_SCHEMA,
    FaultFileError,
    faults_from_json,
    load_fault_file,
)
from testservers.national_centre.running import (
    free_port,
    serve_in_thread,
    stop_serving,
    wait_until_serving,
)

FHIR = {"Content-Type": "application/fhir+json"}


def _cli(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False)


@contextmanager
def _serve(tmp_path: Path, *options: str) -> Iterator[str]:
    """`ecanfhir serve OPTIONS` as a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "ecanfhir.cli", "serve", "--port", str(port),
         "--db", str(tmp_path / "centre.sqlite3"), *options],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    try:
        wait_until_serving(base, server)
        yield base
    finally:
        stop_serving(server)
        log.close()


def test_harness_then_conformance_passes_every_test(tmp_path: Path) -> None:
    """`serve --harness` + `conformance --endpoint`: every test runs and passes, exit 0."""
    with _serve(tmp_path, "--harness") as base:
        done = _cli("conformance", "--endpoint", base, "--out", tmp_path / "report")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed, 0 skipped, 0 errors" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1] == "PASSED"
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["counts"]["skip"] == 0 and report["counts"]["pass"] >= 26
    shall = report["coverage"]["counts"]["SHALL"]
    assert shall["covered"] == shall["total"]


def test_a_plain_centre_fails_only_through_skips_and_says_why(tmp_path: Path) -> None:
    """Without the harness, the summary line and the HTML report say the run failed only
    through skips, why, and how to run the harness; skipped SHALL tests cover nothing."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "c.sqlite3"), base_url=base))
    with serve_in_thread(app, port):
        done = _cli("conformance", "--endpoint", base, "--out", tmp_path / "report")
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = done.stdout.rstrip().splitlines()[-1]
    assert verdict.startswith("FAILED only through skips: 6 required tests did not run")
    assert "GET /$recorded-requests" in verdict and "ecanfhir serve --harness" in verdict
    assert "SHALL requirements whose tests did not pass:" in done.stdout
    html = (tmp_path / "report" / "report.html").read_text()
    assert "FAILED only through skips" in html and "serve --harness" in html
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    shall = report["coverage"]["counts"]["SHALL"]
    assert shall["covered"] < shall["total"]
    assert "SND-01" in report["coverage"]["unverifiedShall"]


def _post(base: str, bundle: object) -> httpx.Response:
    return httpx.post(f"{base}/$process-message", content=json.dumps(bundle), headers=FHIR,
                      timeout=30)


def test_the_recorder_lists_and_fetches_every_request_only_in_the_harness(
        tmp_path: Path) -> None:
    """With the recorder on, each request is listed (method, URL, status, answer) and its raw
    body fetched by number; without it, the paths are unknown (404 OperationOutcome)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "r.sqlite3"), base_url=base,
                              recorder=True))
    message = referral("CASE-REC-1", seed=11)
    body = json.dumps(message).encode()
    with serve_in_thread(app, port):
        assert httpx.post(f"{base}/$process-message", content=body, headers=FHIR).status_code == 200
        assert httpx.get(f"{base}/Patient?_count=1").status_code == 200
        listed = httpx.get(f"{base}/$recorded-requests")
        raw = httpx.get(f"{base}/$recorded-requests/0")
        last = httpx.get(f"{base}/$recorded-requests/-1")
        missing = httpx.get(f"{base}/$recorded-requests/7")
        cleared = httpx.delete(f"{base}/$recorded-requests")
        after = httpx.get(f"{base}/$recorded-requests").json()
        capability = httpx.get(f"{base}/metadata").json()
    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith("application/fhir+json")
    bundle = listed.json()
    assert bundle["type"] == "history" and bundle["total"] == 2
    first, second = bundle["entry"]
    assert first["request"] == {"method": "POST", "url": "/$process-message"}
    assert first["resource"]["id"] == message["id"]
    assert first["response"]["status"] == "200"
    assert first["response"]["outcome"]["entry"][0]["resource"]["response"]["code"] == "ok"
    assert second["request"] == {"method": "GET", "url": "/Patient?_count=1"}
    assert raw.status_code == 200 and raw.content == body
    assert raw.headers["x-recorded-method"] == "POST"
    assert last.headers["x-recorded-url"] == "/Patient?_count=1"
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"
    assert cleared.status_code == 204 and after["total"] == 0
    assert "$recorded-requests" in capability["rest"][0]["documentation"]

    port = free_port()
    plain = create_app(Settings(database=str(tmp_path / "p.sqlite3"),
                                base_url=f"http://127.0.0.1:{port}"))
    with serve_in_thread(plain, port) as plain_base:
        off = httpx.get(f"{plain_base}/$recorded-requests")
        plain_capability = httpx.get(f"{plain_base}/metadata").json()
    assert off.status_code == 404
    assert off.json()["resourceType"] == "OperationOutcome"
    assert "recorded" not in plain_capability["rest"][0]["documentation"]


GOOD_FAULTS = {"faults": [
    {"action": "http-503", "event": "telemedicine-encounter", "retryAfter": 7,
     "description": "the telemedicine intake is down"},
    {"action": "transient-error", "sender": "123456789012", "probability": 0},
]}


def test_a_fault_file_and_the_harness_together(tmp_path: Path) -> None:
    """`serve --faults FILE --harness`: the file's rules apply first (503 with its
    Retry-After for one event), probability 0 never fires, the harness rules still hold."""
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps(GOOD_FAULTS))
    with _serve(tmp_path, "--faults", str(faults), "--harness") as base:
        down = _post(base, consultation("TM-FAULT-1", seed=3))
        ok = _post(base, referral("CASE-FAULT-1", seed=4))
        harness = referral("CASE-FAULT-2", seed=5)
        for entry in harness["entry"]:
            for ident in entry["resource"].get("identifier", ()):
                if ident.get("value") == "123456789012":
                    ident["value"] = "555555555502"  # the harness's fatal-error sender
        fatal = _post(base, resend(harness))
    assert down.status_code == 503 and down.headers["retry-after"] == "7"
    assert down.json()["issue"][0]["code"] == "transient"
    assert ok.json()["entry"][0]["resource"]["response"]["code"] == "ok"
    assert fatal.json()["entry"][0]["resource"]["response"]["code"] == "fatal-error"


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "not JSON"),
    (json.dumps({"faults": [{"action": "explode"}]}), "faults/0/action"),
    (json.dumps({"faults": [{"action": "latency", "probability": 2}]}), "faults/0/probability"),
    (json.dumps({"rules": []}), "(top level)"),
])
def test_a_bad_fault_file_is_one_clear_line_and_exit_2(tmp_path: Path, content: str,
                                                        says: str) -> None:
    """A fault file that is not JSON or breaks the schema: exit 2, one line naming the place."""
    faults = tmp_path / "faults.json"
    faults.write_text(content)
    done = _cli("serve", "--faults", faults, "--port", str(free_port()),
                "--db", tmp_path / "c.sqlite3", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecanfhir: --faults ")
    assert says in lines[0] and "Traceback" not in done.stderr
    with pytest.raises(FaultFileError):
        load_fault_file(faults)


def test_a_missing_fault_file_and_harness_with_workers_are_usage_errors(
        tmp_path: Path) -> None:
    missing: Sequence[str | Path] = ("serve", "--faults", tmp_path / "none.json")
    done = _cli(*missing, timeout=60)
    assert done.returncode == 2 and "cannot read" in done.stderr
    done = _cli("serve", "--harness", "--workers", "2", timeout=60)
    assert done.returncode == 2 and "--workers 1" in done.stderr


def test_the_documented_schema_is_the_one_serve_checks() -> None:
    """docs/centre-faults.schema.json (for editors and other tools) is FAULT_FILE_SCHEMA, and
    the README's example rule file passes it."""
    root = Path(__file__).resolve().parents[2]
    shipped = json.loads((root / "docs" / "centre-faults.schema.json").read_text())
    assert shipped == FAULT_FILE_SCHEMA
    readme = (root / "README.md").read_text()
    example = readme[readme.index('{"faults": ['):]
    example = example[:example.index("\n  ```")]
    rules = faults_from_json(json.loads(example))
    assert [r.action for r in rules] == ["transient-error", "http-503", "latency"]
