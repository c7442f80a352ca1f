"""ValueSet imports that lead back to the value set itself (checks/value_set.py; the HL7
validator's VALUESET_CIRCULAR_REFERENCE). All data is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir/ValueSet/"


def value_set(name: str, *imports: str) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "text": NARRATIVE, "url": BASE + name, "status": "draft",
            "compose": {"include": [{"valueSet": [BASE + i for i in imports]}]}}


def test_import_cycle_is_an_error() -> None:
    """A imports B, B imports A: A's import is an error at that valueSet; a chain without a
    cycle (A imports C, C imports nothing) is fine."""
    registry = Registry()
    registry.add(value_set("b", "a"))
    registry.add({"resourceType": "ValueSet", "url": BASE + "c", "status": "draft",
                  "compose": {"include": [{"system": "http://loinc.org"}]}})
    validator = Validator(registry)
    issue = assert_issue(validator.validate(value_set("a", "b")),
                         "ValueSet.compose.include[0].valueSet[0]", severity="error",
                         code="business-rule", fragment="circular")
    assert issue.rule == "valueset-import"
    assert [i for i in validator.validate(value_set("a", "c")).issues
            if "circular" in i.message] == []


def test_value_set_importing_itself_is_an_error() -> None:
    """A value set that imports its own URL is circular too, loaded or not."""
    result = Validator(Registry()).validate(value_set("self", "self"))
    assert_issue(result, "ValueSet.compose.include[0].valueSet[0]", severity="error",
                 code="business-rule", fragment="circular")
