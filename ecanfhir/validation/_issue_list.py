"""The lists a run keeps its issues in: Python classes, never compiled (``ecanfhir._build``).

Compiled code appends to a value declared ``list[Issue]`` with the list's own C function, past
any ``append`` of a subclass. Declared as :class:`IssueList`, whose class is not compiled, its
``append`` and ``extend`` are called as Python calls them, so a conformance trial's issues
(:class:`TrialIssues`) end the trial at its first error in both builds.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._issue import Issue

__all__ = ["IssueList", "TrialFailed", "TrialIssues"]


class IssueList(list[Issue]):
    """The issues a run accumulates (``Run.issues``): a list, of a class of its own."""

    __slots__ = ()


class TrialFailed(Exception):
    """A trial walk met an error: the value does not conform, whatever else it holds."""


class TrialIssues(IssueList):
    """A trial run's issues (``_conformance.conformance``). A value conforms only when it
    breaks no rule of the profile, so the first error decides and ends the walk (a
    MessageHeader tried against a profile with another fixed event code is not walked to its
    end)."""

    __slots__ = ()

    def append(self, issue: Issue) -> None:
        if issue.is_error:
            raise TrialFailed
        super().append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.append(issue)
