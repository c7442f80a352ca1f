"""Validation options (what the HL7 validator calls its settings)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ValidationOptions"]


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Switches for one validator.

    Attributes:
        best_practice: severity of best-practice invariants (dom-6 etc.): "warning" (the HL7
            validator's default), "error" or "ignore".
        must_support: report mustSupport elements that are absent (information).
        max_depth: nesting limit for objects and contained resources; deeper input is refused
            with an error rather than exhausting the stack.
        resolve_references: check that references inside a Bundle or to contained resources
            resolve, and that resolved targets have an allowed type.
        check_display: warn when a Coding's display differs from its CodeSystem's.
    """

    best_practice: str = "warning"
    must_support: bool = False
    max_depth: int = 64
    resolve_references: bool = True
    check_display: bool = True
