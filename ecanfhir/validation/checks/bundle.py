"""Bundle rules beyond the core invariants: fullUrl uniqueness and consistency.

R4 §3.3.1.4 (http://hl7.org/fhir/R4/bundle.html): ``fullUrl`` identifies an entry; within a
Bundle no two entries share one (unless they are versions in a history); when the fullUrl is a
RESTful URL it ends with the resource's ``Type/id``. Document and message Bundles put their
Composition / MessageHeader first; those rules are the core invariants bdl-11 and bdl-12.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._context import BundleScope, Frame
from .._issue import Issue
from .reference import LITERAL

if TYPE_CHECKING:
    from .._context import Run

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


def check_bundle(run: Run, frame: Frame) -> Iterator[Issue]:
    del run
    bundle = frame.resource
    seen: dict[tuple[str, Any], int] = {}
    for i, entry in enumerate(_entries(bundle)):
        at = f"{frame.path}.entry[{i}]"
        full_url = entry.get("fullUrl")
        resource = entry.get("resource")
        if not isinstance(full_url, str):
            continue
        version = None
        if isinstance(resource, Mapping) and isinstance(resource.get("meta"), Mapping):
            version = resource["meta"].get("versionId")
        key = (full_url, version)
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
        m = LITERAL.match(full_url)
        if m and full_url.startswith("http"):
            rt, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rid, str) and (m.group("id") != rid or m.group("type") != rt):
                yield Issue.error("invalid", f"{at}.fullUrl", f"fullUrl '{full_url}' does not "
                                  f"match the resource ({rt}/{rid}): a RESTful fullUrl ends with "
                                  "the resource's type and id", "bundle-fullurl-id")
