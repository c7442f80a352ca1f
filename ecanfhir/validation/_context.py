"""State carried through one validation run: issues, resource frames, pending references.

A *frame* is one resource being walked: the top resource, a contained resource, or a Bundle
entry's resource. Frames give FHIRPath its ``%resource`` / ``%rootResource`` and give
reference resolution its scope (contained resources, the enclosing Bundle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any

from .._frozen import frozen, record
from ..fhirpath.engine import EvalEnv
from ._issue_list import IssueList

if TYPE_CHECKING:
    from ..definitions.compiled import TypeRef
    from ..definitions.schema import Schema
    from ..terminology.value_sets import Terminology
    from ._options import ValidationOptions

__all__ = ["BundleScope", "Frame", "PendingReference", "Run"]


@record
class BundleScope:
    """The entries of a Bundle, indexed for reference resolution (R4 §3.3.1.4.2)."""

    bundle: Mapping[str, Any]
    path: str
    by_full_url: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    by_type_id: dict[tuple[str, str], list[Mapping[str, Any]]] = field(default_factory=dict)
    full_url_of: dict[int, str] = field(default_factory=dict)  # id(resource) -> entry.fullUrl
    # id(resource) -> (the index of its entry, the entry); built when first asked for
    entry_of: dict[int, tuple[int, Mapping[str, Any]]] | None = None


@record
class Frame:
    resource: Mapping[str, Any]
    path: str
    resource_type: str
    parent: Frame | None = None
    contained: bool = False
    bundle: BundleScope | None = None  # the Bundle this resource is an entry of
    full_url: str | None = None
    env: EvalEnv | None = None
    scope: BundleScope | None = None  # set on a Bundle's own frame: its entries, indexed
    element_ids: dict[str, str] = field(default_factory=dict)  # element id -> its path

    @property
    def root(self) -> Frame:
        frame = self
        while frame.parent is not None:
            frame = frame.parent
        return frame

    def container(self) -> Frame:
        """The resource whose ``contained`` list holds this one (itself when not contained)."""
        return self.parent if self.contained and self.parent is not None else self


@frozen
class PendingReference:
    path: str
    reference: str
    type_ref: TypeRef
    frame: Frame


@record
class Walked:
    """A resource inside another that was walked already in a run, and how it went."""

    structures: set[str]  # the URLs of the structures it was walked against
    clean: bool  # no error so far
    unchecked: tuple[str, ...]  # what those walks could not check offline


@record
class Run:
    """Everything one ``validate()`` call accumulates."""

    schema: Schema
    terminology: Terminology
    options: ValidationOptions
    issues: IssueList = field(default_factory=IssueList)
    references: list[PendingReference] = field(default_factory=list)
    external_systems: set[str] = field(default_factory=set)
    # Profiles whose snapshot errors this run has reported (once each, where first used).
    snapshot_reported: set[str] = field(default_factory=set)
    depth: int = 0
    hosts: list[tuple[str, ...]] = field(default_factory=list)  # what extensions are extending
    # ... and the element itself with its resource's frame (None: a primitive's extensions),
    # for FHIRPath contexts and context invariants.
    host_values: list[tuple[Mapping[str, Any], Frame] | None] = field(default_factory=list)
    # (id(resource or element), profile url) -> (conforms?, what could not be checked): a
    # Patient referenced by every entry is checked against its target profile once per run.
    conformance: dict[tuple[int, str], tuple[bool, tuple[str, ...]]] = field(
        default_factory=dict)
    # What this run's checks could not decide offline (a required binding to a value set that
    # cannot be evaluated here): a value "conforms" to a profile only as far as it was checked.
    unchecked: list[str] = field(default_factory=list)
    # (id(resource), path) -> what a resource inside another was walked against: a container
    # walked against its core definition and a profile meets its entries twice.
    walked: dict[tuple[int, str], Walked] = field(default_factory=dict)
    # No profile was asked for (the HL7 validator's "baseOnly"): only then are codes outside a
    # preferred binding's value set worth a hint.
    base_only: bool = False
    # The walk under way is a profile's walk standing in for the core definition's walk of its
    # resource: the bindings and Reference targets the profile replaced are checked against the
    # core elements too (see _plan.core_counterpart).
    in_place_of_core: bool = False
    # Every resource frame the run made (its trials' too). A frame's FHIRPath environment
    # refers back to it (resolve(), conformsTo()), a reference cycle: :meth:`release` breaks
    # them when the run ends, so that the resources validated are freed with the result
    # returned, not kept, with all they hold, for the cyclic collector to find.
    frames: list[Frame] = field(default_factory=list)

    def release(self) -> None:
        """Break the cycles of the run's frames (the run is over: nothing evaluates in them)."""
        for frame in self.frames:
            frame.env = None
        self.frames.clear()
