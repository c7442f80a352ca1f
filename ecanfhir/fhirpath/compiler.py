"""A fast path for invariants: a subset of FHIRPath compiled to Python closures over JSON.

Most R4 invariants are a few member names joined by ``exists()``, ``empty()``, ``=`` and
``or`` (``value.empty() or system.exists()``, cpt-2). fhirpathpy interprets their syntax tree
on every call, which costs more than the rest of validation; this module compiles that tree
(fhirpathpy's own parse, see ``engine``) into closures once.

The closures work on collections of ``(JSON value, type path)`` pairs (``fast_nodes``:
nodes, member navigation, types); the operators are in ``fast_operators``, the functions
without expression parameters in ``fast_functions``. This module holds the compiler itself:
the syntax tree walk, literals, constants, invocations, and the functions whose parameters are
criteria or literals it compiles (``where()``, ``all()``, ``select()``, ``startsWith()``…).

The fast path only answers where fhirpathpy and FHIRPath agree. Where they part (fhirpathpy
counts ``"given"`` and ``"_given"`` as separate items, compares dateTimes of different
precisions as strings, keeps ``where()`` items whose criterion is a ``false`` element,
raises on a non-Boolean operand of ``or``), the evaluation raises :class:`Unsupported` and
the caller runs fhirpathpy, so a verdict never differs from the interpreter's.
:func:`compile_fast` returns None for syntax outside the subset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .fast_functions import FUNCTIONS, Builder, no_nulls, on_string
from .fast_nodes import (
    FALSE,
    LITERAL,
    TRUE,
    Coll,
    Fn,
    Item,
    NotCompilable,
    Scope,
    Unsupported,
    distinct_key,
    input_collection,
    is_companion_pair,
    is_mapping,
    member_invocation,
    resource_node,
    singleton,
)
from .fast_operators import (
    ARITHMETIC,
    additive_operator,
    arithmetic_operator,
    comparison_operator,
    equality_operator,
    logic_operator,
    membership_operator,
    type_operator,
)
from .model import CONTEXT_TYPE, EvalEnv, fhir_constant, is_subtype

__all__ = ["FastExpression", "Unsupported", "compile_fast"]


class FastExpression:
    """An invariant compiled to closures; :meth:`test` mirrors ``CompiledExpression.test``."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Fn) -> None:
        self._fn = fn

    def test(self, focus: Any, type_path: str | None, env: EvalEnv) -> bool:
        """True when the invariant holds on ``focus``.

        Raises:
            Unsupported: fhirpathpy must decide this one (it may well raise).
        """
        if type(focus) is dict:  # input_collection() of the usual focus, inline
            root = [(focus, focus["resourceType"]) if "resourceType" in focus
                    else (focus, type_path)]
        else:
            root = input_collection(focus, type_path)
        result = self._fn(root, Scope(env, root))
        if result is TRUE or result is FALSE:
            return result is TRUE
        values = [(data, path) for data, path in result
                  if data is not None and (path is LITERAL or not is_companion_pair(data, path))]
        if not values:
            return True
        if len(values) > 1:
            return False
        value = values[0][0]
        return value if isinstance(value, bool) else True


def compile_fast(ast: Mapping[str, Any]) -> FastExpression | None:
    """Compile fhirpathpy's syntax tree of an expression, or None when outside the subset."""
    try:
        return FastExpression(_compile(ast))
    except NotCompilable:
        return None


# -- compiling the syntax tree ----------------------------------------------------------------

