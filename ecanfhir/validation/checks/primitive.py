"""Primitive values: JSON type, the spec's regexes, ranges (R4 §2.24.0.1), and id rules; then
what a valid value may still get wrong (URIs: checks/uri.py; text: checks/text.py)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...definitions.compiled import ElementNode, TypeRef
from .._issue import Issue
from ..primitives import SPEC_REGEXES, STRING_MAX_LENGTH, check_primitive
from .element_limits import check_base64_whitespace
from .plausibility import PLAUSIBILITY_TYPES, YEARS_AHEAD, check_plausible
from .text import check_text
from .uri import URI_TYPES, check_uri_value

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["PrimitiveCheck", "check_primitive_value", "plain_values", "primitive_check"]

# (run, value, location) -> the first problem, or None
PrimitiveCheck = Callable[["Run", Any, str], "Issue | None"]


def check_primitive_value(run: Run, element: ElementNode, type_ref: TypeRef, value: Any,
                          at: str) -> Issue | None:
    """The first problem with a primitive value, or None (this runs on every primitive)."""
    return primitive_check(run, element, type_ref)(run, value, at)


# Text that every check of its type passes without a closer look: check_primitive's regexes,
# control characters and lengths; check_text's whitespace, bidi controls and tags; for URIs
# checks/uri.py's rules. No control character or unpaired surrogate, no bidi control, no "<",
# and for a string no whitespace at either end. A subset of what passes, so a value it does not
# match is simply checked in full. (The regex's own escapes, as primitives._FORBIDDEN_CHAR.)
_NOT_PLAIN = r"\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\u202a-\u202e\u2066-\u2069<"
# Absolute by their scheme, no urn:oid: to check, no "|" (an Extension.url's version), a
# urn:uuid: only with a lowercase UUID and nothing after it: checks/uri.py finds nothing in them.
_PLAIN_URL = re.compile(f"https?://[^\\s|{_NOT_PLAIN}]+"
                        "|urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Dates and times the spec regexes accept (R4 §2.24.0.1) with a day that every month has (1 to
# 28: later days take the calendar check) and a year of 1800 to 2099, which the plausibility
# check (checks/plausibility.py) finds reasonable as long as this year is 2019 or later.
_LAST_PLAIN_YEAR = 2099  # the last year _YEAR matches
_YEAR, _MONTH = r"(?:18|19|20)[0-9]{2}", r"-(?:0[1-9]|1[0-2])"
_DAY = r"-(?:0[1-9]|1[0-9]|2[0-8])"
_TIME = (r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
         r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))")
_PLAIN_TEMPORAL: dict[str, re.Pattern[str]] = {
    "date": re.compile(f"{_YEAR}(?:{_MONTH}(?:{_DAY})?)?"),
    "dateTime": re.compile(f"{_YEAR}(?:{_MONTH}(?:{_DAY}(?:{_TIME})?)?)?"),
    "instant": re.compile(f"{_YEAR}{_MONTH}{_DAY}{_TIME}"),
}
_PLAIN: dict[str, re.Pattern[str]] = {
    "string": re.compile(f"[^\\s{_NOT_PLAIN}](?:[^{_NOT_PLAIN}]*[^\\s{_NOT_PLAIN}])?"),
    "markdown": re.compile(f"[^{_NOT_PLAIN}]+"),
    # R4 code: [^\s]+(\s[^\s]+)*, here with single spaces only.
    "code": re.compile(f"[^\\s{_NOT_PLAIN}]+(?: [^\\s{_NOT_PLAIN}]+)*"),
    "id": re.compile(SPEC_REGEXES["id"], re.ASCII),
    "uri": _PLAIN_URL,
    "url": _PLAIN_URL,
}


def plain_values(run: Run, element: ElementNode,
                 type_ref: TypeRef) -> tuple[Callable[[str], object] | None, int]:
    """For a string-based primitive of an element: a test that a text needs no closer look
    (a match object, or None), and the length up to which that holds; (None, 0) when every
    value takes :func:`primitive_check`."""
    code = _datatype(run, element, type_ref)
    plain = _PLAIN.get(code)
    if plain is None and datetime.date.today().year + YEARS_AHEAD >= _LAST_PLAIN_YEAR:
        plain = _PLAIN_TEMPORAL.get(code)
    if plain is None:
        return None, 0
    limit = element.max_length if element.max_length is not None else STRING_MAX_LENGTH
    return plain.fullmatch, min(limit, STRING_MAX_LENGTH) if code == "string" else limit


def _datatype(run: Run, element: ElementNode, type_ref: TypeRef) -> str:
    # Resource.id is declared as System.String in the R4 snapshots, but its datatype is `id`
    # (R4 §2.36.0.1 "Resource.id ... id"), so the id rules apply to it.
    code = type_ref.code
    if element.name == "id" and element.path.count(".") == 1 and code == "string" \
            and _is_resource_path(run, element.path):
        return "id"
    return code


def primitive_check(run: Run, element: ElementNode, type_ref: TypeRef) -> PrimitiveCheck:
    """:func:`check_primitive_value` for one element and type, with everything that depends
    on them alone (the datatype, the maximum length, the URI rules) decided once."""
    code = _datatype(run, element, type_ref)
    rule, max_length = f"type-{code}", element.max_length
    after: PrimitiveCheck
    if code == "base64Binary":
        def after(run: Run, value: Any, at: str) -> Issue | None:
            return check_base64_whitespace(value, at)
    elif code in URI_TYPES:
        defines = element.name == "url" and element.path.count(".") == 1 \
            and _is_resource_path(run, element.path)
        base_path = element.base_path
        targets = type_ref.target_types if code == "canonical" \
            and base_path != "Meta.profile" else ()

        def after(run: Run, value: Any, at: str) -> Issue | None:
            if not isinstance(value, str):
                return None
            return check_uri_value(base_path, code, value, at, defines_canonical=defines,
                                   canonical_type=_resource_type_of(run), targets=targets)
    elif code in PLAUSIBILITY_TYPES:
        def after(run: Run, value: Any, at: str) -> Issue | None:
            return check_plausible(code, value, at)
    else:
        def after(run: Run, value: Any, at: str) -> Issue | None:
            return check_text(code, value, at) if isinstance(value, str) else None

    def check(run: Run, value: Any, at: str) -> Issue | None:
        problem = check_primitive(code, value)
        if problem is not None:
            return Issue(problem.severity, problem.code, at, problem.message, rule)
        if max_length is not None and isinstance(value, str) and len(value) > max_length:
            return Issue.error("too-long", at, f"value is {len(value)} characters long, more "
                               f"than the maximum length {max_length}", "max-length")
        return after(run, value, at)

    return check


def _is_resource_path(run: Run, path: str) -> bool:
    return run.schema.registry.is_resource_type(path.split(".", 1)[0])


def _resource_type_of(run: Run) -> Callable[[str], str | None]:
    def resource_type(canonical: str) -> str | None:
        found = run.schema.registry.get(canonical)
        rt = found.get("resourceType") if found is not None else None
        return rt if isinstance(rt, str) else None
    return resource_type
