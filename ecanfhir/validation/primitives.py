"""FHIR R4 primitive datatypes: is this JSON value a valid ``date``, ``code``, ``positiveInt``?

Implements the value rules of the 20 R4 primitive types (FHIR R4 §2.24.0.1, "Primitive Types",
http://hl7.org/fhir/R4/datatypes.html) as they appear in JSON (§2.6.2, "JSON representation
of primitive elements", http://hl7.org/fhir/R4/json.html). It exists apart from the walker
because it runs on every primitive of every resource: one dict look-up, then a small function
and a compiled regex or two; messages are only built when something is wrong.

The caller knows where the value sits and adds the location; a :class:`PrimitiveProblem` says
only what was found and what was expected. Issue codes (FHIR IssueType) are used so:

* ``structure``: the wrong JSON type, e.g. the string ``"true"`` for a boolean or ``1.0`` for an
  integer (§2.6.2: numbers and booleans are JSON numbers and booleans, the rest JSON strings);
* ``invalid``: a string whose lexical form is wrong (regex, calendar date, base64 padding,
  control characters, empty string) or a decimal that is not finite;
* ``value``: a well-formed value beyond a limit of the definition (``minValueInteger`` /
  ``maxValueInteger`` of the integers, ``maxLength`` of string).

Every problem found here is an error; ``warning`` is part of the type for callers that relax
a rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from types import MappingProxyType
from typing import Final, Literal

from .._frozen import frozen

__all__ = ["PRIMITIVE_TYPES", "SPEC_REGEXES", "STRING_MAX_LENGTH", "PrimitiveProblem",
           "check_primitive"]


@frozen
class PrimitiveProblem:
    """Why a JSON value is not a valid FHIR primitive (without its location)."""

    severity: Literal["error", "warning"]
    code: Literal["invalid", "value", "structure"]  # FHIR IssueType codes
    message: str


Check = Callable[[object], PrimitiveProblem | None]

# Verbatim from the R4 (4.0.1) definitions: StructureDefinition/<type>, element <type>.value,
# type[0].extension with url http://hl7.org/fhir/StructureDefinition/regex (later versions
# name it .../structuredefinition-regex). tests/unit/test_primitives.py compares them with the
# definitions. They are applied to the whole value (full match), with Java/XML-Schema meaning
# of \s and \S, i.e. ASCII whitespace only (re.ASCII): Python's Unicode \S would reject a
# no-break space in a string. xhtml has no regex. The number and boolean regexes describe the
# lexical form, which in JSON is the JSON grammar json.loads has already enforced.
SPEC_REGEXES: Final[Mapping[str, str]] = MappingProxyType({
    "boolean": r"true|false",
    "integer": r"-?([0]|([1-9][0-9]*))",
    "string": r"[ \r\n\t\S]+",
    "decimal": r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?",
    "uri": r"\S*",
    "url": r"\S*",
    "canonical": r"\S*",
    "base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
    "instant": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]"
               r"|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
               r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))",
    "date": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]"
            r"|[1-2][0-9]|3[0-1]))?)?",
    "dateTime": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]"
                r"|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
                r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?",
    "time": r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?",
    "code": r"[^\s]+(\s[^\s]+)*",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "id": r"[A-Za-z0-9\-\.]{1,64}",
    "markdown": r"[ \r\n\t\S]+",
    "unsignedInt": r"[0]|([1-9][0-9]*)",
    "positiveInt": r"[1-9][0-9]*",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
})


def _spec(type_code: str) -> re.Pattern[str]:
    return re.compile(SPEC_REGEXES[type_code], re.ASCII)


_STRING = _spec("string")  # markdown's regex is the same
_URI = _spec("uri")  # also url and canonical (which may end in |version)
_CODE = _spec("code")
_ID = _spec("id")
_OID = _spec("oid")
_UUID = _spec("uuid")
_DATE = _spec("date")
_DATETIME = _spec("dateTime")
_INSTANT = _spec("instant")
_TIME = _spec("time")
# The base64Binary regex backtracks exponentially on a long invalid value (each run of
# whitespace between groups can go to either \s*): 18 groups take a minute. This is the same
# language, ws* G (ws* G)* ws*, with possessive quantifiers, safe because \s and the alphabet
# are disjoint; a test checks the two agree.
_BASE64 = re.compile(r"\s*+(?:[0-9a-zA-Z+/=]{4}\s*+)++", re.ASCII)
# The spec regex lets "=" anywhere; RFC 4648 padding ends the last group ("xx==" or "xxx=").
# The regex above keeps groups whole, so the last four non-space characters are contiguous.
_BASE64_PADDED = re.compile(r"[^=]*[0-9a-zA-Z+/]{2}(?:==|[0-9a-zA-Z+/]=)\s*", re.ASCII)
# R4 §2.24.0.1 string: code points below 32 SHOULD NOT occur, except tab, CR and LF. Made an
# error here, as XML 1.0 cannot carry them (the resource could not round-trip). Unpaired
# surrogates (json.loads turns "\ud800" into one) are not Unicode characters at all. (The
# regex's own escapes: a str literal with a surrogate cannot be compiled to C, _build.py.)
_FORBIDDEN_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_XHTML_DIV = re.compile(r"\s*<div[\s>/]", re.ASCII)
# Only used to explain a failure.
_ID_CHARS = re.compile(r"[A-Za-z0-9\-.]+", re.ASCII)
_BASE64_CHARS = re.compile(r"[\sA-Za-z0-9+/=]*", re.ASCII)
_WHITESPACE = re.compile(r"\s+", re.ASCII)

STRING_MAX_LENGTH: Final = 1024 * 1024  # string.value maxLength: "SHALL NOT exceed 1MB"
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_SHOW_MAX: Final = 80
_HUGE_INT_BITS: Final = 13_000  # str() refuses ints of more than 4,300 digits (CPython)
_MONTHS_OF_31: Final = frozenset({"01", "03", "05", "07", "08", "10", "12"})

_EMPTY: Final = PrimitiveProblem(
    "error", "invalid", "empty string: a primitive value must have content or be left out")
_FORMS: Final[Mapping[str, str]] = MappingProxyType({
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz",
    "instant": "YYYY-MM-DDThh:mm:ss.sss+zz:zz",
    "time": "hh:mm:ss",
    "code": "no leading, trailing or repeated whitespace",
    "id": "1-64 characters from A-Z, a-z, 0-9, '-' and '.'",
    "oid": "urn:oid: and dot-separated numbers without leading zeros, e.g. urn:oid:1.2.3",
    "uuid": "urn:uuid: and a lowercase UUID, e.g. urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
    "base64Binary": "groups of 4 characters from A-Z, a-z, 0-9, '+' and '/', '=' only as padding",
})


# -- messages (only built when something is wrong) ----------------------------------------
def _show(value: str) -> str:
    if len(value) <= _SHOW_MAX:
        return repr(value)
    return f"{value[:_SHOW_MAX]!r}… ({len(value):,} characters)"


def _show_number(value: int | float | Decimal) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int) and value.bit_length() > _HUGE_INT_BITS:
        return "an integer of more than 3,900 digits"
    text = str(value)  # Decimal already says NaN, Infinity, -Infinity
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} digits)"


def _found(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "the boolean true" if value else "the boolean false"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, int) and value.bit_length() > _HUGE_INT_BITS:
        return _show_number(value)
    if isinstance(value, int | float | Decimal):
        return f"the number {_show_number(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}, not a JSON value"


def _wrong_json_type(expected: str, value: object) -> PrimitiveProblem:
    return PrimitiveProblem("error", "structure", f"expected {expected}, found {_found(value)}")


def _bad_form(type_code: str, value: str, detail: str = "") -> PrimitiveProblem:
    form = _FORMS.get(type_code)
    message = f"{_show(value)} is not a valid {type_code}"
    if form:
        message += f" ({form})"
    if detail:
        message += f": {detail}"
    return PrimitiveProblem("error", "invalid", message)


def _forbidden_char(type_code: str, value: str, found: re.Match[str]) -> PrimitiveProblem:
    char = found.group()
    if ord(char) >= 0xD800:
        what = f"an unpaired surrogate U+{ord(char):04X}, which is not a Unicode character"
    else:
        what = (f"the control character U+{ord(char):04X}; below U+0020 only tab, CR and LF "
                "are allowed")
    return PrimitiveProblem("error", "invalid", (
        f"{_show(value)} is not a valid {type_code}: at index {found.start()} it contains {what}"))


# -- JSON booleans and numbers --------------------------------------------------------------
def _check_boolean(value: object) -> PrimitiveProblem | None:
    if value is True or value is False:
        return None
    return _wrong_json_type("a JSON boolean", value)


# The checks of one type are a module-level function with the type's settings bound by
# functools.partial (not closures made at import), so that mutation testing reaches them.
def _check_integer(type_code: str, low: int, value: object) -> PrimitiveProblem | None:
    if type(value) is int:  # not bool; a float such as 1.0 or 1e2 is not a JSON integer
        if low <= value <= _INT32_MAX:
            return None
        return PrimitiveProblem("error", "value", (
            f"{_show_number(value)} is out of range for {type_code} ({low}..{_INT32_MAX})"))
    return _wrong_json_type(f"a JSON integer for {type_code}", value)


def _check_decimal(value: object) -> PrimitiveProblem | None:
    # json.loads gives int or float; with parse_float=Decimal (keeping the precision that FHIR
    # says matters, §2.24.0.1 decimal) it gives Decimal. NaN and Infinity are not JSON numbers,
    # though json.loads accepts them, and a huge exponent (1e400) overflows to inf.
    if type(value) is int:
        return None
    if isinstance(value, float):
        finite = math.isfinite(value)
    elif isinstance(value, Decimal):
        finite = value.is_finite()
    else:
        return _wrong_json_type("a JSON number for decimal", value)
    if finite:
        return None
    return PrimitiveProblem("error", "invalid", (
        f"{_show_number(value)} is not a valid decimal: decimals are finite numbers"))


# -- JSON strings ---------------------------------------------------------------------------
def _check_text(type_code: str, max_length: int | None, value: object
                ) -> PrimitiveProblem | None:
    """string and markdown: any text without control characters, within max_length."""
    if not isinstance(value, str):
        return _wrong_json_type(f"a JSON string for {type_code}", value)
    if not value:
        return _EMPTY
    # Stricter than the spec regex [ \r\n\t\S]+, which (ASCII \S) rejects only "", U+000B
    # and U+000C; leading and trailing whitespace is allowed.
    found = _FORBIDDEN_CHAR.search(value)
    if found is not None:
        return _forbidden_char(type_code, value, found)
    if max_length is not None and len(value) > max_length:
        return PrimitiveProblem("error", "value", (
            f"a {type_code} of {len(value):,} characters is too long: "
            f"FHIR allows at most {max_length:,} (1 MB)"))
    return None


def _check_lexical(
    type_code: str,
    pattern: re.Pattern[str],
    controls: bool,
    hint: Callable[[str], str] | None,
    value: object,
) -> PrimitiveProblem | None:
    """A string-based type judged by its spec regex (and, for free text, control characters)."""
    problem = _form_problem(type_code, pattern, value, hint)
    if problem is None and controls and isinstance(value, str):
        found = _FORBIDDEN_CHAR.search(value)
        if found is not None:
            return _forbidden_char(type_code, value, found)
    return problem


def _form_problem(type_code: str, pattern: re.Pattern[str], value: object,
                  hint: Callable[[str], str] | None) -> PrimitiveProblem | None:
    """A JSON string, not empty, matching the spec regex of ``type_code`` (else the problem)."""
    if not isinstance(value, str):
        return _wrong_json_type(f"a JSON string for {type_code}", value)
    if not value:
        return _EMPTY
    if pattern.fullmatch(value) is None:
        return _bad_form(type_code, value, hint(value) if hint else "")
    return None


def _lexical(type_code: str, pattern: re.Pattern[str], *, controls: bool = False,
             hint: Callable[[str], str] | None = None) -> Check:
    return partial(_check_lexical, type_code, pattern, controls, hint)


def _check_temporal(type_code: str, pattern: re.Pattern[str], value: object
                    ) -> PrimitiveProblem | None:
    """date, dateTime, instant: the spec regex, then a day that exists in that month."""
    problem = _form_problem(type_code, pattern, value,
                            partial(_temporal_hint, type_code, pattern))
    if problem is not None or not isinstance(value, str):
        return problem
    # The regex allows day 31 in every month; YYYY-MM-DD sits at fixed offsets.
    if len(value) >= 10 and value[8:10] > "28" and not _day_exists(value):
        return _bad_form(type_code, value, f"{value[:7]} has no day {value[8:10]}")
    return None


def _day_exists(value: str) -> bool:
    """Day 29, 30 or 31 of YYYY-MM-DD exists (string compares: this runs often)."""
    month, day = value[5:7], value[8:10]
    if day == "31":
        return month in _MONTHS_OF_31
    if month != "02":
        return True
    year = int(value[:4])
    return day == "29" and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _temporal_hint(type_code: str, pattern: re.Pattern[str], value: str) -> str:
    if type_code == "instant" and "T" not in value:
        return "an instant needs a date and a time"
    if "T" in value and pattern.fullmatch(value + "Z") is not None:
        # R4 §2.24.0.1 dateTime: "If hours and minutes are specified, a time zone SHALL be
        # populated"; the regex makes the offset part of the time.
        return "a time needs a time-zone offset (Z, +hh:mm or -hh:mm)"
    return ""


def _uri_hint(value: str) -> str:
    return "it contains whitespace"  # \S* fails on nothing else


def _id_hint(value: str) -> str:
    if len(value) > 64 and _ID.fullmatch(value[:64]) and _ID_CHARS.fullmatch(value):
        return f"it has {len(value)} characters"
    return ""


def _uuid_hint(value: str) -> str:
    return "hex digits must be lowercase" if _UUID.fullmatch(value.lower()) else ""


def _check_base64(value: object) -> PrimitiveProblem | None:
    if not isinstance(value, str):
        return _wrong_json_type("a JSON string for base64Binary", value)
    if not value:
        return _EMPTY
    if _BASE64.fullmatch(value) is None:
        return _bad_form("base64Binary", value, _base64_hint(value))
    if "=" in value and _BASE64_PADDED.fullmatch(value) is None:
        return _bad_form("base64Binary", value, "'=' may only pad the end of the last group")
    return None


def _base64_hint(value: str) -> str:
    if _BASE64_CHARS.fullmatch(value) is None:
        return "it contains characters outside the base64 alphabet"
    data = _WHITESPACE.sub("", value)
    if not data:
        return "it contains only whitespace"
    if len(data) % 4:
        return f"{len(data)} characters is not a multiple of 4 (missing padding?)"
    return "whitespace may only separate groups of 4 characters"


def _check_xhtml(value: object) -> PrimitiveProblem | None:
    # R4 §2.6.2: narrative is a JSON string holding the escaped XHTML <div> (§2.4.0: "a
    # single div element"); the XHTML itself is checked elsewhere.
    if not isinstance(value, str):
        return _wrong_json_type("a JSON string for xhtml", value)
    if not value:
        return _EMPTY
    if _XHTML_DIV.match(value) is None:
        return PrimitiveProblem("error", "invalid", (
            f"{_show(value)} is not valid xhtml: expected a <div> element"))
    return None


_CHECKS: Final[Mapping[str, Check]] = {
    "boolean": _check_boolean,
    "integer": partial(_check_integer, "integer", _INT32_MIN),
    "unsignedInt": partial(_check_integer, "unsignedInt", 0),
    "positiveInt": partial(_check_integer, "positiveInt", 1),
    "decimal": _check_decimal,
    "string": partial(_check_text, "string", STRING_MAX_LENGTH),
    "markdown": partial(_check_text, "markdown", None),
    "uri": _lexical("uri", _URI, controls=True, hint=_uri_hint),
    "url": _lexical("url", _URI, controls=True, hint=_uri_hint),
    "canonical": _lexical("canonical", _URI, controls=True, hint=_uri_hint),
    "code": _lexical("code", _CODE, controls=True),
    "id": _lexical("id", _ID, hint=_id_hint),
    "oid": _lexical("oid", _OID),
    "uuid": _lexical("uuid", _UUID, hint=_uuid_hint),
    "base64Binary": _check_base64,
    "date": partial(_check_temporal, "date", _DATE),
    "dateTime": partial(_check_temporal, "dateTime", _DATETIME),
    "instant": partial(_check_temporal, "instant", _INSTANT),
    "time": _lexical("time", _TIME),
    "xhtml": _check_xhtml,
}

PRIMITIVE_TYPES: Final[frozenset[str]] = frozenset(_CHECKS)


def check_primitive(type_code: str, value: object) -> PrimitiveProblem | None:
    """None when a JSON value is valid for the FHIR R4 primitive `type_code`, else the problem.

    Args:
        type_code: an R4 primitive type name (``date``, ``positiveInt``...); for any other
            name (a complex type, a profile's type) nothing is judged and None is returned.
        value: the JSON value of the element (the ``"birthDate"`` property, not
            ``"_birthDate"``), as json.loads returns it; Decimal is accepted for decimal.

    Returns:
        None when valid, else the problem, whose message names what was found and what was
        expected but not where: the caller adds the location.

    >>> check_primitive("date", "2020-02-29") is None
    True
    >>> check_primitive("date", "1970-13-45")
    PrimitiveProblem(severity='error', code='invalid',
                     message="'1970-13-45' is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)")
    >>> check_primitive("boolean", "true").message
    "expected a JSON boolean, found the string 'true'"
    >>> check_primitive("positiveInt", 0).code
    'value'
    >>> check_primitive("HumanName", {"family": "Jensen"}) is None
    True
    """
    check = _CHECKS.get(type_code)
    return None if check is None else check(value)
