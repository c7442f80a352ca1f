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

from .ucum import to_base

__all__ = ["compare", "compare_dates", "decimal_places", "number", "relative_to_now",
           "same_value"]

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


# UCUM time units of a Duration (R4 datatypes.html#Duration), as fixed lengths; years and months
# of a whole number are calendar steps instead (2 a after 29 Feb is 28 Feb, not 730.5 days).
_SECONDS = {"a": 365.25 * 86400, "mo": 365.25 * 86400 / 12, "wk": 7 * 86400, "d": 86400,
            "h": 3600, "min": 60, "s": 1, "ms": 0.001}
_CALENDAR_MONTHS = {"a": 12, "mo": 1}


def relative_to_now(duration: object, *, now: datetime, later: bool) -> str | None:
    """The dateTime ``duration`` after (``later``) or before ``now``, or None when the
    Duration has no usable value and UCUM time unit.

    A Duration limit on a date, dateTime or instant is relative to the current time
    (ElementDefinition.minValue[x]/maxValue[x]): subtracted from the clock for the minimum,
    added to it for the maximum.

    >>> now = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    >>> relative_to_now({"value": 1, "code": "a"}, now=now, later=False)
    '2023-02-28T12:00:00Z'
    >>> relative_to_now({"value": 36, "code": "h"}, now=now, later=True)
    '2024-03-02T00:00:00Z'
    """
    if not isinstance(duration, Mapping):
        return None
    amount = number(duration.get("value"))
    unit = duration.get("code") if duration.get("code") is not None else duration.get("unit")
    if amount is None or amount < 0 or not isinstance(unit, str) or unit not in _SECONDS:
        return None
    sign = 1 if later else -1
    moment = now.astimezone(UTC)
    try:
        if unit in _CALENDAR_MONTHS and amount == amount.to_integral_value():
            step = sign * int(amount) * _CALENDAR_MONTHS[unit]
            months = moment.year * 12 + moment.month - 1 + step
            year, month = divmod(months, 12)
            day = min(moment.day, _month_length(year, month + 1))
            moment = moment.replace(year=year, month=month + 1, day=day)
        else:
            moment += sign * timedelta(seconds=float(amount) * _SECONDS[unit])
    except (OverflowError, ValueError):  # beyond year 1..9999: no limit can be reached
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_length(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


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
