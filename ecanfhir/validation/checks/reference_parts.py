"""What a Reference says about its target (R4 references.html#Reference, ref-1).

A Reference points by ``reference``, or by ``identifier`` when no resource is at hand; with
neither, only a ``display`` tells a reader what it is about, so one that has none of the
three is reported (a warning, as in the HL7 validator: an extension may still carry meaning).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._issue import Issue

__all__ = ["check_reference_parts"]


def check_reference_parts(reference: Any, at: str) -> Iterator[Issue]:
    """A Reference without reference, identifier or display."""
    if not isinstance(reference, dict):
        return
    if not any(reference.get(key) for key in ("reference", "identifier", "display")):
        yield Issue.warning("invalid", at, "a Reference without a reference or an identifier "
                            "should have a display saying what it refers to", "reference-display")
