"""The status a CodeSystem gives one of its concepts (R4 codesystem-concept-properties:
``status`` — active, experimental, deprecated, retired — and ``inactive``).

A deprecated code is still a valid, active code whose use is discouraged; a retired or inactive
one is no longer active. The HL7 validator reports the first as a hint (``STATUS_CODE_HINT_CODE``)
and the second as ``STATUS_CODE_WARNING_CODE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .json_values import dicts

__all__ = ["concept_status"]


def concept_status(code_system: Mapping[str, Any] | None, code: str) -> str | None:
    """The ``status`` property of ``code`` in the CodeSystem (``inactive`` when only the
    ``inactive`` property says so), or None when it states neither.

    >>> cs = {"concept": [{"code": "a", "concept": [{"code": "b", "property": [
    ...     {"code": "status", "valueCode": "deprecated"}]}]}]}
    >>> concept_status(cs, "b"), concept_status(cs, "a")
    ('deprecated', None)
    """
    todo = list((code_system or {}).get("concept") or ())
    while todo:
        concept = todo.pop()
        if not isinstance(concept, Mapping):
            continue
        if concept.get("code") == code:
            props = dicts(concept.get("property"))
            status = next((p.get("valueCode") for p in props if p.get("code") == "status"), None)
            if isinstance(status, str):
                return status
            inactive = any(p.get("code") == "inactive" and p.get("valueBoolean") is True
                           for p in props)
            return "inactive" if inactive else None
        todo.extend(concept.get("concept") or ())
    return None
