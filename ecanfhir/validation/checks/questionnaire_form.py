"""The Questionnaire a QuestionnaireResponse is checked against, found and indexed once.

R4 QuestionnaireResponse.questionnaire is a canonical (maybe ``|version``) or, for a
Questionnaire carried along, a ``#id`` of a contained resource. The :class:`Form` holds what the
item, answer and enableWhen checks share: the Questionnaire, its items by linkId with their
parents (enableWhen questions are found anywhere in the form, R4 Questionnaire.item.enableWhen
.question), the resources its ``#id`` references point at, and whether missing required answers
are errors or warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import Any

from ..._frozen import record
from ...definitions.registry import Registry, split_canonical
from ...terminology.value_sets import Terminology
from .._issue import Issue, Severity
from .questionnaire_values import dicts as _dicts

__all__ = ["Chain", "Form", "Resolve", "find_questionnaire", "index_items"]

Resolve = Callable[[str], Mapping[str, Any] | None]


@record
class Form:
    """One response being checked against one Questionnaire."""

    questionnaire: Mapping[str, Any]
    label: str  # the canonical (or #id) as the response gave it
    contained: Sequence[Mapping[str, Any]]  # where the Questionnaire's '#id' references point
    terminology: Terminology
    registry: Registry
    resolve: Resolve | None
    root: Mapping[str, Any]
    strict: bool  # missing required answers are errors (else warnings)
    index: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # linkId -> item
    parent: dict[str, str | None] = field(default_factory=dict)  # linkId -> parent linkId

    def ancestors(self, link_id: str) -> list[str]:
        """The linkIds of the items enclosing ``link_id`` in the Questionnaire, nearest first."""
        found: list[str] = []
        up = self.parent.get(link_id)
        while up is not None and up not in found:
            found.append(up)
            up = self.parent.get(up)
        return found

    def required_issue(self, at: str, message: str) -> Issue:
        severity: Severity = "error" if self.strict else "warning"
        return Issue(severity, "required", at, message, "qr-required")


# The response items enclosing the current one, outermost first, with their linkIds.
Chain = tuple[tuple[str, Mapping[str, Any]], ...]


def find_questionnaire(qr: Mapping[str, Any], canonical: str, registry: Registry,
                       resolve: Resolve | None
                       ) -> tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None:
    """The Questionnaire a response names, with the resources its ``#id`` references point at:
    contained in the response, loaded, a copy carried in the response, or resolved."""
    contained = _dicts(qr.get("contained"))
    if canonical.startswith("#"):
        for resource in contained:
            if resource.get("id") == canonical[1:] and _is_questionnaire(resource):
                return resource, contained
        return None
    found = registry.questionnaire(canonical)
    if found is not None:
        return found, _dicts(found.get("contained"))
    url, version = split_canonical(canonical)
    for resource in contained:  # a copy carried along in the response
        if (_is_questionnaire(resource) and resource.get("url") == url
                and version in (None, resource.get("version"))):
            return resource, contained
    resolved = resolve(canonical) if resolve is not None else None
    if resolved is not None and _is_questionnaire(resolved):
        return resolved, _dicts(resolved.get("contained"))
    return None


def _is_questionnaire(resource: Mapping[str, Any]) -> bool:
    return resource.get("resourceType") == "Questionnaire"


def index_items(form: Form, items: list[Mapping[str, Any]], parent: str | None) -> None:
    """Index the Questionnaire's items by linkId, with their parents (the first of a linkId)."""
    for item in items:
        link_id = item.get("linkId")
        if isinstance(link_id, str) and link_id not in form.index:
            form.index[link_id] = item
            form.parent[link_id] = parent
            index_items(form, _dicts(item.get("item")), link_id)
