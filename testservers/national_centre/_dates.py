"""FHIR date and dateTime search values as UTC instant ranges.

FHIR allows any year from 0001 to 9999 with any zone offset from -14:00 to +14:00, so a valid
dateTime such as ``9999-12-31T23:00:00-02:00`` (``10000-01-01T01:00Z``) or
``0001-01-01T00:00:00+01:00`` lies outside what Python's ``datetime`` can hold in UTC, and
the end of the range ``9999-12-31`` does too. Two readings, one per use:

- :func:`bounds` (search ranges, KPI periods) clamps to the first and last instant Python
  holds. Comparisons stay exact, but for the one microsecond 9999-12-31T23:59:59.999999Z that
  the exclusive end then leaves out.
- :func:`instant` (a fact to count) answers ``None``: a KPI leaves out what it cannot place.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["FIRST", "LAST", "bounds", "instant", "stored_form"]

FIRST = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)

# FHIR date / dateTime (seconds optional, as search values allow); ASCII digits only.
_DATE_TIME = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}:\d{2})(:\d{2})?(\.\d+)?"
                        r"(Z|[+-]\d{2}:\d{2})?)?)?)?", re.ASCII)


def bounds(text: str) -> tuple[datetime, datetime]:
    """[first, after-last) instant of a FHIR date or dateTime (no zone: UTC), clamped to
    [FIRST, LAST].

    >>> [d.isoformat() for d in bounds("2026-02")]
    ['2026-02-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00']
    >>> bounds("9999-12-31")[1] == LAST
    True

    Raises:
        ValueError: not a FHIR date or dateTime.
    """
    first, after = _local_bounds(text)
    return _utc(first) or (FIRST if first.year == 1 else LAST), (
        LAST if after is None else _utc(after) or (FIRST if after.year == 1 else LAST))


def instant(text: object) -> datetime | None:
    """The UTC instant a FHIR date or dateTime starts at; ``None`` when it is not one, or
    lies outside the years 0001-9999 in UTC.

    >>> instant("9999-12-31T23:30:00-05:00") is None, instant("2026") == bounds("2026")[0]
    (True, True)
    """
    if not isinstance(text, str):
        return None
    try:
        return _utc(_local_bounds(text)[0])
    except ValueError:
        return None


def stored_form(moment: datetime) -> str:
    """The fixed-width UTC text form the stores keep (it sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _local_bounds(text: str) -> tuple[datetime, datetime | None]:
    """The range in the value's own zone; ``None`` for an end past the year 9999."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a FHIR date or dateTime: {text[:40]}")
    year, month, day, clock, seconds, fraction, _zone = match.groups()
    try:
        if clock is None:
            first = datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
        else:
            first = datetime.fromisoformat(text.replace("Z", "+00:00"))
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a FHIR date or dateTime: {text[:40]}") from None
    try:
        if day is not None and clock is None:
            return first, first + timedelta(days=1)
        if month is not None and clock is None:
            return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        if clock is None:
            return first, first.replace(year=first.year + 1)
        step = (timedelta(microseconds=1) if fraction else timedelta(seconds=1) if seconds
                else timedelta(minutes=1))
        return first, first + step
    except (OverflowError, ValueError):
        return first, None


def _utc(moment: datetime) -> datetime | None:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None
