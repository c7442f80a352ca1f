"""Dual conformance against the real packages: the pilot's generated messages meet DK-core,
MedCom, HL7 Europe base, the EU patient summary and IPS 2.0.0, or deviate as listed.

The counterpart profiles are the real ones: ``tests/fixtures/counterparts`` is an extract of the
published packages made by ``scripts/make_counterparts.py`` (no rule is copied by hand here),
used as the FHIR package cache, so the tests need no network. Each check goes through
``ecanfhir align``'s library (:mod:`ecanfhir.alignment`), and a few mutated instances show that
the real rules are applied (a test that cannot fail is a defect).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Registry, Validator, load_pilot
from ecanfhir.alignment import (
    ROWS,
    Alignment,
    align,
    load_counterparts,
    load_deviations,
    package_of,
    render_json,
    render_markdown,
    without_profiles,
)
from ecanfhir.builders import to_document
from ecanfhir.builders._claims import CLAIMS
from ecanfhir.synthetic import generate

REPO = Path(__file__).resolve().parents[3]
COUNTERPARTS = REPO / "tests" / "fixtures" / "counterparts"
DK = "http://hl7.dk/fhir/core/StructureDefinition/"
MEDCOM_MSG = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
EU_EPS = "http://hl7.eu/fhir/eps/StructureDefinition/"
# Acceptance of issue 12: zero errors for these against dk-core and HL7 Europe base.
ZERO_ERRORS = ("ecan-patient", "ecan-organization", "ecan-practitioner",
               "ecan-practitioner-role", "ecan-telemedicine-encounter")


@pytest.fixture(scope="module")
def alignment() -> Alignment:
    # seed 1: among its few cases, tumour markers and a metastasis (an M1 cancer) too
    return align(count=2, seed=1, cache_dir=COUNTERPARTS, deviations=load_deviations())


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    load_pilot(registry)
    assert load_counterparts(registry, cache_dir=COUNTERPARTS) == {}
    return Validator(registry)


def _message(kind: str = "referral") -> dict[str, Any]:
    return next(generate(kind, count=1, seed=5)).bundle  # type: ignore[arg-type]


def _resource(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return copy.deepcopy(next(e["resource"] for e in bundle["entry"]
                              if e["resource"]["resourceType"] == resource_type))


def test_every_counterpart_package_is_in_the_copy() -> None:
    """Every package the alignment table names is in the test copy, with its licence noted."""
    readme = (COUNTERPARTS / "README.md").read_text(encoding="utf-8")
    for package in {package_of(u) for row in ROWS for u in row.counterparts}:
        assert (COUNTERPARTS / package / "package" / "package.json").is_file(), package
        assert f"`{package}`" in readme
    assert "MIT" in (COUNTERPARTS / "LICENSE.md").read_text(encoding="utf-8")


def test_matrix_has_no_unexplained_cell(alignment: Alignment) -> None:
    """Every cell is conformant, an intended deviation, or has no generated instance."""
    bad = [f"{c.row.key} × {c.name}: {[g.line for g in c.groups.values()]}"
           for c in alignment.cells if c.status in ("non-conformant", "not-checked")]
    assert bad == []
    assert alignment.ok


@pytest.mark.parametrize("row", ZERO_ERRORS)
def test_identity_resources_meet_dk_core_and_eu_base_without_errors(
        alignment: Alignment, row: str) -> None:
    """Patients, Organizations, Practitioners and Encounters: zero errors, no deviation."""
    cells = [c for c in alignment.cells if c.row.key == row]
    assert cells and all(c.checked > 0 for c in cells)
    assert [(c.name, c.status) for c in cells if c.status != "conformant"] == []


def test_documents_are_valid_ips_and_eu_patient_summaries(alignment: Alignment) -> None:
    """The document form of every generated message: zero errors against IPS and EPS."""
    cells = {c.name: c for c in alignment.cells if c.row.key == "document"}
    assert cells["Bundle-uv-ips"].checked == 2 * 4   # 2 referrals, 2 outcomes(+referral), 2 tele
    assert cells["Bundle-uv-ips"].status == "conformant"
    assert cells["bundle-eu-eps"].status == "conformant"


def test_every_claimed_profile_is_a_conformant_cell(alignment: Alignment) -> None:
    """What builders put in meta.profile besides the pilot profile is proven by the matrix."""
    status = {(c.row.key, c.counterpart): c.status for c in alignment.cells}
    claimed = [(row, url) for row, urls in CLAIMS.items() for url in urls
               if row != "document-composition"]
    assert claimed and {claim: status.get(claim) for claim in claimed} == {
        claim: "conformant" for claim in claimed}


@pytest.mark.parametrize("kind", ["referral", "tumour-board-outcome", "telemedicine"])
def test_document_composition_meets_what_it_claims(validator: Validator, kind: str) -> None:
    """The Composition of a document is an IPS and an EU patient summary Composition."""
    composition = to_document(_message(kind))["entry"][0]["resource"]
    assert composition["meta"]["profile"] == list(CLAIMS["document-composition"])
    for url in CLAIMS["document-composition"]:
        errors = validator.validate(without_profiles(composition), profiles=[url]).errors
        assert [(i.rule, i.expression) for i in errors] == []


def test_built_resources_name_their_counterparts() -> None:
    """A Patient says it is a DK-core, MedCom, HL7 Europe, IPS and EPS patient too."""
    patient = _resource(_message(), "Patient")
    assert patient["meta"]["profile"][1:] == list(CLAIMS["ecan-patient"])
    assert DK + "dk-core-patient" in patient["meta"]["profile"]
    assert to_document(_message())["meta"]["profile"] == [IPS + "Bundle-uv-ips",
                                                          EU_EPS + "bundle-eu-eps"]


def test_every_listed_deviation_is_a_real_cell() -> None:
    """Each intended deviation names a row and counterpart of the matrix, a reason and an
    upstream proposal (profiles/deviations.md)."""
    deviations = load_deviations()
    cells = {(row.key, url.rsplit("/", 1)[-1]) for row in ROWS for url in row.counterparts}
    assert len(deviations) >= 3
    for deviation in deviations:
        assert (deviation.row, deviation.counterpart) in cells
        assert len(deviation.reason) > 40 and len(deviation.proposal) > 20


def _examples() -> list[tuple[str, Path]]:
    """The pilot's valid examples of every matrix row (the rows the generator does not fill,
    secondary cancer and tumour marker, among them)."""
    return [(row.key, file) for row in ROWS
            for file in sorted((REPO / "examples" / row.key).glob("valid-*.json"))]


@pytest.mark.parametrize(("row", "file"), _examples(), ids=lambda v: getattr(v, "name", v))
def test_valid_examples_meet_their_counterparts(validator: Validator, row: str,
                                                file: Path) -> None:
    """Each valid example meets every counterpart of its row, except where a listed deviation
    covers the error."""
    resource = json.loads(file.read_text(encoding="utf-8"))
    deviations = load_deviations()
    counterparts = next(r.counterparts for r in ROWS if r.key == row)
    unexplained = [
        (url.rsplit("/", 1)[-1], issue.rule, issue.expression)
        for url in counterparts
        for issue in validator.validate(without_profiles(resource), profiles=[url]).errors
        if not any(d.covers(row, url.rsplit("/", 1)[-1], issue.rule,
                            re.sub(r"\[\d+\]", "", issue.expression)) for d in deviations)]
    assert unexplained == []


def test_real_dk_core_cpr_rule_applies(validator: Validator) -> None:
    """A CPR number with a month 13 breaks dk-core's own `cpr` invariant (DkCoreCprIdentifier)."""
    patient = _resource(_message(), "Patient")
    patient.pop("meta")
    patient["identifier"] = [{"system": "urn:oid:1.2.208.176.1.2", "value": "0113489996"}]
    result = validator.validate(patient, profiles=[DK + "dk-core-patient"])
    assert [(i.rule, i.expression) for i in result.errors] == [
        ("cpr", "Patient.identifier[0].value")]


