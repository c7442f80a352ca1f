"""HL7's R4 examples published in both formats (tests/fixtures/xml-pairs, see its README):
XML → JSON gives the published JSON, JSON → XML the published XML as an infoset."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecanfhir.formats import parse_xml, to_xml
from ecanfhir.formats._equivalence import infoset_differences, json_differences
from ecanfhir.formats.json_read import parse_json

PAIRS = Path(__file__).resolve().parents[2] / "fixtures" / "xml-pairs"
NAMES = sorted(p.stem for p in PAIRS.glob("*.xml"))


def test_every_example_has_both_formats() -> None:
    """Eight pairs: each XML file has its JSON twin and vice versa."""
    assert len(NAMES) == 8
    assert sorted(p.stem for p in PAIRS.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_xml_reads_as_the_published_json(name: str) -> None:
    """parse_xml(published XML) == published JSON, the narrative compared as XHTML (the
    publisher writes &#xE9; in XML and é in JSON: one character)."""
    published, problem = parse_json((PAIRS / f"{name}.json").read_bytes())
    assert problem is None
    read, issues = parse_xml((PAIRS / f"{name}.xml").read_bytes())
    assert [i for i in issues if i.is_error] == []
    assert json_differences(published, read) == []


@pytest.mark.parametrize("name", NAMES)
def test_json_writes_as_the_published_xml(name: str) -> None:
    """to_xml(published JSON) is the published XML's infoset: same elements in the same
    order, same attributes and text; comments and indentation aside."""
    published, _ = parse_json((PAIRS / f"{name}.json").read_bytes())
    written = to_xml(published)
    assert infoset_differences(written, (PAIRS / f"{name}.xml").read_bytes()) == []


def test_a_changed_order_is_told_from_the_published_xml() -> None:
    """The infoset check sees order: swapping two children of the published XML fails it."""
    text = (PAIRS / "careteam-example.xml").read_text(encoding="utf-8")
    status = '<status value="active"/>'
    name = '<name value="Peter James Charlmers Care Plan for Inpatient Encounter"/>'
    assert text.count(status) == text.count(name) == 1
    swapped = text.replace(status, "").replace(name, name + status)
    published, _ = parse_json((PAIRS / "careteam-example.json").read_bytes())
    assert infoset_differences(to_xml(published), swapped) != []
