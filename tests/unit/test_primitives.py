"""FHIR R4 primitive values in JSON (datatypes.html §2.24.0.1, json.html §2.6.2)."""

from __future__ import annotations

import datetime
import itertools
import math
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecanfhir.definitions.registry import Registry
from ecanfhir.validation.primitives import (
    _BASE64,
    PRIMITIVE_TYPES,
    SPEC_REGEXES,
    PrimitiveProblem,
    check_primitive,
)

REGEX_EXTENSIONS = (
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-regex",  # R4B, R5
    "http://hl7.org/fhir/StructureDefinition/regex",  # the R4 4.0.1 publication
)
# The HL7 R4 bundle scripts/build_core.py builds the embedded zip from (its default source).
UUID = "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello</p></div>'
MB = 1024 * 1024

VALID: list[tuple[str, object]] = [
    ("boolean", True),
    ("boolean", False),
    ("integer", 0),
    ("integer", -1),
    ("integer", 2147483647),
    ("integer", -2147483648),
    ("unsignedInt", 0),
    ("unsignedInt", 2147483647),
    ("positiveInt", 1),
    ("positiveInt", 2147483647),
    ("decimal", 0),
    ("decimal", -3),
    ("decimal", 1.5),
    ("decimal", 1e-10),
    ("decimal", 100.0),  # 1e2 is a fine decimal, though not an integer
    ("decimal", Decimal("1.50")),  # json.loads(..., parse_float=Decimal)
    ("string", "a"),
    ("string", "  leading and trailing whitespace  "),
    ("string", "tab\tcarriage return\rline feed\n"),
    ("string", "no\u00a0break space"),  # \S of the spec regex is not Unicode-aware
    ("string", "Æblegrød 🍎 ✓"),
    ("string", "x" * MB),
    ("markdown", "# Title\n\n*emphasis* and `code`"),
    ("markdown", "x" * (MB + 1)),  # R4 gives maxLength only to string.value
    ("uri", "http://hl7.org/fhir"),
    ("uri", "urn:oid:1.2.3"),
    ("uri", "#contained-1"),
    ("uri", "relative/path"),
    ("url", "https://example.org/fhir/Patient/1"),
    ("url", "mailto:someone@example.org"),
    ("canonical", "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1"),
    ("canonical", "http://example.org/ValueSet/vs#fragment"),
    ("base64Binary", "QUJD"),
    ("base64Binary", "QUJDRA=="),
    ("base64Binary", "QUJDREU="),
    ("base64Binary", "QUJD\nREVG\n"),
    ("base64Binary", " QUJD "),
    ("base64Binary", "+/+/"),
    ("instant", "2019-11-01T09:29:23Z"),
    ("instant", "2019-11-01T09:29:23.123+01:00"),
    ("instant", "2019-11-01T09:29:23-14:00"),
    ("instant", "2016-12-31T23:59:60Z"),  # a leap second
    ("date", "2019"),
    ("date", "2019-02"),
    ("date", "2019-02-28"),
    ("date", "2020-02-29"),
    ("date", "2000-02-29"),
    ("date", "2019-12-31"),
    ("date", "0001-01-01"),
    ("dateTime", "2019"),
    ("dateTime", "2019-11"),
    ("dateTime", "2019-11-01"),
    ("dateTime", "2019-11-01T09:29:23+01:00"),
    ("dateTime", "2019-11-01T09:29:23.5Z"),
    ("dateTime", "2020-02-29T00:00:00Z"),
    ("time", "00:00:00"),
    ("time", "23:59:59"),
    ("time", "12:30:00.250"),
    ("code", "final"),
    ("code", "a b"),
    ("code", "urn:iso:std:iso:3166"),
    ("code", "ÆØÅ"),
    ("oid", "urn:oid:1.2.208.176.1.2"),
    ("oid", "urn:oid:2.16.840.1.113883"),
    ("oid", "urn:oid:0.0"),
    ("id", "a"),
    ("id", "example-1.2"),
    ("id", "A" * 64),
    ("uuid", UUID),
    ("xhtml", XHTML),
    ("xhtml", "\n  <div>text</div>"),
    ("xhtml", "<div/>"),
]

