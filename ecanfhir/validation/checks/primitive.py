"""Primitive values: JSON type, the spec's regexes, ranges (R4 §2.24.0.1), and id rules; then
what a valid value may still get wrong (URIs: checks/uri.py; text: checks/text.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..._primitives import check_primitive
from ..._schema import ElementNode, TypeRef
from .._issue import Issue
from .element_limits import check_base64_whitespace
from .text import check_text
from .uri import URI_TYPES, check_uri_value

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_primitive_value"]


def check_primitive_value(run: Run, element: ElementNode, type_ref: TypeRef, value: Any,
                          at: str) -> Issue | None:
    """The first problem with a primitive value, or None (this runs on every primitive)."""
    code = type_ref.code
    # Resource.id is declared as System.String in the R4 snapshots, but its datatype is `id`
    # (R4 §2.36.0.1 "Resource.id ... id"), so the id rules apply to it.
    if element.name == "id" and element.path.count(".") == 1 and code == "string" \
            and _is_resource_path(run, element.path):
        code = "id"
    problem = check_primitive(code, value)
    if problem is not None:
        return Issue(problem.severity, problem.code, at, problem.message, f"type-{code}")
    if element.max_length is not None and isinstance(value, str) \
            and len(value) > element.max_length:
        return Issue.error("too-long", at, f"value is {len(value)} characters long, more than "
                           f"the maximum length {element.max_length}", "max-length")
    if code == "base64Binary":
        return check_base64_whitespace(value, at)
    if code in URI_TYPES and isinstance(value, str):
        defines = element.name == "url" and element.path.count(".") == 1 \
            and _is_resource_path(run, element.path)
        targets = type_ref.target_types if code == "canonical" \
            and element.base_path != "Meta.profile" else ()
        return check_uri_value(element.base_path, code, value, at, defines_canonical=defines,
                               canonical_type=_resource_type_of(run), targets=targets)
    if isinstance(value, str):
        return check_text(code, value, at)
    return None


def _is_resource_path(run: Run, path: str) -> bool:
    return run.schema.registry.is_resource_type(path.split(".", 1)[0])


def _resource_type_of(run: Run) -> Callable[[str], str | None]:
    def resource_type(canonical: str) -> str | None:
        found = run.schema.registry.get(canonical)
        rt = found.get("resourceType") if found is not None else None
        return rt if isinstance(rt, str) else None
    return resource_type
