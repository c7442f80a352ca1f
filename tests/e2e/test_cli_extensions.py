"""``ecanfhir validate`` with extensions it cannot resolve: an error by default, accepted as
information with --allow-any-extensions or --allow-extension-domain. Synthetic data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test patient</div>'}
UNKNOWN = "https://fhir.ecan-plus.eu/StructureDefinition/referral-priority"
BRAND = "http://hl7.org/fhir/StructureDefinition/organization-brand"


@pytest.fixture
def patient_file(tmp_path: Path) -> Path:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Patient", "text": NARRATIVE, "extension": [
        {"url": UNKNOWN, "valueString": "urgent"}]}))
    return path


def validate(tmp_path: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    env = {**os.environ, "FHIR_PACKAGE_CACHE": str(cache), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "ecanfhir.cli", "validate", *map(str, args),
                           "--format", "json", "--no-pilot"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout)


def test_unknown_extension_fails_by_default(tmp_path: Path, patient_file: Path) -> None:
    """Exit 1 and an error at the extension that says how to load its package."""
    code, outcome = validate(tmp_path, patient_file)
    assert code == 1
    [issue] = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert issue["expression"] == ["Patient.extension[0]"] and "--ig" in issue["details"]["text"]


@pytest.mark.parametrize("option", [["--allow-any-extensions"],
                                    ["--allow-extension-domain", "https://fhir.ecan-plus.eu/"]])
def test_options_accept_unknown_extensions_as_information(tmp_path: Path, patient_file: Path,
                                                          option: list[str]) -> None:
    """Exit 0; the extension is reported as information at its location."""
    code, outcome = validate(tmp_path, patient_file, *option)
    assert code == 0, outcome
    [issue] = [i for i in outcome["issue"] if i["expression"] == ["Patient.extension[0]"]]
    assert (issue["severity"], issue["code"]) == ("information", "informational")


def test_another_domain_is_not_accepted(tmp_path: Path, patient_file: Path) -> None:
    """--allow-extension-domain accepts only the urls under it."""
    code, _ = validate(tmp_path, patient_file, "--allow-extension-domain",
                       "https://fhir.otherregion.dk/")
    assert code == 1


def test_extensions_pack_is_known_on_the_command_line(tmp_path: Path) -> None:
    """organization-brand validates with no --ig."""
    path = tmp_path / "org.json"
    path.write_text(json.dumps({"resourceType": "Organization", "text": NARRATIVE,
                                "name": "Synthetic Oncology", "extension": [{"url": BRAND,
                                "extension": [{"url": "brandLogo",
                                               "valueUrl": "https://ecan.example.dk/l.png"}]}]}))
    code, outcome = validate(tmp_path, path)
    assert code == 0, outcome
