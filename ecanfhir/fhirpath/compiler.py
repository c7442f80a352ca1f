"""A fast path for invariants: a subset of FHIRPath compiled to Python closures over JSON.

Most R4 invariants are a few member names joined by ``exists()``, ``empty()``, ``=`` and
``or`` (``value.empty() or system.exists()``, cpt-2). fhirpathpy interprets their syntax tree
on every call, which costs more than the rest of validation; this module compiles that tree
(fhirpathpy's own parse, see ``engine``) into closures once.

A collection is a list of ``(JSON value, type path)`` pairs, the path being the one
fhirpathpy's ``ResourceNode`` would carry, or :data:`LITERAL` for values computed by the
expression (``true``, ``count()``). Member navigation follows fhirpathpy's model exactly:
``value`` finds ``valueString`` by the R4 model's choice types (R4 formats.html#choice), and a
primitive's ``_x`` object is a node of its own, after the values (R4 json.html#primitive).

The fast path only answers where fhirpathpy and FHIRPath agree. Where they part (fhirpathpy
counts ``"given"`` and ``"_given"`` as separate items, compares dateTimes of different
precisions as strings, keeps ``where()`` items whose criterion is a ``false`` element,
raises on a non-Boolean operand of ``or``), the evaluation raises :class:`Unsupported` and
the caller runs fhirpathpy, so a verdict never differs from the interpreter's.
:func:`compile_fast` returns None for syntax outside the subset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from fhirpathpy.engine.evaluators import evaluators

from .functions import CONTEXT_TYPE, _contained
from .model import (
    R4_MODEL,
    EvalEnv,
    Primitive,
    fhir_constant,
    is_companion_data,
    is_subtype,
)

__all__ = ["LITERAL", "FastExpression", "Unsupported", "compile_fast"]


class Unsupported(Exception):
    """This evaluation is left to fhirpathpy (the data takes it outside the fast subset)."""


class _Literal:
    __slots__ = ()

    def __repr__(self) -> str:
        return "LITERAL"


LITERAL: Any = _Literal()  # the "path" of a value the expression computed, not a node

Item = tuple[Any, Any]  # (JSON value, fhirpathpy type path or LITERAL)
Coll = list[Item]


class _Scope:
    """What a running expression sees besides its input: the env and ``%context``."""

    __slots__ = ("context", "env")

    def __init__(self, env: EvalEnv, context: Coll) -> None:
        self.env = env
        self.context = context


Fn = Callable[[Coll, _Scope], Coll]

_ELSEWHERE: Mapping[str, str] = R4_MODEL["pathsDefinedElsewhere"]
_CHOICES: Mapping[str, list[str]] = R4_MODEL["choiceTypePaths"]
_PATH_TO_TYPE: Mapping[str, str] = R4_MODEL["path2Type"]
_TYPE_PARENT: Mapping[str, str] = R4_MODEL["type2Parent"]
# Every last segment of a choice element (`value`, `onset`…): after a path is lost, such a
# name may or may not be a choice, so the fast path leaves it to fhirpathpy.
_CHOICE_NAMES = frozenset(path.rsplit(".", 1)[-1] for path in _CHOICES)
_STRING_TYPES = frozenset({
    "string", "System.String", "code", "uri", "url", "canonical", "id", "oid", "uuid",
    "markdown", "base64Binary", "xhtml"})
_TEMPORAL_TYPES = frozenset({
    "date", "dateTime", "instant", "time", "System.Date", "System.DateTime", "System.Time"})
_TEMPORAL = re.compile(
    r"(\d{4}(?:-\d\d(?:-\d\d)?)?)?(T?\d\d(?::\d\d(?::\d\d(?:\.\d+)?)?)?)?(Z|[+-]\d\d:\d\d)?")


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
        root = _root(focus, type_path)
        result = self._fn(root, _Scope(env, root))
        if result is _TRUE or result is _FALSE:
            return result is _TRUE
        values = [(data, path) for data, path in result
                  if data is not None and (path is LITERAL or not _companion(data, path))]
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
    except _NotCompilable:
        return None


class _NotCompilable(Exception):
    pass


# -- the focus and nodes as fhirpathpy builds them ---------------------------------------------


_SCALARS = frozenset({str, int, float, bool, Decimal, list, type(None)})


def _mapping(data: Any) -> bool:
    """``isinstance(data, Mapping)``, without the ABC check for JSON's own types."""
    kind = type(data)
    return kind is dict or (kind not in _SCALARS and isinstance(data, Mapping))


