"""``ecanfhir generate`` as a user runs it: a subprocess writing files that ``ecanfhir validate``
accepts (1,000 valid cases across the three kinds, zero errors), labelled negative cases that
fail with their label, exit code 2 with a message (never a traceback) on bad arguments.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Validator
from ecanfhir.cli import main
from ecanfhir.definitions.pilot import pilot_registry
from ecanfhir.synthetic import MANIFEST, MUTATIONS

CLI = [sys.executable, "-m", "ecanfhir.cli"]
# 1,000 cases in all (the acceptance); a tumour-board-outcome case is two messages.
COUNTS = {"referral": 334, "tumour-board-outcome": 333, "telemedicine": 333}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False,
                          env=env, timeout=600)


def _manifest(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    folders = {}
    for kind, count in COUNTS.items():
        out = root / kind
        result = _run("generate", kind, "--count", str(count), "--seed", "2026", "--out",
                      str(out))
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""  # no progress bar when stderr is not a terminal
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"generated {count} {kind} cases")
        folders[kind] = out
    return folders


def test_manifest_lists_every_file(generated: dict[str, Path]) -> None:
    """The manifest names each message file once, all valid, one or two per case."""
    for kind, folder in generated.items():
        manifest = _manifest(folder)
        files = manifest["files"]
        assert isinstance(files, list)
        names = {f["file"] for f in files}
        assert names == {p.name for p in folder.glob("*.json")} - {MANIFEST}
        per_case = 2 if kind == "tumour-board-outcome" else 1
        assert len(files) == COUNTS[kind] * per_case
        assert all(f["valid"] for f in files)


def test_thousand_generated_cases_validate_without_errors(generated: dict[str, Path]) -> None:
    """``ecanfhir validate`` (two processes in parallel) finds zero errors in 1,000 cases."""
    paths = sorted(str(p) for folder in generated.values() for p in folder.glob("*.json")
                   if p.name != MANIFEST)
    chunks = [paths[i::2] for i in range(2)]
    procs = [subprocess.Popen([*CLI, "validate", "--no-progress", "--format", "junit", *chunk],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for chunk in chunks]
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, (err + out)[:4000]
        assert 'failures="0"' in out


def test_invalid_cases_fail_with_their_label(tmp_path: Path) -> None:
    """Each --invalid file fails validation with the rule and location in the manifest."""
    validator = Validator(pilot_registry())
    labels = set()
    for kind in COUNTS:
        out = tmp_path / kind
        count = len([m for m in MUTATIONS if kind in m.kinds])
        result = _run("generate", kind, "--count", str(count), "--seed", "3", "--out",
                      str(out), "--invalid")
        assert result.returncode == 0, result.stderr
        assert f"generated {count} invalid {kind} cases" in result.stdout
        files = _manifest(out)["files"]
        assert isinstance(files, list) and len(files) == count
        for entry in files:
            expected = entry["expected"]
            labels.add(expected["label"])
            errors = {(i.rule, i.expression)
                      for i in validator.validate((out / entry["file"]).read_bytes()).errors}
            assert (expected["rule"], expected["expression"]) in errors, (entry, errors)
    assert len(labels) >= 12


def test_same_seed_same_bytes_from_the_cli(tmp_path: Path) -> None:
    """Two CLI runs with the same arguments write identical files."""
    for name in ("a", "b"):
        assert _run("generate", "tumour-board-outcome", "--count", "4", "--seed", "8",
                    "--out", str(tmp_path / name)).returncode == 0
    a = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert a == b and len(a) == 9


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "0"], "--count: at least 1"),
    (["--count", "-5"], "--count: at least 1"),
    (["--out-file"], "exists and is not a folder"),
    (["--out-below-file"], "cannot write there"),
], ids=["count-0", "count-negative", "out-is-a-file", "out-unwritable"])
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    """Exit 2 and a one-line reason on stderr; no traceback, nothing written."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = {"--out-file": str(blocker), "--out-below-file": str(blocker / "sub")}.get(
        args[0], str(tmp_path / "out"))
    extra = [] if args[0].startswith("--out") else args
    result = _run("generate", "referral", *extra, "--out", out)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_read_only_folder_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A folder the user may not write to is a usage error, not a crash. The refusal is
    simulated (root, as in CI, writes everywhere): creating anything below the folder raises
    the PermissionError the system would."""
    locked = tmp_path / "locked"
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.is_relative_to(locked):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    out = str(locked / "cases")
    assert main(["generate", "telemedicine", "--out", out]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"ecanfhir: --out {out}: cannot write there (Permission denied)\n"
    assert captured.out == ""
    assert not locked.exists()


def test_unknown_kind_is_refused() -> None:
    """argparse refuses a kind that is not one of the three (exit 2)."""
    result = _run("generate", "discharge", "--out", "x")
    assert result.returncode == 2 and "invalid choice" in result.stderr
