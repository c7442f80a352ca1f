"""The syntax of codes from external code systems we cannot ship (SNOMED CT, LOINC, UCUM,
ICD-10, BCP-47 and others): forms and check digits, so that at least malformed codes are caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..definitions.registry import split_canonical

__all__ = ["check_code_syntax"]

# Verhoeff tables (dihedral group D5), as in SNOMED CT's "6.3 Check-digit Computation".
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)


def _verhoeff_permutations() -> tuple[tuple[int, ...], ...]:
    rows = [tuple(range(10)), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)]
    while len(rows) < 8:  # row i applies the permutation of row 1 i times
        rows.append(tuple(rows[-1][j] for j in rows[1]))
    return tuple(rows)


_VERHOEFF_P = _verhoeff_permutations()
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _verhoeff_digit(digits: str) -> int:
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[(i + 1) % 8][int(digit)]]
    return _VERHOEFF_INV[check]


def _luhn_digit(digits: str) -> int:
    # LOINC's mod-10 algorithm: double the digits in odd positions counted from the right, add
    # up the digits of everything, and take the distance to the next multiple of ten.
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 == 0 else 1)
        total += value // 10 + value % 10
    return -total % 10


def _snomed_syntax(code: str) -> str | None:
    # Post-coordinated expressions are allowed in Coding.code: check the identifiers in them.
    if re.search(r"[^\d]", code):
        bare = re.sub(r"\|[^|]*\|", "", code)  # drop |terms|
        ids = re.findall(r"\d+", bare)
        if not ids or not re.fullmatch(r"[\d\s:=,{}()+.<>!*^#\"-]+", bare):
            return f"'{code}' is neither a SNOMED CT concept id nor an expression"
        return next(filter(None, map(_snomed_syntax, ids)), None)
    if not 6 <= len(code) <= 18 or code.startswith("0"):
        return (f"'{code}' is not a SNOMED CT concept id: expected 6 to 18 digits without a "
                "leading zero")
    expected = _verhoeff_digit(code[:-1])
    if int(code[-1]) != expected:
        return (f"'{code}' is not a valid SNOMED CT id: its check digit is {code[-1]}, "
                f"the Verhoeff check digit should be {expected}")
    if code[-3:-1] not in ("00", "10"):  # partition: 01/11 descriptions, 02/12 relationships
        return f"'{code}' is a SNOMED CT description or relationship id, not a concept id"
    return None


def _loinc_syntax(code: str) -> str | None:
    if re.fullmatch(r"L[PALG]\d+-\d", code):  # parts, answers, answer lists, groups
        return None
    match = re.fullmatch(r"(\d{1,7})-(\d)", code)  # 6-digit numbers exist since 2021
    if match is None:
        return f"'{code}' is not a LOINC code: expected digits, a hyphen and a check digit"
    expected = _luhn_digit(match[1])
    if int(match[2]) != expected:
        return f"'{code}' is not a valid LOINC code: the check digit should be {expected}"
    return None


def _ucum_syntax(code: str) -> str | None:
    if not code or re.search(r"[^\x21-\x7e]", code):
        return f"'{code}' is not a UCUM unit: it must be non-empty printable ASCII, no spaces"
    closing = {"(": ")", "[": "]", "{": "}"}
    expected: list[str] = []
    for char in code:
        if expected and expected[-1] == "}":
            if char == "}":
                expected.pop()
            elif char == "{":
                return f"'{code}' is not a UCUM unit: annotations ({{...}}) cannot nest"
        elif char in closing:
            expected.append(closing[char])
        elif char in ")]}" and (not expected or expected.pop() != char):
            return f"'{code}' is not a UCUM unit: unbalanced '{char}'"
    if expected:
        return f"'{code}' is not a UCUM unit: '{expected[-1]}' is missing"
    return None


_BCP47 = r"""
    (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})      # language, extended language
    (?:-[a-z]{4})?                                   # script
    (?:-(?:[a-z]{2}|\d{3}))?                         # region
    (?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*              # variants
    (?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*                # extensions
    (?:-x(?:-[a-z\d]{1,8})+)?                        # private use
    | x(?:-[a-z\d]{1,8})+
    | i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)
    | en-gb-oed | sgn-(?:be-fr|be-nl|ch-de)
    """


def _syntax(pattern: str, what: str, flags: int = 0) -> Callable[[str], str | None]:
    """A check of codes against a pattern, compiled at its first code: most runs meet few of
    these systems, and a new process compiles only what it uses."""
    compiled: re.Pattern[str] | None = None

    def check(code: str) -> str | None:
        nonlocal compiled
        if compiled is None:
            compiled = re.compile(pattern, flags)
        return None if compiled.fullmatch(code) else f"'{code}' is not {what}"

    return check


_SYNTAX: Mapping[str, Callable[[str], str | None]] = MappingProxyType({
    "http://snomed.info/sct": _snomed_syntax,
    "http://loinc.org": _loinc_syntax,
    "http://unitsofmeasure.org": _ucum_syntax,
    "urn:ietf:bcp:47": _syntax(_BCP47, "a BCP-47 language tag (e.g. 'en-GB')",
                               re.IGNORECASE | re.VERBOSE),
    "http://hl7.org/fhir/sid/icd-10": _syntax(
        r"[A-Z]\d[\dA-Z](?:\.?[\dA-Z]{1,4})?[+*†]?|[A-Z]\d\d-[A-Z]\d\d",
        "an ICD-10 code (e.g. 'C50.9')"),
    "http://hl7.org/fhir/sid/icd-10-cm": _syntax(
        r"[A-Z]\d[\dA-Z](?:\.?[\dA-Z]{1,4})?", "an ICD-10-CM code (e.g. 'C50.911')"),
    "http://terminology.hl7.org/CodeSystem/icd-o-3": _syntax(
        r"\d{4}/\d|C\d\d(?:\.?\d)?", "an ICD-O-3 code (morphology '8140/3' or site 'C50.9')"),
    "urn:iso:std:iso:3166": _syntax(r"[A-Z]{2,3}|\d{3}", "an ISO 3166 country code"),
    "urn:iso:std:iso:3166:-2": _syntax(r"[A-Z]{2}-[A-Z0-9]{1,3}",
                                       "an ISO 3166-2 subdivision code (e.g. 'DK-84')"),
    "http://unstats.un.org/unsd/methods/m49/m49.htm": _syntax(
        r"\d{3}", "a UN M49 area code (three digits, e.g. '150')"),
    "urn:iso:std:iso:4217": _syntax(r"[A-Z]{3}", "an ISO 4217 currency code"),
    "http://www.nlm.nih.gov/research/umls/rxnorm": _syntax(r"\d{1,9}", "an RxNorm RXCUI"),
})


def check_code_syntax(system: str, code: str) -> str | None:
    """A message when ``code`` cannot be a code of the external ``system``; None otherwise.

    Only the form is checked (check digits included); whether the code exists is not.

    >>> check_code_syntax("http://loinc.org", "8480-6") is None
    True
    >>> check_code_syntax("http://loinc.org", "8480-5")
    "'8480-5' is not a valid LOINC code: the check digit should be 6"
    >>> check_code_syntax("http://snomed.info/sct", "22298007")
    "'22298007' is not a valid SNOMED CT id: its check digit is 7, the Verhoeff ..."
    """
    check = _SYNTAX.get(split_canonical(system)[0])
    return None if check is None else check(code)
