"""The FHIRPath operators of the fast path: three-valued logic (FHIRPath §6.5), equality,
comparison, membership (``in``, ``contains``), ``is``/``as``, ``+``, ``&`` and arithmetic.

Each builder takes its compiled operands and returns the closure of the operator; values that
fhirpathpy compares or converts differently from FHIRPath raise :class:`Unsupported`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .fast_nodes import (
    FALSE,
    LITERAL,
    STRING_TYPES,
    TRUE,
    Coll,
    Fn,
    Item,
    NotCompilable,
    Scope,
    Unsupported,
    boolean,
    is_companion_pair,
    is_mapping,
    is_number,
    is_type,
    single_value,
    singleton,
    string_path,
    type_name_of,
    type_specifier,
)

__all__ = [
    "ARITHMETIC", "additive_operator", "arithmetic_operator", "comparison_operator",
    "equality_operator", "logic_operator", "membership_operator", "same_precision",
    "type_operator",
]

_TEMPORAL_TYPES = frozenset({
    "date", "dateTime", "instant", "time", "System.Date", "System.DateTime", "System.Time"})
_TEMPORAL = re.compile(
    r"(\d{4}(?:-\d\d(?:-\d\d)?)?)?(T?\d\d(?::\d\d(?::\d\d(?:\.\d+)?)?)?)?(Z|[+-]\d\d:\d\d)?")


def _operand(coll: Coll) -> bool | None:
    """A Boolean operand: fhirpathpy raises on several items or a non-Boolean value."""
    if coll is TRUE:
        return True
    if coll is FALSE:
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


# The left operand's value that decides and, or and implies alone, and the result it gives.
_DECIDED: Mapping[str, tuple[bool, Coll]] = {
    "and": (False, FALSE), "or": (True, TRUE), "implies": (False, TRUE)}
# Read when an expression is compiled; the agreement tests compile with both sides evaluated
# always, as fhirpathpy does, to show that a verdict fhirpathpy cannot give comes only from an
# operand left unevaluated.
SHORT_CIRCUIT = True


def logic_operator(operator: str, left: Fn, right: Fn) -> Fn:
    """Three-valued logic (FHIRPath §6.5).

    The right side is not evaluated when the left one decides (``false and``, ``true or``,
    ``false implies``), as in the HL7 validator's FHIRPathEngine (``preOperate``): on data
    where the right side cannot be evaluated (fhirpathpy, which evaluates both, raises), the
    verdict is the left side's, as the HL7 validator's is, not "not evaluated".
    """
    combine = _LOGIC.get(operator)
    if combine is None:
        raise NotCompilable(operator)
    decided = _DECIDED.get(operator) if SHORT_CIRCUIT else None
    if decided is None:  # xor: both sides, always

        def both(focus: Coll, scope: Scope) -> Coll:
            a = _operand(left(focus, scope))
            return boolean(combine(a, _operand(right(focus, scope))))

        return both
    deciding, result = decided

    def logic(focus: Coll, scope: Scope) -> Coll:
        a = _operand(left(focus, scope))
        if a is deciding:
            return result
        return boolean(combine(a, _operand(right(focus, scope))))

    return logic


def _comparable(a: Item, b: Item) -> tuple[Any, Any]:
    """Two singleton values that FHIRPath and fhirpathpy compare alike, or Unsupported."""
    (x, x_path), (y, y_path) = a, b
    if x_path == "Quantity" or y_path == "Quantity":
        raise Unsupported  # fhirpathpy reads these as its own quantities
    if isinstance(x, str) and isinstance(y, str):
        x_type, y_type = type_name_of(x, x_path), type_name_of(y, y_path)
        if x_type in STRING_TYPES and y_type in STRING_TYPES:
            return x, y
        if x_type in _TEMPORAL_TYPES and y_type in _TEMPORAL_TYPES and same_precision(x, y):
            return x, y  # as strings, as fhirpathpy does: right only at one precision
        raise Unsupported
    if is_number(x) and is_number(y):
        return x, y
    if isinstance(x, bool) and isinstance(y, bool):
        return x, y
    raise Unsupported


def same_precision(x: str, y: str) -> bool:
    """Whether two date/time strings order as strings: same shape and the same zone."""
    a, b = _TEMPORAL.fullmatch(x), _TEMPORAL.fullmatch(y)
    if a is None or b is None or len(x) != len(y) or a[3] != b[3]:
        return False
    return all((a[i] is None) == (b[i] is None) for i in (1, 2)) and bool(x)


def _equal(a: Item, b: Item) -> bool:
    (x, x_path), (y, y_path) = a, b
    if type(x) is str and type(y) is str and string_path(x_path) and string_path(y_path):
        return x == y  # the usual case, as _comparable() decides it
    x, y = _comparable(a, b)
    if (isinstance(x, float) and isinstance(y, Decimal)) or (
            isinstance(y, float) and isinstance(x, Decimal)):
        raise Unsupported  # fhirpathpy: 0.1 != 0.1 between JSON float and literal
    return bool(x == y)


def equality_operator(negate: bool, left: Fn, right: Fn) -> Fn:
    def equality(focus: Coll, scope: Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1:
            raise Unsupported  # as singleton()
        return TRUE if (_equal(a[0], b[0]) is not negate) else FALSE

    return equality


def _decimal(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: bool(x < y), ">": lambda x, y: bool(x > y),
    "<=": lambda x, y: bool(x <= y), ">=": lambda x, y: bool(x >= y)}


def comparison_operator(operator: str, left: Fn, right: Fn) -> Fn:
    compare = _COMPARE[operator]

    def comparison(focus: Coll, scope: Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        x, y = _comparable(_without_extension(a), _without_extension(b))
        if isinstance(x, bool):
            raise Unsupported
        return boolean(compare(_decimal(x), _decimal(y)))

    return comparison


def _without_extension(coll: Coll) -> Item:
    """fhirpathpy's ``remove_duplicate_extension``: a value, then its ``_x`` with extensions."""
    if (len(coll) == 2 and not is_mapping(coll[0][0]) and coll[1][1] is not LITERAL
            and is_companion_pair(*coll[1]) and "extension" in coll[1][0]):
        return coll[0]
    return singleton(coll)


