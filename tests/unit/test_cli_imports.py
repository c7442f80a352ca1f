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
print(sorted(set(sys.modules) & {"tarfile", "xml.etree.ElementTree"}))
"""


def test_validate_imports_no_client_or_ui(tmp_path: Path) -> None:
    """Validating a file loads neither an HTTP client nor a terminal UI library, nor the
    archive and XML libraries that only package archives and JUnit reports need."""
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Patient", "gender": "female"}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                          text=True, env=env, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-2:] == ["[]", "[]"]


WARM_PROBE = """
import sys
from ecanfhir.cli import main
code = main(["validate", sys.argv[1], "--format", "json"])
LAZY = {"ecanfhir.definitions.packages.build", "ecanfhir.definitions.packages.install",
        "ecanfhir.fhirpath.interpreter", "ecanfhir.fhirpath.nodes", "html.parser",
        "html.entities"}
print(sorted(m for m in sys.modules if m.split(".")[0] in {"fhirpathpy", "antlr4"} or m in LAZY))
"""


def test_warm_validation_of_a_pilot_message_needs_no_fhirpath_interpreter(tmp_path: Path) -> None:
    """Once the user cache holds the invariants' syntax trees and fhirpathpy's function table,
    a new process validating a pilot message imports neither fhirpathpy (parser, interpreter)
    nor the package builder and installer: every pilot invariant runs natively or compiled.
    Nor html.parser and html's entity table: its narratives are plain markup without "&"."""
    message = Path(ROOT) / "examples" / "bundles" / "cancer-case-referral.json"
    env = {**os.environ, "ECANFHIR_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}

    def imported() -> list[str]:
        done = subprocess.run([sys.executable, "-c", WARM_PROBE, str(message)],
                              capture_output=True, text=True, env=env, check=True, timeout=120)
        listed: list[str] = json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))
        return listed

    first = imported()  # a cold cache: the trees are parsed, so fhirpathpy is imported
    assert "fhirpathpy" in first and "ecanfhir.fhirpath.interpreter" in first
    assert imported() == []


DEFINITION_PROBE = """
import sys
from ecanfhir.cli import main
code = main(["validate", sys.argv[1], "--format", "json"])
RULES = {"code_system", "concept_map", "measure", "questionnaire", "questionnaire_definition",
         "search_parameter", "structure_definition", "value_set"}
print(sorted(m.rpartition(".")[2] for m in sys.modules
             if m.startswith("ecanfhir.validation.checks.") and m.rpartition(".")[2] in RULES))
"""


def test_rules_of_definitional_resources_are_imported_when_one_is_met(tmp_path: Path) -> None:
    """A message loads no rules of Questionnaire, ValueSet, StructureDefinition...; a
    Questionnaire loads its own (and nothing else of them)."""
    questionnaire = tmp_path / "questionnaire.json"
    questionnaire.write_text(json.dumps({
        "resourceType": "Questionnaire", "status": "draft",
        "item": [{"linkId": "1", "type": "string", "text": "Synthetic question"}]}))
    message = Path(ROOT) / "examples" / "bundles" / "cancer-case-referral.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}

    def loaded(path: Path) -> list[str]:
        done = subprocess.run([sys.executable, "-c", DEFINITION_PROBE, str(path)],
                              capture_output=True, text=True, env=env, check=True, timeout=120)
        listed: list[str] = json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))
        return listed

    assert loaded(message) == []
    assert loaded(questionnaire) == ["questionnaire_definition"]


CLIENT_PROBE = """
import sys
before = set(sys.modules)
from ecanfhir.__main__ import main
from ecanfhir.daemon.client import forward
forward(["validate", "x.json"])  # no daemon runs in this folder: it returns None
print(sorted(set(sys.modules) - before))
"""


def test_the_daemons_client_imports_next_to_nothing(tmp_path: Path) -> None:
    """Every `ecanfhir` process asks for a daemon before anything else: that costs what its
    imports cost, so they stay out of typing, re, json, argparse and the validator."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
           "ECANFHIR_DAEMON_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", CLIENT_PROBE], capture_output=True, text=True,
                          env=env, check=True, timeout=120)
    imported = set(json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')))
    heavy = {"typing", "re", "json", "argparse", "enum", "ecanfhir.cli",
             "ecanfhir.validation", "ecanfhir.definitions"}
    assert imported & heavy == set()
    assert {"ecanfhir", "ecanfhir.daemon", "ecanfhir.daemon.client"} <= imported