def _node(data: Any, path: Any) -> Item:
    """fhirpathpy's ``ResourceNode(data, path)``: a resource carries its own type."""
    if _mapping(data) and "resourceType" in data:
        return data, data["resourceType"]
    return data, path


def _root(focus: Any, path: str | None) -> Coll:
    """The input collection, as ``engine._focus_nodes`` builds it for fhirpathpy."""
    if focus is None:
        return []
    if type(focus) is dict:
        return [(focus, focus["resourceType"]) if "resourceType" in focus else (focus, path)]
    if isinstance(focus, list):
        return [item for part in focus for item in _root(part, path)]
    if isinstance(focus, Primitive):
        items = [] if focus.value is None else [_node(focus.value, path)]
        if focus.element is not None:
            element = _node(focus.element, path)
            # fhirpathpy marks this half as a companion whatever it holds; the pair form
            # carries no mark, so it must be recognisable as one by its shape and type.
            if not isinstance(element[1], str | None) or not _companion(*element):
                raise Unsupported
            items.append(element)
        return items
    return [_node(focus, path)]


def _companion(data: Any, path: Any) -> bool:
    """``is_companion`` on a pair; an ``_x``-shaped object of unknown type is undecidable."""
    if not _mapping(data):
        return False
    if path is None and data and data.keys() <= {"id", "extension"}:
        raise Unsupported
    return is_companion_data(data, path)


def _type_name(data: Any, path: Any) -> str | None:
    """The FHIR or System type name of an item, None when fhirpathpy does not know it."""
    if path is LITERAL:
        return "System.String" if isinstance(data, str) else None
    if not isinstance(path, str) or ("." in path and not path.startswith("System.")):
        return None
    return path


# -- member navigation ---------------------------------------------------------------------


@cache
def _member_plan(path: Any, key: str) -> tuple[tuple[tuple[str, str, str], ...], str]:
    """(choice fields as (name, _name, child path), child path) for ``key`` under ``path``.

    The same steps as fhirpathpy's ``create_reduce_member_invocation``.
    """
    child = f"{path}.{key}" if path else f"_.{key}"
    child = _ELSEWHERE.get(child, child)
    types = _CHOICES.get(child)
    if types:
        fields = tuple((key + name, f"_{key}{name}", _PATH_TO_TYPE.get(child + name, child + name))
                       for name in types)
        return fields, child
    if key == "extension":
        child = "Extension"
    return (), _PATH_TO_TYPE.get(child, child)


def _add(out: Coll, value: Any, path: str) -> None:
    if type(value) is list:
        out.extend([_node(item, path) for item in value])
    else:
        out.append(_node(value, path))


def _member(key: str, source: Fn | None) -> Fn:
    underscored = "_" + key
    may_be_choice = key in _CHOICE_NAMES
    plans: dict[Any, tuple[tuple[tuple[str, str, str], ...], str]] = {}

    def member(focus: Coll, scope: _Scope) -> Coll:
        out: Coll = []
        for data, path in (focus if source is None else source(focus, scope)):
            if not _mapping(data):
                continue  # fhirpathpy finds no member on a non-object (nor on a literal)
            try:
                plan = plans.get(path)
                if plan is None:
                    if may_be_choice and path is None:
                        raise Unsupported  # the type is lost: is `value` a choice here?
                    plan = plans[path] = _member_plan(path, key)
            except TypeError:  # an unhashable "resourceType"
                raise Unsupported from None
            fields, child = plan
            if fields:
                for name, underscored_name, choice_path in fields:
                    value, element = data.get(name), data.get(underscored_name)
                    if value is not None or element is not None:
                        if value is not None:
                            _add(out, value, choice_path)
                        if element is not None:
                            _add(out, element, choice_path)
                        break
                continue
            value = data.get(key)
            if value is not None:
                _add(out, value, child)
            element = data.get(underscored)
            if element is not None:
                _add(out, element, child)
        return out

    return member