def membership_operator(collection: Fn, element: Fn) -> Fn:
    """``element in collection`` (``collection contains element``)."""

    def membership(focus: Coll, scope: Scope) -> Coll:
        wanted, within = element(focus, scope), collection(focus, scope)
        if not wanted:
            return []
        if not within:
            return FALSE
        item = singleton(wanted)
        return TRUE if any(_equal(item, other) for other in within) else FALSE

    return membership


def type_operator(operator: str, left: Fn, specifier: Mapping[str, Any]) -> Fn:
    namespace, name = type_specifier(specifier["text"])

    def is_operator(focus: Coll, scope: Scope) -> Coll:
        item = single_value(left(focus, scope))
        return [] if item is None else boolean(is_type(item, namespace, name))

    def as_operator(focus: Coll, scope: Scope) -> Coll:
        item = single_value(left(focus, scope))
        return [item] if item is not None and is_type(item, namespace, name) else []

    return is_operator if operator == "is" else as_operator


def additive_operator(operator: str, left: Fn, right: Fn) -> Fn:
    def plus(focus: Coll, scope: Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1:
            raise Unsupported  # as singleton()
        (x, x_path), (y, y_path) = a[0], b[0]
        if x_path is not LITERAL or y_path is not LITERAL or not (
                is_number(x) and is_number(y)):
            raise Unsupported  # fhirpathpy converts dates, quantities… of nodes first
        return [(x + y, LITERAL)]

    def concatenate(focus: Coll, scope: Scope) -> Coll:
        return [(_string(left(focus, scope)) + _string(right(focus, scope)), LITERAL)]

    return plus if operator == "+" else concatenate


def _int_division(x: Any, y: Any) -> Any:
    return x // y if y != 0 else None


ARITHMETIC: Mapping[str, Callable[[Any, Any], Any]] = {
    "-": lambda x, y: x - y, "*": lambda x, y: x * y,
    "mod": lambda x, y: x % y if y != 0 else None, "div": _int_division}


def arithmetic_operator(operation: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
    """``-``, ``*``, ``mod``, ``div`` on two computed numbers (``toInteger()`` results, literals);
    empty when either side is (fhirpathpy's "nullable"), and when dividing by zero."""

    def arithmetic(focus: Coll, scope: Scope) -> Coll:
        a, b = left(focus, scope), right(focus, scope)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1:
            raise Unsupported  # as singleton()
        (x, x_path), (y, y_path) = a[0], b[0]
        if x_path is not LITERAL or y_path is not LITERAL:
            raise Unsupported  # quantities, dates, element values: fhirpathpy's conversions
        if (type(x) is not int or type(y) is not int) and (not (is_number(x) and is_number(y))
                                                           or isinstance(x, float)
                                                           or isinstance(y, float)):
            raise Unsupported
        result = operation(x, y)
        return [] if result is None else [(result, LITERAL)]

    return arithmetic


def _string(coll: Coll) -> str:
    """A String operand of ``&``: empty is ''; fhirpathpy raises on anything but one string."""
    if not coll:
        return ""
    value, path = singleton(coll)
    if not isinstance(value, str) or type_name_of(value, path) not in STRING_TYPES:
        raise Unsupported
    return value
