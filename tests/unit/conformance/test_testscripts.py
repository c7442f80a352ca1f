"""The shipped conformance suites are what scripts/make_testscripts.py writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SUITES = ROOT / "profiles" / "TestScript"


def test_make_testscripts_regenerates_the_shipped_suites(tmp_path: Path) -> None:
    """Same bytes: the suites and their fixtures can be rebuilt from the repository alone."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_testscripts.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.glob("*.json"))
    assert written == ["ecan-centre-endpoint.json", "ecan-sender-behaviour.json"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (SUITES / name).read_bytes(), name
