"""`ecanfhir validate` imports only what it uses: its cold start is part of its speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ecanfhir

ROOT = str(Path(ecanfhir.__file__).resolve().parent.parent)
PROBE = """
import sys
from ecanfhir.cli import main
code = main(["validate", sys.argv[1], "--format", "json"])
print(sorted({m.split(".")[0] for m in sys.modules} & {"httpx", "rich", "fastapi", "uvicorn"}))
"""


def test_validate_imports_no_client_or_ui(tmp_path: Path) -> None:
    """Validating a file loads neither an HTTP client nor a terminal UI library."""
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Patient", "gender": "female"}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                          text=True, env=env, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]"