# -- compiling the syntax tree -------------------------------------------------------------

_TRUE: Coll = [(True, LITERAL)]
_FALSE: Coll = [(False, LITERAL)]


def _bool(value: bool | None) -> Coll:
    """A Boolean result; the two lists are shared, and no caller changes a collection."""
    if value is None:
        return []
    return _TRUE if value else _FALSE


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
        return _logic(operator, _compile(children[0]), _compile(children[1]))
    if kind == "EqualityExpression" and operator in ("=", "!="):
        return _equality(operator == "!=", _compile(children[0]), _compile(children[1]))
    if kind == "InequalityExpression":
        return _comparison(operator, _compile(children[0]), _compile(children[1]))
    if kind == "MembershipExpression":
        left, right = _compile(children[0]), _compile(children[1])
        return _membership(right, left) if operator == "in" else _membership(left, right)
    if kind == "UnionExpression":
        return _union(children)
    if kind == "TypeExpression":
        return _type_operator(operator, _compile(children[0]), children[1])
    if kind == "AdditiveExpression" and operator in ("+", "&"):
        return _additive(operator, _compile(children[0]), _compile(children[1]))
    if (kind == "AdditiveExpression" and operator == "-") or (
            kind == "MultiplicativeExpression" and operator in _ARITHMETIC):
        return _arithmetic(_ARITHMETIC[operator], _compile(children[0]), _compile(children[1]))
    raise _NotCompilable(kind)


def _literal(node: Mapping[str, Any] | None) -> Fn:
    if node is None or node["type"] not in (
            "StringLiteral", "NumberLiteral", "BooleanLiteral", "NullLiteral"):
        raise _NotCompilable("literal")
    values = evaluators[node["type"]](None, None, node)  # fhirpathpy's own literal parsing
    constant: Coll = [(value, LITERAL) for value in values]
    return lambda focus, scope: constant


def _constant_name(node: Mapping[str, Any]) -> str:
    return str(node["children"][0]["text"]).strip('"').replace("`", "")


def _constant(node: Mapping[str, Any]) -> Fn:
    name = _constant_name(node)
    if name == "context":
        return lambda focus, scope: scope.context
    if name == "resource":
        return lambda focus, scope: [_node(scope.env.resource, None)]
    if name == "rootResource":
        return lambda focus, scope: [_node(scope.env.root_resource, None)]
    value = fhir_constant(name)
    if value is None:
        raise _NotCompilable(name)
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
            raise _NotCompilable(key)
        return _member(key, source)
    if kind == "FunctionInvocation":
        function = node["children"][0]
        name = function["children"][0]["text"]
        params = function["children"][1]["children"] if len(function["children"]) > 1 else []
        build = _FUNCTIONS.get(name)
        if build is None:
            raise _NotCompilable(name)
        return build(source or _identity, params)
    raise _NotCompilable(kind)


def _identity(focus: Coll, scope: _Scope) -> Coll:
    return focus


# -- operators -------------------------------------------------------------------------------