def _compile(node: Mapping[str, Any]) -> Fn:
    kind = node["type"]
    children: list[Mapping[str, Any]] = node.get("children") or []
    if kind in ("TermExpression", "ParenthesizedTerm"):
        return _compile(children[0])
    if kind == "InvocationTerm":
        return _invocation(children[0], None)
    if kind == "LiteralTerm":
        return _literal(children[0] if children else None)
    if kind == "ExternalConstantTerm":
        return _constant(children[0])
    if kind == "InvocationExpression":
        return _invocation(children[1], _compile(children[0]))
    operator = node.get("terminalNodeText", [""])[0]
    if kind in ("OrExpression", "AndExpression", "ImpliesExpression", "XorExpression"):
        return logic_operator(operator, _compile(children[0]), _compile(children[1]))
    if kind == "EqualityExpression" and operator in ("=", "!="):
        return equality_operator(operator == "!=", _compile(children[0]), _compile(children[1]))
    if kind == "InequalityExpression":
        return comparison_operator(operator, _compile(children[0]), _compile(children[1]))
    if kind == "MembershipExpression":
        left, right = _compile(children[0]), _compile(children[1])
        return membership_operator(right, left) if operator == "in" \
            else membership_operator(left, right)
    if kind == "UnionExpression":
        return _union(children)
    if kind == "TypeExpression":
        return type_operator(operator, _compile(children[0]), children[1])
    if kind == "AdditiveExpression" and operator in ("+", "&"):
        return additive_operator(operator, _compile(children[0]), _compile(children[1]))
    if (kind == "AdditiveExpression" and operator == "-") or (
            kind == "MultiplicativeExpression" and operator in ARITHMETIC):
        return arithmetic_operator(ARITHMETIC[operator], _compile(children[0]),
                                   _compile(children[1]))
    raise NotCompilable(kind)


def _literal(node: Mapping[str, Any] | None) -> Fn:
    if node is None or node["type"] not in (
            "StringLiteral", "NumberLiteral", "BooleanLiteral", "NullLiteral"):
        raise NotCompilable("literal")
    constant: Coll = [(value, LITERAL) for value in literal_values(node)]
    return lambda focus, scope: constant


def literal_values(node: Mapping[str, Any]) -> list[Any]:
    """The value of a string, number, boolean or null literal, as fhirpathpy's evaluators read
    it (``fhirpathpy.engine.evaluators``: a number is an int when it is whole, else a Decimal;
    a string's escapes are replaced one kind after the other, as there), without importing
    fhirpathpy."""
    kind, text = node["type"], node["text"]
    if kind == "BooleanLiteral":
        return [text == "true"]
    if kind == "NumberLiteral":
        number = Decimal(text)
        whole = int(number)
        return [whole] if number == whole else [number]
    if kind == "NullLiteral":
        return []
    value = _QUOTES.sub("", text)
    for escaped, plain in _ESCAPES:
        value = value.replace(escaped, plain)
    return [_UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)), value)]


_QUOTES = re.compile(r"^['\"]|['\"]$")
_ESCAPES = (("\\'", "'"), ("\\`", "`"), ('\\"', '"'), ("\\r", "\r"), ("\\n", "\n"),
            ("\\t", "\t"), ("\\f", "\f"), ("\\\\", "\\"))
_UNICODE_ESCAPE = re.compile(r"\\(u\d{4})")


def _constant_name(node: Mapping[str, Any]) -> str:
    return str(node["children"][0]["text"]).strip('"').replace("`", "")


def _constant(node: Mapping[str, Any]) -> Fn:
    name = _constant_name(node)
    if name == "context":
        return lambda focus, scope: scope.context
    if name == "resource":
        return lambda focus, scope: [resource_node(scope.env.resource, None)]
    if name == "rootResource":
        return lambda focus, scope: [resource_node(scope.env.root_resource, None)]
    value = fhir_constant(name)
    if value is None:
        raise NotCompilable(name)
    constant: Coll = [(value, LITERAL)]
    return lambda focus, scope: constant


