"""Validation options (what the HL7 validator calls its settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ValidationOptions"]


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Switches for one validator.

    Attributes:
        best_practice: severity of best-practice invariants (dom-6 etc.): "warning" (the HL7
            validator's default), "error" or "ignore".
        must_support: report mustSupport elements that are absent (information).
        advice: give the HL7 validator's own advice beyond the specification's invariants:
            an Observation without subject, performer or effective time (warnings, at the
            HL7 validator's best-practice level), a value in none of the slices of an open
            slicing (information, the HL7 validator's slicing hint).
        max_depth: nesting limit for objects and contained resources; deeper input is refused
            with an error rather than exhausting the stack.
        resolve_references: check that references inside a Bundle or to contained resources
            resolve, and that resolved targets have an allowed type.
        assume_valid_rest_references: trust the type a reference's URL names (``Group/1``,
            ``https://x.org/fhir/Group/1``) when the target is not at hand, and check it
            against the element's target types (the HL7 validator's
            ``-assumeValidRestReferences``). Off, as there: only a target found in the
            resource or its Bundle has its type checked.
        check_display: warn when a Coding's display differs from its CodeSystem's.
        allow_any_extensions: accept extensions whose definition is not loaded, reporting
            each as information (the HL7 validator's any-extension setting). Off: an
            unknown extension is an error, since it cannot be checked.
        allow_extension_domains: URL prefixes whose unknown extensions are accepted the same
            way (the HL7 validator's extension domains), e.g.
            ``("http://medcomfhir.dk/ig/",)``.
    """

    best_practice: str = "warning"
    must_support: bool = False
    advice: bool = False
    max_depth: int = 64
    resolve_references: bool = True
    assume_valid_rest_references: bool = False
    check_display: bool = True
    allow_any_extensions: bool = False
    allow_extension_domains: tuple[str, ...] = field(default=())
