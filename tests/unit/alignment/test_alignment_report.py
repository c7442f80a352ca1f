"""The alignment matrix's cell verdicts, deviations table and reports, on hand-made cells."""

from __future__ import annotations

import json

from ecanfhir.alignment import (
    ROWS,
    Alignment,
    Cell,
    Coverage,
    ErrorGroup,
    parse_deviations,
    render_html,
    render_json,
    render_markdown,
)

ROW = ROWS[0]
URL = ROW.counterparts[0]
TABLE = """
| pilot profile | counterpart | rule | path | reason | proposed upstream |
|---|---|---|---|---|---|
| ecan-patient | dk-core-patient | cardinality-* | Patient.birth* | `x` a reason | a proposal |
"""


def _cell(*groups: ErrorGroup, loaded: bool = True, checked: int = 2) -> Cell:
    cell = Cell(ROW, URL, "hl7.fhir.dk.core#3.8.0", loaded, checked=checked,
                conformant=checked - (1 if groups else 0))
    for group in groups:
        cell.groups[(group.rule, group.path)] = group
    return cell


def _alignment(*cells: Cell) -> Alignment:
    return Alignment(cells, 1, 0, (), {}, Coverage({"referral": 1}, ("breast",), 0, 1, 1, 1))


def test_deviation_table_is_read_with_wildcards_and_code_spans() -> None:
    """Rule and path match with fnmatch wildcards; a cell that is one code span is unquoted,
    a cell that starts with one is kept whole."""
    (deviation,) = parse_deviations(TABLE)
    assert deviation.covers("ecan-patient", "dk-core-patient", "cardinality-min",
                            "Patient.birthDate")
    assert not deviation.covers("ecan-patient", "dk-core-patient", "cpr", "Patient.birthDate")
    assert deviation.reason == "`x` a reason"


def test_cell_status_follows_its_error_groups() -> None:
    """No errors: conformant; all covered: deviation; one not covered: non-conformant; package
    absent: not checked; nothing generated: no instances."""
    (deviation,) = parse_deviations(TABLE)
    covered = ErrorGroup("cardinality-min", "Patient.birthDate", "m", 1, deviation)
    other = ErrorGroup("cpr", "Patient.identifier.value", "m", 1)
    assert _cell().status == "conformant"
    assert _cell(covered).status == "deviation"
    assert _cell(covered, other).status == "non-conformant"
    assert _cell(loaded=False).status == "not-checked"
    assert _cell(checked=0).status == "no-instances"
    assert not _alignment(_cell(covered, other)).ok and _alignment(_cell(covered)).ok


def test_reports_show_each_error_group_once() -> None:
    """Markdown lists the group with its count; JSON carries it; HTML is one page with no
    external resource."""
    group = ErrorGroup("cpr", "Patient.identifier.value", "constraint cpr failed", 3)
    alignment = _alignment(_cell(group))
    assert "- 3× cpr at Patient.identifier.value: constraint cpr failed" in render_markdown(
        alignment)
    cell = json.loads(render_json(alignment))["cells"][0]
    assert (cell["status"], cell["errors"][0]["count"]) == ("non-conformant", 3)
    page = render_html(alignment)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "src=" not in page and "href=" not in page