def _invocation(node: Mapping[str, Any], source: Fn | None) -> Fn:
    kind = node["type"]
    if kind == "ThisInvocation" and source is None:
        return lambda focus, scope: focus
    if kind == "MemberInvocation":
        key = re.sub(r"(^\"|\"$)", "", node["children"][0]["text"]).replace("`", "")
        # fhirpathpy reads a capitalised name as a member, FHIRPath as a type (`Patient.name`);
        # and `x.length` is the string's length to fhirpathpy.
        if not key or key[0] == key[0].upper() or key == "length":
            raise NotCompilable(key)
        return member_invocation(key, source)
    if kind == "FunctionInvocation":
        function = node["children"][0]
        name = function["children"][0]["text"]
        params = function["children"][1]["children"] if len(function["children"]) > 1 else []
        build = _FUNCTIONS.get(name)
        if build is None:
            raise NotCompilable(name)
        return build(source or _identity, params)
    raise NotCompilable(kind)


def _identity(focus: Coll, scope: Scope) -> Coll:
    return focus


def _union(children: list[Mapping[str, Any]]) -> Fn:
    """``|`` of literals only (``status in ('a' | 'b')``); unions of nodes lose their types."""
    if not all(_is_literal(child) for child in children):
        raise NotCompilable("|")
    unique: dict[str, Item] = {}
    for child in children:
        for item in _constant_value(child):
            unique.setdefault(distinct_key(item[0]), item)
    constant = list(unique.values())
    return lambda focus, scope: constant


# A literal reads neither its input nor the environment; it still gets a real Scope, as its
# type says (a compiled build checks it).
_CONSTANT_SCOPE = Scope(EvalEnv.for_resource({}), [])


def _constant_value(node: Mapping[str, Any]) -> Coll:
    """The value of a literal expression, computed at compile time."""
    return _compile(node)([], _CONSTANT_SCOPE)


def _is_literal(node: Mapping[str, Any]) -> bool:
    """Whether an expression is a constant: literals, their unions, ``%ucum``, ``%`vs-x```…"""
    kind = node["type"]
    if kind in ("LiteralTerm", "UnionExpression", "TermExpression", "ParenthesizedTerm"):
        return all(_is_literal(child) for child in node.get("children") or [])
    if kind == "ExternalConstantTerm":
        return fhir_constant(_constant_name(node["children"][0])) is not None
    return kind in ("StringLiteral", "NumberLiteral", "BooleanLiteral")


# -- functions with criteria or literal parameters --------------------------------------------
def _criterion(params: list[Mapping[str, Any]]) -> Fn:
    if len(params) != 1:
        raise NotCompilable("criteria")
    return _compile(params[0])


