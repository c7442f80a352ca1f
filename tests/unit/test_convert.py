"""``ecanfhir convert``: the format is read from the content, the target is the other one, and
input that cannot be converted without loss is refused with its issues on stderr."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ecanfhir.cli import main

PATIENT: dict[str, Any] = {
    "resourceType": "Patient", "id": "p1",
    "text": {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann &amp; May</p></div>'},
    "name": [{"family": "Ng", "given": ["Ann", "May"], "_given": [None, {"id": "g2"}]}],
    "birthDate": "1970-01-01",
}
F = "{http://hl7.org/fhir}"


def convert(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["convert", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_file_becomes_xml_and_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """JSON → XML → JSON gives the resource back; each step picks the other format."""
    source = tmp_path / "patient.json"
    source.write_text(json.dumps(PATIENT), encoding="utf-8")
    code, xml_text, err = convert(capsys, source)
    assert (code, err) == (0, "")
    root = ET.fromstring(xml_text.encode())
    assert root.tag == f"{F}Patient"
    assert [g.attrib for g in root.iter(f"{F}given")] == [{"value": "Ann"},
                                                          {"id": "g2", "value": "May"}]
    back = tmp_path / "patient.txt"  # the name says nothing: the content does
    back.write_text(xml_text, encoding="utf-8")
    code, json_text, err = convert(capsys, back)
    assert (code, err) == (0, "")
    assert json.loads(json_text) == PATIENT
    assert json_text.startswith('{\n  "resourceType": "Patient",\n  "id": "p1",')


def test_stdin_and_out_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads stdin; --out writes the file and nothing to stdout."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(PATIENT).encode())))
    out = tmp_path / "p.xml"
    code, stdout, err = convert(capsys, "-", "--out", out)
    assert (code, stdout, err) == (0, "", "")
    assert ET.fromstring(out.read_bytes()).tag == f"{F}Patient"


def test_to_the_same_format_rewrites_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """--to json on JSON puts resourceType first, two spaces per level, decimals as written."""
    source = tmp_path / "obs.json"
    source.write_text('{"status": "final", "code": {"text": "w"}, "valueQuantity": '
                      '{"value": 1.50}, "resourceType": "Observation"}', encoding="utf-8")
    code, out, _ = convert(capsys, source, "--to", "json")
    assert code == 0
    assert out == ('{\n  "resourceType": "Observation",\n  "status": "final",\n  "code": {\n'
                   '    "text": "w"\n  },\n  "valueQuantity": {\n    "value": 1.50\n  }\n}\n')
    code, out, _ = convert(capsys, source, "--compact")
    assert code == 0 and '<value value="1.50"/>' in out and "\n" not in out.strip()


@pytest.mark.parametrize(("content", "says"), [
    ('{"resourceType": "Patient", "colour": "blue"}',
     "error       structure     Patient.colour: unknown property 'colour'"),
    ("not json", "fatal       structure     the input is not valid JSON"),
    ('<Patient xmlns="http://hl7.org/fhir"><colour value="blue"/></Patient>', "colour"),
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"/>', "fatal"),
])
def test_input_that_cannot_be_converted_is_refused_with_its_issues(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str) -> None:
    """Exit 1, nothing on stdout, the issues on stderr with their locations; no traceback."""
    source = tmp_path / "bad"
    source.write_text(content, encoding="utf-8")
    code, out, err = convert(capsys, source)
    assert (code, out) == (1, "")
    assert err.startswith(f"ecanfhir convert: {source}: cannot convert")
    assert says in err
    assert "Traceback" not in err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    """Exit 2 and one line naming the file."""
    code, out, err = convert(capsys, tmp_path / "absent.json")
    assert (code, out) == (2, "")
    assert "absent.json: No such file or directory" in err


@pytest.mark.parametrize("value", ["1.00", "1E-22", "-0.50", "12", "3.141592653589793238"])
def test_decimals_keep_their_text_from_either_format(
        value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """XML → JSON writes a decimal as written in the value attribute, as JSON → JSON does."""
    xml_source = tmp_path / "o.xml"
    xml_source.write_text('<Observation xmlns="http://hl7.org/fhir"><status value="final"/>'
                          f'<code><text value="x"/></code><valueQuantity><value value="{value}"/>'
                          '</valueQuantity></Observation>', encoding="utf-8")
    json_source = tmp_path / "o.json"
    json_source.write_text('{"resourceType": "Observation", "status": "final", "code": '
                           f'{{"text": "x"}}, "valueQuantity": {{"value": {value}}}}}',
                           encoding="utf-8")
    for source in (xml_source, json_source):
        code, out, err = convert(capsys, source, "--to", "json")
        assert (code, err) == (0, "")
        assert f'"value": {value}\n' in out
