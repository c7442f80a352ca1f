"""``ecanfhir send`` as a user runs it: a subprocess against the mock centre on 127.0.0.1.

Exit codes: 0 every message acknowledged ok, 1 any fatal-error or undelivered message, 2 usage
or unreadable input; never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _terminal import run_with_terminal_stderr
from joserfc.jwk import ECKey
from test_client_centre import free_port, referral, running_centre

from ecanfhir.builders import resend
from testservers.national_centre.settings import AuthSettings, FaultRule, RegisteredClient


@pytest.fixture
def env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1"}


def send(env: dict[str, str], *args: str | Path, cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "send", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, check=False,
                          cwd=cwd)
    assert "Traceback" not in done.stderr
    return done


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _header_id(bundle: dict[str, Any]) -> str:
    return str(bundle["entry"][0]["resource"]["id"])


def test_send_a_directory(tmp_path: Path, env: dict[str, str]) -> None:
    """ok, a duplicate (resent letter) and an invalid message: the table shows each, exit 1."""
    first = referral("CASE-1", seed=1)
    invalid = referral("CASE-2", seed=2)
    invalid["timestamp"] = "2026-11-27T09:15:00"          # no time zone: fatal-error
    folder = tmp_path / "out"
    write(folder / "a-first.json", first)
    write(folder / "b-resent.json", resend(first))
    write(folder / "c-invalid.json", invalid)
    with running_centre(tmp_path) as (base, app):
        done = send(env, "out", "--endpoint", base, cwd=tmp_path)
        assert len(app.state.services.store.messages()) == 2   # the resend was a duplicate
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""                                # no progress bar without a TTY
    lines = {line.split()[1]: line for line in done.stdout.splitlines()
             if ".json" in line}
    assert set(lines) == {"out/a-first.json", "out/b-resent.json", "out/c-invalid.json"}
    assert " ok " in lines["out/a-first.json"]
    assert _header_id(first) in lines["out/b-resent.json"] and " ok " in lines[
        "out/b-resent.json"]
    assert "fatal-error" in lines["out/c-invalid.json"]
    assert "Bundle.timestamp" in lines["out/c-invalid.json"]
    assert "3 message(s): 1 fatal-error, 2 ok" in done.stdout


def test_all_ok_exits_0(tmp_path: Path, env: dict[str, str]) -> None:
    message = referral("CASE-1", seed=1)
    path = write(tmp_path / "m.json", message)
    with running_centre(tmp_path) as (base, _app):
        done = send(env, path, "--endpoint", base + "/$process-message")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _header_id(message) in done.stdout and "1 message(s): 1 ok" in done.stdout


def test_transient_error_past_the_retries(tmp_path: Path, env: dict[str, str]) -> None:
    """A receiver that keeps answering transient-error: the row says so, exit 1."""
    path = write(tmp_path / "m.json", referral("CASE-1", seed=1))
    with running_centre(tmp_path, (FaultRule("transient-error"),)) as (base, _app):
        done = send(env, path, "--endpoint", base, "--max-retries", "0")
    assert done.returncode == 1
    assert "transient-error" in done.stdout and "forced by fault injection" in done.stdout


def test_503_retry_after_then_failed(tmp_path: Path, env: dict[str, str]) -> None:
    """503 + Retry-After 1: waited once, then reported as HTTP 503 after 2 attempts."""
    path = write(tmp_path / "m.json", referral("CASE-1", seed=1))
    with running_centre(tmp_path, (FaultRule("http-503", retry_after=1),)) as (base, _app):
        done = send(env, path, "--endpoint", base, "--max-retries", "1")
    assert done.returncode == 1
    row = next(line for line in done.stdout.splitlines() if "m.json" in line)
    assert "HTTP 503" in row and " 2 " in row


def test_connection_refused(tmp_path: Path, env: dict[str, str]) -> None:
    """Nothing listening: a clear message, the other files are not tried, exit 1."""
    write(tmp_path / "in" / "a.json", referral("CASE-1", seed=1))
    write(tmp_path / "in" / "b.json", referral("CASE-2", seed=2))
    done = send(env, tmp_path / "in", "--endpoint", f"http://127.0.0.1:{free_port()}",
                "--max-retries", "0")
    assert done.returncode == 1
    assert "cannot connect" in done.stderr
    assert "unreachable" in done.stdout and "not sent" in done.stdout


def test_smart_auth(tmp_path: Path, env: dict[str, str]) -> None:
    """--auth-client-id/--auth-key/--auth-token-url against the centre's /auth/token."""
    key = ECKey.generate_key("P-384", parameters={"kid": "k1"}, private=True)
    key_file = write(tmp_path / "key.jwk", key.as_dict(private=True))
    auth = AuthSettings(clients=(RegisteredClient("site-a", {"keys": [key.as_dict(
        private=False)]}),))
    path = write(tmp_path / "m.json", referral("CASE-1", seed=1))
    with running_centre(tmp_path, auth=auth) as (base, _app):
        done = send(env, path, "--endpoint", base, "--auth-client-id", "site-a", "--auth-key",
                    key_file, "--auth-token-url", f"{base}/auth/token")
        refused = send(env, path, "--endpoint", base)
    assert done.returncode == 0, done.stdout + done.stderr
    assert refused.returncode == 1 and "HTTP 401" in refused.stdout


