"""The alignment matrix: generated pilot resources validated against each counterpart profile.

Every resource is validated on its own against one counterpart at a time, with its
``meta.profile`` (and, in a Bundle, its entries') removed: a cell then holds exactly what that
counterpart says, not what the pilot profile or another counterpart named in ``meta.profile``
adds. A cell is *conformant* (no errors), an *intended deviation* (every error group is listed
in ``profiles/deviations.md``), *non-conformant*, *not checked* (its package is not loaded) or
empty (the generator makes no such resource).
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._exceptions import PackageError
from ..builders import to_document
from ..definitions.packages.load import load_ig
from ..definitions.pilot import load_pilot
from ..definitions.registry import Registry
from ..synthetic import KINDS, SITES, draw_case
from ..validation._validator import Validator
from ._counterparts import ROWS, Row, counterpart_name, package_of
from ._deviations import Deviation

__all__ = ["Alignment", "Cell", "Coverage", "ErrorGroup", "Status", "align", "load_counterparts",
           "without_profiles"]

Status = Literal["conformant", "deviation", "non-conformant", "not-checked", "no-instances"]
_PILOT_PREFIX = "ecan-"
_INDEX = re.compile(r"\[\d+\]")


@dataclass(slots=True)
class ErrorGroup:
    """Errors of one rule at one place (indexes dropped), with the first message as example."""

    rule: str
    path: str
    message: str
    count: int = 0
    deviation: Deviation | None = None

    @property
    def line(self) -> str:
        return f"{self.rule} at {self.path}: {self.message}"


@dataclass(slots=True)
class Cell:
    """One pilot row × one counterpart."""

    row: Row
    counterpart: str
    package: str
    loaded: bool
    checked: int = 0
    conformant: int = 0
    groups: dict[tuple[str, str], ErrorGroup] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return counterpart_name(self.counterpart)

    @property
    def status(self) -> Status:
        if not self.loaded:
            return "not-checked"
        if self.checked == 0:
            return "no-instances"
        if self.conformant == self.checked:
            return "conformant"
        if all(g.deviation is not None for g in self.groups.values()):
            return "deviation"
        return "non-conformant"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which generator branches the instances took."""

    cases: Mapping[str, int]
    sites: tuple[str, ...]
    foreign_patients: int
    danish_patients: int
    with_stage: int
    with_ecog: int
    with_markers: int = 0
    with_metastases: int = 0


@dataclass(frozen=True, slots=True)
class Alignment:
    """The matrix, and what it was made from."""

    cells: tuple[Cell, ...]
    count: int
    seed: int
    packages: tuple[str, ...]
    missing: Mapping[str, str]          # package → why it is not loaded
    coverage: Coverage

    @property
    def ok(self) -> bool:
        """No cell is non-conformant (unchecked cells are reported, not failed)."""
        return not any(c.status == "non-conformant" for c in self.cells)


def load_counterparts(registry: Registry, igs: Iterable[str] = (), *,
                      cache_dir: Path | None = None) -> dict[str, str]:
    """Load ``igs``, then every counterpart package not loaded yet from the package cache.

    Returns the packages that could not be loaded, each with the reason.
    """
    for spec in igs:
        load_ig(registry, spec, cache_dir=cache_dir)
    missing: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    for url in (u for row in ROWS for u in row.counterparts):
        wanted.setdefault(package_of(url), []).append(url)
    for package, urls in wanted.items():
        if all(registry.structure_definition(u) is not None for u in urls):
            continue  # given with --ig (as a package or as loose conformance resources)
        try:
            load_ig(registry, package, cache_dir=cache_dir)
        except PackageError as error:
            missing[package] = str(error)
    return missing


