"""Generated cases written as FHIR XML (``write_cases(..., format="xml")``): ``.xml`` files named
in the manifest, the same messages when read back, and every negative case still breaking its
rule at its location when validated from XML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry
from ecanfhir.formats import parse_xml, to_xml
from ecanfhir.synthetic import KINDS, MANIFEST, MUTATIONS, generate, write_cases


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(pilot_registry())


def test_xml_files_carry_the_same_messages(tmp_path: Path) -> None:
    """Each message is written as <stem>.xml; read back, it is the generated Bundle."""
    summary = write_cases("tumour-board-outcome", tmp_path, count=2, seed=5, format="xml")
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    names = [f["file"] for f in manifest["files"]]
    assert summary.files == len(names) == 4
    assert names == [g.name.replace(".json", ".xml")
                     for g in generate("tumour-board-outcome", count=2, seed=5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, MANIFEST])
    for generated in generate("tumour-board-outcome", count=2, seed=5):
        text = (tmp_path / generated.name.replace(".json", ".xml")).read_bytes()
        assert parse_xml(text) == (generated.bundle, [])


@pytest.mark.parametrize("kind", KINDS)
def test_negative_cases_break_their_rule_from_xml_too(kind: str, validator: Validator) -> None:
    """Every mutation of the kind, validated from its XML, reports its labelled rule where the
    manifest says."""
    count = sum(1 for m in MUTATIONS if kind in m.kinds)
    for case in generate(kind, count=count, seed=3, invalid=True):
        assert case.expected is not None
        result = validator.validate(to_xml(case.bundle))
        assert (case.expected.rule, case.expected.expression) in {
            (i.rule, i.expression) for i in result.errors}, case.expected.label
