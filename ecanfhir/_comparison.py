"""Comparing typed FHIR values: numbers, dates at their shared precision, times, Quantities
(in the same unit, or after UCUM conversion), Codings and References.

Used where FHIR compares answers with limits and conditions (Questionnaire ``enableWhen``,
``answerOption``, min/max values, R4 questionnaire.html §12.1.5). A pair that cannot be compared
gives None, never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ._ucum import to_base

__all__ = ["compare", "compare_dates", "decimal_places", "number", "same_value"]

_UCUM = "http://unitsofmeasure.org"


def compare(a_type: str, a: Any, b_type: str, b: Any) -> int | None:
    """-1, 0 or 1 comparing two typed FHIR values; None when they cannot be compared.

    >>> ucum = "http://unitsofmeasure.org"
    >>> compare("Quantity", {"value": 1, "system": ucum, "code": "g"},
    ...         "Quantity", {"value": 500, "system": ucum, "code": "mg"})
    1
    >>> compare("date", "2026-11", "date", "2026-11-28")   # equal at the shared precision
    0
    >>> compare("Quantity", {"value": 37, "code": "Cel"},
    ...         "Quantity", {"value": 98, "code": "[degF]"}) is None
    True
    """
    if a_type in ("integer", "decimal") and b_type in ("integer", "decimal"):
        return _cmp(number(a), number(b))
    if a_type in ("date", "dateTime") and b_type in ("date", "dateTime"):
        return compare_dates(a, b) if isinstance(a, str) and isinstance(b, str) else None
    if a_type == "Quantity" and b_type == "Quantity":
        return _compare_quantities(a, b)
    if a_type == "Quantity" and b_type in ("integer", "decimal") and isinstance(a, Mapping):
        return _cmp(number(a.get("value")), number(b))
    if a_type != b_type:
        return None
    if a_type == "time":
        return _cmp(_seconds(a), _seconds(b))
    if a_type in ("string", "uri", "boolean") and type(a) is type(b):
        return 0 if a == b else (None if a_type == "boolean" else (-1 if a < b else 1))
    if a_type == "Coding" and isinstance(a, Mapping) and isinstance(b, Mapping):
        same_system = "system" not in b or a.get("system") == b.get("system")
        return 0 if same_system and a.get("code") == b.get("code") else None
    if a_type == "Reference" and isinstance(a, Mapping) and isinstance(b, Mapping):
        return 0 if a.get("reference") == b.get("reference") is not None else None
    return None


def same_value(fhir_type: str, a: Any, b: Any) -> bool:
    """Equality for answerOption: the same date (not just the same year), time or number."""
    if fhir_type == "date":
        return isinstance(a, str) and a == b
    return compare(fhir_type, a, fhir_type, b) == 0


def _cmp(a: Decimal | float | None, b: Decimal | float | None) -> int | None:
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return None


def decimal_places(value: object) -> int | None:
    found = number(value)
    if found is None:
        return None
    exponent = found.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else None


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?")


def compare_dates(a: str, b: str) -> int | None:
    """Compare two date/dateTime values at the precision they share (partial dates)."""
    ma, mb = _DATE.fullmatch(a), _DATE.fullmatch(b)
    if ma is None or mb is None:
        return None
    if ma[4] and mb[4] and bool(ma[7]) == bool(mb[7]):
        return _cmp(_instant(ma), _instant(mb))
    for x, y in zip(ma.groups()[:3], mb.groups()[:3], strict=True):
        if x is None or y is None:
            return 0
        if x != y:
            return -1 if x < y else 1
    return 0


def _instant(match: re.Match[str]) -> float | None:
    zone: timezone = UTC
    if match[7] and match[7] != "Z":
        sign = -1 if match[7][0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(match[7][1:3]), minutes=int(match[7][4:6])))
    seconds = float(match[6] or 0)
    try:
        moment = datetime(int(match[1]), int(match[2]), int(match[3]), int(match[4]),
                          int(match[5]), min(int(seconds), 59), tzinfo=zone)
    except ValueError:  # not a calendar date: the primitive check reports it
        return None
    return moment.timestamp() + seconds % 1


def _seconds(value: object) -> float | None:
    match = re.fullmatch(r"(\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?", value) if isinstance(
        value, str) else None
    if match is None:
        return None
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3] or 0)


def _compare_quantities(a: Any, b: Any) -> int | None:
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return None
    va, vb = number(a.get("value")), number(b.get("value"))
    if va is None or vb is None:
        return None
    unit_a = (a.get("system"), a.get("code") or a.get("unit"))
    unit_b = (b.get("system"), b.get("code") or b.get("unit"))
    if unit_a == unit_b:
        return _cmp(va, vb)
    if any(u[0] not in (None, _UCUM) or not isinstance(u[1], str) for u in (unit_a, unit_b)):
        return None
    try:
        fa, fb = to_base(va, str(unit_a[1])), to_base(vb, str(unit_b[1]))
        if fa is None or fb is None or fa[1] != fb[1]:
            return None
        return _cmp(fa[0], fb[0])
    except InvalidOperation:
        return None
