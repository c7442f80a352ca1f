"""``benchmarks/validate.py``: it says at once, with a usage error, that a ``--peer-medplum``
folder holds no peer, instead of a traceback after the minutes of its own timing; its XML rows
time what they name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _scripts import load_script

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


def test_the_xml_rows_time_reading_validating_and_writing() -> None:
    """The XML rows: each timed against its xml.etree counterpart, on the same document."""
    import json

    from ecanfhir.validation._validator import Validator

    bench = load_script("bench_validate", ROOT / "benchmarks" / "validate.py")
    raw = json.dumps(bench.build_bundle(3)).encode()
    rows = bench.xml_figures(Validator(), raw, "three", repeat=1)
    assert [name.split(" (")[0] for name, _, _ in rows] == [
        "XML: 50-resource bundle, parse + validate",
        "XML: 50-resource bundle, parse_xml only",
        "XML: 50-resource bundle, to_xml"]
    assert all(value > 0 and base > 0 for _, value, base in rows)
