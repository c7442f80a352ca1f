"""Exceptions for misuse and infrastructure problems.

Invalid FHIR data is never an exception: it is a :class:`~ecanfhir.ValidationResult`. The tree::

    EcanfhirError
    ├── PackageError          a package or conformance resource cannot be loaded
    │   ├── ProfileNotFound   a canonical URL names nothing that is loaded
    │   └── SnapshotMissing   a StructureDefinition has no snapshot and none can be generated
    ├── ValidationFailed      raised by ValidationResult.raise_for_errors() (opt-in)
    └── BuildError            a builder (ecanfhir.builders) was given impossible input
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .validation._issue import ValidationResult

__all__ = ["BuildError", "EcanfhirError", "PackageError", "ProfileNotFound", "SnapshotMissing",
           "ValidationFailed"]


class EcanfhirError(Exception):
    """The root of every exception ecanfhir raises."""


class PackageError(EcanfhirError):
    """A FHIR package, or a loose conformance resource, cannot be read."""


class ProfileNotFound(PackageError):
    """A canonical URL (or file) given as a profile resolves to no StructureDefinition."""


class SnapshotMissing(PackageError):
    """A StructureDefinition carries no snapshot (and none could be generated)."""


class ValidationFailed(EcanfhirError):
    """A validation result holds errors; raised only on request."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        errors = [i for i in result.issues if i.severity in ("error", "fatal")]
        first = errors[0] if errors else None
        detail = f": {first.expression}: {first.message}" if first else ""
        super().__init__(f"{len(errors)} error(s){detail}")


class BuildError(EcanfhirError, ValueError):
    """A builder was given input no valid resource can be made from; the message names the field.

    >>> raise BuildError("Ecog.score: must be 0-5, not 7")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Ecog.score: must be 0-5, not 7
    """
