"""A Bundle reference with a fragment: a resource contained in the entry it names.

``urn:uuid:...#org1`` or ``Patient/1#org1`` (R4 references.html §2.3.0.4, contained resources
referenced from outside their container) names the entry by the part before ``#`` and, inside
that entry's resource, the contained resource whose id is the fragment. The HL7 validator
(``InstanceValidator.resolveInBundle``) reports a fragment that names no contained resource
of the entry (BUNDLE_BUNDLE_ENTRY_NOTFOUND_FRAGMENT) or several (BUNDLE_BUNDLE_ENTRY_FOUND_
MULTIPLE_FRAGMENT); otherwise the contained resource is the target. ecanfhir does so for an
entry that contains resources; in one that contains none the fragment is not taken as naming a
contained resource, and the reference is judged by the entry it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._issue import Issue

__all__ = ["fragment_target"]


def fragment_target(entry_resource: Mapping[str, Any], reference: str,
                    at: str) -> Mapping[str, Any] | Issue:
    """The contained resource the fragment of ``reference`` names inside ``entry_resource``,
    or the issue saying why there is none (the reference has a non-empty fragment).

    >>> entry = {"resourceType": "Patient", "contained": [{"resourceType": "Group", "id": "g"}]}
    >>> fragment_target(entry, "urn:uuid:1#g", "x")["resourceType"]
    'Group'
    """
    fragment = reference.split("#", 1)[1]
    contained = entry_resource.get("contained")
    found = [c for c in (contained if isinstance(contained, list) else [])
             if isinstance(c, Mapping) and c.get("id") == fragment]
    if len(found) == 1:
        return found[0]
    what = "no contained resource" if not found else f"{len(found)} contained resources"
    return Issue.error("not-found" if not found else "multiple-matches", at,
                       f"the reference '{reference}' names an entry of the Bundle, but its "
                       f"{entry_resource.get('resourceType')} has {what} with the id "
                       f"'{fragment}'", "reference-fragment")
