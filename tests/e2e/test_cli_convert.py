"""FHIR XML from the command line, as a user runs it (subprocesses): ``convert`` both ways,
``generate --format xml`` writing files that ``validate`` accepts, and ``send`` putting an XML
file on the wire as ``application/fhir+xml`` (a resend as JSON is the same message)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_client_centre import referral, running_centre

from ecanfhir.builders import resend
from ecanfhir.formats.xml_write import to_xml

CLI = [sys.executable, "-m", "ecanfhir.cli"]
F = "{http://hl7.org/fhir}"


@pytest.fixture
def env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1"}


def run(env: dict[str, str], *args: str | Path, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env,
                          input=stdin, timeout=300, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_convert_round_trip_through_stdin(env: dict[str, str]) -> None:
    """JSON on stdin → XML on stdout → JSON again: the same message Bundle."""
    message = referral("CASE-1", seed=1)
    to_xml_run = run(env, "convert", "-", stdin=json.dumps(message))
    assert to_xml_run.returncode == 0, to_xml_run.stderr
    assert ET.fromstring(to_xml_run.stdout.encode()).tag == f"{F}Bundle"
    back = run(env, "convert", "-", "--to", "json", stdin=to_xml_run.stdout)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout) == message


def test_convert_refuses_with_an_outcome_and_exit_1(env: dict[str, str], tmp_path: Path) -> None:
    """An unknown element is not dropped: exit 1, its location on stderr, nothing on stdout."""
    source = tmp_path / "p.xml"
    source.write_text('<Patient xmlns="http://hl7.org/fhir"><id value="p"/>'
                      '<nickname value="x"/></Patient>', encoding="utf-8")
    done = run(env, "convert", source, "--out", tmp_path / "p.json")
    assert (done.returncode, done.stdout) == (1, "")
    assert "Patient.nickname" in done.stderr
    assert not (tmp_path / "p.json").exists()


def test_generate_xml_files_validate(env: dict[str, str], tmp_path: Path) -> None:
    """--format xml writes .xml messages (manifest naming them) that validate as XML."""
    out = tmp_path / "gen"
    done = run(env, "generate", "tumour-board-outcome", "--count", "3", "--seed", "4", "--out",
               out, "--format", "xml")
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in out.iterdir())
    assert "manifest.json" in files and all(f.endswith(".xml") for f in files if f !=
                                            "manifest.json")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(f["file"] for f in manifest["files"]) == [f for f in files
                                                            if f != "manifest.json"]
    assert len(manifest["files"]) == 6
    checked = run(env, "validate", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "6 resource(s) checked: 6 valid" in checked.stdout


def test_generated_invalid_xml_cases_fail(env: dict[str, str], tmp_path: Path) -> None:
    """Negative cases written as XML still break their rule when read back."""
    out = tmp_path / "bad"
    done = run(env, "generate", "referral", "--count", "2", "--seed", "4", "--out", out,
               "--format", "xml", "--invalid")
    assert done.returncode == 0, done.stderr
    checked = run(env, "validate", out)
    assert checked.returncode == 1
    assert "2 resource(s) checked: 0 valid, 2 invalid" in checked.stdout


def test_send_xml_then_resend_as_json_counts_once(env: dict[str, str], tmp_path: Path) -> None:
    """An XML file goes out as XML and is acknowledged ok; the resend in JSON is a duplicate."""
    first = referral("CASE-1", seed=1)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a-first.xml").write_text(to_xml(first), encoding="utf-8")
    (folder / "b-resent.json").write_text(json.dumps(resend(first)), encoding="utf-8")
    with running_centre(tmp_path) as (base, app):
        done = run(env, "send", folder, "--endpoint", base)
        assert len(app.state.services.store.messages()) == 1
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 message(s): 2 ok" in done.stdout
