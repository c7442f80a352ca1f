"""The eCAN+ pilot package (``ecanfhir.pilot``), shipped with ecanfhir.

Its sources live in the repository's ``profiles/`` folder: a FHIR NPM package manifest and
differential-only conformance resources that write ``{{canonical}}`` for the manifest's canonical
(DOMAIN.md §5.1: the canonical lives in one place). The loader substitutes it and the schema
generates snapshots on first use, so the sources load as they are; ``ecanfhir package build``
writes the standard package with snapshots and its ``.tgz``.

Installed from a wheel, the same folder is ``ecanfhir/_profiles`` (copied there by setup.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from .._exceptions import PackageError
from .packages.load import PackageInfo, load_package
from .registry import Registry

__all__ = ["PILOT_PACKAGE", "load_pilot", "pilot_canonical", "pilot_registry", "pilot_source",
           "pilot_url"]

PILOT_PACKAGE = "ecanfhir.pilot"
_HERE = Path(__file__).resolve().parent.parent  # the ecanfhir package folder


def pilot_source() -> Path:
    """The folder holding the pilot package's sources (``package.json`` and resources)."""
    for candidate in (_HERE / "_profiles", _HERE.parent / "profiles"):
        if (candidate / "package.json").is_file():
            return candidate
    raise PackageError("the ecanfhir.pilot package sources are missing from this installation "
                       "(reinstall ecanfhir)")


@cache
def pilot_canonical() -> str:
    """The pilot's canonical base, from the package manifest."""
    manifest = json.loads((pilot_source() / "package.json").read_text(encoding="utf-8"))
    return str(manifest["canonical"])


def pilot_url(resource_type: str, resource_id: str) -> str:
    """The canonical URL of a pilot conformance resource.

    >>> pilot_url("StructureDefinition", "ecan-patient")
    'https://ecanfhir.example/fhir/StructureDefinition/ecan-patient'
    """
    return f"{pilot_canonical()}/{resource_type}/{resource_id}"


def load_pilot(registry: Registry) -> PackageInfo:
    """Register the pilot package's conformance resources (R4 core is always there)."""
    return load_package(registry, pilot_source(), load_dependencies=False)


def pilot_registry() -> Registry:
    """A new registry with R4 core and the pilot package."""
    registry = Registry()
    load_pilot(registry)
    return registry
