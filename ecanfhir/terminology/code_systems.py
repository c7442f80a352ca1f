"""CodeSystems indexed for ValueSet expansion (FHIR R4 §4.8, CodeSystem).

A CodeSystem resource becomes a :class:`CodeSystemIndex`: its concepts by code (lower-cased when
the system is case-insensitive), the hierarchy given by nesting or by the ``parent``/``child``
properties, concept properties and designations. ``filter_keys`` evaluates a ``compose``
filter (``is-a``, ``descendent-of``, ``generalizes``, ``=``, ``in``, ``regex``, property filters) on
such an index, as http://hl7.org/fhir/R4/valueset.html#compose describes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._frozen import frozen

__all__ = ["CodeSystemIndex", "Concept", "dicts", "filter_keys", "index_code_system", "strings",
           "text"]

_INACTIVE_STATUS = frozenset({"retired", "inactive", "deprecated"})
# Concept properties the embedded core keeps (the rest were trimmed), so filters on them work.
_KEPT_PROPERTIES = frozenset({"status", "notSelectable", "abstract", "deprecated", "inactive"})
_FALSE_BY_DEFAULT = frozenset({"notSelectable", "abstract", "inactive"})


@frozen
class Concept:
    """A code as its code system defines it (or as a value set lists it)."""

    system: str
    code: str
    display: str | None = None
    version: str | None = None
    abstract: bool = False  # notSelectable/abstract: groups codes, not meant for data
    inactive: bool = False  # status retired/inactive/deprecated



@frozen
class CodeSystemIndex:
    url: str
    version: str | None
    content: str
    case_sensitive: bool
    concepts: dict[str, Concept]  # key (code, lower-cased if case-insensitive) -> concept
    children: dict[str, list[str]]
    parents: dict[str, list[str]]
    properties: dict[str, dict[str, tuple[str, ...]]]
    designations: dict[str, tuple[str, ...]]
    declared: frozenset[str]  # property codes the CodeSystem defines

    @property
    def complete(self) -> bool:
        return self.content == "complete"

    def key(self, code: str) -> str:
        return code if self.case_sensitive else code.lower()

    def related(self, key: str, links: dict[str, list[str]]) -> list[str]:
        """Keys reachable from ``key`` through ``links`` (children or parents), without it."""
        seen, found, todo = {key}, [], [key]
        while todo:
            for nxt in links.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    found.append(nxt)
                    todo.append(nxt)
        return found


def dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _property_values(concept: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    props = concept.get("property")
    if not isinstance(props, list):
        return found
    for prop in props:
        name = prop.get("code") if isinstance(prop, dict) else None
        if not isinstance(name, str):
            continue
        code = prop.get("valueCode")
        if type(code) is str and len(prop) == 2:
            # the usual shape, {"code": ..., "valueCode": ...}: what the loop below finds in it
            found[name] = (*found[name], code) if name in found else (code,)
            continue
        for k, value in prop.items():
            if not k.startswith("value"):
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dict):  # valueCoding
                value = value.get("code")
            if isinstance(value, str | int | float):
                found[name] = (*found.get(name, ()), str(value))
    return found


def index_code_system(url: str, resource: Mapping[str, Any]) -> CodeSystemIndex:
    """Index a CodeSystem's concepts, nested ones included (thousands in HL7 Terminology's
    largest, indexed when a value set first needs them: kept lean)."""
    case_sensitive = resource.get("caseSensitive") is not False  # absent: treat as sensitive
    version = text(resource.get("version"))
    cs = CodeSystemIndex(
        url, version, text(resource.get("content")) or "complete", case_sensitive, {}, {}, {},
        {}, {}, frozenset(p["code"] for p in dicts(resource.get("property"))
                          if isinstance(p.get("code"), str)))
    concepts, properties, designations = cs.concepts, cs.properties, cs.designations
    children, parents = cs.children, cs.parents

    def link(parent: str, child: str) -> None:
        below = children.setdefault(parent, [])
        if child not in below:
            below.append(child)
            parents.setdefault(child, []).append(parent)

    todo: list[tuple[dict[str, Any], str | None]] = [
        (c, None) for c in reversed(dicts(resource.get("concept")))]
    while todo:
        raw, parent = todo.pop()
        code = raw.get("code")
        if not isinstance(code, str):
            continue
        key = code if case_sensitive else code.lower()
        props = _property_values(raw)
        if key not in concepts:
            concepts[key] = Concept(
                url, code, text(raw.get("display")), version,
                abstract="true" in props.get("notSelectable", ()) + props.get("abstract", ()),
                inactive=bool(_INACTIVE_STATUS.intersection(props.get("status", ())))
                or "true" in props.get("inactive", ()))
            properties[key] = props
            designations[key] = tuple(d["value"] for d in dicts(raw.get("designation"))
                                      if isinstance(d.get("value"), str)) \
                if "designation" in raw else ()
        if parent is not None:
            link(parent, key)
        # Hierarchies may also be given by properties (R4 CodeSystem §4.8.10 "parent"/"child").
        if props:
            for up in props.get("parent", ()) + props.get("subsumedBy", ()):
                link(cs.key(up), key)
            for down in props.get("child", ()):
                link(key, cs.key(down))
        nested = raw.get("concept")
        if nested:
            todo.extend((c, key) for c in reversed(dicts(nested)))
    return cs


def _concept_filter(cs: CodeSystemIndex, op: str, value: str) -> set[str] | None:
    key = cs.key(value)
    known = key in cs.concepts
    if op == "is-a":
        return {key, *cs.related(key, cs.children)} if known else set()
    if op == "descendent-of":
        return set(cs.related(key, cs.children))
    if op == "is-not-a":
        return set(cs.concepts) - {key, *cs.related(key, cs.children)}
    if op == "generalizes":
        return {key, *cs.related(key, cs.parents)} if known else set()
    if op == "=":
        return {key} if known else set()
    if op in ("in", "not-in"):
        listed = {cs.key(v.strip()) for v in value.split(",")} & cs.concepts.keys()
        return listed if op == "in" else set(cs.concepts) - listed
    if op == "regex":
        try:
            pattern = re.compile(value)
        except re.error:
            return None
        return {k for k, c in cs.concepts.items() if pattern.fullmatch(c.code)}
    return None


def _property_filter(cs: CodeSystemIndex, prop: str, op: str, value: str) -> set[str] | None:
    if op not in ("=", "in", "not-in", "exists", "regex"):
        return None
    try:
        pattern = re.compile(value) if op == "regex" else None
    except re.error:
        return None
    wanted = {v.strip() for v in value.split(",")} if op in ("in", "not-in") else {value}

    def match(key: str) -> bool:
        found = cs.properties[key].get(prop, ())
        if op == "exists":
            return bool(found) == (value == "true")
        # Boolean flags such as notSelectable are false on concepts that do not state them.
        found = found or (("false",) if prop in _FALSE_BY_DEFAULT else ())
        if pattern is not None:
            return any(pattern.fullmatch(v) for v in found)
        return bool(wanted.intersection(found)) != (op == "not-in")

    return {key for key in cs.concepts if match(key)}


def filter_keys(cs: CodeSystemIndex, flt: Mapping[str, Any]) -> set[str] | None:
    """The keys a compose filter selects, or None when it cannot be evaluated here."""
    prop, op, value = text(flt.get("property")), text(flt.get("op")), text(flt.get("value"))
    if prop is None or op is None or value is None:
        return None
    if prop in ("concept", "code"):
        return _concept_filter(cs, op, value)
    if prop in _KEPT_PROPERTIES or prop in cs.declared:
        return _property_filter(cs, prop, op, value)
    return None
