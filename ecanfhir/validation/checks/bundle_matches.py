"""Entries a Bundle reference nearly resolves to: the same type and id, another fullUrl.

R4 bundle.html §2.36.4.1 resolves a relative reference ``Type/id`` against the base of the
referring entry's RESTful fullUrl; an entry that only has that type and id is no match. When a
reference does not resolve, the HL7 validator (``BundleValidator`` / ``BaseValidator
.getFromBundle``) lists such entries, each with why it is not the target: it has no fullUrl
(BUNDLE_BUNDLE_POSSIBLE_MATCH_NO_FU), or its fullUrl is not the URL the reference resolves to
(BUNDLE_BUNDLE_POSSIBLE_MATCH_WRONG_FU), and says when there are several (BUNDLE_POSSSIBLE_
MATCHES). This module writes that list for the message of the unresolved reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._context import BundleScope

__all__ = ["possible_matches"]


def possible_matches(scope: BundleScope, alike: Sequence[Mapping[str, Any]], reference: str, *,
                     full_url: str | None) -> str:
    """``entry 2 (fullUrl '...') has that type and id, but ...`` for each entry of ``alike``.

    >>> from ecanfhir.validation._context import BundleScope
    >>> org = {"resourceType": "Organization", "id": "o"}
    >>> scope = BundleScope({"entry": [{"resource": org}]}, "Bundle")
    >>> possible_matches(scope, [org], "Organization/o", full_url="urn:uuid:1")
    'entry 0 has that type and id, but no fullUrl'
    """
    target = _target(reference, full_url)
    entry_of = _entry_index(scope)
    found = []
    for i, entry in sorted((entry_of[id(r)] for r in alike if id(r) in entry_of),
                           key=lambda pair: pair[0]):
        url = entry.get("fullUrl")
        if not isinstance(url, str):
            found.append(f"entry {i} has that type and id, but no fullUrl")
        else:
            found.append(f"entry {i} has that type and id, but its fullUrl '{url}' is not "
                         + (f"'{target}'" if target else "what the reference resolves to"))
    lead = f"{len(found)} entries match by type and id only: " if len(found) > 1 else ""
    return lead + "; ".join(found)


def _entry_index(scope: BundleScope) -> dict[int, tuple[int, Mapping[str, Any]]]:
    """Each entry's resource -> (the entry's index, the entry), built once per Bundle: a
    Bundle with many near misses is not read again for each of them."""
    if scope.entry_of is None:
        entries = scope.bundle.get("entry")
        scope.entry_of = {
            id(entry["resource"]): (i, entry)
            for i, entry in enumerate(entries if isinstance(entries, list) else [])
            if isinstance(entry, Mapping) and isinstance(entry.get("resource"), Mapping)}
    return scope.entry_of


def _target(reference: str, full_url: str | None) -> str | None:
    """The absolute URL ``Type/id`` resolves to from a RESTful fullUrl (None from a URN)."""
    if full_url is None or not full_url.startswith(("http://", "https://")):
        return None
    parts = full_url.rstrip("/").split("/")
    if len(parts) < 2:
        return None
    return "/".join(parts[:-2]) + "/" + reference
