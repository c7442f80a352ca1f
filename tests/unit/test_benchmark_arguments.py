"""``benchmarks/validate.py`` says at once, with a usage error, that a ``--peer-medplum``
folder holds no peer, instead of a traceback after the minutes of its own timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_folder_without_the_peer_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "medplum5").mkdir()
    (tmp_path / "medplum5" / "bench.mjs").write_text("// the script, but no node\n")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "validate.py"),
                           "--peer-medplum", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"validate.py: error: --peer-medplum {tmp_path}: no "
        f"{tmp_path / 'node22' / 'node_modules' / '.bin' / 'node'} "
        "(install the peer there with its setup.sh)")
    assert "Traceback" not in done.stderr and done.stdout == ""
