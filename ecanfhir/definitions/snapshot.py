"""Snapshot generation: a StructureDefinition's differential laid over its base's snapshot.

A profile (FHIR R4 profiling.html §5.1.0.9, "Snapshot and differential") is usually authored and
shipped as a *differential*: only what it changes. Validation needs the *snapshot*: every
element, with everything inherited. This module computes it the way HL7's reference tools
(``ProfileUtilities.generateSnapshot``, as used to publish R4 4.0.1) do, so that a snapshot
generated here matches a published one element for element:

* the base snapshot is copied; each differential element (matched by ``id``, or by ``path``
  when ids are absent) is merged onto its element: cardinality, types, binding, fixed[x] and
  pattern[x], invariants (added, never replaced, ``source`` = the profile), mustSupport, ...;
* a differential that constrains a child of a complex-typed element (``Patient.identifier.
  system``) unfolds that type's own snapshot under the element (``Identifier.system`` becomes
  ``Patient.identifier.system``);
* slices copy the sliced element *as the base defines it*, followed by the slice's children;
  a slice on ``extension`` without slicing gets the usual ``url`` value slicing;
* a renamed choice (``Observation.valueQuantity``) becomes the type slice
  ``Observation.value[x]:valueQuantity`` of a closed ``type``/``$this`` slicing, as the R4
  publication does (``bodyheight``) — except inside a slice of a backbone element, where the
  4.0.1 tools narrow ``value[x]`` itself (``bp``: ``Observation.component:SystolicBP.value[x]``);
  a type slicing the differential spells out keeps its ``rules`` (``open``: the other types
  stay allowed, as HL7's IG tools publish it);
* two more 4.0.1 habits are kept, as the published snapshots show them: a lone slice on an
  element without slicing renames that element (``catalog``: ``Composition.date:IssueDate``),
  and a new extension slice added to an already sliced ``extension`` gets its definition's
  children unless it is the differential's last element (``elementdefinition-de``).

Checked against HL7: regenerating every core profile and extension of R4 gives the published
snapshot (``tests/unit/test_snapshot.py``). Re-slicing (``a:b/c``) copies slice ``b``.
contentReference elements are unfolded only when the differential
walks into them, and their reference is kept as the base has it (HL7 4.0.1 rewrote one to a
slice id). Problems found on the way (a loosened constraint, an unknown path, an undeclared
slice, an ill-formed property) are :class:`~ecanfhir.Issue` s, not exceptions.

This module holds the entry points; ``snapshot_generator`` builds the snapshot tree (bases,
slices, unfolded types), ``snapshot_merge`` lays each differential element over its element,
``snapshot_elements`` holds the element keys, source trees and nodes they work on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .registry import Registry
from .snapshot_generator import SnapshotGenerator

if TYPE_CHECKING:  # imported when needed: validation imports the schema, which imports us
    from ..validation._issue import Issue

__all__ = ["ensure_snapshot", "generate_snapshot", "snapshot_issues"]


def generate_snapshot(sd: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    """Return a copy of ``sd`` whose ``snapshot`` is computed from its differential.

    The base (``sd.baseDefinition``) is looked up in ``registry``; when it has no snapshot
    either, its own is generated first (profiles on profiles).

    Args:
        sd: a StructureDefinition with a differential; it is not modified.
        registry: where the base and any datatype or profile the differential dives into live.

    Returns:
        A new StructureDefinition dict: ``sd``'s members, with ``snapshot`` filled in.

    Raises:
        SnapshotMissing: the base cannot be found, or ``sd`` is not a usable
            StructureDefinition (no baseDefinition, a cycle of bases, ...).

    >>> reg = Registry()
    >>> profile = {"resourceType": "StructureDefinition", "url": "http://example.org/p",
    ...     "type": "Patient", "derivation": "constraint",
    ...     "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    ...     "differential": {"element": [
    ...         {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]}}
    >>> snap = generate_snapshot(profile, reg)["snapshot"]["element"]
    >>> [(e["min"], e["max"]) for e in snap if e["id"] == "Patient.birthDate"]
    [(1, '1')]
    """
    return SnapshotGenerator(registry, ()).run(sd)[0]


def snapshot_issues(sd: Mapping[str, Any], registry: Registry) -> list[Issue]:
    """Problems in ``sd``'s differential, found by generating its snapshot.

    A profile may only restrict its base: a lower minimum, a higher maximum, a type the base
    does not allow or a ``required`` binding made weaker is a ``business-rule`` error; a
    differential element whose path does not exist in the base, or which names a slice that
    is never declared, is a ``structure`` error (and is skipped); a property of the wrong JSON
    shape is an ``invalid`` error (and is ignored); re-slicing is a ``not-supported`` warning.
    Each issue's expression is the differential element's id.

    Raises:
        SnapshotMissing: as :func:`generate_snapshot`.

    >>> reg = Registry()
    >>> profile = {"resourceType": "StructureDefinition", "url": "http://example.org/p",
    ...     "type": "Patient", "derivation": "constraint",
    ...     "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    ...     "differential": {"element": [{"id": "Patient.shoeSize", "path": "Patient.shoeSize"}]}}
    >>> [(i.code, i.expression) for i in snapshot_issues(profile, reg)]
    [('structure', 'Patient.shoeSize')]
    """
    return SnapshotGenerator(registry, ()).run(sd)[1]


def ensure_snapshot(sd: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    """``sd`` itself when it carries a snapshot, else :func:`generate_snapshot` (not cached:
    the caller owns any cache, e.g. by ``url|version``).

    Raises:
        SnapshotMissing: as :func:`generate_snapshot`.
    """
    return SnapshotGenerator(registry, ()).ensure(sd)
