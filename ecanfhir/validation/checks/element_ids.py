"""Element ids within one resource (R4 §2.24.0.5 "Element.id": "unique id for the element within
a resource (for internal references)").

Every ``id`` of an element (not the resource's own ``id``, and not those of contained or
Bundle-entry resources, which are resources of their own) must differ from every other in the
same resource. The HL7 validator reports a repeated one as an error (``DUPLICATE_ID``) at the
element that repeats it; so does ecanfhir.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from .._issue import Issue

__all__ = ["check_element_id"]


def check_element_id(seen: MutableMapping[str, str], value: object, at: str) -> Issue | None:
    """An error when ``value``, the id of the element at ``at``, was already used by another
    element of the same resource; ``seen`` maps each id met so far to its element's path.

    >>> seen = {}
    >>> check_element_id(seen, "n1", "Patient.name[0]") is None
    True
    >>> check_element_id(seen, "n1", "Patient.name[0]") is None  # the same element again
    True
    >>> check_element_id(seen, "n1", "Patient.identifier[0]").rule
    'element-id-unique'
    """
    if not isinstance(value, str) or not value:
        return None
    first = seen.setdefault(value, at)
    if first == at:
        return None
    return Issue.error("business-rule", at, f"duplicate id value '{value}': the element at "
                       f"{first} has the same id, and element ids are unique within a resource",
                       "element-id-unique")
