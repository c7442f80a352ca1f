"""What a Reference says about its target (R4 references.html#Reference, ref-1).

A Reference points by ``reference``, or by ``identifier`` when no resource is at hand; with
neither, only a ``display`` tells a reader what it is about, so one that has none of the
three is reported (a warning, as in the HL7 validator: an extension may still carry meaning).
"""

from __future__ import annotations

from typing import Any

from .._issue import Issue

__all__ = ["check_reference_parts"]


def check_reference_parts(reference: Any, at: str) -> tuple[Issue, ...]:
    """A Reference without reference, identifier or display."""
    # (a tuple, no generator: this runs for every Reference)
    if not isinstance(reference, dict) or reference.get("reference") \
            or reference.get("identifier") or reference.get("display"):
        return ()
    return (Issue.warning("invalid", at, "a Reference without a reference or an identifier "
                          "should have a display saying what it refers to",
                          "reference-display"),)
