"""ecanfhir: FHIR R4 tooling for the eCAN+ cancer-care pilots.

>>> from ecanfhir import validate
>>> validate({"resourceType": "Patient", "gender": "female"}).ok
True
"""

from __future__ import annotations

import importlib

from ._version import __version__

# Not typing.TYPE_CHECKING: importing typing would cost every `ecanfhir` process (a client of
# the daemon among them) a few milliseconds; mypy reads the name alone (PEP 484).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
del TYPE_CHECKING  # not a name of the package's

# What each public name is imported from: imported when first used (PEP 562), so that
# ``ecanfhir validate`` loads the validator, not the package builder and installer.
_EXPORTS: dict[str, str] = {
    "BuildError": "._exceptions",
    "ClientError": "._exceptions",
    "EcanfhirError": "._exceptions",
    "Issue": ".validation._issue",
    "PackageBuild": ".definitions.packages.build",
    "PackageError": "._exceptions",
    "PackageInfo": ".definitions.packages.load",
    "PackageInstall": ".definitions.packages.install",
    "ProfileNotFound": "._exceptions",
    "Registry": ".definitions.registry",
    "ServerError": "._exceptions",
    "SnapshotMissing": "._exceptions",
    "TransportError": "._exceptions",
    "ValidationFailed": ".validation._issue",
    "ValidationOptions": ".validation._options",
    "ValidationResult": ".validation._issue",
    "Validator": ".validation._validator",
    "build_package": ".definitions.packages.build",
    "generate_snapshot": ".definitions.snapshot",
    "install_package": ".definitions.packages.install",
    "load_conformance": ".definitions.packages.load",
    "load_ig": ".definitions.packages.load",
    "load_package": ".definitions.packages.load",
    "load_pilot": ".definitions.pilot",
    "package_cache_dir": ".definitions.packages.load",
    "pilot_registry": ".definitions.pilot",
    "pilot_url": ".definitions.pilot",
    "to_operation_outcome": ".validation._issue",
    "validate": ".validation._validator",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
