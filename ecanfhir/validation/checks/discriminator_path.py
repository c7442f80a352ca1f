"""Discriminator paths of a validated profile: does each one lead somewhere in each slice?

R4 §5.1.0.14 (http://hl7.org/fhir/R4/profiling.html#discriminator): a discriminator ``path`` is
a restricted FHIRPath, names separated by dots plus ``extension('url')``, ``resolve()`` and
``ofType(Type)``, evaluated on the *definitions*: from the slice, through its children in the
profile's snapshot, else through the definition of its one type (or type profile). The HL7
Java validator (``FHIRPathEngine.evaluateDefinition``) refuses a path it cannot follow; so does
this module, step by step:

===================================  ======================================================
step                                 refused when (error, at the slice)
===================================  ======================================================
anything                             a group ``( )``, a constant, another function
a name                               no such child; a child to find in a type, but the
                                     element has no type, several, or several profiles
``extension('url')``                 no extension slice of the profile has that definition
``resolve()``                        no type, several, not a Reference (its one target
                                     profile not loaded: warning)
``ofType(T)``                        no type, several, a type without code
===================================  ======================================================

What cannot be looked into (a type or profile not loaded) ends the walk without an issue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..._frozen import frozen
from ...definitions.registry import Registry
from .._issue import Issue
from .json_values import array, dicts

__all__ = ["discriminator_path_issues"]

_RULE = "sd-discriminator-path"
_FUNCTION = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$")
_CORE = "http://hl7.org/fhir/StructureDefinition/"


class _Refused(Exception):
    """The path cannot be followed (the message says why)."""


class _Unknown(Exception):
    """The walk reaches what is not loaded: nothing more can be said."""


@frozen
class _Focus:
    elements: Sequence[Mapping[str, Any]]  # the snapshot the element belongs to
    element: Mapping[str, Any]


def discriminator_path_issues(path: str, slice_: Mapping[str, Any],
                              snapshot: Sequence[Mapping[str, Any]], at: str, *,
                              registry: Registry) -> Iterator[Issue]:
    """Follow ``path`` from ``slice_`` (an element of ``snapshot``); an issue if it fails."""
    try:
        _walk(path, _Focus(snapshot, slice_), registry)
    except _Refused as exc:
        yield Issue.error("invalid", at, f"the discriminator path '{path}' cannot be followed "
                          f"in the slice '{slice_.get('sliceName')}': {exc}", _RULE)
    except _Unknown as exc:
        if str(exc):
            yield Issue.warning("not-found", at, f"the discriminator path '{path}' was not "
                                f"checked in the slice '{slice_.get('sliceName')}': {exc}",
                                _RULE)


def _walk(path: str, focus: _Focus, registry: Registry) -> None:
    steps = _steps(path)
    for number, step in enumerate(steps, start=1):
        if step == "$this":
            continue
        if step.startswith("(") or step[:1] in "'\"0123456789%@":
            raise _Refused(f"'{step}' is a {'group' if step[:1] == '(' else 'constant'}, "
                           "not a step")
        call = _FUNCTION.match(step)
        if call is None:
            focus = _child(focus, step, registry)
        elif call.group(1) == "extension":
            focus = _extension(focus, call.group(2).strip().strip("'\""), registry)
        elif call.group(1) == "resolve" and not call.group(2).strip():
            focus = _resolve(focus, registry, last=number == len(steps))
        elif call.group(1) == "ofType":
            _one_type(focus, "ofType()")
        else:
            raise _Refused(f"{call.group(1)}() is not allowed in a discriminator")


def _steps(path: str) -> list[str]:
    """Split at the dots outside parentheses and quotes."""
    steps, depth, quote, current = [], 0, "", ""
    for char in path:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "." and depth == 0:
            steps.append(current)
            current = ""
            continue
        current += char
    steps.append(current)
    if depth != 0 or quote or any(not s for s in steps):
        raise _Refused("it is not a well-formed path")
    return steps


def _children(focus: _Focus) -> list[Mapping[str, Any]]:
    """The direct children of the focus element in its snapshot (not slices of them)."""
    element_id, path = str(focus.element.get("id") or ""), str(focus.element.get("path") or "")
    found = [e for e in focus.elements if isinstance(e.get("id"), str)
             and str(e["id"]).startswith(element_id + ".")
             and "." not in str(e["id"])[len(element_id) + 1:]
             and ":" not in str(e["id"])[len(element_id) + 1:]] if element_id else []
    return found or [e for e in focus.elements if str(e.get("path") or "").startswith(path + ".")
                     and "." not in str(e.get("path"))[len(path) + 1:]
                     and "sliceName" not in e]


def _named(children: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for child in children:
        last = str(child.get("path") or "").rsplit(".", 1)[-1]
        if last == name or (last.endswith("[x]") and (
                name == last[:-3] or (name.startswith(last[:-3])
                                      and name[len(last) - 3:len(last) - 2].isupper()))):
            return child
    return None


def _child(focus: _Focus, name: str, registry: Registry) -> _Focus:
    children = _children(focus)
    if not children:
        focus = _into_type(focus, registry)
        children = _children(focus)
    child = _named(children, name)
    if child is None:
        raise _Refused(f"{focus.element.get('path')} has no element '{name}'")
    return _Focus(focus.elements, child)


def _into_type(focus: _Focus, registry: Registry) -> _Focus:
    """The root of the definition of the focus's one type (its profile, if it names one)."""
    reference = focus.element.get("contentReference")
    if isinstance(reference, str) and "#" in reference:
        target = next((e for e in focus.elements
                       if e.get("id") == reference.split("#", 1)[1]), None)
        if target is None:
            raise _Unknown("")
        return _Focus(focus.elements, target)
    type_ref = _one_type(focus, "a path into its children")
    profiles = [p for p in array(type_ref.get("profile")) if isinstance(p, str)]
    if len(profiles) > 1:
        raise _Refused(f"{focus.element.get('path')} has several type profiles")
    code = str(type_ref.get("code"))
    definition = registry.structure_definition(profiles[0]) if profiles else None
    if definition is None or "snapshot" not in definition:
        # a profile only narrows its type: the type's definition has the same names
        definition = registry.type_definition(code) if ":" not in code else None
    return _root(definition)


