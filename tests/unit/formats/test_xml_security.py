"""Hostile XML is refused before anything is expanded or fetched: entity expansion ("billion
laughs"), external entities (file:// and http://) and DTDs give one fatal issue, quickly and
in little memory, from the reader and from the validator alike."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from ecanfhir import Validator
from ecanfhir.formats import parse_xml

NS = 'xmlns="http://hl7.org/fhir"'
LAUGHS = "".join(
    [f'<!ENTITY lol0 "{"lol" * 10}">']
    + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)])
BILLION_LAUGHS = (f'<?xml version="1.0"?>\n<!DOCTYPE Patient [{LAUGHS}]>\n'
                  f'<Patient {NS}><name><family value="&lol9;"/></name></Patient>')


def external_entity(url: str) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE Patient [<!ENTITY ext SYSTEM "{url}">]>\n'
            f'<Patient {NS}><name><family value="&ext;"/></name></Patient>')


def test_billion_laughs_is_refused_fast_and_small() -> None:
    """Expanded, &lol9; would be 3 GB of text; it is refused at its declaration (memory is
    what shows it: nothing of the expansion is ever built)."""
    tracemalloc.start()
    try:
        resource, issues = parse_xml(BILLION_LAUGHS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert resource is None and len(issues) == 1
    assert (issues[0].severity, issues[0].code, issues[0].rule) == ("fatal", "security",
                                                                   "xml-unsafe")
    assert "line 2" in issues[0].message
    assert peak < 5_000_000


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_external_entities_are_never_read(tmp_path: Path, scheme: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t-content")
    url = secret.as_uri() if scheme == "file" else "http://127.0.0.1:9/secret.txt"
    resource, issues = parse_xml(external_entity(url))
    assert resource is None and len(issues) == 1
    assert (issues[0].severity, issues[0].code) == ("fatal", "security")
    assert "s3cr3t" not in issues[0].message


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE Patient SYSTEM "http://127.0.0.1:9/fhir.dtd">',
    '<!DOCTYPE Patient [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
    "<!DOCTYPE Patient>",
])
def test_any_document_type_declaration_is_refused(doctype: str) -> None:
    """FHIR XML has no DTD (the HL7 validator sets disallow-doctype-decl)."""
    resource, issues = parse_xml(f'<?xml version="1.0"?>{doctype}<Patient {NS}/>')
    assert resource is None
    assert (issues[0].severity, issues[0].rule) == ("fatal", "xml-unsafe")
    assert "document type declaration" in issues[0].message


def test_the_validator_reports_the_refusal_as_its_result() -> None:
    result = Validator().validate(BILLION_LAUGHS.encode())
    assert not result.ok
    assert [(i.severity, i.code) for i in result.issues] == [("fatal", "security")]
    assert result.to_operation_outcome()["issue"][0]["code"] == "security"
