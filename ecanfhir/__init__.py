"""ecanfhir: FHIR R4 tooling for the eCAN+ cancer-care pilots.

>>> from ecanfhir import validate
>>> validate({"resourceType": "Patient", "gender": "female"}).ok
True
"""

from __future__ import annotations

from ._exceptions import (
    EcanfhirError,
    PackageError,
    ProfileNotFound,
    SnapshotMissing,
    ValidationFailed,
)
from ._package import PackageInfo, load_conformance, load_ig, load_package, package_cache_dir
from ._registry import Registry
from ._snapshot import generate_snapshot
from .validation._issue import Issue, ValidationResult, to_operation_outcome
from .validation._options import ValidationOptions
from .validation._validator import Validator, validate

__version__ = "0.1.0"
__all__ = [
    "EcanfhirError",
    "Issue",
    "PackageError",
    "PackageInfo",
    "ProfileNotFound",
    "Registry",
    "SnapshotMissing",
    "ValidationFailed",
    "ValidationOptions",
    "ValidationResult",
    "Validator",
    "__version__",
    "generate_snapshot",
    "load_conformance",
    "load_ig",
    "load_package",
    "package_cache_dir",
    "to_operation_outcome",
    "validate",
]