INVALID: list[tuple[str, object, str, str]] = [
    ("boolean", "true", "structure", "expected a JSON boolean, found the string 'true'"),
    ("boolean", 1, "structure", "found the number 1"),
    ("boolean", 0, "structure", "found the number 0"),
    ("boolean", None, "structure", "expected a JSON boolean, found null"),
    ("integer", True, "structure", "expected a JSON integer for integer, found the boolean true"),
    ("integer", 1.0, "structure", "found the number 1.0"),
    ("integer", 1e2, "structure", "found the number 100.0"),
    ("integer", "1", "structure", "found the string '1'"),
    ("integer", 2147483648, "value", "out of range for integer (-2147483648..2147483647)"),
    ("integer", -2147483649, "value", "-2147483649 is out of range"),
    ("unsignedInt", -1, "value", "out of range for unsignedInt (0..2147483647)"),
    ("unsignedInt", 2147483648, "value", "2147483648 is out of range"),
    ("positiveInt", 0, "value", "0 is out of range for positiveInt (1..2147483647)"),
    ("positiveInt", False, "structure", "found the boolean false"),
    ("positiveInt", 1.5, "structure", "expected a JSON integer for positiveInt"),
    ("decimal", "1.5", "structure", "expected a JSON number for decimal, found the string '1.5'"),
    ("decimal", True, "structure", "found the boolean true"),
    ("decimal", None, "structure", "found null"),
    ("decimal", math.nan, "invalid", "NaN is not a valid decimal"),
    ("decimal", math.inf, "invalid", "Infinity is not a valid decimal"),
    ("decimal", -math.inf, "invalid", "-Infinity is not a valid decimal"),
    ("decimal", Decimal("NaN"), "invalid", "NaN is not a valid decimal"),
    ("string", "", "invalid", "empty string: a primitive value must have content or be left out"),
    ("string", "a\x00b", "invalid", "the control character U+0000"),
    ("string", "bell\x07", "invalid", "at index 4 it contains the control character U+0007"),
    ("string", "vertical\x0btab", "invalid", "U+000B"),
    ("string", "form\x0cfeed", "invalid", "U+000C"),
    ("string", "unit\x1fseparator", "invalid", "U+001F"),
    ("string", "half\ud800", "invalid", "an unpaired surrogate U+D800"),
    ("string", "x" * (MB + 1), "value", "a string of 1,048,577 characters is too long"),
    ("string", 12, "structure", "expected a JSON string for string, found the number 12"),
    ("string", ["a"], "structure", "found an array"),
    ("string", {"value": "a"}, "structure", "found an object"),
    ("markdown", "", "invalid", "empty string"),
    ("markdown", "a\x01", "invalid", "U+0001"),
    ("uri", "", "invalid", "empty string"),
    ("uri", "http://example.org/a b", "invalid", "is not a valid uri: it contains whitespace"),
    ("uri", "a\tb", "invalid", "it contains whitespace"),
    ("uri", "urn:x\x00", "invalid", "U+0000"),
    ("url", "https://example.org/a b", "invalid", "is not a valid url: it contains whitespace"),
    ("canonical", "http://x.org/y |1.0", "invalid", "canonical: it contains whitespace"),
    ("canonical", 3, "structure", "expected a JSON string for canonical"),
    ("base64Binary", "", "invalid", "empty string"),
    ("base64Binary", "QUJ", "invalid", "3 characters is not a multiple of 4"),
    ("base64Binary", "QUJDRA", "invalid", "6 characters is not a multiple of 4"),
    ("base64Binary", "QU=D", "invalid", "'=' may only pad the end of the last group"),
    ("base64Binary", "QUJDR===", "invalid", "'=' may only pad"),
    ("base64Binary", "QQ==QUJD", "invalid", "'=' may only pad"),
    ("base64Binary", "QUJD*", "invalid", "outside the base64 alphabet"),
    ("base64Binary", "-_-_", "invalid", "outside the base64 alphabet"),  # base64url
    ("base64Binary", "QU JD", "invalid", "whitespace may only separate groups of 4"),
    ("base64Binary", "   ", "invalid", "only whitespace"),
    ("instant", "2019-11-01", "invalid", "an instant needs a date and a time"),
    ("instant", "2019-11-01T09:29:23", "invalid", "a time needs a time-zone offset"),
    ("instant", "2019-11-01T09:29Z", "invalid", "instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz)"),
    ("instant", "2019-02-29T00:00:00Z", "invalid", "2019-02 has no day 29"),
    ("instant", "2019-11-01T24:00:00Z", "invalid", "is not a valid instant"),
    ("date", "1970-13-45", "invalid",
     "'1970-13-45' is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)"),
    ("date", "2019-02-29", "invalid", "2019-02 has no day 29"),
    ("date", "1900-02-29", "invalid", "1900-02 has no day 29"),
    ("date", "2019-02-30", "invalid", "2019-02 has no day 30"),
    ("date", "2020-02-30", "invalid", "2020-02 has no day 30"),
    ("date", "2019-04-31", "invalid", "2019-04 has no day 31"),
    ("date", "2019-1-1", "invalid", "is not a valid date"),
    ("date", "0000", "invalid", "is not a valid date"),
    ("date", "2019-01-01T00:00:00Z", "invalid", "is not a valid date"),
    ("date", "", "invalid", "empty string"),
    ("date", 20190101, "structure", "expected a JSON string for date, found the number 20190101"),
    ("dateTime", "2019-11-01T09:29:23", "invalid", "a time needs a time-zone offset"),
    ("dateTime", "2019-11-01T24:00:00Z", "invalid",
     "(YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)"),
    ("dateTime", "2019-11-01T09:29+01:00", "invalid", "is not a valid dateTime"),
    ("dateTime", "2019-11-01 09:29:23Z", "invalid", "is not a valid dateTime"),
    ("dateTime", "2019-11-01T09:29:23+15:00", "invalid", "is not a valid dateTime"),
    ("dateTime", "2021-02-29T10:00:00Z", "invalid", "2021-02 has no day 29"),
    ("time", "24:00:00", "invalid", "'24:00:00' is not a valid time (hh:mm:ss)"),
    ("time", "12:30", "invalid", "is not a valid time"),
    ("time", "12:30:00Z", "invalid", "is not a valid time"),  # R4 time has no zone
    ("code", " final", "invalid", "(no leading, trailing or repeated whitespace)"),
    ("code", "final ", "invalid", "is not a valid code"),
    ("code", "a  b", "invalid", "is not a valid code"),
    ("code", "", "invalid", "empty string"),
    ("code", "a\x00", "invalid", "U+0000"),
    ("code", True, "structure", "expected a JSON string for code, found the boolean true"),
    ("oid", "urn:oid:1.2.03", "invalid", "'urn:oid:1.2.03' is not a valid oid (urn:oid: and"),
    ("oid", "1.2.3", "invalid", "is not a valid oid"),
    ("oid", "urn:oid:3.1", "invalid", "is not a valid oid"),
    ("oid", "urn:oid:1", "invalid", "is not a valid oid"),
    ("id", "a" * 65, "invalid", "it has 65 characters"),
    ("id", "a_b", "invalid", "(1-64 characters from A-Z, a-z, 0-9, '-' and '.')"),
    ("id", "a b", "invalid", "is not a valid id"),
    ("id", "", "invalid", "empty string"),
    ("uuid", UUID.upper().replace("URN:UUID", "urn:uuid"), "invalid",
     "hex digits must be lowercase"),
    ("uuid", UUID.removeprefix("urn:uuid:"), "invalid", "is not a valid uuid"),
    ("uuid", "urn:uuid:c757873d", "invalid", "is not a valid uuid"),
    ("xhtml", "<p>Hello</p>", "invalid", "is not valid xhtml: expected a <div> element"),
    ("xhtml", "<divx>a</divx>", "invalid", "expected a <div> element"),
    ("xhtml", "", "invalid", "empty string"),
    ("xhtml", 1, "structure", "expected a JSON string for xhtml"),
]


