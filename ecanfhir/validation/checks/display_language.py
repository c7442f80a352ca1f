"""Whether a code system gives a code a display in a language (R4 codesystem.html#designations:
``CodeSystem.language`` for ``concept.display``, ``designation.language`` for the others).

A Coding's display that matches none of the code's displays is normally "wrong display"; when
the resource asks for a language (``Resource.language``) in which the code system has no display
at all, the HL7 validator says that instead (``NO_VALID_DISPLAY_FOUND``): there is no right
display to offer in that language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .json_values import array

__all__ = ["has_display_in"]


def _same_language(tag: object, language: str) -> bool:
    """``da`` matches ``da`` and ``da-DK``, by primary subtag (BCP 47), ignoring case."""
    if not isinstance(tag, str):
        return False
    return tag.split("-", 1)[0].lower() == language.split("-", 1)[0].lower()


def has_display_in(code_system: Mapping[str, Any] | None, code: str, language: str) -> bool:
    """True when the code system gives ``code`` a display or designation in ``language``
    (True when it is not known, so nothing is claimed about it).

    >>> cs = {"language": "en", "concept": [{"code": "a", "display": "A", "designation": [
    ...     {"language": "da-DK", "value": "Å"}]}, {"code": "b", "display": "B"}]}
    >>> has_display_in(cs, "a", "da"), has_display_in(cs, "b", "da"), has_display_in(cs, "b", "en")
    (True, False, True)
    """
    if code_system is None:
        return True
    todo = list(code_system.get("concept") or ())
    while todo:
        concept = todo.pop()
        if not isinstance(concept, Mapping):
            continue
        if concept.get("code") == code:
            if _same_language(code_system.get("language"), language) \
                    and isinstance(concept.get("display"), str):
                return True
            return any(isinstance(d, Mapping) and _same_language(d.get("language"), language)
                       for d in array(concept.get("designation")))
        todo.extend(array(concept.get("concept")))
    return True
