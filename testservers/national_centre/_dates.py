"""FHIR date and dateTime search values as UTC instant ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["bounds", "stored_form"]


def bounds(text: str) -> tuple[datetime, datetime]:
    """[first, after-last) instant of a FHIR date or dateTime (no zone: UTC).

    >>> [d.isoformat() for d in bounds("2026-02")]
    ['2026-02-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00']

    Raises:
        ValueError: not a FHIR date or dateTime.
    """
    if len(text) == 4 and text.isdigit():
        first = datetime(int(text), 1, 1, tzinfo=UTC)
        return first, first.replace(year=first.year + 1)
    if len(text) == 7 and text[4] == "-" and text[5:].isdigit():
        first = datetime(int(text[:4]), int(text[5:]), 1, tzinfo=UTC)
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    if len(text) == 10:
        first = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return first, first + timedelta(days=1)
    if len(text) < 16 or text[10] != "T":
        raise ValueError(f"not a FHIR date or dateTime: {text[:40]}")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    step = timedelta(microseconds=1) if "." in text[19:20] else timedelta(seconds=1)
    return moment.astimezone(UTC), moment.astimezone(UTC) + step


def stored_form(moment: datetime) -> str:
    """The fixed-width UTC text form the stores keep (it sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