def test_real_medcom_event_binding_applies(validator: Validator) -> None:
    """MedCom's closed event-code list: the pilot's own event code is not in it."""
    header = _resource(_message(), "MessageHeader")
    header.pop("meta")
    result = validator.validate(header, profiles=[MEDCOM_MSG + "medcom-messaging-messageHeader"])
    assert ("binding-required", "MessageHeader.event.ofType(Coding)") in {
        (i.rule, i.expression) for i in result.errors}


def test_real_ips_bundle_needs_a_composition(validator: Validator) -> None:
    """Bundle-uv-ips requires its Composition first: a document without one fails the slice."""
    document = to_document(_message())
    document["entry"] = document["entry"][1:]
    result = validator.validate(document, profiles=[IPS + "Bundle-uv-ips"])
    assert ("slice-cardinality", "Bundle.entry") in {(i.rule, i.expression)
                                                     for i in result.errors}


def test_reports_render(alignment: Alignment) -> None:
    """Markdown and JSON list every cell with its status."""
    body = json.loads(render_json(alignment))
    assert len(body["cells"]) == sum(len(r.counterparts) for r in ROWS)
    assert "| EcanPatient | dk-core-patient |" in render_markdown(alignment)


def _run_align(tmp_path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "FHIR_PACKAGE_CACHE": str(cache), "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-m", "ecanfhir", "align", "--count", "2",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300, check=False)


def test_cli_align_writes_the_three_reports(tmp_path: Path) -> None:
    """`ecanfhir align --count 2` with the counterparts cached: exit 0, three reports."""
    done = _run_align(tmp_path, COUNTERPARTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "alignment.html", "alignment.json", "alignment.md"]
    assert "non-conformant" not in done.stdout


def test_cli_align_reports_missing_packages_as_not_checked(tmp_path: Path) -> None:
    """Without the packages every cell is 'not checked', never 'conformant'."""
    (tmp_path / "empty").mkdir()
    done = _run_align(tmp_path, tmp_path / "empty")
    assert done.returncode == 0
    body = json.loads((tmp_path / "out" / "alignment.json").read_text(encoding="utf-8"))
    assert {c["status"] for c in body["cells"]} == {"not-checked"}
    assert "hl7.fhir.dk.core#3.8.0 is not installed" in done.stderr