def _operand(coll: Coll) -> bool | None:
    """A Boolean operand: fhirpathpy raises on several items or a non-Boolean value."""
    if coll is _TRUE:
        return True
    if coll is _FALSE:
        return False
    if not coll:
        return None
    if len(coll) > 1:
        raise Unsupported
    value = coll[0][0]
    if value is True or value is False:
        return value
    raise Unsupported


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _xor(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else a is not b


def _implies(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is True:
        return True
    return None if a is None or b is None else False


_LOGIC: Mapping[str, Callable[[bool | None, bool | None], bool | None]] = {
    "or": _or, "and": _and, "xor": _xor, "implies": _implies}


def _logic(operator: str, left: Fn, right: Fn) -> Fn:
    """Three-valued logic (FHIRPath §6.5); both sides always run, as in fhirpathpy."""
    combine = _LOGIC.get(operator)
    if combine is None:
        raise _NotCompilable(operator)

    def logic(focus: Coll, scope: _Scope) -> Coll:
        a = _operand(left(focus, scope))
        return _bool(combine(a, _operand(right(focus, scope))))

    return logic


def _comparable(a: Item, b: Item) -> tuple[Any, Any]:
    """Two singleton values that FHIRPath and fhirpathpy compare alike, or Unsupported."""
    (x, x_path), (y, y_path) = a, b
    if x_path == "Quantity" or y_path == "Quantity":
        raise Unsupported  # fhirpathpy reads these as its own quantities
    if isinstance(x, str) and isinstance(y, str):
        x_type, y_type = _type_name(x, x_path), _type_name(y, y_path)
        if x_type in _STRING_TYPES and y_type in _STRING_TYPES:
            return x, y
        if x_type in _TEMPORAL_TYPES and y_type in _TEMPORAL_TYPES and _same_precision(x, y):
            return x, y  # as strings, as fhirpathpy does: right only at one precision
        raise Unsupported
    if _is_number(x) and _is_number(y):
        return x, y
    if isinstance(x, bool) and isinstance(y, bool):
        return x, y
    raise Unsupported


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _same_precision(x: str, y: str) -> bool:
    """Whether two date/time strings order as strings: same shape and the same zone."""
    a, b = _TEMPORAL.fullmatch(x), _TEMPORAL.fullmatch(y)
    if a is None or b is None or len(x) != len(y) or a[3] != b[3]:
        return False
    return all((a[i] is None) == (b[i] is None) for i in (1, 2)) and bool(x)


def _singleton(coll: Coll) -> Item:
    if len(coll) != 1:
        raise Unsupported  # FHIRPath: an error; fhirpathpy: the first item, or an error
    return coll[0]


def _equal(a: Item, b: Item) -> bool:
    x, y = _comparable(a, b)
    if (isinstance(x, float) and isinstance(y, Decimal)) or (
            isinstance(y, float) and isinstance(x, Decimal)):
        raise Unsupported  # fhirpathpy: 0.1 != 0.1 between JSON float and literal
    return bool(x == y)


def _equality(negate: bool, left: Fn, right: Fn) -> Fn:
    def equality(focus: Coll, scope: _Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        return _bool(_equal(_singleton(a), _singleton(b)) is not negate)

    return equality


def _decimal(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: bool(x < y), ">": lambda x, y: bool(x > y),
    "<=": lambda x, y: bool(x <= y), ">=": lambda x, y: bool(x >= y)}


def _comparison(operator: str, left: Fn, right: Fn) -> Fn:
    compare = _COMPARE[operator]

    def comparison(focus: Coll, scope: _Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        x, y = _comparable(_without_extension(a), _without_extension(b))
        if isinstance(x, bool):
            raise Unsupported
        return _bool(compare(_decimal(x), _decimal(y)))

    return comparison


def _without_extension(coll: Coll) -> Item:
    """fhirpathpy's ``remove_duplicate_extension``: a value, then its ``_x`` with extensions."""
    if (len(coll) == 2 and not _mapping(coll[0][0]) and coll[1][1] is not LITERAL
            and _companion(*coll[1]) and "extension" in coll[1][0]):
        return coll[0]
    return _singleton(coll)


def _membership(collection: Fn, element: Fn) -> Fn:
    """``element in collection`` (``collection contains element``)."""

    def membership(focus: Coll, scope: _Scope) -> Coll:
        wanted, within = element(focus, scope), collection(focus, scope)
        if not wanted:
            return []
        if not within:
            return _FALSE
        item = _singleton(wanted)
        return _TRUE if any(_equal(item, other) for other in within) else _FALSE

    return membership


def _union(children: list[Mapping[str, Any]]) -> Fn:
    """``|`` of literals only (``status in ('a' | 'b')``); unions of nodes lose their types."""
    if not all(_is_literal(child) for child in children):
        raise _NotCompilable("|")
    unique: dict[str, Item] = {}
    for child in children:
        for item in _constant_value(child):
            unique.setdefault(_distinct_key(item[0]), item)
    constant = list(unique.values())
    return lambda focus, scope: constant


def _constant_value(node: Mapping[str, Any]) -> Coll:
    """The value of a literal expression, computed at compile time."""
    no_scope: Any = None
    return _compile(node)([], no_scope)


def _is_literal(node: Mapping[str, Any]) -> bool:
    """Whether an expression is a constant: literals, their unions, ``%ucum``, ``%`vs-x```…"""
    kind = node["type"]
    if kind in ("LiteralTerm", "UnionExpression", "TermExpression", "ParenthesizedTerm"):
        return all(_is_literal(child) for child in node.get("children") or [])
    if kind == "ExternalConstantTerm":
        return fhir_constant(_constant_name(node["children"][0])) is not None
    return kind in ("StringLiteral", "NumberLiteral", "BooleanLiteral")


# -- types -------------------------------------------------------------------------------------


def _type_specifier(text: str) -> tuple[str | None, str]:
    """(namespace, name) of a type specifier such as ``Quantity`` or ``FHIR.Patient``."""
    parts = text.replace("`", "").split(".")
    if len(parts) == 2 and parts[0] == "FHIR":
        return parts[0], parts[1]
    if len(parts) == 1:
        return None, parts[0]
    raise _NotCompilable(text)


def _is_type(item: Item, namespace: str | None, name: str) -> bool:
    """``item is namespace.name``, for FHIR types only (fhirpathpy's ``TypeInfo.is_``)."""
    type_name = _type_name(*item)
    if item[1] is LITERAL or type_name is None or type_name.startswith("System."):
        raise Unsupported  # System types: where fhirpathpy's names and FHIRPath's differ
    while type_name:
        if type_name == name:
            return True
        type_name = _TYPE_PARENT.get(type_name) or _PATH_TO_TYPE.get(type_name)
    return False


def _values_only(coll: Coll) -> Coll:
    """The items that are not a primitive's ``_x`` half (``_values`` of ``functions``)."""
    return [item for item in coll if item[1] is LITERAL or not _companion(*item)]


def _single_value(coll: Coll) -> Item | None:
    """The one item (value and ``_x`` halves counting as one), as ``_single`` does."""
    values = _values_only(coll)
    if len(values) > 1:
        raise Unsupported
    if values:
        return values[0]
    return coll[0] if coll else None


def _type_operator(operator: str, left: Fn, specifier: Mapping[str, Any]) -> Fn:
    namespace, name = _type_specifier(specifier["text"])

    def is_operator(focus: Coll, scope: _Scope) -> Coll:
        item = _single_value(left(focus, scope))
        return [] if item is None else _bool(_is_type(item, namespace, name))

    def as_operator(focus: Coll, scope: _Scope) -> Coll:
        item = _single_value(left(focus, scope))
        return [item] if item is not None and _is_type(item, namespace, name) else []

    return is_operator if operator == "is" else as_operator


def _additive(operator: str, left: Fn, right: Fn) -> Fn:
    def plus(focus: Coll, scope: _Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        (x, x_path), (y, y_path) = _singleton(a), _singleton(b)
        if x_path is not LITERAL or y_path is not LITERAL or not (
                _is_number(x) and _is_number(y)):
            raise Unsupported  # fhirpathpy converts dates, quantities… of nodes first
        return [(x + y, LITERAL)]

    def concatenate(focus: Coll, scope: _Scope) -> Coll:
        return [(_string(left(focus, scope)) + _string(right(focus, scope)), LITERAL)]

    return plus if operator == "+" else concatenate


def _int_division(x: Any, y: Any) -> Any:
    return x // y if y != 0 else None


_ARITHMETIC: Mapping[str, Callable[[Any, Any], Any]] = {
    "-": lambda x, y: x - y, "*": lambda x, y: x * y,
    "mod": lambda x, y: x % y if y != 0 else None, "div": _int_division}


def _arithmetic(operation: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
    """``-``, ``*``, ``mod``, ``div`` on two computed numbers (``toInteger()`` results, literals);
    empty when either side is (fhirpathpy's "nullable"), and when dividing by zero."""

    def arithmetic(focus: Coll, scope: _Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        (x, x_path), (y, y_path) = _singleton(a), _singleton(b)
        if x_path is not LITERAL or y_path is not LITERAL or not (
                _is_number(x) and _is_number(y)) or isinstance(x, float) or isinstance(y, float):
            raise Unsupported  # quantities, dates, element values: fhirpathpy's conversions
        result = operation(x, y)
        return [] if result is None else [(result, LITERAL)]

    return arithmetic


def _string(coll: Coll) -> str:
    """A String operand of ``&``: empty is ''; fhirpathpy raises on anything but one string."""
    if not coll:
        return ""
    value, path = _singleton(coll)
    if not isinstance(value, str) or _type_name(value, path) not in _STRING_TYPES:
        raise Unsupported
    return value


def _distinct_key(value: Any) -> str:
    """fhirpathpy's identity of a value in ``distinct()``/``isDistinct()``/``|``."""
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return str(value)


# -- functions -------------------------------------------------------------------------------

Builder = Callable[[Fn, list[Mapping[str, Any]]], Fn]


def _no_nulls(coll: Coll) -> Coll:
    """A collection whose items are all JSON nulls (array padding) is no FHIRPath value."""
    if coll and coll[0][0] is None and all(data is None for data, _ in coll):
        raise Unsupported
    return coll


def _exists(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    if params:
        matching = _where(source, params)
        return lambda focus, scope: _TRUE if matching(focus, scope) else _FALSE
    return lambda focus, scope: _TRUE if _no_nulls(source(focus, scope)) else _FALSE


def _empty(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return lambda focus, scope: _FALSE if _no_nulls(source(focus, scope)) else _TRUE


def _count(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def count(focus: Coll, scope: _Scope) -> Coll:
        coll = source(focus, scope)
        for data, path in coll:  # fhirpathpy counts a value and its `_x` half as two
            if data is None or (path is not LITERAL and _companion(data, path)):
                raise Unsupported
        return [(len(coll), LITERAL)]

    return count


def _not(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def not_(focus: Coll, scope: _Scope) -> Coll:
        coll = source(focus, scope)
        if not coll:
            return []
        value = _singleton(coll)[0]
        if value is None:
            raise Unsupported
        return _FALSE if value is not False else _TRUE  # a lone non-Boolean counts as true

    return not_


def _has_value(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def has_value(focus: Coll, scope: _Scope) -> Coll:
        values = _values_only(source(focus, scope))
        return _bool(len(values) == 1 and values[0][0] is not None
                     and not isinstance(values[0][0], Mapping | list))

    return has_value


def _criterion(params: list[Mapping[str, Any]]) -> Fn:
    if len(params) != 1:
        raise _NotCompilable("criteria")
    return _compile(params[0])


def _where(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    criterion = _criterion(params)

    def where(focus: Coll, scope: _Scope) -> Coll:
        out: Coll = []
        for item in source(focus, scope):
            result = criterion([item], scope)
            if not result:
                continue
            value, path = _singleton(result)
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

    def all_(focus: Coll, scope: _Scope) -> Coll:
        for item in source(focus, scope):
            result = criterion([item], scope)
            if not result:
                return _FALSE
            value = _singleton(result)[0]
            if value is not True and value is not False:
                raise Unsupported  # fhirpathpy: `= True`, so 1 passes and 0 fails
            if not value:
                return _FALSE
        return _TRUE

    return all_


def _select(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    projection = _criterion(params)

    def select(focus: Coll, scope: _Scope) -> Coll:
        return [found for item in source(focus, scope) for found in projection([item], scope)]

    return select


def _first(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return lambda focus, scope: source(focus, scope)[:1]


def _string_param(params: list[Mapping[str, Any]]) -> str:
    if len(params) != 1 or not _is_literal(params[0]):
        raise _NotCompilable("parameter")
    values = _constant_value(params[0])
    if len(values) != 1 or not isinstance(values[0][0], str):
        raise _NotCompilable("parameter")
    value: str = values[0][0]
    return value


def _string_function(test: Callable[[str], Any]) -> Callable[[Fn], Fn]:
    """A function of one string (fhirpathpy's ``ensure_string_singleton``), empty for empty."""

    def build(source: Fn) -> Fn:
        def string_function(focus: Coll, scope: _Scope) -> Coll:
            coll = source(focus, scope)
            if not coll:
                return []
            value, path = _singleton(coll)
            if not isinstance(value, str) or _type_name(value, path) not in _STRING_TYPES:
                raise Unsupported  # fhirpathpy raises on non-strings; dates are strings to it
            return [(test(value), LITERAL)]

        return string_function

    return build


def _contains(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    part = _string_param(params)
    return _string_function(lambda value: part in value)(source)


def _prefix_test(name: str) -> Builder:
    def build(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
        affix = _string_param(params)

        def test(value: str) -> bool:
            if not value:
                raise Unsupported  # fhirpathpy: ''.startsWith('') is false
            return bool(getattr(value, name)(affix))

        return _string_function(test)(source)

    return build


def _matches(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    regex = _string_param(params)
    if not regex:
        raise _NotCompilable("matches('')")
    try:
        pattern = re.compile(regex, re.DOTALL)
    except re.error:
        raise _NotCompilable(regex) from None
    return _string_function(lambda value: pattern.search(value) is not None)(source)


def _substring(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``substring(start[, length])`` with integer literals, as fhirpathpy's ``substring``."""
    if not 1 <= len(params) <= 2 or not all(_is_literal(p) for p in params):
        raise _NotCompilable("substring")
    bounds = [_constant_value(p) for p in params]
    if any(len(b) != 1 or type(b[0][0]) is not int for b in bounds):
        raise _NotCompilable("substring")
    start = bounds[0][0][0]
    length = bounds[1][0][0] if len(bounds) == 2 else None

    def cut(value: str) -> Any:
        if start < 0 or start >= len(value):
            return None
        return value[start:] if length is None else value[start:start + length]

    build = _string_function(cut)(source)

    def substring(focus: Coll, scope: _Scope) -> Coll:
        result = build(focus, scope)
        return [] if not result or result[0][0] is None else result

    return substring


_INTEGER = re.compile(r"^[+-]?\d+$")


def _to_integer(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``toInteger()``: fhirpathpy's ``to_integer`` (one item, else empty)."""
    if params:
        raise _NotCompilable("toInteger")

    def to_integer(focus: Coll, scope: _Scope) -> Coll:
        coll = source(focus, scope)
        if len(coll) != 1:
            return []
        value = coll[0][0]
        if isinstance(value, bool):
            return [(int(value), LITERAL)]
        if _is_number(value):
            return [(value, LITERAL)] if int(value) == value else []
        if isinstance(value, str) and _INTEGER.match(value):
            return [(int(value), LITERAL)]
        return []

    return to_integer


def _resolve(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """``resolve()``: contained targets, then the validator's resolver (the enclosing Bundle),
    as ``functions.resolve`` does for fhirpathpy."""
    if params:
        raise _NotCompilable("resolve")

    def resolve(focus: Coll, scope: _Scope) -> Coll:
        found: Coll = []
        env = scope.env
        for value, _path in _values_only(source(focus, scope)):
            ref = value.get("reference") if _mapping(value) else value
            if not isinstance(ref, str) or not ref:
                continue
            target = None
            if ref.startswith("#") and len(ref) > 1:
                target = _contained(env.resource, ref[1:]) or _contained(env.root_resource,
                                                                           ref[1:])
            if target is None and env.resolve is not None:
                target = env.resolve(ref)
            if target is not None:
                found.append(_node(target, None))
        return found

    return resolve


def _length(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    return _string_function(len)(source)


def _type_param(params: list[Mapping[str, Any]]) -> tuple[str | None, str]:
    if len(params) != 1:
        raise _NotCompilable("type")
    return _type_specifier(params[0]["text"])


def _is(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)

    def is_(focus: Coll, scope: _Scope) -> Coll:
        item = _single_value(source(focus, scope))
        return [] if item is None else _bool(_is_type(item, namespace, name))

    return is_


def _as(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)
    return lambda focus, scope: [item for item in _values_only(source(focus, scope))
                                 if _is_type(item, namespace, name)]


def _of_type(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    namespace, name = _type_param(params)
    return lambda focus, scope: [item for item in source(focus, scope)
                                 if _is_type(item, namespace, name)]


def _context_type(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    """A leading type name (``Patient`` in ``Patient.active``, see ``engine._type_steps``)."""
    name = _string_param(params)

    def context_type(focus: Coll, scope: _Scope) -> Coll:
        out: Coll = []
        for data, path in source(focus, scope):
            if path is LITERAL:
                raise Unsupported  # a computed value: fhirpathpy's typing of it decides
            if is_subtype(path, name):
                out.append((data, path))
        return out

    return context_type


def _booleans(coll: Coll) -> list[bool]:
    values = [data for data, _ in coll]
    if not all(value is True or value is False for value in values):
        raise Unsupported
    return values


def _bool_aggregate(combine: Callable[[list[bool]], bool]) -> Builder:
    def build(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
        return lambda focus, scope: _bool(combine(_booleans(source(focus, scope))))

    return build


def _is_distinct(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    def is_distinct(focus: Coll, scope: _Scope) -> Coll:
        coll = source(focus, scope)
        literal = [path is LITERAL for _, path in coll]
        if any(literal) and not all(literal):
            raise Unsupported  # fhirpathpy tells nodes from values by object identity
        strings = [data for data, path in coll
                   if isinstance(data, str) and _type_name(data, path) in _STRING_TYPES]
        if len(strings) != len(coll):
            raise Unsupported
        return _bool(len(set(strings)) == len(strings))

    return is_distinct


def _trace(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    if params:
        _string_param(params[:1])  # the name; a second parameter is never evaluated
    return source


def _extension(source: Fn, params: list[Mapping[str, Any]]) -> Fn:
    url = _string_param(params)

    def extension(focus: Coll, scope: _Scope) -> Coll:
        out: Coll = []
        for data, _ in source(focus, scope):
            found = data.get("extension") if _mapping(data) else None
            for item in found if isinstance(found, list) else ():
                if _mapping(item) and item.get("url") == url:
                    out.append(_node(item, "Extension"))
        return out

    return extension


_FUNCTIONS: Mapping[str, Builder] = {
    "exists": _exists, "empty": _empty, "count": _count, "not": _not,
    "hasValue": _has_value, "where": _where, "all": _all, "select": _select,
    "first": _first, "contains": _contains, "startsWith": _prefix_test("startswith"),
    "endsWith": _prefix_test("endswith"), "matches": _matches, "length": _length,
    "is": _is, "as": _as, "ofType": _of_type, "isDistinct": _is_distinct,
    "allTrue": _bool_aggregate(all), "anyTrue": _bool_aggregate(any),
    "allFalse": _bool_aggregate(lambda values: not any(values)),
    "anyFalse": _bool_aggregate(lambda values: not all(values)),
    "trace": _trace, "extension": _extension, "substring": _substring,
    "toInteger": _to_integer, "resolve": _resolve, CONTEXT_TYPE: _context_type,
}
