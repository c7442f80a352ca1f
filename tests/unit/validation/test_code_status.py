"""What a loaded code system says of a code (checks/binding.py, _terminology.py): abstract
concepts under a binding, codes written in another case, inactive concepts, and displays that
differ only in whitespace.

All data is synthetic: a case-insensitive code system of examination methods with a grouping
(abstract) concept and a retired one, and a profile binding Observation.method to all of it.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Issue, Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SYSTEM = "http://example.org/fhir/CodeSystem/exam-method"
VALUE_SET = "http://example.org/fhir/ValueSet/exam-methods"
PROFILE = "http://example.org/fhir/StructureDefinition/exam"
METHODS: dict[str, Any] = {
    "resourceType": "CodeSystem", "url": SYSTEM, "status": "draft", "content": "complete",
    "caseSensitive": False,
    "property": [{"code": "notSelectable", "type": "boolean"},
                 {"code": "status", "type": "code"}],
    "concept": [
        {"code": "IMAGING", "display": "Imaging methods",
         "property": [{"code": "notSelectable", "valueBoolean": True}],
         "concept": [{"code": "US", "display": "Ultrasound  scan",
                      "designation": [{"value": "Ultrasound  examination"}]}]},
        {"code": "PALP", "display": "Palpation"},
        {"code": "GUESS", "display": "Guesswork",
         "property": [{"code": "status", "valueCode": "retired"}]}]}
ALL_METHODS = {"resourceType": "ValueSet", "url": VALUE_SET, "status": "draft",
               "compose": {"include": [{"system": SYSTEM}]}}


def profile(strength: str) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": "exam", "url": PROFILE, "name": "Exam",
            "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
            "type": "Observation", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
            "differential": {"element": [{"id": "Observation.method",
                                          "path": "Observation.method",
                                          "binding": {"strength": strength,
                                                      "valueSet": VALUE_SET}}]}}


def check(code: str, *, display: str | None = None,
          strength: str = "required") -> ValidationResult:
    registry = Registry()
    for item in (METHODS, ALL_METHODS, profile(strength)):
        registry.add(item)
    coding = {"system": SYSTEM, "code": code}
    if display is not None:
        coding["display"] = display
    return Validator(registry).validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "meta": {"profile": [PROFILE]}, "code": {"text": "Synthetic examination"},
        "method": {"coding": [coding]}})


def at(result: ValidationResult, expression: str) -> list[Issue]:
    return [i for i in result.issues if i.expression == expression]


CODE = "Observation.method.coding[0].code"
DISPLAY = "Observation.method.coding[0].display"


def test_selectable_active_code_is_valid() -> None:
    """A selectable, active code in the right case, with its display, raises nothing."""
    assert check("PALP", display="Palpation").issues == ()


@pytest.mark.parametrize(("strength", "severity"), [("required", "error"),
                                                    ("extensible", "warning")])
def test_abstract_code_is_not_allowed_under_a_binding(strength: str, severity: str) -> None:
    """A notSelectable concept is in the value set's hierarchy but is no code to record: the
    binding's severity, at the element."""
    issue = assert_issue(check("IMAGING", strength=strength), "Observation.method",
                         severity=severity, code="code-invalid", fragment="is abstract")
    assert issue.rule == f"binding-{strength}"
    assert at(check("US", display="Ultrasound  scan"), "Observation.method") == []


@pytest.mark.parametrize(("code", "fragment", "rule"), [
    pytest.param("palp", "'PALP' by case", "code-case", id="another-case"),
    pytest.param("GUESS", "not active", "code-inactive", id="retired"),
])
def test_code_in_another_case_or_retired_is_information(code: str, fragment: str,
                                                        rule: str) -> None:
    """In a case-insensitive code system 'palp' is PALP; a retired concept is still valid, and
    said to be not active: valid, with a note at the code."""
    result = check(code)
    assert result.ok
    issue = assert_issue(result, CODE, severity="information", code="business-rule",
                         fragment=fragment)
    assert issue.rule == rule


