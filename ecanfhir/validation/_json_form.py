"""FHIR's JSON form (R4 §2.6.2, http://hl7.org/fhir/R4/json.html) as the walker reads it: what
it says of a value that is not of the JSON kind an element needs, of a property no element
defines, of a resource without a type, and how a primitive array lines up with its ``_name``
companion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..definitions.compiled import ElementNode, JsonProperty
from ._context import Run
from ._issue import Issue
from .checks.choice_types import choice_type_hint

__all__ = ["align_primitive", "beyond_id", "json_kind", "resource_among", "unknown_property",
           "untyped"]


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    if isinstance(value, list):
        return "an array"
    return "an object"


def untyped(rt: Any, path: str) -> Issue:
    """A resource without a (string) resourceType."""
    found = "no resourceType property" if rt is None else (
        f"resourceType {json_kind(rt)}, which is no type name")
    return Issue.error("required", path, f"the resource has {found}, so its type is unknown",
                       "json-form")


def unknown_property(key: str, path: str, props: Mapping[str, JsonProperty]) -> Issue:
    if key == "resourceType":
        return Issue.error("structure", f"{path}.resourceType", "resourceType is only allowed on "
                           "a resource, not inside a datatype or backbone element", "json-form")
    base = key[1:] if key.startswith("_") else key
    # The properties of the choice element named so (not of multipleBirth[x] for 'multiple').
    choices = sorted(p for p, prop in props.items() if prop.element.choice
                     and prop.element.name == base and not prop.primitive_extension)
    if base in props and key.startswith("_"):
        hint = f" ('{base}' is not a primitive, so it has no '_{base}' companion)"
    elif choices:
        hint = f" ('{base}' is a choice element: use one of {', '.join(choices[:6])}" + (
            ", ..." if len(choices) > 6 else "") + ")"
    else:
        hint = choice_type_hint(key, props)
    return Issue.error("structure", f"{path}.{key}", f"unrecognised property '{key}'{hint}",
                       "unknown-element")


def align_primitive(run: Run, element: ElementNode, key: str, value: Any, ext: Any,
                    path: str) -> list[tuple[str, Any, Any]]:
    """Zip a primitive array with its ``_name`` companion (R4 JSON §2.6.2.3)."""
    repeats = element.repeats
    if not repeats:
        for v, label in ((value, key), (ext, "_" + key)):
            if isinstance(v, list):
                run.issues.append(Issue.error("structure", path, f"'{label}' must be a single "
                                              "value, not an array (its maximum cardinality is 1)",
                                              "json-form"))
                return []
        return [(path, value, ext)]
    values = value if isinstance(value, list) else ([] if value is None else [value])
    exts = ext if isinstance(ext, list) else ([] if ext is None else [ext])
    for v, label in ((value, key), (ext, "_" + key)):
        if v is not None and not isinstance(v, list):
            run.issues.append(Issue.error("structure", path, f"'{label}' must be an array (the "
                                          "element repeats), found " + json_kind(v), "json-form"))
        elif isinstance(v, list) and not v:
            run.issues.append(Issue.error("structure", path, f"'{label}' is an empty array: "
                                          "leave the property out instead", "json-form"))
    if values and exts and len(values) != len(exts):
        run.issues.append(Issue.error("structure", path, f"'{key}' has {len(values)} item(s) but "
                                      f"'_{key}' has {len(exts)}: the arrays must align",
                                      "json-form"))
    out = []
    for i in range(max(len(values), len(exts))):
        v = values[i] if i < len(values) else None
        e = exts[i] if i < len(exts) else None
        at = f"{path}[{i}]"
        if v is None and e is None:
            run.issues.append(Issue.error("structure", at, "null is only allowed in a primitive "
                                          "array where the '_' companion has content at the same "
                                          "position", "json-form"))
            continue
        out.append((at, v, e))
    return out


def beyond_id(obj: Mapping[str, Any]) -> bool:
    """Whether an object has a property other than ``id`` (``obj.keys() - {"id"}``, no set)."""
    return len(obj) > ("id" in obj)


def resource_among(run: Run, element: ElementNode, value: Mapping[str, Any],
                   path: str) -> str | None:
    """A resource element narrowed to several resource types (``Bundle.entry.resource`` sliced
    by type, each slice a resource type): the resource's own type, "" (reported) when it is
    none of them, None when the element is not such an element."""
    allowed = element.type_codes()
    if not all(run.schema.registry.is_resource_type(t) for t in allowed):
        return None
    rt = value.get("resourceType")
    if isinstance(rt, str) and rt in allowed:
        return rt
    if not isinstance(rt, str) or not rt:
        # What the core definition's walk finds in it (a Resource): this walk may stand in
        # for that one (see walk_resource).
        run.issues.append(untyped(rt, path))
    shown = rt if isinstance(rt, str) else json_kind(rt)
    run.issues.append(Issue.error("structure", path, f"expected one of {', '.join(allowed)} "
                                  f"here, found {shown}", "resource-type"))
    return ""