def _exists(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    if params:
        matching = _where(source, params)
        return lambda focus, scope: TRUE if matching(focus, scope) else FALSE
    return lambda focus, scope: TRUE if no_nulls(source(focus, scope)) else FALSE


def _where(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    criterion = _criterion(params)

    def where(focus: Coll, scope: Scope) -> Coll:
        out: Coll = []
        for item in source(focus, scope):
            result = criterion([item], scope)
            if not result:
                continue
            value, path = singleton(result)
            # fhirpathpy keeps an item whose criterion is any element, even `false` one.
            if value is True or (value is False and path is LITERAL):
                if value:
                    out.append(item)
            else:
                raise Unsupported
        return out

    return where


def _all(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    criterion = _criterion(params)

    def all_(focus: Coll, scope: Scope) -> Coll:
        for item in source(focus, scope):
            result = criterion([item], scope)
            if not result:
                return FALSE
            value = singleton(result)[0]
            if value is not True and value is not False:
                raise Unsupported  # fhirpathpy: `= True`, so 1 passes and 0 fails
            if not value:
                return FALSE
        return TRUE

    return all_


def _select(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    projection = _criterion(params)

    def select(focus: Coll, scope: Scope) -> Coll:
        return [found for item in source(focus, scope) for found in projection([item], scope)]

    return select


def _string_param(params: list[Mapping[str, Any]]) -> str:
    if len(params) != 1 or not _is_literal(params[0]):
        raise NotCompilable("parameter")
    values = _constant_value(params[0])
    if len(values) != 1 or not isinstance(values[0][0], str):
        raise NotCompilable("parameter")
    value: str = values[0][0]
    return value


def _contains(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    part = _string_param(params)
    return on_string(lambda value: part in value)(source)


def _prefix_test(name: str) -> Builder:
    def build(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
        affix = _string_param(params)

        def test(value: str) -> bool:
            if not value:
                raise Unsupported  # fhirpathpy: ''.startsWith('') is false
            return bool(getattr(value, name)(affix))

        return on_string(test)(source)

    return build


def _matches(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    regex = _string_param(params)
    if not regex:
        raise NotCompilable("matches('')")
    try:
        pattern = re.compile(regex, re.DOTALL)
    except re.error:
        raise NotCompilable(regex) from None
    return on_string(lambda value: pattern.search(value) is not None)(source)


def _substring(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``substring(start[, length])`` with integer literals, as fhirpathpy's ``substring``."""
    if not 1 <= len(params) <= 2 or not all(_is_literal(p) for p in params):
        raise NotCompilable("substring")
    bounds = [_constant_value(p) for p in params]
    if any(len(b) != 1 or type(b[0][0]) is not int for b in bounds):
        raise NotCompilable("substring")
    start = bounds[0][0][0]
    length = bounds[1][0][0] if len(bounds) == 2 else None

    def cut(value: str) -> Any:
        if start < 0 or start >= len(value):
            return None
        return value[start:] if length is None else value[start:start + length]

    build = on_string(cut)(source)

    def substring(focus: Coll, scope: Scope) -> Coll:
        result = build(focus, scope)
        return [] if not result or result[0][0] is None else result

    return substring


def _trace(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    if params:
        _string_param(params[:1])  # the name; a second parameter is never evaluated
    return source


def _extension(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    url = _string_param(params)

    def extension(focus: Coll, scope: Scope) -> Coll:
        out: Coll = []
        for data, _ in source(focus, scope):
            found = data.get("extension") if is_mapping(data) else None
            for item in found if isinstance(found, list) else ():
                if is_mapping(item) and item.get("url") == url:
                    out.append(resource_node(item, "Extension"))
        return out

    return extension


def _context_type(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """A leading type name (``Patient`` in ``Patient.active``, see ``engine._type_steps``)."""
    name = _string_param(params)

    def context_type(focus: Coll, scope: Scope) -> Coll:
        out: Coll = []
        for data, path in source(focus, scope):
            if path is LITERAL:
                raise Unsupported  # a computed value: fhirpathpy's typing of it decides
            if is_subtype(path, name):
                out.append((data, path))
        return out

    return context_type


def _iif(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``iif(criterion, true-result [, otherwise-result])``, each evaluated on the whole input
    collection as fhirpathpy's macro does; the criterion holds only as one item equal to true
    (fhirpathpy's ``util.is_true``)."""
    if len(params) not in (2, 3):
        raise NotCompilable("iif")
    criterion, chosen = _compile(params[0]), _compile(params[1])
    otherwise = _compile(params[2]) if len(params) == 3 else None

    def iif(focus: Coll, scope: Scope) -> Coll:
        data = source(focus, scope)
        result = criterion(data, scope)
        if len(result) == 1 and result[0][0] == True:  # noqa: E712 (1 counts, as there)
            return chosen(data, scope)
        return otherwise(data, scope) if otherwise is not None else []

    return iif


_FUNCTIONS: Mapping[str, Builder] = {
    **FUNCTIONS,
    "exists": _exists, "where": _where, "all": _all, "select": _select,
    "contains": _contains, "startsWith": _prefix_test("startswith"),
    "endsWith": _prefix_test("endswith"), "matches": _matches,
    "trace": _trace, "extension": _extension, "substring": _substring, "iif": _iif,
    CONTEXT_TYPE: _context_type,
}
