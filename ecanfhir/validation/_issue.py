"""Validation issues and results, and their one conversion to an R4 OperationOutcome.

Issue codes are those of the FHIR IssueType value set
(http://hl7.org/fhir/ValueSet/issue-type); severities those of IssueSeverity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .._exceptions import EcanfhirError

__all__ = ["Issue", "IssueCode", "Severity", "ValidationFailed",
           "ValidationResult", "to_operation_outcome"]

Severity = Literal["fatal", "error", "warning", "information"]
IssueCode = Literal[
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
]
SEVERITY_ORDER: dict[str, int] = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: what, where (a FHIRPath expression) and how bad.

    ``rule`` names the rule that produced it (an invariant key such as ``dom-3``, or a check
    name such as ``cardinality-min``) so tools can filter or count findings.
    """

    severity: Severity
    code: IssueCode
    expression: str
    message: str
    rule: str = ""

    @classmethod
    def error(cls, code: IssueCode, expression: str, message: str, rule: str = "") -> Issue:
        return cls("error", code, expression, message, rule)

    @classmethod
    def warning(cls, code: IssueCode, expression: str, message: str, rule: str = "") -> Issue:
        return cls("warning", code, expression, message, rule)

    @classmethod
    def information(cls, code: IssueCode, expression: str, message: str, rule: str = "") -> Issue:
        return cls("information", code, expression, message, rule)

    def under(self, where: str) -> Issue:
        """This issue, found on a value checked on its own, placed at ``where`` (its
        expression, ``.code`` say, is relative to the value)."""
        return Issue(self.severity, self.code, where + self.expression, self.message, self.rule)

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.message,
        }
        if self.rule:
            issue["details"] = {"coding": [{
                "system": "https://ecanfhir.example/fhir/CodeSystem/ecanfhir-validation-rule",
                "code": self.rule,
            }], "text": self.message}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The outcome of validating one resource; never raised, always returned."""

    issues: tuple[Issue, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when no issue is an error or fatal (warnings do not make a resource invalid)."""
        return not any(i.is_error for i in self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.is_error)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def raise_for_errors(self) -> ValidationResult:
        """Raise :class:`ValidationFailed` when there are errors; return self otherwise."""
        if not self.ok:
            raise ValidationFailed(self)
        return self

    def to_operation_outcome(self) -> dict[str, Any]:
        return to_operation_outcome(self.issues)


# Issues that only repeat another issue's finding where a reference points at its resource:
# "the referenced Patient does not conform" follows from the Patient's own errors.
CONSEQUENCE_RULES = frozenset({"reference-profile"})
_INDEX = re.compile(r"\[(\d+)\]")


def sort_issues(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """Severity first, then root causes before their consequences, then by location in document
    order (``entry[2]`` before ``entry[10]``), dropping exact duplicates.

    A reader (or a sender reading an acknowledgement) meets the bad CPR number first, and the
    references that fail because of it after it.

    >>> cause = Issue.error("invariant", "Bundle.entry[4].resource.identifier[0]", "bad CPR")
    >>> effect = Issue.error("structure", "Bundle.entry[1].resource.subject", "does not conform",
    ...                      "reference-profile")
    >>> [i.message for i in sort_issues([effect, cause])]
    ['bad CPR', 'does not conform']
    """
    unique = dict.fromkeys(issues)
    return tuple(sorted(unique, key=lambda i: (SEVERITY_ORDER[i.severity],
                                               i.rule in CONSEQUENCE_RULES,
                                               _location_key(i.expression))))


def _location_key(expression: str) -> tuple[str | int, ...]:
    """``a.b[10].c`` as ``("a.b", 10, ".c")``: list indexes compare as numbers."""
    parts: list[str | int] = _INDEX.split(expression)
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


def to_operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """An R4 OperationOutcome for these issues (one 'All OK' information issue when empty)."""
    body = [i.to_fhir() for i in issues]
    if not body:
        body = [{"severity": "information", "code": "informational",
                 "diagnostics": "All OK: no issues found"}]
    return {"resourceType": "OperationOutcome", "issue": body}


class ValidationFailed(EcanfhirError):
    """A validation result holds errors; raised only on request."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        errors = [i for i in result.issues if i.severity in ("error", "fatal")]
        first = errors[0] if errors else None
        detail = f": {first.expression}: {first.message}" if first else ""
        super().__init__(f"{len(errors)} error(s){detail}")
