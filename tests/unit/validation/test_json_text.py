"""Reading JSON text (``parse_json``): what Python's reader refuses becomes a fatal issue."""

from __future__ import annotations

from ecanfhir.formats.json_read import parse_json


def test_integer_too_long_to_convert_is_a_fatal_issue() -> None:
    """A 5000-digit integer (past CPython's 4300-digit limit) is reported, not raised."""
    parsed, problem = parse_json('{"resourceType": "Patient", "x": ' + "9" * 5000 + "}")
    assert parsed is None and problem is not None
    assert (problem.severity, problem.code, problem.rule) == ("fatal", "structure",
                                                                "json-syntax")
    assert "number too long" in problem.message
