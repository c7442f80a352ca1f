"""FHIR datatypes as builder input (Coding, Identifier) and the dateTime/instant rules.

R4 dateTime and instant values with a time SHALL carry a zone (R4 §2.24.0.1 "dateTime"; MedCom
requires it everywhere, DOMAIN.md §4.11), so builders refuse naive ``datetime`` objects instead of
guessing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .._exceptions import BuildError

__all__ = ["GLN_SYSTEM_HTTP", "GLN_SYSTEM_HTTPS", "Coding", "Identifier", "fhir_date_time",
           "fhir_instant", "require_aware"]

GLN_SYSTEM_HTTPS = "https://www.gs1.org/gln"
GLN_SYSTEM_HTTP = "http://www.gs1.org/gln"
_URI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")


@dataclass(frozen=True, slots=True)
class Coding:
    """A code from a code system (R4 Coding).

    >>> Coding("http://snomed.info/sct", "387713003", "Surgical procedure").to_fhir()
    {'system': 'http://snomed.info/sct', 'code': '387713003', 'display': 'Surgical procedure'}
    """

    system: str
    code: str
    display: str | None = None

    def __post_init__(self) -> None:
        if not _URI.match(self.system):
            raise BuildError(f"Coding.system: must be an absolute URI, not {self.system!r}")
        if not self.code.strip() or self.code != self.code.strip():
            raise BuildError(f"Coding.code: must be non-empty without outer spaces: {self.code!r}")

    def to_fhir(self) -> dict[str, Any]:
        """The R4 JSON of this Coding."""
        out: dict[str, Any] = {"system": self.system, "code": self.code}
        if self.display:
            out["display"] = self.display
        return out


@dataclass(frozen=True, slots=True)
class Identifier:
    """A business identifier (R4 Identifier): a system URI and a value.

    >>> Identifier("urn:oid:1.2.246.21", "010190-123A").to_fhir()
    {'system': 'urn:oid:1.2.246.21', 'value': '010190-123A'}
    """

    system: str
    value: str

    def __post_init__(self) -> None:
        if not _URI.match(self.system):
            raise BuildError(f"Identifier.system: must be an absolute URI, not {self.system!r}")
        if not self.value.strip():
            raise BuildError("Identifier.value: must not be empty")

    def to_fhir(self) -> dict[str, Any]:
        """The R4 JSON of this Identifier."""
        return {"system": self.system, "value": self.value}


def require_aware(value: datetime, field: str) -> None:
    """Refuse a naive datetime.

    Raises:
        BuildError: ``value`` has no time zone; the message names ``field``.

    >>> require_aware(datetime(2026, 1, 1, 9, 0), "Referral.authored")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Referral.authored: needs a time zone ...
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise BuildError(f"{field}: needs a time zone (naive datetime {value.isoformat()}); "
                         "FHIR dateTimes with a time carry one")


def fhir_instant(value: datetime, field: str) -> str:
    """A zoned datetime as an R4 instant (seconds precision).

    >>> from datetime import timedelta, timezone
    >>> fhir_instant(datetime(2026, 11, 27, 9, 15, tzinfo=timezone(timedelta(hours=1))), "x")
    '2026-11-27T09:15:00+01:00'
    """
    require_aware(value, field)
    return value.isoformat(timespec="seconds")


def fhir_date_time(value: date | datetime, field: str) -> str:
    """A date or zoned datetime as an R4 dateTime.

    >>> fhir_date_time(date(2026, 11, 20), "CancerDiagnosis.diagnosed")
    '2026-11-20'
    """
    if isinstance(value, datetime):
        return fhir_instant(value, field)
    return value.isoformat()