def _root(definition: Mapping[str, Any] | None) -> _Focus:
    snapshot = definition.get("snapshot") if definition is not None else None
    elements = snapshot.get("element") if isinstance(snapshot, Mapping) else None
    if not isinstance(elements, list) or not elements or not isinstance(elements[0], Mapping):
        raise _Unknown("")
    return _Focus([e for e in elements if isinstance(e, Mapping)], elements[0])


def _one_type(focus: _Focus, what: str) -> Mapping[str, Any]:
    types = dicts(focus.element.get("type"))
    path = focus.element.get("path")
    if not types:
        raise _Refused(f"{path} has no type, so {what} cannot be followed")
    if len(types) > 1:
        raise _Refused(f"{path} has several types, so {what} cannot be followed")
    if not isinstance(types[0].get("code"), str):
        raise _Refused(f"the type of {path} has no code")
    return types[0]


def _extension(focus: _Focus, url: str, registry: Registry) -> _Focus:
    children = _children(focus)
    if not children:
        raise _Unknown("")
    path = str(focus.element.get("path"))
    candidates = [e for e in focus.elements if e.get("path") == path + ".extension"
                  and isinstance(e.get("sliceName"), str)
                  and str(e.get("id") or "").startswith(str(focus.element.get("id")) + ".")]
    for candidate in candidates:
        for type_ref in dicts(candidate.get("type")):
            for profile in array(type_ref.get("profile")):
                if isinstance(profile, str) and _is_or_derives(profile, url, registry):
                    return _Focus(focus.elements, candidate)
    raise _Refused(f"{path} has no extension slice for {url}")


def _is_or_derives(profile: str, url: str, registry: Registry) -> bool:
    seen: set[str] = set()
    current: str | None = profile.split("|", 1)[0]
    while current and current not in seen and current != _CORE + "Extension":
        if current == url.split("|", 1)[0]:
            return True
        seen.add(current)
        definition = registry.structure_definition(current)
        base = definition.get("baseDefinition") if definition is not None else None
        current = base if isinstance(base, str) else None
    return False


def _resolve(focus: _Focus, registry: Registry, *, last: bool) -> _Focus:
    type_ref = _one_type(focus, "resolve()")
    if type_ref.get("code") != "Reference":
        raise _Refused(f"{focus.element.get('path')} is a {type_ref.get('code')}, not a "
                       "Reference, so resolve() cannot be used")
    targets = [t for t in array(type_ref.get("targetProfile")) if isinstance(t, str)]
    if len(targets) > 1 and not last:
        # the path goes on into the target, but which one? (HL7 FHIRPathEngine
        # .evaluateDefinition: FHIRPATH_RESOLVE_DISCRIMINATOR_NO_TARGET)
        raise _Refused(f"{focus.element.get('path')} has several target profiles, so the "
                       "path cannot be followed after resolve()")
    if len(targets) != 1:
        raise _Unknown("")  # any resource, or one of several: each is tried when matching
    definition = registry.structure_definition(targets[0])
    if definition is None:
        raise _Unknown(f"the target profile {targets[0]} is not loaded")
    return _root(definition)
