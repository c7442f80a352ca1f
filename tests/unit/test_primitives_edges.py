"""Edges of the primitive value rules that a mutation run showed unchecked: leap years not
divisible by 5, ASCII-only whitespace in the spec regexes, and the exact wording (with its hint)
of the problems."""

from __future__ import annotations

import pytest

from ecanfhir.validation.primitives import PrimitiveProblem, check_primitive

UUID = "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"


def _invalid(message: str) -> PrimitiveProblem:
    return PrimitiveProblem("error", "invalid", message)


@pytest.mark.parametrize(("value", "valid"), [
    ("2024-02-29", True),  # divisible by 4, not by 5: tells year % 4 from year % 5
    ("2025-02-29", False),
    ("2020-02-29", True),
    ("1900-02-29", False),
    ("2000-02-29", True),
])
def test_leap_years(value: str, valid: bool) -> None:
    """29 February exists in years divisible by 4, except centuries not divisible by 400."""
    expected = None if valid else _invalid(
        f"'{value}' is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD): "
        f"{value[:7]} has no day 29")
    assert check_primitive("date", value) == expected


def test_missing_day_in_a_date_time_names_the_day_only() -> None:
    """The day is the two characters after YYYY-MM-, not the T that follows them."""
    assert check_primitive("dateTime", "2025-02-30T10:00:00Z") == _invalid(
        "'2025-02-30T10:00:00Z' is not a valid dateTime "
        "(YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz): 2025-02 has no day 30")
    assert check_primitive("instant", "2025-04-31T10:00:00.000Z") == _invalid(
        "'2025-04-31T10:00:00.000Z' is not a valid instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz): "
        "2025-04 has no day 31")


@pytest.mark.parametrize("value", ["2025-02-28T10:00:00Z", "2025-02-28", "2025-03-31T23:59:59Z"])
def test_last_days_of_a_month_are_valid(value: str) -> None:
    """Day 28 of February (followed by a time or not) and 31 March are real days."""
    assert check_primitive("dateTime", value) is None


@pytest.mark.parametrize(("type_code", "value"), [
    ("uri", "http://example.org/a\u00a0b"),
    ("url", "http://example.org/a\u2003b"),
    ("canonical", "http://example.org/\u00a0"),
    ("code", "a\u00a0b"),
    ("id", "abc"),
])
def test_spec_regex_whitespace_is_ascii_only(type_code: str, value: str) -> None:
    """\\s and \\S mean ASCII whitespace as in Java and XML Schema: a no-break or em space is
    an ordinary character in a uri or a code."""
    assert check_primitive(type_code, value) is None


@pytest.mark.parametrize(("type_code", "value", "message"), [
    ("uuid", UUID.upper().replace("URN:UUID", "urn:uuid"),
     f"'{UUID.upper().replace('URN:UUID', 'urn:uuid')}' is not a valid uuid (urn:uuid: and a "
     f"lowercase UUID, e.g. {UUID}): hex digits must be lowercase"),
    ("uuid", "urn:uuid:123",
     f"'urn:uuid:123' is not a valid uuid (urn:uuid: and a lowercase UUID, e.g. {UUID})"),
    ("id", "a" * 65,
     "'" + "a" * 65 + "' is not a valid id (1-64 characters from A-Z, a-z, 0-9, '-' and "
     "'.'): it has 65 characters"),
    ("id", "a" * 70 + "!",
     "'" + "a" * 70 + "!' is not a valid id (1-64 characters from A-Z, a-z, 0-9, '-' and "
     "'.')"),
    ("id", "a b",
     "'a b' is not a valid id (1-64 characters from A-Z, a-z, 0-9, '-' and '.')"),
    ("dateTime", "2020-01-01T10:00:00",
     "'2020-01-01T10:00:00' is not a valid dateTime (YYYY, YYYY-MM, YYYY-MM-DD or "
     "YYYY-MM-DDThh:mm:ss+zz:zz): a time needs a time-zone offset (Z, +hh:mm or -hh:mm)"),
    ("dateTime", "2020-01-01T25:00:00",
     "'2020-01-01T25:00:00' is not a valid dateTime (YYYY, YYYY-MM, YYYY-MM-DD or "
     "YYYY-MM-DDThh:mm:ss+zz:zz)"),
    ("instant", "2020-01-01",
     "'2020-01-01' is not a valid instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz): an instant needs "
     "a date and a time"),
    ("base64Binary", "ab$d",
     "'ab$d' is not a valid base64Binary (groups of 4 characters from A-Z, a-z, 0-9, '+' and "
     "'/', '=' only as padding): it contains characters outside the base64 alphabet"),
    ("base64Binary", "  \n ",
     "'  \\n ' is not a valid base64Binary (groups of 4 characters from A-Z, a-z, 0-9, '+' "
     "and '/', '=' only as padding): it contains only whitespace"),
    ("base64Binary", "ab cd",
     "'ab cd' is not a valid base64Binary (groups of 4 characters from A-Z, a-z, 0-9, '+' "
     "and '/', '=' only as padding): whitespace may only separate groups of 4 characters"),
])
def test_invalid_form_messages(type_code: str, value: str, message: str) -> None:
    """The message names the value, the expected form and, where one helps, a hint."""
    assert check_primitive(type_code, value) == _invalid(message)


@pytest.mark.parametrize(("value", "shown"), [
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    (float("nan"), "NaN"),
])
def test_non_finite_decimals_named_as_json_would(value: float, shown: str) -> None:
    """NaN and the infinities are named as JavaScript names them."""
    assert check_primitive("decimal", value) == _invalid(
        f"{shown} is not a valid decimal: decimals are finite numbers")


def test_numbers_shown_whole_up_to_24_characters() -> None:
    """A number of 24 characters is shown whole, a longer one cut to 12 with its length."""
    assert check_primitive("integer", -10**22) == PrimitiveProblem(
        "error", "value",
        "-10000000000000000000000 is out of range for integer (-2147483648..2147483647)")
    assert check_primitive("integer", 10**24) == PrimitiveProblem(
        "error", "value",
        "100000000000… (25 digits) is out of range for integer (-2147483648..2147483647)")


def test_huge_integers_shown_by_size_past_13000_bits() -> None:
    """An integer of up to 13,000 bits is shown cut; a bigger one only by its size (str()
    refuses ints of more than 4,300 digits)."""
    edge = 2**12999  # exactly 13,000 bits
    text = str(edge)
    assert check_primitive("positiveInt", edge) == PrimitiveProblem(
        "error", "value",
        f"{text[:12]}… ({len(text)} digits) is out of range for positiveInt (1..2147483647)")
    assert check_primitive("string", edge) == PrimitiveProblem(
        "error", "structure",
        f"expected a JSON string for string, found the number {text[:12]}… ({len(text)} digits)")
    assert check_primitive("string", 2**13000) == PrimitiveProblem(
        "error", "structure",
        "expected a JSON string for string, found an integer of more than 3,900 digits")


def test_non_json_python_value_named_by_its_type() -> None:
    """A Python value that JSON cannot hold is named by its type."""
    assert check_primitive("code", (1, 2)) == PrimitiveProblem(
        "error", "structure",
        "expected a JSON string for code, found a Python tuple, not a JSON value")
