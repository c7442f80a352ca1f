"""Plain text (ecanfhir.validation.checks.primitive.plain_values): the walker lets a string,
markdown, code or id value that the plain test matches skip the full primitive check, so every
such value must pass that check. Checked here against every character of the Basic Multilingual
Plane in several positions; then through the walker, values just outside the plain test still
get their issue, with its code and location. All data is synthetic."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _assertions import assert_issue
from _profiles import constraint, element, validate_against

from ecanfhir import Validator
from ecanfhir.definitions.compiled import ElementNode, TypeRef
from ecanfhir.validation._context import Run
from ecanfhir.validation.checks.primitive import plain_values, primitive_check

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
_VALIDATOR = Validator()
# neither check reads the run for these elements (no Resource.id, no URI); a real one all the
# same, as compiled code checks an argument's type
RUN = Run(_VALIDATOR.schema, _VALIDATOR.terminology, _VALIDATOR.options)


def _element(max_length: int | None = None) -> ElementNode:
    return ElementNode("Patient.name.family", "Patient.name.family", "family", 0, 1, (),
                       max_length=max_length)


def _texts(prefix: str) -> list[str]:
    texts = []
    for point in range(0x10000):
        char = chr(point)
        texts += [f"{prefix}{text}" for text in (char, f"a{char}", f"{char}a", f"a{char}b",
                                                  f"ab {char}", f"a {char}b")]
    return texts


@pytest.mark.parametrize(("code", "prefix"), [
    ("string", ""), ("markdown", ""), ("code", ""), ("id", ""), ("uri", "http://"),
    ("uri", "https://x"), ("url", "http://x/"),
])
def test_what_the_plain_test_lets_through_passes_every_check(code: str, prefix: str) -> None:
    element = _element()
    plain, limit = plain_values(RUN, element, TypeRef(code))
    check = primitive_check(RUN, element, TypeRef(code))
    assert plain is not None
    through = [text for text in _texts(prefix)
               if len(text) <= limit and plain(text) is not None]
    failing = [(text, issue) for text in through if (issue := check(RUN, text, "x"))]
    assert failing == []
    assert len(through) > 200  # it lets text through (ids: ASCII only), or it spares nothing


@pytest.mark.parametrize(("code", "text"), [
    ("string", " Jensen"), ("string", "Jensen\u00a0"), ("string", "a\u202eb"),
    ("string", "a<b>c</b>"), ("string", "a\x0bb"), ("string", ""), ("code", "a  b"),
    ("code", "a\tb"), ("markdown", "a\u2066b"), ("id", "a_b"), ("id", "a" * 65),
    ("uri", "urn:uuid:ABC"), ("uri", "urn:oid:1.2"), ("uri", "http://x|1.0"), ("uri", "x/y"),
    ("url", "http://a b"), ("uri", "urn:uuid:6CA16FDC-DDB4-5DA7-9E08-066B42E34827"),
    ("uri", "urn:uuid:6ca16fdc-ddb4-5da7-9e08-066b42e34827#x"), ("date", "2021-02-29"),
    ("date", "2021-04-31"), ("date", "1799-01-01"), ("dateTime", "2100-01-01"),
    ("dateTime", "2021-01-01T10:00:00"), ("instant", "2021-01-01"),
])
def test_the_plain_test_leaves_what_may_fail_to_the_full_check(code: str, text: str) -> None:
    plain, _ = plain_values(RUN, _element(), TypeRef(code))
    assert plain is not None and plain(text) is None


@pytest.mark.parametrize("code", ["canonical", "time", "boolean", "decimal", "xhtml"])
def test_other_types_always_take_the_full_check(code: str) -> None:
    assert plain_values(RUN, _element(), TypeRef(code)) == (None, 0)


def test_a_profile_maximum_length_is_the_plain_limit() -> None:
    assert plain_values(RUN, _element(max_length=4), TypeRef("string"))[1] == 4
    assert plain_values(RUN, _element(), TypeRef("string"))[1] == 1024 * 1024


def test_a_plain_value_over_a_profile_maximum_length_is_too_long() -> None:
    profile = constraint("short-family", "Patient",
                         element("Patient.name.family", maxLength=4))
    patient = {"resourceType": "Patient", "text": NARRATIVE, "name": [{"family": "Jensen"}]}
    result = validate_against(patient, profile)
    issue = assert_issue(result, "Patient.name[0].family", severity="error", code="too-long",
                         fragment="maximum length 4")
    assert issue.rule == "max-length"


@pytest.mark.parametrize(("value", "code", "rule"), [
    (" Jensen", "invalid", "string-whitespace"),
    ("Jen\x01sen", "invalid", "type-string"),
    (7, "structure", "type-string"),
])
def test_text_outside_the_plain_test_is_checked_in_full(value: Any, code: str,
                                                         rule: str) -> None:
    patient = {"resourceType": "Patient", "text": NARRATIVE, "name": [{"family": value}]}
    result = Validator().validate(patient)
    issue = next(i for i in result.issues if i.expression == "Patient.name[0].family")
    assert (issue.code, issue.rule) == (code, rule)


def test_resource_id_takes_the_id_rules() -> None:
    patient = {"resourceType": "Patient", "id": "a_b", "text": NARRATIVE}
    issue = assert_issue(Validator().validate(patient), "Patient.id", severity="error",
                         code="invalid", fragment="not a valid id")
    assert issue.rule == "type-id"


def _temporal_values() -> list[str]:
    """Dates and times around every boundary of the spec regexes, the calendar and the
    plausible years, well formed or not (synthetic)."""
    dates = [f"{year}-{month}-{day}"
             for year in ("0001", "1799", "1800", "1972", "2000", "2024", "2099", "2100", "9999")
             for month in ("00", "01", "02", "04", "09", "10", "12", "13", "1")
             for day in ("00", "01", "09", "10", "19", "20", "28", "29", "30", "31", "32", "1")]
    times = [f"T{time}{zone}" for time in ("00:00:00", "23:59:59", "23:59:60", "24:00:00",
                                           "12:60:00", "12:00:00.123", "12:00:00.", "12:00")
             for zone in ("", "Z", "+01:00", "-13:59", "+14:00", "+14:01", "-15:00", "z")]
    whole = [f"{date}{time}" for date in dates[::7] for time in times]
    return dates + whole + [d[:7] for d in dates] + [d[:4] for d in dates] + ["", "2021-1-1"]


@pytest.mark.parametrize("code", ["date", "dateTime", "instant"])
def test_a_plain_date_or_time_passes_every_check(code: str) -> None:
    element = _element()
    plain, _ = plain_values(RUN, element, TypeRef(code))
    check = primitive_check(RUN, element, TypeRef(code))
    assert plain is not None
    values = _temporal_values()
    through = [value for value in values if plain(value) is not None]
    assert [(value, check(RUN, value, "x")) for value in through
            if check(RUN, value, "x") is not None] == []
    assert len(through) > 40  # most valid values are spared the full check


@pytest.mark.parametrize("code", ["uri", "url"])
def test_a_plain_urn_uuid_passes_every_check(code: str) -> None:
    element = _element()
    plain, _ = plain_values(RUN, element, TypeRef(code))
    check = primitive_check(RUN, element, TypeRef(code))
    assert plain is not None
    urns = [f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, str(n))}" for n in range(200)]
    assert all(plain(urn) is not None and check(RUN, urn, "x") is None for urn in urns)


@pytest.mark.parametrize(("value", "rule"), [
    ("2021-02-29", "type-dateTime"), ("1066-10-14", "date-reasonable"),
])
def test_a_date_outside_the_plain_test_is_checked_in_full(value: str, rule: str) -> None:
    patient = {"resourceType": "Patient", "text": NARRATIVE, "deceasedDateTime": value}
    result = Validator().validate(patient)
    issue = next(i for i in result.issues if i.expression == "Patient.deceased.ofType(dateTime)")
    assert issue.rule == rule