def test_display_differing_in_whitespace_or_case() -> None:
    """Another case of the display is accepted; other whitespace is a warning of its own,
    naming every valid display (the display and its designations)."""
    assert at(check("US", display="ULTRASOUND  SCAN"), DISPLAY) == []
    issue = assert_issue(check("US", display="Ultrasound scan"), DISPLAY, severity="warning",
                         code="invalid", fragment="Wrong whitespace")
    assert issue.rule == "display" and "'Ultrasound  scan'" in issue.message
    assert "'Ultrasound  examination'" in issue.message
    assert at(check("US", display="ultrasound  EXAMINATION"), DISPLAY) == []
    wrong = assert_issue(check("US", display="Sonography"), DISPLAY, severity="warning",
                         code="invalid", fragment="Wrong display")
    assert "whitespace" not in wrong.message


STANDARDS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"


@pytest.mark.parametrize(("system_changes", "value_set_changes", "state"), [
    ({"status": "retired"}, {}, "retired"),
    ({"extension": [{"url": STANDARDS, "valueCode": "deprecated"}]}, {}, "deprecated"),
    ({"extension": [{"url": STANDARDS, "valueCode": "withdrawn"}]}, {}, "withdrawn"),
    ({"experimental": True}, {"status": "active"}, "experimental"),
    ({"status": "draft"}, {"status": "active"}, "draft"),
    ({"status": "draft"}, {"status": "draft"}, None),
    ({"experimental": True}, {"experimental": True}, None),
])
def test_status_of_the_code_system_behind_a_binding(system_changes: dict[str, Any],
                                                    value_set_changes: dict[str, Any],
                                                    state: str | None) -> None:
    """A code found through a binding, in a code system that is deprecated, withdrawn or
    retired, or experimental or draft where the value set is not: information at the element
    (the HL7 validator's "Reference to ... item"); a draft system in a draft value set: none."""
    registry = Registry()
    for item in ({**METHODS, "status": "active", **system_changes},
                 {**ALL_METHODS, **value_set_changes}, profile("required")):
        registry.add(item)
    result = Validator(registry).validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "meta": {"profile": [PROFILE]}, "code": {"text": "Synthetic examination"},
        "method": {"coding": [{"system": SYSTEM, "code": "PALP"}]}})
    found = [i for i in at(result, "Observation.method") if i.rule == "code-system-status"]
    if state is None:
        assert found == []
        return
    issue = assert_issue(result, "Observation.method", severity="information", code="expired",
                         fragment=f"Reference to {state} item {SYSTEM}")
    assert issue.rule == "code-system-status" and result.ok


def test_unknown_code_in_a_versioned_or_fragment_code_system() -> None:
    """A code a complete, versioned code system lacks is an error naming the version; one a
    fragment lacks is only a warning (another fragment may hold it)."""
    registry = Registry()
    registry.add({**METHODS, "version": "1.0.0"})
    registry.add({**METHODS, "url": SYSTEM + "-part", "content": "fragment"})
    validator = Validator(registry)

    def method(system: str) -> ValidationResult:
        return validator.validate({
            "resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic examination"},
            "method": {"coding": [{"system": system, "code": "SMELL"}]}})

    issue = assert_issue(method(SYSTEM), CODE, severity="error", code="code-invalid",
                         fragment="version '1.0.0'")
    assert issue.rule == "code-unknown"
    part = assert_issue(method(SYSTEM + "-part"), CODE, severity="warning", code="code-invalid",
                        fragment="only a fragment")
    assert part.rule == "code-unknown"
    known = validator.validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "code": {"text": "Synthetic examination"},
        "method": {"coding": [{"system": SYSTEM + "-part", "code": "PALP"}]}})
    assert at(known, CODE) == []


def test_none_of_several_codings_in_a_required_value_set() -> None:
    """Two codings, neither in the required value set: one error at the element naming both."""
    registry = Registry()
    for item in (METHODS, {**ALL_METHODS, "compose": {"include": [
            {"system": SYSTEM, "concept": [{"code": "PALP"}]}]}}, profile("required")):
        registry.add(item)
    result = Validator(registry).validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "meta": {"profile": [PROFILE]}, "code": {"text": "Synthetic examination"},
        "method": {"coding": [{"system": SYSTEM, "code": "US"},
                              {"system": SYSTEM, "code": "GUESS"}]}})
    issue = assert_issue(result, "Observation.method", severity="error", code="code-invalid",
                         fragment="none of the codes")
    assert f"{SYSTEM}#US" in issue.message and f"{SYSTEM}#GUESS" in issue.message
