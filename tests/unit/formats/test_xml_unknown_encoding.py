"""An XML declaration naming an encoding Python does not know is a syntax error of the
document (expat looks the name up and raised LookupError, which no caller expected)."""

from __future__ import annotations

import pytest

from ecanfhir.formats import parse_xml


@pytest.mark.parametrize("name", ["UTtrueF-8", "x", "utf-9"])
def test_unknown_encoding_name_is_a_fatal_syntax_issue(name: str) -> None:
    data = f'<?xml version="1.0" encoding="{name}"?><Patient xmlns="http://hl7.org/fhir"/>'
    resource, issues = parse_xml(data.encode("utf-8"))
    assert resource is None
    assert [(i.severity, i.code, i.rule) for i in issues] == [("fatal", "structure",
                                                                "xml-syntax")]
    assert "unknown encoding" in issues[0].message
