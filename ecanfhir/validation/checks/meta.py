"""Resource metadata (R4 resource.html#Meta): a security label is stated once.

``Meta.security`` lists the security labels that apply to the resource; the same label
(system and code) twice says nothing more and usually betrays a merge gone wrong, so it is
reported, as the HL7 validator does (a warning here: the resource is still usable).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._issue import Issue

__all__ = ["check_meta"]


def check_meta(meta: Any, at: str) -> Iterator[Issue]:
    """Security labels given more than once."""
    labels = meta.get("security") if isinstance(meta, dict) else None
    if not isinstance(labels, list):
        return
    seen: set[tuple[Any, Any]] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, Mapping) or not isinstance(label.get("code"), str) \
                or not isinstance(label.get("system"), str | None):
            continue  # (the walker reports a system or code of another type)
        key = (label.get("system"), label.get("code"))
        if key in seen:
            yield Issue.warning("duplicate", f"{at}.security[{i}]", f"the security label "
                                f"{key[0] or ''}#{key[1]} is already given", "meta-security")
        seen.add(key)
