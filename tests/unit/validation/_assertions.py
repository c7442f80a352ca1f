"""Assertions shared by the validation tests: one issue, at one FHIRPath location."""

from __future__ import annotations

from ecanfhir import Issue, ValidationResult


def the_issue(result: ValidationResult, expression: str) -> Issue:
    """The one issue at ``expression`` (fails listing all issues otherwise)."""
    found = [i for i in result.issues if i.expression == expression]
    assert len(found) == 1, result.issues
    return found[0]


def assert_issue(result: ValidationResult, expression: str, *, severity: str, code: str,
                 fragment: str) -> Issue:
    """The one issue at ``expression`` has this severity, code and message fragment."""
    issue = the_issue(result, expression)
    assert (issue.severity, issue.code) == (severity, code), issue
    assert fragment in issue.message, issue
    return issue
