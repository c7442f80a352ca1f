"""Generated snapshots kept in the user cache, so a new process does not generate them again.

The pilot's profiles (and most hand-written ones) carry only a differential; ``ecanfhir
validate`` generated their snapshots (see ``snapshot``) in every new process, some 15 ms of
a pilot message's cold start. A generated snapshot depends on the code that generates it, on
the definitions shipped with ecanfhir (R4 core, the default packages) and on the user-loaded
definitions the generation looked up (the profile, its bases, the extensions and profiles it
dives into). The user cache (``ecanfhir._cache``) holds one entry per canonical URL, so it
keeps one snapshot per profile however often the profile, the definitions or ecanfhir change:
the snapshot's elements, what it was generated with, and each look-up the generation made
with a digest of its user-loaded answer. The entry is used only when all of that still holds:

==============================================  =============================================
changed since the entry was written              the entry
==============================================  =============================================
ecanfhir's code (``definitions/*.py``), version  another basis: generated again, replaced
a shipped zip (rebuilt, updated), its path       another basis: generated again, replaced
a user-loaded definition the generation used     a look-up answers otherwise: generated again
a user-loaded definition it did not use          used (the snapshot cannot differ)
the entry itself (damaged, another key's)        unreadable or ill-formed: generated again
==============================================  =============================================

A failed generation (``SnapshotMissing``) is never stored: it is raised again each time. What
a generation reported (a differential element its base does not have...) is stored with the
snapshot, so a process reading the entry reports what the one writing it did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._cache import cache_dir, read_entry, write_entry
from .._version import __version__
from .core import shipped_identity
from .registry import CORE_BASE, Registry
from .snapshot_generator import SnapshotGenerator

if TYPE_CHECKING:
    from ..validation._issue import Issue

__all__ = ["SnapshotCache"]

KIND = "snapshots-3"  # the cache folder; the number is the format of an entry
# A look-up: ("sd", canonical) for structure_definition, ("type", code) for type_definition.
Use = tuple[str, str]


@cache
def _code_digest() -> str:
    """A digest of the code that generates snapshots and answers its look-ups."""
    digest = hashlib.sha256(__version__.encode())
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(module.name.encode())
        try:
            digest.update(module.read_bytes())
        except OSError:  # unreadable source: the version alone tells the code apart
            continue
    return digest.hexdigest()[:32]


def _issues(stored: Any) -> list[Issue] | None:
    """The issues an entry stores, or None when they are not as ``generate`` writes them."""
    from ..validation._issue import SEVERITY_ORDER, Issue

    if not isinstance(stored, list):
        return None
    issues = []
    for item in stored:
        if not isinstance(item, list) or len(item) != 5 \
                or not all(isinstance(part, str) for part in item) \
                or item[0] not in SEVERITY_ORDER:
            return None
        issues.append(Issue(*item))
    return issues


class _Noting:
    """The registry as snapshot generation sees it, noting each look-up it makes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.uses: dict[Use, None] = {}  # in the order made

    def structure_definition(self, canonical: str) -> dict[str, Any] | None:
        self.uses[("sd", canonical)] = None
        return self.registry.structure_definition(canonical)

    def type_definition(self, type_code: str) -> dict[str, Any] | None:
        self.uses[("type", type_code)] = None
        return self.registry.type_definition(type_code)

    def is_type(self, name: str) -> bool:
        return self.registry.is_type(name)  # R4 core's type names: part of the basis


class SnapshotCache:
    """Snapshots generated for one registry, read from and written to the user cache."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        # Digests of user-loaded definitions by id(); the definition is kept so the id is not
        # reused while it is remembered.
        self._digests: dict[int, tuple[Mapping[str, Any], str]] = {}

    def generate(self, canonical: str,
                 sd: Mapping[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
        """``generate_snapshot(sd, registry)`` for the definition ``canonical`` names, with
        what the generation reported (as :func:`~.snapshot.snapshot_issues`).

        Raises:
            SnapshotMissing: as :func:`~.snapshot.generate_snapshot`.
        """
        if cache_dir() is None:  # caching turned off: no digests to take
            return SnapshotGenerator(self.registry, ()).run(sd)
        basis = self._basis()
        entry = self._read(canonical, basis)
        if entry is not None:
            result = dict(sd)
            result["snapshot"] = {"element": entry[0]}
            return result, entry[1]
        noting = _Noting(self.registry)
        result, issues = SnapshotGenerator(noting, ()).run(sd)
        uses = [("sd", canonical), *noting.uses]
        write_entry(KIND, canonical, {
            "basis": basis, "uses": [[kind, name, self._answer((kind, name))]
                                     for kind, name in uses],
            "elements": result["snapshot"]["element"],
            "issues": [[i.severity, i.code, i.expression, i.message, i.rule] for i in issues]})
        return result, issues

    def _basis(self) -> str:
        """What every snapshot of this registry is generated with, besides the definitions
        a generation looks up: the code, the shipped definitions, core's overrides."""
        registry = self.registry
        shipped = f"{registry.core.identity} {shipped_identity()}" if registry.load_defaults \
            else registry.core.identity
        # A user definition in core's namespace can change what core look-ups made outside
        # the generation find (the types of a cross-version extension): rare, so all of them.
        overrides = [self._digest(d) for d in registry.user_resources("StructureDefinition")
                     if str(d.get("url", "")).startswith(CORE_BASE)]
        return f"{_code_digest()} {shipped} {' '.join(overrides)}"

    def _read(self, canonical: str, basis: str) -> tuple[list[Any], list[Issue]] | None:
        entry = read_entry(KIND, canonical)
        if not isinstance(entry, dict) or entry.get("basis") != basis:
            return None
        uses, elements = entry.get("uses"), entry.get("elements")
        if not isinstance(uses, list) or not uses or not isinstance(elements, list):
            return None
        if not all(self._holds(use) for use in uses) or uses[0][:2] != ["sd", canonical]:
            return None
        issues = _issues(entry.get("issues"))
        return None if issues is None else (elements, issues)

    def _holds(self, use: Any) -> bool:
        """Whether a look-up the entry notes still gets the answer it got."""
        return isinstance(use, list) and len(use) == 3 and use[0] in ("sd", "type") \
            and isinstance(use[1], str) and self._answer((use[0], use[1])) == use[2]

    def _answer(self, use: Use) -> str:
        """Digests of the user-loaded definitions a look-up may get, one per URL it tries
        (empty when the user loaded none: the answer is then shipped, or none, and the key
        covers that)."""
        kind, name = use
        urls = [CORE_BASE + name] if kind == "type" else [name] if "/" in name \
            else [name, CORE_BASE + name]  # as Registry.structure_definition tries them
        loaded = (self.registry.user_definition(url, "StructureDefinition") for url in urls)
        return " ".join("" if d is None else self._digest(d) for d in loaded)

    def _digest(self, definition: Mapping[str, Any]) -> str:
        known = self._digests.get(id(definition))
        if known is not None and known[0] is definition:
            return known[1]
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        self._digests[id(definition)] = (definition, digest)
        return digest
