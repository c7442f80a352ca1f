"""JSON → XML → JSON is the identity on every FHIR JSON example of the repository (examples/,
tests/fixtures), the narrative compared as XHTML; and the yardstick itself tells differences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecanfhir.formats import parse_xml, to_xml
from ecanfhir.formats._equivalence import infoset_differences, json_differences

ROOT = Path(__file__).resolve().parents[3]


def _examples() -> list[Path]:
    found = []
    for folder in (ROOT / "examples", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(data, dict) and isinstance(data.get("resourceType"), str):
                found.append(path)
    return found


EXAMPLES = _examples()


def test_the_repository_has_examples_to_round_trip() -> None:
    """The walk finds the shipped examples (a broken glob would make the next test vacuous)."""
    assert len(EXAMPLES) > 200
    assert any(p.parent.name == "bundles" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_json_to_xml_to_json_is_the_identity(path: Path) -> None:
    """Every example reads back from its XML with the same content and no issue."""
    resource = json.loads(path.read_text(encoding="utf-8"))
    back, issues = parse_xml(to_xml(resource))
    assert [i for i in issues if i.is_error] == []
    assert json_differences(resource, back) == []


@pytest.mark.parametrize(("a", "b", "where"), [
    ({"x": [1, 2]}, {"x": [1]}, ".x: 2 items != 1"),
    ({"x": {"y": "a"}}, {"x": {"y": "b"}}, ".x.y: 'a' != 'b'"),
    ({"x": 1.5}, {"x": 1.25}, ".x: 1.5 != 1.25"),
    ({"x": True}, {"x": 1}, ".x: True != 1"),
    ({"div": "<div><p>a</p></div>"}, {"div": "<div><p>b</p></div>"}, ".div: the XHTML differs"),
])
def test_json_yardstick_reports_where(a: Any, b: Any, where: str) -> None:
    """Content, count, number and type differences are found, each at its location."""
    assert json_differences(a, b) == [where]


def test_json_yardstick_ignores_number_spelling_and_xhtml_escapes() -> None:
    """1, 1.0 and 1.00 are one number; &#x27; and ' one character; key order is free."""
    from decimal import Decimal

    a = {"v": 1, "w": Decimal("1.00"), "div": "<div a='1' b='2'><p>it&#x27;s</p></div>"}
    b = {"div": '<div b="2" a="1"><p>it\'s</p></div>', "w": 1.0, "v": 1.0}
    assert json_differences(a, b) == []


@pytest.mark.parametrize(("other", "says"), [
    ('<a xmlns="x"><b v="2"/></a>', "attributes"),
    ('<a xmlns="x"><c v="1"/></a>', "element"),
    ('<a xmlns="y"><b v="1"/></a>', "element"),
    ('<a xmlns="x"><b v="1"/><b v="1"/></a>', "children"),
    ('<a xmlns="x"><b v="1"/>text</a>', "text after it"),
])
def test_infoset_yardstick_reports_differences(other: str, says: str) -> None:
    """Names, namespaces, attributes, children and text count; whitespace and comments do not."""
    base = '<?xml version="1.0"?><a xmlns="x">\n  <!-- note --><b v="1"/>\n</a>'
    assert infoset_differences(base, '<a xmlns="x"><b v="1"></b></a>') == []
    found = infoset_differences(base, other)
    assert found and says in found[0]
