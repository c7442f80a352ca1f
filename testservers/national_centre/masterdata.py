"""Master data of accepted messages: one Organization per SOR number, not one per message.

Every pilot message carries its sender and receiver as Organization entries with fresh ids.
Stored as they come, the centre would hold a copy of each hospital department per message;
a national registry holds one. So, as a FHIR conditional update by identifier
(``PUT Organization?identifier=urn:oid:1.2.208.176.1.1|SOR``, R4 http.html §3.1.0.4.3):

===============================  ==========================================================
stored Organization with the SOR  what is stored for the message's Organization
===============================  ==========================================================
none                             the Organization, under its own id (it becomes the record)
one, same content                nothing: the stored one is referenced
one, changed content             a new version of the stored one (its id, the new content)
===============================  ==========================================================

References of the message's other resources (already ``Organization/<message id>``) are
rewritten to the stored id. The Bundle itself (the message as received) and the
acknowledgement are kept as they are. Organizations without a SOR identifier are stored as
before. The store calls :func:`master_data` inside the transaction that stores the message,
where the identifier is locked (SQLite's write lock, PostgreSQL's ``identifier:`` advisory
lock, which that store takes for every identifier of the message's resources before its first
check), so two messages naming one new department store one Organization.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .storage import (
    SearchQuery,
    Serialised,
    TokenParam,
    Transaction,
    compact_json,
    texts_rewritten,
)

__all__ = ["SOR_SYSTEM", "master_data"]

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"


def master_data(resources: Sequence[Serialised], tx: Transaction) -> list[Serialised]:
    """``resources`` of one message as they are to be stored (see the module docstring), each
    with its text."""
    renamed: dict[str, str] = {}
    unchanged: set[int] = set()
    out: list[Serialised] = list(resources)
    seen: dict[str, str] = {}
    for number, item in enumerate(resources):
        sor = _sor(item.like)      # identifiers are no references: the same after rewrites
        if sor is None:
            continue
        resource = item.resource
        if seen.get(sor):   # a second Organization with the SOR number in this message
            stored_id = seen[sor]
            current = tx.read("Organization", stored_id)
        else:               # the stored one and its JSON, in one search
            current = next(iter(tx.search(_by_sor(sor)).resources), None)
            if current is None:
                seen[sor] = str(resource["id"])
                continue
            stored_id = seen[sor] = current.id
        if stored_id != resource["id"]:
            renamed[f"Organization/{resource['id']}"] = f"Organization/{stored_id}"
        update = {**resource, "id": stored_id}
        if current is not None and _content(json.loads(current.json)) == _content(update):
            unchanged.add(number)
        elif stored_id != resource["id"]:       # else update is item.resource, text and all
            out[number] = Serialised(update, compact_json(update))
    kept = [r for n, r in enumerate(out) if n not in unchanged]
    rewritten = iter(texts_rewritten(     # the Bundle, the message as received, as it is
        [r for r in kept if r.like.get("resourceType") != "Bundle"], renamed))
    return [r if r.like.get("resourceType") == "Bundle" else next(rewritten) for r in kept]


def _sor(resource: Mapping[str, Any]) -> str | None:
    if resource.get("resourceType") != "Organization" or not isinstance(resource.get("id"), str):
        return None
    identifiers = resource.get("identifier")
    for ident in identifiers if isinstance(identifiers, list) else ():
        if isinstance(ident, dict) and ident.get("system") == SOR_SYSTEM and isinstance(
                ident.get("value"), str) and ident["value"]:
            return str(ident["value"])
    return None


def _by_sor(sor: str) -> SearchQuery:
    return SearchQuery("Organization", tokens=(("identifier", (TokenParam(SOR_SYSTEM, sor),)),),
                       count=1)


def _content(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}
