"""Bundle rules beyond the core invariants: fullUrl uniqueness and consistency.

R4 §3.3.1.4 (http://hl7.org/fhir/R4/bundle.html): ``fullUrl`` identifies an entry; within a
Bundle no two entries share one (unless they are versions in a history); when the fullUrl is a
RESTful URL it ends with the resource's ``Type/id`` (so the resource has an id). Except in
transactions and batches (whose entries are created by the server), every entry has a fullUrl
(R4 §3.3.1.4 "fullUrl ... SHALL be present", as the HL7 validator reads it). Document and
message Bundles have at least one entry and put their Composition / MessageHeader first; those
rules are the core invariants bdl-11 and bdl-12, which say nothing of an empty Bundle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._context import BundleScope, Frame
from .._issue import Issue
from .reference import literal

__all__ = ["check_bundle", "scope_of"]


def scope_of(frame: Frame) -> BundleScope:
    """The entry index of the Bundle in ``frame`` (built once per Bundle)."""
    if frame.scope is not None:
        return frame.scope
    scope = BundleScope(frame.resource, frame.path)
    for entry in _entries(frame.resource):
        resource = entry.get("resource")
        if not isinstance(resource, Mapping):
            continue
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            scope.by_full_url.setdefault(full_url, []).append(resource)
            scope.full_url_of[id(resource)] = full_url
        rt, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(rt, str) and isinstance(rid, str):
            scope.by_type_id.setdefault((rt, rid), []).append(resource)
    frame.scope = scope
    return scope


def _entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


OPTIONAL_FULL_URL = ("transaction", "transaction-response", "batch", "batch-response")


def check_bundle(frame: Frame) -> Iterator[Issue]:
    bundle = frame.resource
    kind = bundle.get("type")
    entries = _entries(bundle)
    if not entries and kind in ("document", "message") and "entry" not in bundle:
        yield Issue.error("invalid", frame.path, f"a {kind} Bundle has at least one entry (its "
                          f"{'Composition' if kind == 'document' else 'MessageHeader'})",
                          "bundle-first-entry")
    seen: dict[tuple[str, Any], int] = {}
    for i, entry in enumerate(entries):
        at = f"{frame.path}.entry[{i}]"
        full_url = entry.get("fullUrl")
        resource = entry.get("resource")
        if full_url is None and isinstance(kind, str) and kind not in OPTIONAL_FULL_URL:
            yield Issue.error("invalid", at, "except in transactions and batches, each entry has "
                              "a fullUrl, the identity of its resource", "bundle-fullurl-required")
        if not isinstance(full_url, str):
            continue
        version = None
        if isinstance(resource, Mapping) and isinstance(resource.get("meta"), Mapping):
            version = resource["meta"].get("versionId")
        # (a versionId of another JSON type, reported by the walker, compares as its text)
        key = (full_url, version if version is None or isinstance(version, str) else str(version))
        if key in seen and bundle.get("type") != "history":
            yield Issue.error("duplicate", f"{at}.fullUrl", f"fullUrl '{full_url}' is also used by "
                              f"entry[{seen[key]}]: each entry needs its own fullUrl",
                              "bundle-fullurl-unique")
        seen.setdefault(key, i)
        if not isinstance(resource, Mapping):
            continue
        if ":" not in full_url:
            yield Issue.error("invalid", f"{at}.fullUrl", f"the fullUrl must be an absolute URL "
                              f"(not '{full_url}')", "bundle-fullurl-absolute")
        m = literal(full_url)
        if m and full_url.startswith("http"):
            rt, rid = resource.get("resourceType"), resource.get("id")
            if rid is None:
                yield Issue.error("invalid", f"{at}.fullUrl", f"fullUrl '{full_url}' is a RESTful "
                                  f"URL, so the resource needs the id it names ({m.group('id')})",
                                  "bundle-fullurl-id")
            elif isinstance(rid, str) and (m.group("id") != rid or m.group("type") != rt):
                yield Issue.error("invalid", f"{at}.fullUrl", f"fullUrl '{full_url}' does not "
                                  f"match the resource ({rt}/{rid}): a RESTful fullUrl ends with "
                                  "the resource's type and id", "bundle-fullurl-id")
        yield from _canonical_full_url(resource, full_url, at)


def _canonical_full_url(resource: Mapping[str, Any], full_url: str, at: str) -> Iterator[Issue]:
    """A definition whose canonical url is its entry's fullUrl: then that url is where it
    lives, so it ends with the resource's id (v2 and v3 code system URLs excepted)."""
    url, rid = resource.get("url"), resource.get("id")
    if url != full_url or not isinstance(rid, str) or \
            full_url.startswith(("http://terminology.hl7.org/CodeSystem/v2-",
                                 "http://terminology.hl7.org/CodeSystem/v3-")):
        return
    m = literal(full_url)
    if m is None or m.group("id") != rid:
        yield Issue.error("invalid", f"{at}.fullUrl", f"the canonical url '{url}' is also the "
                          f"fullUrl, so it must end with the resource's id ({rid})",
                          "bundle-fullurl-id")
