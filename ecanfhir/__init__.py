"""ecanfhir: FHIR R4 tooling for the eCAN+ cancer-care pilots."""

from __future__ import annotations

from ._exceptions import EcanfhirError, PackageError, ProfileNotFound, ValidationFailed
from ._registry import Registry
from .validation._issue import Issue, ValidationResult, to_operation_outcome

__version__ = "0.1.0"
__all__ = [
    "EcanfhirError",
    "Issue",
    "PackageError",
    "ProfileNotFound",
    "Registry",
    "ValidationFailed",
    "ValidationResult",
    "__version__",
    "to_operation_outcome",
]
