"""Requirements (``profiles/requirements.csv``) and which tests verify them.

The CSV has a header row and the columns ``id``, ``source`` (standard and section),
``level`` (SHALL, SHOULD or MAY), ``text`` and ``suite`` (the TestScript expected to verify
it). A test names what it verifies in its description, ``Verifies: MSG-01, ACK-02.`` — plain
text any TestScript tool shows. A test verifying a SHALL requirement is *required*; a SHALL
requirement of a selected suite that no test names fails the run.

A requirement counts as *covered* only when a test naming it ran and passed: a skipped test
(the endpoint lacked a fault rule, say) verifies nothing, so its requirements stay uncovered.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._model import SuiteError

__all__ = ["Coverage", "Requirement", "coverage", "load_requirements", "requirements_of"]

Level = Literal["SHALL", "SHOULD", "MAY"]
_VERIFIES = re.compile(r"Verifies:\s*([A-Za-z0-9\-]+(?:\s*,\s*[A-Za-z0-9\-]+)*)")
COLUMNS = ("id", "source", "level", "text", "suite")


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    source: str
    level: Level
    text: str
    suite: str


def requirements_of(test: Mapping[str, Any]) -> tuple[str, ...]:
    """The requirement ids a ``TestScript.test`` names.

    >>> requirements_of({"description": "Resend. Verifies: DUP-02, MSG-01."})
    ('DUP-02', 'MSG-01')
    """
    found = _VERIFIES.search(str(test.get("description", "")))
    if found is None:
        return ()
    return tuple(part.strip() for part in found.group(1).split(","))


def load_requirements(path: str | Path) -> dict[str, Requirement]:
    """Read the requirements CSV; a malformed row is a :class:`SuiteError` naming its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read the requirements: {exc.strerror}") from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise SuiteError(f"{path}: the header must be {','.join(COLUMNS)}")
    out: dict[str, Requirement] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not all(values.values()):
            raise SuiteError(f"{path}:{line}: every column needs a value")
        if values["level"] not in ("SHALL", "SHOULD", "MAY"):
            raise SuiteError(f"{path}:{line}: level must be SHALL, SHOULD or MAY")
        if values["id"] in out:
            raise SuiteError(f"{path}:{line}: requirement {values['id']} is listed twice")
        out[values["id"]] = Requirement(values["id"], values["source"],
                                        values["level"], values["text"],  # type: ignore[arg-type]
                                        values["suite"])
    return out


@dataclass(frozen=True, slots=True)
class Coverage:
    """Requirement id → the ``(suite, test id)`` pairs naming it, for the selected suites;
    after a run, ``passed`` holds the pairs that ran and passed (None: not run yet)."""

    requirements: tuple[Requirement, ...]
    tests: Mapping[str, tuple[tuple[str, str], ...]]
    passed: frozenset[tuple[str, str]] | None = None

    @property
    def uncovered_shall(self) -> tuple[str, ...]:
        """SHALL requirements no test names (the suites themselves are incomplete)."""
        return tuple(r.id for r in self.requirements
                     if r.level == "SHALL" and not self.tests.get(r.id))

    @property
    def unverified_shall(self) -> tuple[str, ...]:
        """SHALL requirements that have tests, none of which ran and passed."""
        return tuple(r.id for r in self.requirements
                     if r.level == "SHALL" and self.tests.get(r.id) and not self.covered(r.id))

    def covered(self, requirement: str) -> bool:
        """A test naming ``requirement`` passed (before a run: a test names it)."""
        tests = self.tests.get(requirement, ())
        if self.passed is None:
            return bool(tests)
        return any(t in self.passed for t in tests)

    def with_results(self, passed: Iterable[tuple[str, str]]) -> Coverage:
        """This coverage after a run in which the ``(suite, test id)`` pairs passed."""
        return Coverage(self.requirements, self.tests, frozenset(passed))

    def counts(self) -> dict[str, tuple[int, int]]:
        """Level → (covered, total)."""
        out: dict[str, tuple[int, int]] = {}
        for level in ("SHALL", "SHOULD", "MAY"):
            of_level = [r for r in self.requirements if r.level == level]
            out[level] = (sum(1 for r in of_level if self.covered(r.id)), len(of_level))
        return out


def coverage(requirements: Mapping[str, Requirement],
             suites: Iterable[tuple[str, Mapping[str, Any]]],
             selected: Sequence[str]) -> Coverage:
    """Which tests of ``suites`` (suite id, TestScript) name which requirement.

    Raises:
        SuiteError: a test names a requirement the CSV does not list.
    """
    tests: dict[str, list[tuple[str, str]]] = {}
    for suite, script in suites:
        for number, test in enumerate(script.get("test", ())):
            test_id = str(test.get("id") or f"test-{number + 1}")
            for req in requirements_of(test):
                if req not in requirements:
                    raise SuiteError(f"{suite}: test {test_id} names requirement {req}, which "
                                     "the requirements CSV does not list")
                tests.setdefault(req, []).append((suite, test_id))
    chosen = tuple(r for r in requirements.values() if r.suite in selected)
    return Coverage(chosen, {k: tuple(v) for k, v in tests.items()})
