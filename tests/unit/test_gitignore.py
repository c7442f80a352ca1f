"""What running ecanfhir in a clone writes there (its default database and report folders)
is ignored by git, so that it is never committed by accident."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ecanfhir.cli import _parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="not a git checkout")
def test_default_outputs_are_ignored() -> None:
    parser = _parser()
    database = parser.parse_args(["serve"]).db
    demo = parser.parse_args(["demo"]).out
    reports = parser.parse_args(["conformance", "--endpoint", "http://127.0.0.1:9"]).out
    paths = [database, f"{database}-wal", f"{database}-journal", f"{database}-writer",
             f"{demo}/index.html",
             f"{reports}/report.json"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert sorted(done.stdout.split()) == sorted(paths)
