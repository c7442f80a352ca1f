"""Suspicious text in valid primitive values (ecanfhir.validation.checks.text): whitespace at the
ends of strings, unclosed Unicode bidi controls, HTML-like tags. Warnings and information only.

Each asserts severity, rule and FHIRPath location, and that the resource stays valid.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
RULES = ("string-whitespace", "unicode-bidi", "html-in-text")


def found(resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    result = validate(resource)
    assert result.ok
    return [(i.severity, i.expression, i.rule) for i in result.issues if i.rule in RULES]


def patient(family: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "name": [{"family": family}]}


@pytest.mark.parametrize("family", ["Jensen", "Møller-Sørensen", "a < b", "\u202bשלום\u202c"])
def test_ordinary_text_passes(family: str) -> None:
    """Names, comparison signs and closed bidi embeddings say nothing."""
    assert found(patient(family)) == []


@pytest.mark.parametrize(("family", "rule", "severity"), [
    (" Jensen", "string-whitespace", "warning"),
    ("Jensen\n", "string-whitespace", "warning"),
    ("   ", "string-whitespace", "warning"),
    ("\u202eevil", "unicode-bidi", "warning"),
    ("x\u2067y", "unicode-bidi", "warning"),
    ("<b>Jensen</b>", "html-in-text", "information"),
])
def test_suspicious_string_is_reported(family: str, rule: str, severity: str) -> None:
    """Whitespace at the ends, unclosed bidi controls and HTML-like tags in a string."""
    assert found(patient(family)) == [(severity, "Patient.name[0].family", rule)]


def test_html_in_markdown_is_information() -> None:
    """Markdown may carry tags; the renderer should escape them: information only."""
    resource = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                "code": {"text": "x"}, "note": [{"text": "see <script>x()</script>"}]}
    assert found(resource) == [("information", "Observation.note[0].text", "html-in-text")]
