"""What a conformance run produces: HTTP exchanges, action outcomes, test and suite results.

Exception tree (all under :class:`ecanfhir.EcanfhirError`)::

    ConformanceError
     └── SuiteError      a TestScript, requirements file or report cannot be used (exit 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._exceptions import EcanfhirError

__all__ = ["ActionResult", "ConformanceError", "Exchange", "Outcome", "RunResult",
           "ScriptResult", "Status", "SuiteError", "TestResult"]

Status = Literal["pass", "fail", "skip", "error"]
Outcome = Literal["pass", "fail", "warning", "skip", "error"]
REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class ConformanceError(EcanfhirError):
    """Root of the conformance runner's errors."""


class SuiteError(ConformanceError):
    """A TestScript, the requirements or a previous report cannot be used as given."""


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials replaced (``Authorization``, cookies).

    >>> redact({"Authorization": "Bearer abc", "Accept": "x"})
    {'Authorization': '[redacted]', 'Accept': 'x'}
    """
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its response, as shown in reports (credentials redacted)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    error: str | None = None
    by: str = "runner"   # runner | sender-under-test

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "requestHeaders": self.request_headers,
                "requestBody": self.request_body, "status": self.status,
                "responseHeaders": self.response_headers, "responseBody": self.response_body,
                "elapsedMs": round(self.elapsed_ms, 1), "error": self.error, "by": self.by}


@dataclass(frozen=True, slots=True)
class ActionResult:
    """An operation or assert of a TestScript and how it went."""

    kind: Literal["operation", "assert"]
    label: str
    outcome: Outcome
    message: str = ""
    exchanges: tuple[Exchange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "outcome": self.outcome,
                "message": self.message, "exchanges": [e.to_json() for e in self.exchanges]}


@dataclass(frozen=True, slots=True)
class TestResult:
    """One ``TestScript.test`` (or the setup/teardown pseudo-tests ``#setup``/``#teardown``)."""

    __test__ = False  # not a pytest class

    id: str
    name: str
    description: str
    requirements: tuple[str, ...]
    status: Status
    message: str
    actions: tuple[ActionResult, ...]
    duration_ms: float
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description,
                "requirements": list(self.requirements), "status": self.status,
                "required": self.required, "message": self.message,
                "durationMs": round(self.duration_ms, 1),
                "actions": [a.to_json() for a in self.actions]}


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """A whole TestScript run: setup, tests, teardown."""

    suite: str
    url: str
    name: str
    title: str
    setup: tuple[ActionResult, ...]
    tests: tuple[TestResult, ...]
    teardown: tuple[ActionResult, ...]
    started: str
    duration_ms: float

    def to_json(self) -> dict[str, Any]:
        return {"suite": self.suite, "url": self.url, "name": self.name, "title": self.title,
                "started": self.started, "durationMs": round(self.duration_ms, 1),
                "setup": [a.to_json() for a in self.setup],
                "tests": [t.to_json() for t in self.tests],
                "teardown": [a.to_json() for a in self.teardown]}


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every suite of one run, with the requirements coverage."""

    endpoint: str
    scripts: tuple[ScriptResult, ...]
    coverage: Any  # Coverage (see _requirements); Any keeps this module free of imports
    started: str
    allow_skips: bool = False

    def tests(self) -> list[tuple[str, TestResult]]:
        return [(s.suite, t) for s in self.scripts for t in s.tests]

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for _, test in self.tests():
            counts[test.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Every required test passed (skips allowed only with ``allow_skips``) and every
        SHALL requirement of the selected suites has a test."""
        allowed = {"pass", "skip"} if self.allow_skips else {"pass"}
        return (all(t.status in allowed for _, t in self.tests() if t.required)
                and not self.coverage.uncovered_shall)

    @property
    def failed_only_through_skips(self) -> bool:
        """The run failed, yet nothing failed: required tests were skipped (the endpoint
        lacked what they need), and that alone decided the verdict."""
        required = [t for _, t in self.tests() if t.required]
        return (not self.ok and not self.coverage.uncovered_shall
                and all(t.status in ("pass", "skip") for t in required)
                and any(t.status == "skip" for t in required))

    def skip_reasons(self) -> list[str]:
        """Why required tests were skipped, each reason once (in the order first seen)."""
        reasons: dict[str, None] = {}
        for _, test in self.tests():
            if test.status == "skip" and test.required:
                reasons[_skip_reason(test.message)] = None
        return list(reasons)

    def verdict(self) -> str:
        """One line: PASSED, or FAILED and, when skips alone failed the run, why."""
        if self.ok:
            return "PASSED"
        if not self.failed_only_through_skips:
            return "FAILED"
        skipped = sum(1 for _, t in self.tests() if t.required and t.status == "skip")
        return (f"FAILED only through skips: {skipped} required test"
                f"{'' if skipped == 1 else 's'} did not run, as the endpoint did not meet their "
                f"preconditions: {'; '.join(self.skip_reasons())}. Nothing failed. Against "
                "the mock centre, start it with `ecanfhir serve --harness`; or accept skips "
                "with --allow-skips.")


def _skip_reason(message: str) -> str:
    """``setup: the endpoint records requests (…): precondition not met (status 404 …)`` →
    ``the endpoint records requests (…)``."""
    reason = message.removeprefix("setup: ")
    return reason.split(": precondition not met", 1)[0] or "a precondition"