def _case_id(case: tuple[Any, ...]) -> str:
    shown = repr(case[1])
    return f"{case[0]}-{shown if len(shown) <= 30 else shown[:27] + '...'}"


@pytest.mark.parametrize(("type_code", "value"), VALID, ids=[_case_id(c) for c in VALID])
def test_valid_value_has_no_problem(type_code: str, value: object) -> None:
    """A valid JSON value of the primitive yields None."""
    assert check_primitive(type_code, value) is None


@pytest.mark.parametrize(("type_code", "value", "code", "fragment"), INVALID,
                         ids=[_case_id(c) for c in INVALID])
def test_invalid_value_is_an_error(type_code: str, value: object, code: str, fragment: str) -> None:
    """An invalid value yields an error with the expected IssueType and message."""
    problem = check_primitive(type_code, value)
    assert problem is not None
    assert (problem.severity, problem.code) == ("error", code)
    assert fragment in problem.message


def test_primitive_types_are_the_r4_primitives() -> None:
    """PRIMITIVE_TYPES names exactly the 20 primitive types of the embedded R4 definitions."""
    core = Registry().core.entries.values()
    expected = {e.type for e in core if e.kind == "primitive-type"
                and e.derivation == "specialization"}
    assert expected == PRIMITIVE_TYPES
    assert len(PRIMITIVE_TYPES) == 20


