"""Checks shared by the messaging and organization/patient profile tests."""

from __future__ import annotations

from typing import Any

from ecanfhir import Issue, ValidationResult, Validator


def check(validator: Validator, resource: dict[str, Any], profile: str) -> ValidationResult:
    """Validate ``resource`` against the profile with canonical URL ``profile``."""
    return validator.validate(resource, profiles=[profile])


def assert_issue(result: ValidationResult, expression: str, rule: str, *,
                 severity: str = "error", code: str = "invariant") -> Issue:
    """An issue from ``rule`` at ``expression`` with this severity and code."""
    found = [i for i in result.issues if i.expression == expression and i.rule == rule]
    assert found, result.issues
    assert (found[0].severity, found[0].code) == (severity, code), found[0]
    return found[0]
