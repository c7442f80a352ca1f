"""The FHIRPath functions of the fast path that take no expression to compile (FHIRPath §5):
``empty()``, ``count()``, ``not()``, ``hasValue()``, ``first()``, ``length()``, ``toInteger()``,
``toString()``, ``resolve()``, the type functions (``is()``, ``as()``, ``ofType()``),
``isDistinct()`` and the Boolean aggregates (``allTrue()``…).

:data:`FUNCTIONS` maps their names to builders; the compiler adds the functions whose
parameters are criteria or literals (``where()``, ``startsWith()``…) and uses
:func:`on_string` and :func:`no_nulls` for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .fast_nodes import (
    FALSE,
    LITERAL,
    STRING_TYPES,
    TRUE,
    Coll,
    Fn,
    NotCompilable,
    Scope,
    Unsupported,
    boolean,
    is_companion_pair,
    is_mapping,
    is_number,
    is_type,
    resource_node,
    single_value,
    singleton,
    string_path,
    type_name_of,
    type_specifier,
    values_only,
)
from .model import contained

__all__ = ["FUNCTIONS", "Builder", "no_nulls", "on_string"]

Builder = Callable[[Fn, list[Mapping[str, Any]]], Fn]


def no_nulls(coll: Coll) -> Coll:
    """A collection whose items are all JSON nulls (array padding) is no FHIRPath value."""
    if coll and coll[0][0] is None and all(data is None for data, _ in coll):
        raise Unsupported
    return coll


def _empty(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return lambda focus, scope: FALSE if no_nulls(source(focus, scope)) else TRUE


def _count(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def count(focus: Coll, scope: Scope) -> Coll:
        coll = source(focus, scope)
        for data, path in coll:  # fhirpathpy counts a value and its `_x` half as two
            if data is None or (path is not LITERAL and is_companion_pair(data, path)):
                raise Unsupported
        return [(len(coll), LITERAL)]

    return count


def _not(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def not_(focus: Coll, scope: Scope) -> Coll:
        coll = source(focus, scope)
        if not coll:
            return []
        value = singleton(coll)[0]
        if value is None:
            raise Unsupported
        return FALSE if value is not False else TRUE  # a lone non-Boolean counts as true

    return not_


def _has_value(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def has_value(focus: Coll, scope: Scope) -> Coll:
        values = values_only(source(focus, scope))
        return boolean(len(values) == 1 and values[0][0] is not None
                       and not isinstance(values[0][0], Mapping | list))

    return has_value


def _first(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return lambda focus, scope: source(focus, scope)[:1]


def on_string(test: Callable[[str], Any]) -> Callable[[Fn], Fn]:
    """A function of one string (fhirpathpy's ``ensure_string_singleton``), empty for empty."""

    def build(source: Fn) -> Fn:
        def string_function(focus: Coll, scope: Scope) -> Coll:
            coll = source(focus, scope)
            if not coll:
                return []
            value, path = singleton(coll)
            if (type(value) is not str or not string_path(path)) and (  # JSON's string: sooner
                    not isinstance(value, str) or type_name_of(value, path) not in STRING_TYPES):
                raise Unsupported  # fhirpathpy raises on non-strings; dates are strings to it
            return [(test(value), LITERAL)]

        return string_function

    return build


_INTEGER = re.compile(r"^[+-]?\d+$")


def _to_integer(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``toInteger()``: fhirpathpy's ``to_integer`` (one item, else empty)."""
    if params:
        raise NotCompilable("toInteger")

    def to_integer(focus: Coll, scope: Scope) -> Coll:
        coll = source(focus, scope)
        if len(coll) != 1:
            return []
        value = coll[0][0]
        if type(value) is str:  # the usual input: a substring()
            return [(int(value), LITERAL)] if _INTEGER.match(value) else []
        if isinstance(value, bool):
            return [(int(value), LITERAL)]
        if is_number(value):
            return [(value, LITERAL)] if int(value) == value else []
        if isinstance(value, str) and _INTEGER.match(value):
            return [(int(value), LITERAL)]
        return []

    return to_integer


def _to_string(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``toString()``: fhirpathpy's ``to_string`` (one item, else empty), where its text is
    FHIRPath's (N1 §5.5, conversion): a string as it is, dates, dateTimes and times as written
    (JSON holds them as strings), an integer in decimal digits. Booleans (fhirpathpy writes
    ``True``), decimals (``1E+2``) and objects are left to fhirpathpy."""
    if params:
        raise NotCompilable("toString")

    def to_string(focus: Coll, scope: Scope) -> Coll:
        coll = source(focus, scope)
        if len(coll) != 1:
            return []
        value = coll[0][0]
        if type(value) is str:
            return [(value, LITERAL)]
        if type(value) is int:
            return [(str(value), LITERAL)]
        raise Unsupported

    return to_string


def _resolve(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``resolve()``: contained targets, then the validator's resolver (the enclosing Bundle),
    as ``functions.resolve`` does for fhirpathpy."""
    if params:
        raise NotCompilable("resolve")

    def resolve(focus: Coll, scope: Scope) -> Coll:
        found: Coll = []
        env = scope.env
        for value, _path in values_only(source(focus, scope)):
            ref = value.get("reference") if is_mapping(value) else value
            if not isinstance(ref, str) or not ref:
                continue
            target = None
            if ref.startswith("#") and len(ref) > 1:
                target = contained(env.resource, ref[1:]) or contained(env.root_resource,
                                                                           ref[1:])
            if target is None and env.resolve is not None:
                target = env.resolve(ref)
            if target is not None:
                found.append(resource_node(target, None))
        return found

    return resolve


def _length(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return on_string(len)(source)


def _type_param(params: list[Mapping[str, Any]]) -> tuple[str | None, str]:
    if len(params) != 1:
        raise NotCompilable("type")
    return type_specifier(params[0]["text"])


def _is(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)

    def is_(focus: Coll, scope: Scope) -> Coll:
        item = single_value(source(focus, scope))
        return [] if item is None else boolean(is_type(item, namespace, name))

    return is_


def _as(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)
    return lambda focus, scope: [item for item in values_only(source(focus, scope))
                                 if is_type(item, namespace, name)]


def _of_type(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)
    return lambda focus, scope: [item for item in source(focus, scope)
                                 if is_type(item, namespace, name)]


def _booleans(coll: Coll) -> list[bool]:
    values = [data for data, _ in coll]
    if not all(value is True or value is False for value in values):
        raise Unsupported
    return values


def _bool_aggregate(combine: Callable[[list[bool]], bool]) -> Builder:
    def build(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
        return lambda focus, scope: boolean(combine(_booleans(source(focus, scope))))

    return build


def _is_distinct(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def is_distinct(focus: Coll, scope: Scope) -> Coll:
        coll = source(focus, scope)
        literal = [path is LITERAL for _, path in coll]
        if any(literal) and not all(literal):
            raise Unsupported  # fhirpathpy tells nodes from values by object identity
        strings = [data for data, path in coll
                   if isinstance(data, str) and type_name_of(data, path) in STRING_TYPES]
        if len(strings) != len(coll):
            raise Unsupported
        return boolean(len(set(strings)) == len(strings))

    return is_distinct


# The functions whose parameters need no compiling (the compiler adds the others).
FUNCTIONS: Mapping[str, Builder] = {
    "empty": _empty, "count": _count, "not": _not, "hasValue": _has_value, "first": _first,
    "length": _length, "is": _is, "as": _as, "ofType": _of_type, "isDistinct": _is_distinct,
    "allTrue": _bool_aggregate(all), "anyTrue": _bool_aggregate(any),
    "allFalse": _bool_aggregate(lambda values: not any(values)),
    "anyFalse": _bool_aggregate(lambda values: not all(values)),
    "toInteger": _to_integer, "toString": _to_string, "resolve": _resolve,
}