@pytest.mark.parametrize("type_code", ["HumanName", "Patient", "Date", "", "System.String"])
def test_other_types_are_not_judged(type_code: str) -> None:
    """A type that is not an R4 primitive yields None, whatever the value."""
    assert check_primitive(type_code, object()) is None


def _value_regexes(definitions: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for definition in definitions:
        for element in definition["snapshot"]["element"]:
            if element["path"] != definition["type"] + ".value":
                continue
            for extension in element["type"][0].get("extension", []):
                if extension["url"] in REGEX_EXTENSIONS:
                    found[definition["type"]] = extension["valueString"]
    return found


def test_spec_regexes_match_the_embedded_definitions() -> None:
    """The hard-coded regexes are those of the embedded core definitions (when it keeps them)."""
    registry = Registry()
    definitions = [registry.type_definition(t) for t in sorted(PRIMITIVE_TYPES)]
    found = _value_regexes([d for d in definitions if d is not None])
    assert len(found) == 19
    assert found == dict(SPEC_REGEXES)


def test_base64_regex_is_the_spec_regex() -> None:
    """The backtrack-free base64Binary regex accepts exactly what the spec regex accepts."""
    spec = re.compile(SPEC_REGEXES["base64Binary"], re.ASCII)
    for length in range(10):
        for chars in itertools.product("A= \n!", repeat=length):
            text = "".join(chars)
            assert (spec.fullmatch(text) is None) == (_BASE64.fullmatch(text) is None), text


def test_base64_fails_fast_on_long_invalid_value() -> None:
    """A long invalid value is rejected at once (the spec regex would take hours)."""
    problem = check_primitive("base64Binary", "QUJD  " * 1000 + "!")
    assert problem is not None
    assert "outside the base64 alphabet" in problem.message


def test_string_is_at_least_as_strict_as_the_spec_regex() -> None:
    """Every character the spec regex rejects in a string is rejected; only C0 controls more."""
    spec = re.compile(SPEC_REGEXES["string"], re.ASCII)
    for char in map(chr, [*range(0x80), 0x85, 0xA0, 0x2028, 0x3000, 0xFEFF]):
        text = f"a{char}b"
        rejected = check_primitive("string", text) is not None
        if spec.fullmatch(text) is None:
            assert rejected, repr(char)
        assert rejected == (char < " " and char not in "\t\r\n"), repr(char)


def test_messages_do_not_echo_huge_values() -> None:
    """Messages quote at most the start of a long value and never fail on huge numbers."""
    problem = check_primitive("code", "a " * MB + " ")
    assert problem is not None and len(problem.message) < 200
    assert "(2,097,153 characters)" in problem.message
    problem = check_primitive("integer", 10**5000)
    assert problem == PrimitiveProblem("error", "value", (
        "an integer of more than 3,900 digits is out of range for integer "
        "(-2147483648..2147483647)"))
    problem = check_primitive("integer", 10**30)
    assert problem is not None and "100000000000… (31 digits) is out of range" in problem.message


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31))
def test_days_follow_the_gregorian_calendar(year: int, month: int, day: int) -> None:
    """A YYYY-MM-DD date (and dateTime) is valid exactly when the day exists."""
    try:
        exists = datetime.date(year, month, day) is not None
    except ValueError:
        exists = False
    text = f"{year:04d}-{month:02d}-{day:02d}"
    assert (check_primitive("date", text) is None) == exists
    assert (check_primitive("dateTime", text + "T12:00:00Z") is None) == exists


offsets = st.integers(-12 * 60, 14 * 60).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes)))


@given(st.datetimes(timezones=offsets))
def test_python_isoformat_is_a_valid_instant(moment: datetime.datetime) -> None:
    """datetime.isoformat() of an aware datetime is a valid instant and dateTime."""
    text = moment.isoformat()
    assert check_primitive("instant", text) is None
    assert check_primitive("dateTime", text) is None
    assert check_primitive("date", moment.date().isoformat()) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@given(st.sampled_from(sorted(PRIMITIVE_TYPES)), json_values)
def test_any_json_value_gives_a_result_not_an_exception(type_code: str, value: object) -> None:
    """Arbitrary JSON values produce None or a problem, never an exception."""
    problem = check_primitive(type_code, value)
    assert problem is None or problem.severity == "error"
