"""Valid primitive values that are probably a data-entry error, reported as warnings the way
the HL7 validator reports them (``InstanceValidator.checkPrimitive`` of hapifhir/
org.hl7.fhir.core):

==========================================  ===============================================  =====
value                                       why                                              level
==========================================  ===============================================  =====
date, dateTime or instant before 1800, or   outside the range of reasonable years (the HL7   warning
more than 80 years after this year          validator's ``yearIsValid``)
decimal of more than 18 digits, or with an  outside what systems commonly support (the HL7   warning
exponent of more than 4 digits              validator's ``Utilities.checkDecimal`` RANGE)
==========================================  ===============================================  =====

Both are valid FHIR (R4 §2.24.0.1 puts no bound on years or on decimal precision); they are
warnings, never errors.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from .._issue import Issue

__all__ = ["PLAUSIBILITY_TYPES", "YEARS_AHEAD", "check_plausible"]

PLAUSIBILITY_TYPES = frozenset({"date", "dateTime", "instant", "decimal"})
_FIRST_YEAR = 1800
YEARS_AHEAD = 80
_MAX_DIGITS = 18
_MAX_EXPONENT_DIGITS = 4
_INT_LIMIT = 10**_MAX_DIGITS


def check_plausible(type_code: str, value: object, at: str, *,
                    this_year: int | None = None) -> Issue | None:
    """A warning when a valid date or decimal is implausible, or None.

    >>> check_plausible("date", "1066-10-14", "Patient.birthDate").rule
    'date-reasonable'
    >>> check_plausible("date", "1966-10-14", "Patient.birthDate") is None
    True
    >>> check_plausible("decimal", 0.5, "Observation.valueQuantity.value") is None
    True
    """
    if type_code == "decimal":
        return _decimal(value, at)
    if type_code in PLAUSIBILITY_TYPES and isinstance(value, str):
        return _year(value, at, this_year or datetime.date.today().year)
    return None


def _year(value: str, at: str, this_year: int) -> Issue | None:
    digits = value[:4]
    if len(digits) != 4 or not digits.isdigit():
        return None
    year = int(digits)
    if _FIRST_YEAR <= year <= this_year + YEARS_AHEAD:
        return None
    return Issue.warning("invalid", at, f"the value '{value}' is outside the range of reasonable "
                         f"years ({_FIRST_YEAR} to {this_year + YEARS_AHEAD}): check for a data "
                         "entry error", "date-reasonable")


def _decimal(value: object, at: str) -> Issue | None:
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return None  # at most 18 digits
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
    digits = sum(ch.isdigit() for ch in mantissa)
    exponent_digits = sum(ch.isdigit() for ch in exponent)
    if digits <= _MAX_DIGITS and exponent_digits <= _MAX_EXPONENT_DIGITS:
        return None
    return Issue.warning("value", at, f"the value {text} is outside the range of commonly "
                         f"supported decimals (more than {_MAX_DIGITS} digits, or an exponent of "
                         f"more than {_MAX_EXPONENT_DIGITS} digits)", "decimal-range")
