"""ecanfhir: FHIR R4 tooling for the eCAN+ cancer-care pilots.

>>> from ecanfhir import validate
>>> validate({"resourceType": "Patient", "gender": "female"}).ok
True
"""

from __future__ import annotations

from ._exceptions import (
    BuildError,
    ClientError,
    EcanfhirError,
    PackageError,
    ProfileNotFound,
    ServerError,
    SnapshotMissing,
    TransportError,
)
from ._version import __version__
from .definitions.packages.build import PackageBuild, build_package
from .definitions.packages.install import PackageInstall, install_package
from .definitions.packages.load import (
    PackageInfo,
    load_conformance,
    load_ig,
    load_package,
    package_cache_dir,
)
from .definitions.pilot import load_pilot, pilot_registry, pilot_url
from .definitions.registry import Registry
from .definitions.snapshot import generate_snapshot
from .validation._issue import Issue, ValidationFailed, ValidationResult, to_operation_outcome
from .validation._options import ValidationOptions
from .validation._validator import Validator, validate

__all__ = [
    "BuildError",
    "ClientError",
    "EcanfhirError",
    "Issue",
    "PackageBuild",
    "PackageError",
    "PackageInfo",
    "PackageInstall",
    "ProfileNotFound",
    "Registry",
    "ServerError",
    "SnapshotMissing",
    "TransportError",
    "ValidationFailed",
    "ValidationOptions",
    "ValidationResult",
    "Validator",
    "__version__",
    "build_package",
    "generate_snapshot",
    "install_package",
    "load_conformance",
    "load_ig",
    "load_package",
    "load_pilot",
    "package_cache_dir",
    "pilot_registry",
    "pilot_url",
    "to_operation_outcome",
    "validate",
]
