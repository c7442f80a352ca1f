"""Conformance resources by canonical URL: the validator's single source of definitions.

A :class:`Registry` holds the embedded R4 core definitions plus whatever a user loads (FHIR
packages, loose StructureDefinitions/ValueSets/CodeSystems/Questionnaires; see ``packages.load``).
Look-ups take a canonical URL with an optional ``|version`` (FHIR R4 §2.24.0.5, "canonical
URLs"): without a version the newest loaded version wins.

A look-up falls back, in this order, through:

1. what the user loaded (``--ig``, ``load_ig``): a user's copy of a package always wins;
2. R4 core (``data/r4-core.zip``);
3. the HL7 packages the HL7 validator knows by default, the Extensions Pack and HL7
   Terminology (``data/hl7-*.zip``), opened on the first look-up that reaches them;
4. cross-version extensions (``http://hl7.org/fhir/5.0/StructureDefinition/extension-...``),
   synthesised from the element tables of ``xver``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .core import FHIR_VERSION, CoreDefinitions, DefaultPackage, core_definitions, default_packages
from .xver import XVER_URL, cross_version_definition

__all__ = ["CONFORMANCE_TYPES", "Registry", "split_canonical"]

CONFORMANCE_TYPES = frozenset({
    "StructureDefinition", "ValueSet", "CodeSystem", "Questionnaire", "ConceptMap",
    "SearchParameter", "OperationDefinition", "CapabilityStatement", "ImplementationGuide",
    "MessageDefinition", "NamingSystem", "Measure", "Library", "TestScript", "ActivityDefinition",
    "PlanDefinition", "GraphDefinition", "CompartmentDefinition", "StructureMap",
})
CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"


def split_canonical(canonical: str) -> tuple[str, str | None]:
    """Split ``url|version`` (and drop a ``#fragment``) into its parts."""
    url, _, version = canonical.partition("|")
    url = url.split("#", 1)[0]
    return url, (version or None)


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", version))


class Registry:
    """Canonical resources known to a validation run.

    >>> reg = Registry()
    >>> reg.structure_definition("http://hl7.org/fhir/StructureDefinition/Patient")["type"]
    'Patient'
    >>> reg.add({"resourceType": "ValueSet", "url": "http://example.org/vs", "version": "1"})
    >>> reg.get("http://example.org/vs|1")["version"]
    '1'
    """

    def __init__(self, *, core: CoreDefinitions | None = None, defaults: bool = True) -> None:
        """Args:
            core: the core definitions (default: the embedded R4 core).
            defaults: also find definitions in the HL7 packages known by default and
                cross-version extensions, as the HL7 validator does.
        """
        self.core = core if core is not None else core_definitions()
        self.load_defaults = defaults
        self._synthesised: dict[str, dict[str, Any] | None] = {}
        self.fhir_version = FHIR_VERSION
        self._by_url: dict[str, list[dict[str, Any]]] = {}
        self._sources: dict[int, str] = {}
        self._by_id: dict[tuple[str, str], dict[str, Any]] = {}
        self.packages: list[str] = []
        self.generation = 0  # bumped on every change, so caches can tell they are stale
        # Look-ups already answered (misses included: http://loinc.org is asked for per Coding);
        # emptied by every add().
        self._found: dict[tuple[str, str | None], dict[str, Any] | None] = {}

    # -- loading -------------------------------------------------------------------------
    def add(self, resource: Mapping[str, Any], *, source: str | None = None) -> None:
        """Register one conformance resource (anything with a ``url``; others by id)."""
        res = dict(resource)
        rt = res.get("resourceType")
        if isinstance(rt, str) and isinstance(res.get("id"), str):
            self._by_id[(rt, res["id"])] = res
        url = res.get("url")
        if not isinstance(url, str) or not url:
            return
        versions = self._by_url.setdefault(url, [])
        versions[:] = [v for v in versions if v.get("version") != res.get("version")]
        versions.append(res)
        versions.sort(key=lambda r: _version_key(str(r.get("version") or "")))
        if source:
            self._sources[id(res)] = source
        self._found.clear()
        self.generation += 1

    def add_all(self, resources: Iterable[Mapping[str, Any]], *, source: str | None = None) -> None:
        for resource in resources:
            self.add(resource, source=source)

    # -- look-up -------------------------------------------------------------------------
    def get(self, canonical: str, resource_type: str | None = None) -> dict[str, Any] | None:
        """Return the resource a canonical names, or None when nothing loaded matches."""
        key = (canonical, resource_type)
        try:
            return self._found[key]
        except KeyError:
            generation = self.generation
            found = self._look_up(canonical, resource_type)
            if generation == self.generation:  # no add() meanwhile (another thread)
                self._found[key] = found
            return found

    def _look_up(self, canonical: str, resource_type: str | None) -> dict[str, Any] | None:
        url, version = split_canonical(canonical)
        loaded = self._loaded(url, version, resource_type)
        if loaded is not None:
            return loaded
        for pack in self._packs():
            found = pack.load(url)
            if found is None or (resource_type and found.get("resourceType") != resource_type):
                continue
            if version is None or _version_matches(str(found.get("version") or ""), version):
                return self._superseding(url, found) if version is None else found
        if self.load_defaults and resource_type in (None, "StructureDefinition"):
            return self._cross_version(url)
        return None

    def _loaded(self, url: str, version: str | None,
                resource_type: str | None) -> dict[str, Any] | None:
        for candidate in self._by_url.get(url, ())[::-1]:
            if resource_type and candidate.get("resourceType") != resource_type:
                continue
            if version is None or _version_matches(str(candidate.get("version") or ""), version):
                return candidate
        return None

    def user_definition(self, canonical: str,
                        resource_type: str | None = None) -> dict[str, Any] | None:
        """What :meth:`get` finds among the user's resources alone: None when the answer, if
        any, comes from R4 core, a default package or the cross-version extensions."""
        url, version = split_canonical(canonical)
        return self._loaded(url, version, resource_type)

    def _superseding(self, url: str, found: dict[str, Any]) -> dict[str, Any]:
        """The definition to use when core and a default package both hold a URL.

        R4 core carries copies of HL7 Terminology's code systems and value sets (versioned
        "4.0.1" or by date, so a version comparison would keep the stale copy): as in the HL7
        validator ("special case logic for UTG support prior to version 5" in its
        CanonicalResourceManager), HL7 Terminology's definition replaces core's copy. For an
        extension, the extension pack's newer version wins: the HL7 validator loads the pack
        after core and uses the newest, whose contexts and types are corrected
        (humanname-mothers-family on HumanName.family, structuredefinition-fhir-type on
        ElementDefinition.type).
        """
        if not self.load_defaults or self.core.load(url) is not found:
            return found
        for pack in default_packages():
            newer = pack.load(url)
            if newer is None or newer.get("resourceType") != found.get("resourceType"):
                continue
            if pack.package.startswith("hl7.terminology"):
                return newer
            if found.get("type") == "Extension" and _newer(newer, than=found):
                return newer
        return found

    def _packs(self) -> Iterator[CoreDefinitions | DefaultPackage]:
        yield self.core
        if self.load_defaults:
            yield from default_packages()  # each opened on its first look-up that core misses

    def _cross_version(self, url: str) -> dict[str, Any] | None:
        if not url.startswith("http://hl7.org/fhir/") or not XVER_URL.match(url):
            return None
        if url not in self._synthesised:
            self._synthesised[url] = cross_version_definition(url, self)
        return self._synthesised[url]

    @property
    def default_packages(self) -> tuple[str, ...]:
        """``id#version`` of the HL7 packages known without loading them (empty when off)."""
        return tuple(p.package for p in default_packages()) if self.load_defaults else ()

    def __contains__(self, canonical: object) -> bool:
        return isinstance(canonical, str) and self.get(canonical) is not None

    def by_id(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """A user-loaded resource by type and id (for relative references to definitions)."""
        return self._by_id.get((resource_type, resource_id))

    def source_of(self, resource: Mapping[str, Any]) -> str | None:
        """Where a user-loaded resource came from (file or package), if known."""
        return self._sources.get(id(resource))

    def structure_definition(self, canonical: str) -> dict[str, Any] | None:
        found = self.get(canonical, "StructureDefinition")
        if found is None and "/" not in canonical:
            found = self.get(CORE_BASE + canonical, "StructureDefinition")
        return found

    def type_definition(self, type_code: str) -> dict[str, Any] | None:
        """The core definition of a resource or datatype by name (``Patient``, ``HumanName``)."""
        return self.get(CORE_BASE + type_code, "StructureDefinition")

    def value_set(self, canonical: str) -> dict[str, Any] | None:
        return self.get(canonical, "ValueSet")

    def code_system(self, canonical: str) -> dict[str, Any] | None:
        return self.get(canonical, "CodeSystem")

    def questionnaire(self, canonical: str) -> dict[str, Any] | None:
        return self.get(canonical, "Questionnaire")

    def user_resources(self, resource_type: str | None = None) -> Iterator[dict[str, Any]]:
        """Every user-loaded canonical resource (newest version of each URL)."""
        for versions in self._by_url.values():
            latest = versions[-1]
            if resource_type is None or latest.get("resourceType") == resource_type:
                yield latest

    def versions(self, url: str) -> tuple[str, ...]:
        """The versions of a canonical URL loaded by the user, oldest first."""
        return tuple(str(r["version"]) for r in self._by_url.get(url, ()) if r.get("version"))

    def is_resource_type(self, name: str) -> bool:
        entry = self.core.entries.get(CORE_BASE + name)
        return (entry is not None and entry.kind == "resource"
                and entry.derivation == "specialization")

    def is_type(self, name: str) -> bool:
        """True for every R4 resource and datatype name."""
        entry = self.core.entries.get(CORE_BASE + name)
        return entry is not None and entry.derivation == "specialization"


def _newer(resource: Mapping[str, Any], *, than: Mapping[str, Any]) -> bool:
    return _version_key(str(resource.get("version") or "")) \
        > _version_key(str(than.get("version") or ""))


def _version_matches(actual: str, wanted: str) -> bool:
    # FHIR allows partial versions in canonicals: "4.0" matches "4.0.1" (R4 §2.24.0.5).
    return actual == wanted or actual.startswith(wanted + ".")
