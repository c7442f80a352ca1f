"""Text inside primitive values that is valid but suspicious (R4 datatypes.html: string and
markdown), reported as the HL7 validator reports it — never as an error:

=============================================  ==========================================  =====
value                                          why                                         level
=============================================  ==========================================  =====
string with leading or trailing whitespace     R4 string: "should not" start or end so     warning
string of whitespace only                      no content                                  warning
Unicode bidi controls left open                a display attack (CVE-2021-42574)           warning
HTML-like tags in a (non-markdown) string      a risk if rendered as HTML                  info
HTML-like tags in markdown                     the renderer should escape them             info
=============================================  ==========================================  =====
"""

from __future__ import annotations

import re

from .._issue import Issue

__all__ = ["check_text"]

_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?\s*>")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_OPENERS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO, closed by PDF
_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI, closed by PDI
_PDF, _PDI = "\u202c", "\u2069"


def check_text(type_code: str, value: str, at: str) -> Issue | None:
    """The first suspicious thing about a primitive's text, or None.

    >>> check_text("string", " Jensen", "Patient.name[0].family").rule
    'string-whitespace'
    >>> check_text("string", "Jensen", "Patient.name[0].family") is None
    True
    """
    if type_code == "string":
        if value.isspace():
            return Issue.warning("invalid", at, "the value is only whitespace", "string-whitespace")
        if value != value.strip():
            return Issue.warning("invalid", at, f"the value '{value}' should not start or end "
                                 "with whitespace", "string-whitespace")
    # (bidi controls are not ASCII: an ASCII text, most of them, is not searched)
    if not value.isascii() and _BIDI.search(value) and not _bidi_closed(value):
        return Issue.warning("invalid", at, "the value has Unicode bidi control characters that "
                             "are not closed (CVE-2021-42574)", "unicode-bidi")
    if type_code in ("string", "markdown") and "<" in value and _TAG.search(value):
        what = ("markdown that looks like embedded HTML: it should be escaped when rendered"
                if type_code == "markdown" else
                "text that looks like embedded HTML, a risk if it is rendered as HTML unescaped")
        return Issue.information("informational", at, f"the value has {what}", "html-in-text")
    return None


def _bidi_closed(value: str) -> bool:
    """Every embedding or override is closed by PDF, every isolate by PDI, in order."""
    stack: list[str] = []
    for char in value:
        if char in _OPENERS or char in _ISOLATES:
            stack.append(char)
        elif char in (_PDF, _PDI):
            want = _PDF if char == _PDF else _PDI
            if not stack or (stack[-1] in _OPENERS) != (want == _PDF):
                return False
            stack.pop()
    return not stack
