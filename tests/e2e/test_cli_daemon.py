"""``ecanfhir daemon``: ``ecanfhir validate`` handed to a resident process gives what it gives
in its own process (report, stderr, exit code, files), and the daemon survives its clients.

Every test counts the commands the daemon ran (``daemon status``), so a client that silently
ran the command itself would fail it. All data is synthetic.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the daemon uses Unix sockets")

REPO = Path(__file__).resolve().parents[2]
REFERRAL = REPO / "examples" / "bundles" / "cancer-case-referral.json"
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female",
           "text": {"status": "generated",
                    "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic patient</div>'}}
PROFILE_URL = "http://example.org/fhir/StructureDefinition/daemon-test-patient"


def _profile(birth_date_min: int) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": "daemon-test-patient",
            "url": PROFILE_URL, "name": "DaemonTestPatient", "status": "draft",
            "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Patient",
            "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate",
                                          "min": birth_date_min}]}}


class Daemon:
    """A daemon of its own socket folder, and the environment that reaches it."""

    def __init__(self, folder: Path, package_cache: Path, pythonpath: str | None = None) -> None:
        # Commands run outside the checkout, where `-m` finds the ecanfhir on PYTHONPATH.
        self.elsewhere = folder.parent
        self.env = {**os.environ, "ECANFHIR_DAEMON_DIR": str(folder), "NO_COLOR": "1",
                    "FHIR_PACKAGE_CACHE": str(package_cache)}
        self.env.pop("ECANFHIR_DAEMON", None)
        if pythonpath is not None:
            self.env["PYTHONPATH"] = pythonpath

    def ecanfhir(self, *args: str | Path, cwd: Path | None = None, stdin: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecanfhir", *map(str, args)],
                              capture_output=True, text=True, env=env or self.env,
                              cwd=cwd or self.elsewhere,
                              input=stdin, timeout=300, check=False)

    def status(self) -> dict[str, str]:
        done = self.ecanfhir("daemon", "status")
        if done.returncode != 0:
            return {}
        return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)

    def commands_run(self) -> int:
        return int(self.status()["commands run"])

    def gone_within(self, seconds: float) -> bool:
        """Whether the daemon stops answering within ``seconds``."""
        deadline = time.monotonic() + seconds
        while self.status() and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.status() == {}

    def stop(self) -> None:
        pid = self.status().get("pid")
        self.ecanfhir("daemon", "stop")
        if pid is not None:  # never leave a process behind, whatever the test did
            deadline = time.monotonic() + 30
            while _alive(int(pid)) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(int(pid)):
                os.kill(int(pid), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (the daemon is a child of no test process, but be safe) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


@pytest.fixture
def short_folder() -> Iterator[Path]:
    """A socket folder with a short path (a Unix socket's path has at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ecd-"))
    try:
        yield folder / "d"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def daemon(short_folder: Path, tmp_path: Path) -> Iterator[Daemon]:
    (tmp_path / "package-cache").mkdir()
    d = Daemon(short_folder, tmp_path / "package-cache")
    started = d.ecanfhir("daemon", "start")
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout
    try:
        yield d
    finally:
        d.stop()


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


CASES = {
    "valid pilot message, text": (["validate", str(REFERRAL)], None),
    "invalid resource, json": (["validate", "bad.json", "--format", "json"], None),
    "junit": (["validate", "good.json", "bad.json", "--format", "junit"], None),
    "standard input": (["validate", "-", "--format", "json"], json.dumps({**PATIENT,
                                                                         "gender": "mal"})),
    "no such file": (["validate", "missing.json"], None),
    "usage error": (["validate", "--format", "yaml", "good.json"], None),
    "help": (["validate", "--help"], None),
    "profile file": (["validate", "good.json", "--profile", "profile.json"], None),
    "profile not loaded": (["validate", "good.json", "--profile", "http://x.org/p"], None),
    "folder": (["validate", "."], None),
}


def test_validate_through_the_daemon_matches_its_own_process(daemon: Daemon,
                                                             tmp_path: Path) -> None:
    work = tmp_path / "work"
    _write(work / "good.json", PATIENT)
    _write(work / "bad.json", {**PATIENT, "gender": "mal"})
    _write(work / "profile.json", _profile(1))
    before = daemon.commands_run()
    for name, (args, stdin) in CASES.items():
        through = daemon.ecanfhir(*args, cwd=work, stdin=stdin)
        alone = daemon.ecanfhir(*args, "--no-daemon", cwd=work, stdin=stdin)
        assert (through.returncode, through.stdout, through.stderr) \
            == (alone.returncode, alone.stdout, alone.stderr), name
    assert daemon.commands_run() == before + len(CASES)
    codes = {name: daemon.ecanfhir(*args, cwd=work, stdin=stdin).returncode
             for name, (args, stdin) in CASES.items()}
    assert codes == {"valid pilot message, text": 0, "invalid resource, json": 1, "junit": 1,
                     "standard input": 1, "no such file": 2, "usage error": 2, "help": 0,
                     "profile file": 1, "profile not loaded": 2, "folder": 1}


def test_output_goes_to_the_clients_folder(daemon: Daemon, tmp_path: Path) -> None:
    work = tmp_path / "work"
    _write(work / "bad.json", {**PATIENT, "gender": "mal"})
    done = daemon.ecanfhir("validate", "bad.json", "--format", "json", "--output", "out.json",
                           cwd=work)
    assert (done.returncode, done.stdout) == (1, "")
    issues = json.loads((work / "out.json").read_text())["issue"]
    assert [i["expression"] for i in issues if i["severity"] == "error"] == [["Patient.gender"]]
    assert daemon.commands_run() == 1


def test_a_changed_profile_file_is_read_again(daemon: Daemon, tmp_path: Path) -> None:
    """The validator built for a --profile file is kept only while the file is unchanged."""
    _write(tmp_path / "patient.json", PATIENT)
    profile = _write(tmp_path / "profile.json", _profile(1))
    args = ("validate", tmp_path / "patient.json", "--profile", profile, "--format", "json")
    first = daemon.ecanfhir(*args)
    assert first.returncode == 1
    assert "Patient.birthDate" in first.stdout
    _write(profile, _profile(0))
    os.utime(profile, ns=(time.time_ns(), time.time_ns() + 10**9))  # a coarse clock
    second = daemon.ecanfhir(*args)
    assert second.returncode == 0, second.stdout
    assert second.stdout == daemon.ecanfhir(*args, "--no-daemon").stdout
    assert daemon.commands_run() == 2


def test_another_environment_is_the_commands_own(daemon: Daemon, tmp_path: Path) -> None:
    """The command sees the client's environment: an empty FHIR package cache elsewhere makes
    --ig ID#VERSION fail there, as it does in the client's own process."""
    env = {**daemon.env, "FHIR_PACKAGE_CACHE": str(tmp_path / "nowhere")}
    _write(tmp_path / "patient.json", PATIENT)
    args = ("validate", tmp_path / "patient.json", "--ig", "hl7.fhir.uv.ips#2.0.0")
    through = daemon.ecanfhir(*args, env=env)
    alone = daemon.ecanfhir(*args, "--no-daemon", env=env)
    assert (through.returncode, through.stderr) == (alone.returncode, alone.stderr)
    assert through.returncode == 2 and "nowhere" in through.stderr
    assert daemon.commands_run() == 1


def test_the_daemon_outlives_a_client_that_goes_away(daemon: Daemon, tmp_path: Path) -> None:
    """A client killed mid-command (Ctrl-C, a timeout) ends its command; the daemon goes on."""
    folder = tmp_path / "many"
    for i in range(150):
        _write(folder / f"p{i:03d}.json", {**PATIENT, "id": f"p{i}"})
    client = subprocess.Popen([sys.executable, "-m", "ecanfhir", "validate", str(folder)],
                              env=daemon.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    client.send_signal(signal.SIGINT)
    client.communicate(timeout=60)
    done = daemon.ecanfhir("validate", REFERRAL, "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["resourceType"] == "OperationOutcome"
    assert daemon.status()["commands run"] in ("1", "2")  # 1: the client died before sending


def test_a_malformed_request_is_refused_and_the_daemon_goes_on(daemon: Daemon) -> None:
    path = daemon.status()["socket"]
    for payload in (b"", b"\x00\x00\x00\x05hello", b"\xff" * 4, b"\x00\x00\x00\x03a\x00b"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            reply = s.recv(4096).decode()
        assert reply.startswith("refuse "), (payload, reply)
    assert daemon.commands_run() == 0
    assert daemon.ecanfhir("validate", REFERRAL).returncode == 0
    assert daemon.commands_run() == 1


def test_start_twice_stop_and_status(daemon: Daemon) -> None:
    again = daemon.ecanfhir("daemon", "start")
    assert (again.returncode, "running already" in again.stdout) == (0, True)
    socket_path = daemon.status()["socket"]
    stopped = daemon.ecanfhir("daemon", "stop")
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "ecanfhir daemon: stopped")
    assert not os.path.exists(socket_path)
    status = daemon.ecanfhir("daemon", "status")
    assert status.returncode == 1 and "not running" in status.stdout
    # and validate runs in its own process again
    assert daemon.ecanfhir("validate", REFERRAL).returncode == 0


def test_an_idle_daemon_stops(short_folder: Path, tmp_path: Path) -> None:
    d = Daemon(short_folder, tmp_path)
    try:
        assert d.ecanfhir("daemon", "start", "--idle-timeout", "1").returncode == 0
        assert d.gone_within(60)
    finally:
        d.stop()


def test_the_daemon_stops_when_its_installation_changes(short_folder: Path,
                                                        tmp_path: Path) -> None:
    """A daemon started from a copy of ecanfhir refuses work once a module of that copy
    changes: the client says so and validates in its own process (with the new code)."""
    copy = tmp_path / "install"
    ignore = shutil.ignore_patterns("__pycache__", "*.so")
    shutil.copytree(REPO / "ecanfhir", copy / "ecanfhir", ignore=ignore)
    shutil.copytree(REPO / "profiles", copy / "profiles", ignore=ignore)
    d = Daemon(short_folder, tmp_path, pythonpath=str(copy))
    try:
        assert d.ecanfhir("daemon", "start").returncode == 0
        assert d.status()["socket"] != ""
        assert d.ecanfhir("validate", REFERRAL).returncode == 0
        assert d.commands_run() == 1
        module = copy / "ecanfhir" / "commands" / "validate.py"
        module.write_text(module.read_text() + "\n# changed\n")
        os.utime(module, ns=(time.time_ns(), time.time_ns() + 10**9))
        done = d.ecanfhir("validate", REFERRAL, "--format", "json")
        assert done.returncode == 0
        assert json.loads(done.stdout)["resourceType"] == "OperationOutcome"
        assert re.search(r"daemon did not run the command \(the daemon's installation changed",
                         done.stderr)
        assert d.gone_within(30)
    finally:
        d.stop()


def test_only_validate_is_run(daemon: Daemon, tmp_path: Path) -> None:
    """A request for another command (which no client of ours sends) is refused: the daemon
    never starts a server, sends a message or writes a package on anyone's behalf."""
    import array

    from ecanfhir.daemon import encode_request, installation

    path = daemon.status()["socket"]
    request = encode_request("run", installation(), str(tmp_path), ["serve", "--port", "0"],
                             {}, ["utf-8"] * 3)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                               array.array("i", [0, 1, 2]).tobytes())])
        reply = s.recv(4096).decode()
    assert reply == "refuse a command the daemon does not run\n"
    assert daemon.commands_run() == 0
