"""The FHIR-specific FHIRPath functions, as a fhirpathpy ``userInvocationTable``.

FHIR adds functions to FHIRPath (R4 fhirpath.html, "Additional functions"):
``resolve()``, ``extension(url)``, ``hasValue()``, ``getValue()``, ``htmlChecks()``,
``conformsTo()``, ``memberOf()``. fhirpathpy 2.2 has none but ``extension``, which returns
only the first match. A few built-ins are replaced too: ``children()`` (which skips
``_x``-only primitives, so ``ele-1`` failed on them), ``trace()`` (which prints), and
``as``/``is``/``ofType`` (``as()`` on a collection filters, as the ``dom-3`` invariant and the
HL7 validator expect; a value with its ``_x`` half counts as one item).

Entries follow fhirpathpy's table format: ``fn(ctx, input_nodes, *params)`` plus an
``arity`` map from parameter count to parameter kinds (see
``fhirpathpy/engine/invocations/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .html_checks import html_checks
from .model import (
    CONTEXT_TYPE,
    ENV_KEY,
    FHIR_FUNCTIONS,
    EvalEnv,
    child_path,
    contained,
    is_primitive_value,
    is_subtype,
)
from .nodes import get_data, is_companion, make_node, type_info

__all__ = ["FUNCTIONS"]


def _values(coll: list[Any]) -> list[Any]:
    return [node for node in coll if not is_companion(node)]


def _single(coll: list[Any], what: str) -> Any:
    """The one item of a collection, a primitive's value and ``_x`` halves counting as one."""
    values = _values(coll)
    if len(values) > 1:
        raise ValueError(f"{what} expects a single item, got {len(values)}")
    if values:
        return values[0]
    return coll[0] if coll else None


def _env(ctx: Mapping[str, Any]) -> EvalEnv:
    env: EvalEnv = ctx[ENV_KEY]
    return env


def has_value(ctx: Any, coll: list[Any]) -> bool:
    values = _values(coll)
    return len(values) == 1 and is_primitive_value(get_data(values[0]))


def get_value(ctx: Any, coll: list[Any]) -> Any:
    values = _values(coll)
    if len(values) == 1 and is_primitive_value(get_data(values[0])):
        return get_data(values[0])
    return []


def html_checks_fn(ctx: Any, coll: list[Any]) -> Any:
    values = _values(coll)
    if len(values) != 1:
        return []
    div = get_data(values[0])
    return isinstance(div, str) and html_checks(div)


def resolve(ctx: Any, coll: list[Any]) -> list[Any]:
    env = _env(ctx)
    found = []
    for node in _values(coll):
        data = get_data(node)
        ref = data.get("reference") if isinstance(data, Mapping) else data
        if not isinstance(ref, str) or not ref:
            continue
        target = None
        if ref.startswith("#") and len(ref) > 1:  # contained (R4 references.html#contained)
            target = contained(env.resource, ref[1:]) or contained(env.root_resource, ref[1:])
        if target is None and env.resolve is not None:
            target = env.resolve(ref)
        if target is not None:
            found.append(make_node(target))
    return found


def conforms_to(ctx: Any, coll: list[Any], url: Any) -> Any:
    env = _env(ctx)
    node = _single(coll, "conformsTo()")
    data = get_data(node)
    if not isinstance(url, str) or env.conforms_to is None or not isinstance(data, Mapping):
        return []
    answer = env.conforms_to(data, url)
    return [] if answer is None else answer


def member_of(ctx: Any, coll: list[Any], url: Any) -> Any:
    env = _env(ctx)
    node = _single(coll, "memberOf()")
    if not isinstance(url, str) or env.member_of is None or node is None:
        return []
    answer = env.member_of(get_data(node), url)
    return [] if answer is None else answer


def extension(ctx: Any, coll: list[Any], url: Any) -> list[Any]:
    found = []
    for node in coll:
        data = get_data(node)
        exts = data.get("extension") if isinstance(data, Mapping) else None
        for ext in exts if isinstance(exts, list) else ():
            if isinstance(ext, Mapping) and ext.get("url") == url:
                found.append(make_node(ext, "Extension"))
    return found


def trace(ctx: Any, coll: list[Any], *_: Any) -> list[Any]:
    return coll  # a validator has no console to trace to


def children(ctx: Any, coll: list[Any]) -> list[Any]:
    """Child nodes: every JSON property but ``resourceType``, ``_x`` halves included."""
    found = []
    for node in coll:
        parent = make_node(node)
        if not isinstance(parent.data, Mapping):
            continue
        for key, value in parent.data.items():
            if key == "resourceType":
                continue
            path = child_path(parent.path, key.removeprefix("_"))
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    found.append(make_node(item, path))
    return found


def _is(node: Any, wanted: Any) -> bool:
    info = type_info(node)
    return info is not None and bool(info.is_(wanted))


def as_fn(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    return [node for node in _values(coll) if _is(node, wanted)]


def as_op(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    node = _single(coll, "as")
    return [node] if node is not None and _is(node, wanted) else []


def is_op(ctx: Any, coll: list[Any], wanted: Any) -> Any:
    node = _single(coll, "is")
    return [] if node is None else _is(node, wanted)


def of_type(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    return [node for node in coll if _is(node, wanted)]


def context_type(ctx: Any, coll: list[Any], name: Any) -> list[Any]:
    """The items of type ``name`` or a subtype of it (a type name as first step, FHIRPath
    §4.1): ``Patient`` keeps a Patient, ``DomainResource`` any resource but Bundle, Binary and
    Parameters; an item of unknown type is dropped."""
    return [node for node in coll if is_subtype(getattr(node, "path", None), name)]


_IMPLEMENTATIONS: Mapping[str, Any] = {
    "hasValue": has_value,
    "getValue": get_value,
    "htmlChecks": html_checks_fn,
    "resolve": resolve,
    "conformsTo": conforms_to,
    "memberOf": member_of,
    "extension": extension,
    "trace": trace,
    "children": children,
    "as": as_fn,
    "is": is_op,
    "asOp": as_op,
    "isOp": is_op,
    "ofType": of_type,
    CONTEXT_TYPE: context_type,
}

# fhirpathpy's table format: the function, and its arities with their parameter kinds (the
# arities are declared once, in ``model.FHIR_FUNCTIONS``, where compiling reads them).
FUNCTIONS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    name: {"fn": _IMPLEMENTATIONS[name]} if arity is None
    else {"fn": _IMPLEMENTATIONS[name], "arity": arity}
    for name, arity in FHIR_FUNCTIONS.items()
})