def test_a_generated_folder_is_sent_without_its_manifest(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    """`ecanfhir generate` writes manifest.json next to the messages: send skips it, says so."""
    generated = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "generate", "referral",
                                "--count", "2", "--seed", "5", "--out", str(tmp_path / "gen")],
                               capture_output=True, text=True, check=False, timeout=120)
    assert generated.returncode == 0, generated.stderr
    with running_centre(tmp_path) as (base, _app):
        done = send(env, tmp_path / "gen", "--endpoint", base)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipping" in done.stderr and "manifest.json" in done.stderr
    assert "2 message(s): 2 ok" in done.stdout


def test_a_directory_without_messages_is_a_usage_error(tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    write(tmp_path / "only" / "patient.json", {"resourceType": "Patient"})
    done = send(env, tmp_path / "only", "--endpoint", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "no message Bundle" in done.stderr


@pytest.mark.parametrize(("setup", "args", "message"), [
    (None, ["missing.json", "--endpoint", "http://127.0.0.1:9"], "no such file"),
    ({"resourceType": "Patient"}, ["--endpoint", "http://127.0.0.1:9"], "not a FHIR Bundle"),
    ("{", ["--endpoint", "http://127.0.0.1:9"], "not JSON"),
    ({}, ["--endpoint", "ftp://x"], "http:// or https://"),
    ({}, ["--endpoint", "http://127.0.0.1:9", "--max-retries", "-1"], "0 or more"),
    ({}, ["--endpoint", "http://127.0.0.1:9", "--auth-client-id", "a"], "--auth-key"),
    ({}, ["--endpoint", "http://127.0.0.1:9", "--auth-client-id", "a", "--auth-key", "nokey",
          "--auth-token-url", "http://x"], "--auth-key nokey"),
    ({}, [], "--endpoint")],
    ids=["missing", "not-bundle", "not-json", "bad-endpoint", "negative-retries",
         "partial-auth", "bad-key", "no-endpoint"])
def test_usage_errors(tmp_path: Path, env: dict[str, str], setup: Any, args: list[str],
                      message: str) -> None:
    """Bad arguments or input: exit 2, a one-line reason, nothing sent."""
    path = tmp_path / "m.json"
    if setup == "{":
        path.write_text("{")
    elif setup == {}:
        write(path, referral("CASE-1", seed=1))
    elif setup is not None:
        write(path, setup)
    done = send(env, *([path] if setup is not None else []), *args)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    """stderr on a TTY gets the progress bar; stdout (the table) is the same as without."""
    for n in range(3):
        write(tmp_path / "in" / f"{n}.json", referral(f"CASE-{n}", seed=n + 1))
    with running_centre(tmp_path) as (base, _app):
        on_tty, terminal = run_with_terminal_stderr(
            [sys.executable, "-m", "ecanfhir.cli", "send", "in", "--endpoint", base],
            env=env, cwd=tmp_path, timeout=120, text=True)
        plain = send(env, "in", "--endpoint", base, cwd=tmp_path)
    assert on_tty.returncode == plain.returncode == 0
    assert on_tty.stdout == plain.stdout
    assert b"sending" in terminal
