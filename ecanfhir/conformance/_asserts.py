"""TestScript asserts: operators, FHIRPath expressions, comparisons (R4 testscript.html).

Values are compared as text: a FHIRPath result of one item is that item (``true``/``false``
for booleans), several items are joined with commas, none is the empty string. ``in`` and
``notIn`` take a comma-separated ``value``; ``greaterThan``/``lessThan`` compare numbers when
both sides are numbers, text otherwise; ``eval`` passes when the expression is ``true``. An
expression assert with neither ``value`` nor ``operator`` is an ``eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.models import models

from ._model import SuiteError

__all__ = ["FhirPathFailure", "as_text", "compare", "evaluate"]


class FhirPathFailure(SuiteError):
    """A FHIRPath expression of a TestScript does not parse or cannot be evaluated."""


@lru_cache(maxsize=512)
def _compiled(expression: str) -> Any:
    try:
        return fhirpathpy.compile(expression, models["r4"])
    except Exception as exc:  # fhirpathpy raises plain Exceptions for syntax errors
        raise FhirPathFailure(f"FHIRPath {expression!r} does not parse: {exc}") from exc


def evaluate(focus: Any, expression: str) -> list[Any]:
    """The FHIRPath result of ``expression`` on ``focus`` (a JSON resource), as a list.

    >>> evaluate({"resourceType": "Patient", "gender": "male"}, "Patient.gender")
    ['male']
    """
    if focus is None:
        return []
    try:
        result = _compiled(expression)(focus)
    except FhirPathFailure:
        raise
    except Exception as exc:
        raise FhirPathFailure(f"FHIRPath {expression!r} failed: {exc}") from exc
    return list(result) if isinstance(result, list) else [result]


def as_text(values: Sequence[Any]) -> str:
    """The text form compared by operators.

    >>> as_text([True]), as_text(["a", 2]), as_text([])
    ('true', 'a,2', '')
    """
    return ",".join(_item(v) for v in values)


def _item(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def compare(actual: Sequence[Any], operator: str, expected: str | None) -> tuple[bool, str]:
    """Whether ``actual`` satisfies ``operator`` against ``expected``, and what was seen.

    >>> compare(["ok"], "in", "ok,transient-error")
    (True, 'ok')
    >>> compare([3], "greaterThan", "10")
    (False, '3')
    >>> compare([], "empty", None)
    (True, '')
    """
    text = as_text(actual)
    if operator == "empty":
        return not actual, text
    if operator == "notEmpty":
        return bool(actual), text
    if operator == "eval":
        return list(actual) == [True], text
    if expected is None:
        raise SuiteError(f"operator {operator} needs a value")
    if operator == "equals":
        return text == expected, text
    if operator == "notEquals":
        return text != expected, text
    if operator in ("in", "notIn"):
        found = text in [part.strip() for part in expected.split(",")]
        return found == (operator == "in"), text
    if operator in ("contains", "notContains"):
        return (expected in text) == (operator == "contains"), text
    if operator in ("greaterThan", "lessThan"):
        left, right = _number(text), _number(expected)
        if left is not None and right is not None:
            return (left > right if operator == "greaterThan" else left < right), text
        return (text > expected if operator == "greaterThan" else text < expected), text
    raise SuiteError(f"unknown assert operator {operator}")


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
