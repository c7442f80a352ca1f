"""Documents and messages hold what their first resource leads to (R4 §3.3.1 bundle.html,
documents.html "Document Content", messaging.html "Message Content").

Starting from the Composition or MessageHeader, the entries reachable by following references
(and a document's stylesheet link) belong; an entry that only refers *to* them is tolerated
(Provenance is meant to); anything else should not be there. As the HL7 validator judges R4:

=======================================  ============================  ==================
entry                                    document                      message
=======================================  ============================  ==================
reachable from the first entry           fine                          fine
refers to reachable entries (not         warning                       information
Provenance)
neither                                  warning (*)                   warning
=======================================  ============================  ==================

(*) The HL7 validator makes this an error for documents. ecanfhir warns: a document converted
from a message (``ecanfhir.builders.to_document``) keeps the message's parties, such as the
receiving organisation, that its Composition need not name.

References are followed the way they resolve inside a Bundle (fullUrl, then type and id);
``#`` references stay inside their resource, and nested Bundles are not entered.

A relative reference in an entry resolves against the entry's fullUrl (R4 §3.3.1.4.2), so it
needs one, and it has the form ``Type/id`` or ``Type/id/_history/version``; a transaction or
batch may also use a conditional reference ``Type?search`` (http.html#trules). Otherwise it is
an error, as in the HL7 validator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._context import BundleScope, Frame
from .._issue import Issue
from .json_values import dicts
from .reference import literal, resolve_in_bundle
from .reference_query import query_problem

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_reachable_entries", "check_relative_references"]

REQUESTS = ("transaction", "batch", "transaction-response", "batch-response")

REVERSE_OK = frozenset({"Provenance"})


def _references(value: Any, found: set[str]) -> None:
    """Every reference string and every string that may name an entry, below ``value``."""
    if isinstance(value, dict):
        if value.get("resourceType") == "Bundle":
            return
        for key, item in value.items():
            if isinstance(item, str):
                if key == "reference" or ":" in item:
                    found.add(item)
            else:
                _references(item, found)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                found.add(item)
            else:
                _references(item, found)


def check_reachable_entries(bundle: Mapping[str, Any], scope: BundleScope,
                            at: str) -> Iterator[Issue]:
    """The entries of a document or message its first resource does not lead to."""
    kind = bundle.get("type")
    entries = bundle.get("entry")
    if kind not in ("document", "message") or not isinstance(entries, list):
        return
    index = {}  # id(resource) -> entry position
    for i, entry in enumerate(entries):
        if isinstance(entry, Mapping) and isinstance(entry.get("resource"), Mapping):
            index[id(entry["resource"])] = i
    if not index or 0 not in index.values():
        return
    targets = {i: _targets(entries[i], scope, index) for i in index.values()}
    visited: set[int] = set()
    _visit(0, targets, visited)
    for link in dicts(bundle.get("link")):
        if link.get("relation") == "stylesheet":
            visited.update(i for i in index.values() if _type_id(entries[i]) == link.get("url"))
    yield from _reverse(entries, targets, visited, kind, at)
    for i in sorted(set(index.values()) - visited):
        first = "Composition" if kind == "document" else "MessageHeader"
        message = (f"this entry is not reachable from the {first} by following references, so "
                   f"it does not belong in the {kind}")
        yield Issue.warning("business-rule", f"{at}.entry[{i}]", message,
                            "bundle-entry-reachable")


def _type_id(entry: Mapping[str, Any]) -> str:
    resource = entry["resource"]
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _targets(entry: Mapping[str, Any], scope: BundleScope, index: dict[int, int]) -> set[int]:
    found: set[str] = set()
    _references(entry["resource"], found)
    full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
    hits: set[int] = set()
    for reference in found:
        if reference.startswith("#"):
            continue
        for target in resolve_in_bundle(scope, reference, full_url):
            if id(target) in index:
                hits.add(index[id(target)])
    return hits


def _visit(start: int, targets: dict[int, set[int]], visited: set[int]) -> None:
    stack = [start]
    while stack:
        i = stack.pop()
        if i not in visited:
            visited.add(i)
            stack.extend(targets.get(i, ()))


def _reverse(entries: list[Any], targets: dict[int, set[int]], visited: set[int], kind: Any,
             at: str) -> Iterator[Issue]:
    """Entries that only refer to the reachable ones: admitted, and said unless Provenance."""
    found = True
    while found:
        found = False
        for i, linked in targets.items():
            if i in visited or not linked & visited:
                continue
            found = True
            if str(entries[i]["resource"].get("resourceType")) not in REVERSE_OK:
                message = ("this entry is only reachable backwards (it refers to the content, the "
                           "content does not refer to it); only Provenance is meant to be so")
                yield (Issue.warning("invalid", f"{at}.entry[{i}]", message,
                                     "bundle-entry-reachable") if kind == "document" else
                       Issue.information("informational", f"{at}.entry[{i}]", message,
                                         "bundle-entry-reachable"))
            _visit(i, targets, visited)


def _entry_frame(frame: Frame) -> Frame | None:
    f: Frame | None = frame
    while f is not None and f.bundle is None:
        f = f.parent
    return f


def check_relative_references(run: Run, frame: Frame) -> Iterator[Issue]:
    """The relative references of this Bundle's entries: resolvable, and well formed; and the
    entries a version-specific reference points to should state their version."""
    scope, kind = frame.scope, frame.resource.get("type")
    if scope is None:
        return
    yield from _unversioned_targets(run, frame, scope)
    for pending in run.references:
        entry = _entry_frame(pending.frame)
        ref = pending.reference
        if entry is None or entry.bundle is not scope or ref.startswith("#") or ":" in ref:
            continue
        if entry.full_url is None:
            if kind not in REQUESTS:
                yield Issue.error("invalid", pending.path, f"the relative reference '{ref}' "
                                  "cannot be resolved: its entry has no fullUrl",
                                  "reference-format")
            continue
        if ref.count("/") in (1, 3):
            continue
        search = kind in REQUESTS and "?" in ref and \
            run.schema.registry.is_resource_type(ref.split("?", 1)[0])
        problem = query_problem(ref) if search else None
        if problem is not None:
            yield Issue.error("invalid", pending.path, f"the conditional reference '{ref}' is "
                              f"not a valid search: {problem}", "reference-query")
        if not search:
            allowed = " or a search (Type?parameters)" if kind in REQUESTS else ""
            yield Issue.error("invalid", pending.path, f"the relative reference '{ref}' must be "
                              f"Type/id (or Type/id/_history/version){allowed}",
                              "reference-format")


def _unversioned_targets(run: Run, frame: Frame, scope: BundleScope) -> Iterator[Issue]:
    """An entry a version-specific reference (``Type/id/_history/v``) points to SHOULD carry
    ``meta.versionId``, or the reference cannot be checked against it (a warning, as in the
    HL7 validator)."""
    entries = frame.resource.get("entry")
    if not isinstance(entries, list):
        return
    said: set[int] = set()
    for pending in run.references:
        entry = _entry_frame(pending.frame)
        m = literal(pending.reference.split("#", 1)[0])
        if entry is None or entry.bundle is not scope or m is None or not m.group("version"):
            continue
        for target in resolve_in_bundle(scope, pending.reference, entry.full_url):
            meta = target.get("meta")
            if id(target) in said or (isinstance(meta, Mapping) and meta.get("versionId")):
                continue
            said.add(id(target))
            for i, item in enumerate(entries):
                if isinstance(item, Mapping) and item.get("resource") is target:
                    yield Issue.warning("business-rule", f"{frame.path}.entry[{i}].resource",
                                        f"{pending.reference} (at {pending.path}) names a version "
                                        "of this entry, which declares no meta.versionId",
                                        "bundle-entry-version")