def align(*, count: int, seed: int = 0, registry: Registry | None = None,
          igs: Iterable[str] = (), cache_dir: Path | None = None,
          deviations: Iterable[Deviation] = ()) -> Alignment:
    """Generate ``count`` cases of every message kind and fill the matrix.

    Case *i* of each kind is about cancer site ``i mod 19`` and, in turns of 19, a Danish then a
    foreign patient, so 38 cases cover every site for both; the optional parts (staging, ECOG,
    laterality, encounter status...) are drawn with the generator's shares.
    """
    if count < 1:
        raise ValueError(f"count: at least 1, not {count}")
    if registry is None:
        # The pilot's extensions and code systems are published with it, so they are known;
        # its profiles are not applied (meta.profile is removed from what is checked).
        registry = Registry()
        load_pilot(registry)
    missing = load_counterparts(registry, igs, cache_dir=cache_dir)
    validator = Validator(registry)
    listed = tuple(deviations)
    cells = {(row.key, url): Cell(row, url, package_of(url),
                                   registry.structure_definition(url) is not None)
             for row in ROWS for url in row.counterparts}
    bundles, coverage = _messages(count, seed)
    for key, resource in _instances(bundles):
        for (row_key, _), cell in cells.items():
            if row_key == key and cell.loaded:
                _check(validator, cell, resource, listed)
    return Alignment(tuple(cells.values()), count, seed, tuple(registry.packages),
                     {p: why for p, why in missing.items()}, coverage)


def _messages(count: int, seed: int) -> tuple[list[dict[str, Any]], Coverage]:
    bundles: list[dict[str, Any]] = []
    cases: dict[str, int] = {}
    sites: set[str] = set()
    tally = {"foreign": 0, "danish": 0, "stage": 0, "ecog": 0, "markers": 0, "metastases": 0}
    for kind in KINDS:
        for i in range(count):
            rng = random.Random(f"align:{kind}:{seed}:{i}")
            case = draw_case(kind, i + 1, rng, site=SITES[i % len(SITES)],
                             danish=(i // len(SITES)) % 2 == 0)
            cases[kind] = cases.get(kind, 0) + 1
            sites.add(case.site.key)
            tally["danish" if case.country == "DK" else "foreign"] += 1
            tally["stage"] += case.stage is not None
            tally["ecog"] += case.ecog is not None
            tally["markers"] += bool(case.markers)
            tally["metastases"] += bool(case.metastases)
            bundles.extend(bundle for _, bundle in case.messages())
    coverage = Coverage(cases, tuple(s.key for s in SITES if s.key in sites),
                        tally["foreign"], tally["danish"], tally["stage"], tally["ecog"],
                        tally["markers"], tally["metastases"])
    return bundles, coverage


def _instances(bundles: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(row key, resource) for every resource of every message, the messages themselves and
    their document form."""
    for bundle in bundles:
        yield "ecan-message", bundle
        yield "document", to_document(bundle)
        header = bundle["entry"][0]["resource"]
        addressed = {header.get("sender", {}).get("reference")} | {
            d.get("receiver", {}).get("reference") for d in header.get("destination", ())}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            for url in resource.get("meta", {}).get("profile", ()):
                name = str(url).rsplit("/", 1)[-1]
                if name.startswith(_PILOT_PREFIX):
                    yield name, resource
            if resource["resourceType"] == "Organization" and entry["fullUrl"] in addressed:
                yield "sender-receiver", resource


def _check(validator: Validator, cell: Cell, resource: Mapping[str, Any],
           deviations: tuple[Deviation, ...]) -> None:
    result = validator.validate(without_profiles(resource), profiles=[cell.counterpart])
    cell.checked += 1
    errors = [i for i in result.issues if i.is_error]
    if not errors:
        cell.conformant += 1
        return
    for issue in errors:
        rule = issue.rule or issue.code
        path = _INDEX.sub("", issue.expression)
        group = cell.groups.get((rule, path))
        if group is None:
            group = cell.groups[(rule, path)] = ErrorGroup(rule, path, issue.message)
            group.deviation = next((d for d in deviations if d.covers(
                cell.row.key, cell.name, rule, path)), None)
        group.count += 1


def without_profiles(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without any ``meta.profile``: only the counterpart under test applies."""
    clean = copy.deepcopy(dict(resource))
    _strip(clean)
    return clean


def _strip(node: Any) -> None:
    if isinstance(node, dict):
        meta = node.get("meta")
        if isinstance(meta, dict) and "resourceType" in node:
            meta.pop("profile", None)
            if not meta:
                del node["meta"]
        for value in node.values():
            _strip(value)
    elif isinstance(node, list):
        for item in node:
            _strip(item)
