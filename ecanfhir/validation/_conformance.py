"""Profile conformance: which profiles a resource must meet, and whether a value meets one.

A resource is checked against every profile it claims in ``meta.profile``, is asked to
conform to, or is implied by its content (the vital signs profiles); a claimed profile that is
not loaded is a warning, an asked one an error (R4 §2.36.0.4). Whether a value *conforms* to a
profile (a slice's type profile, the alternatives of ``ElementDefinition.type.profile``,
FHIRPath ``conformsTo()``) is decided by walking it into a trial run and asking whether that
run found an error; verdicts are kept per run, so a Patient referenced by every entry is
checked against its target profile once.

The walker imports this module, so the walk of a trial run is passed in (:data:`TrialWalk`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..definitions.compiled import CompiledStructure
from ._context import Frame, Run, Walked
from ._issue import Issue
from ._issue_list import TrialFailed, TrialIssues
from .checks.json_values import dicts
from .checks.observation import vital_signs_profiles

__all__ = ["TrialWalk", "alternative", "conformance", "profiles_of", "remember_conformance",
           "remember_walk", "snapshot_problems", "type_profile_not_used"]

CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"
_DEPENDENCIES = CORE_BASE + "structuredefinition-dependencies"

# The walker's own walk of a value into a trial run: (trial run, value, profile url, its
# structure, location, frame of the resource the value is in).
TrialWalk = Callable[[Run, Mapping[str, Any], str, CompiledStructure, str, Frame], None]


def profiles_of(run: Run, resource: Mapping[str, Any], at: str,
                asked: Sequence[str]) -> list[CompiledStructure]:
    """The loaded profiles a resource must conform to; unknown ones are reported (R4 §2.36.0.4)."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    implied = vital_signs_profiles(resource)
    if not asked and not (isinstance(claimed, list) and claimed) and not implied:
        return []  # (the common case: nothing claimed, asked or implied by a vital sign)
    urls = [(u, f"{at}.meta.profile[{i}]") for i, u in
            enumerate(claimed if isinstance(claimed, list) else []) if isinstance(u, str)]
    found: list[CompiledStructure] = []
    for url, where in [*((u, at) for u in asked), *urls, *((u, at) for u in implied)]:
        structure = run.schema.find(url)
        if structure is None:
            run.issues.append(_profile_not_used(run, url, where, asked=where == at))
        elif structure not in found and not _base_of(run, structure, resource):
            # Also a base definition named as a profile (a Bundle entry typed Resource with
            # profile .../DocumentManifest): it says which type the resource must be.
            found.append(structure)
            run.issues.extend(snapshot_problems(run, structure, where))
            found.extend(d for d in _dependencies(run, structure, where) if d not in found)
    return found


def snapshot_problems(run: Run, structure: CompiledStructure, where: str) -> list[Issue]:
    """The errors generating a profile's snapshot met, reported where the profile is first
    used in a run. The profile is applied as it was generated: without what could not be
    applied (a path its base does not have), with what loosens its base (a max above the
    base's), so a silent check would pass what the profile's author meant to refuse, or its
    base refuses. Warnings, as the value itself is not at fault (the HL7 validator validates
    the parameters-profiled-resource case, whose second profile names a path Patient does not
    have, without an error); ``ecanfhir snapshot`` lists them for the profile's author."""
    if not structure.snapshot_errors or structure.url in run.snapshot_reported:
        return []
    run.snapshot_reported.add(structure.url)
    prefix = f"{structure.url}: "
    return [Issue.warning(
        error.code, where, f"the differential of profile '{structure.url}' has an error, and "
        "the value was checked against the snapshot generated from it as it is: "
        f"{error.message.removeprefix(prefix)}", "profile-snapshot")
        for error in structure.snapshot_errors]


def _dependencies(run: Run, structure: CompiledStructure,
                  where: str) -> list[CompiledStructure]:
    """The profiles a profile depends on (extension structuredefinition-dependencies): a
    resource held to the profile is held to them too, as the HL7 validator does; one that is
    not loaded is a warning (VALIDATION_VAL_PROFILE_DEPENDS_NOT_RESOLVED)."""
    found = []
    for ext in dicts(structure.definition.get("extension")):
        url = ext.get("valueCanonical") if ext.get("url") == _DEPENDENCIES else None
        if not isinstance(url, str):
            continue
        dependency = run.schema.find(url)
        if dependency is None:
            run.issues.append(Issue.warning(
                "not-found", where, f"the profile {structure.url} depends on {url} (extension "
                "structuredefinition-dependencies), which is not loaded, so the resource was "
                "not checked against it", "profile-dependency"))
        else:
            found.append(dependency)
    return found


def _base_of(run: Run, structure: CompiledStructure, resource: Mapping[str, Any]) -> bool:
    """Whether a definition adds nothing to the resource's own type: that type's core
    definition (checked already), or Resource / DomainResource, which every resource is."""
    if structure.type in ("Resource", "DomainResource") and structure.derivation != "constraint":
        return True
    rt = resource.get("resourceType")
    own = run.schema.registry.structure_definition(rt) if isinstance(rt, str) else None
    return own is not None and own.get("url") == structure.url


def _profile_not_used(run: Run, url: str, where: str, *, asked: bool,
                      what: str = "the resource") -> Issue:
    """A profile asked for (error) or claimed in meta.profile (warning) that cannot be applied:
    not loaded, or loaded but unusable (e.g. its base is missing), with the reason."""
    if run.schema.registry.structure_definition(url) is not None:
        reason, rule = f"could not be used: {run.schema.problem(url)}", "profile-unusable"
    else:
        reason, rule = "is not loaded", "profile-unknown"
    if asked:
        return Issue.error("not-found", where, f"profile '{url}' {reason}", rule)
    hint = "" if rule == "profile-unusable" else " (load its package with --ig)"
    return Issue.warning("not-found", where, f"profile '{url}' {reason}, so {what} was not "
                         f"checked against it{hint}", rule)


def type_profile_not_used(run: Run, url: str, element: str, where: str) -> Issue:
    """A profile an element's type names (ElementDefinition.type.profile) that cannot be
    applied: a warning at the value, which is checked against its type alone (the HL7
    validator's VALIDATION_VAL_PROFILE_UNKNOWN_NOT_POLICY), never a silent pass."""
    return _profile_not_used(run, url, where, asked=False,
                             what=f"the value (typed by {element})")


def conformance(run: Run, frame: Frame, value: Any, url: str, *, at: str | None = None,
                walk: TrialWalk) -> tuple[bool, tuple[str, ...]]:
    """Does a value (at ``at``, by default its resource's path) conform to a profile, and what
    could not be checked on the way (a required binding to a value set that cannot be evaluated
    offline)?"""
    key = (id(value), url)
    known = run.conformance.get(key)
    if known is not None:
        return known
    structure = run.schema.find(url)
    if structure is None or not isinstance(value, Mapping):
        return False, ()
    rt = value.get("resourceType")
    if rt is not None and structure.derivation != "constraint" \
            and not _specializes(run, rt, structure.url):
        # A type's own definition (a slice naming .../MolecularSequence) is met only by that
        # type or one derived from it: an Observation meets its own rules, not a sequence's.
        run.conformance[key] = (False, ())
        return False, ()
    trial = Run(run.schema, run.terminology, run.options, issues=TrialIssues(),
                depth=run.depth, conformance=run.conformance, frames=run.frames)
    # Asked again while this trial runs (a profile the value claims, walked in the trial, has
    # an invariant calling conformsTo() with this profile), the value is taken to conform: the
    # trial in progress gives the answer. Walking it again would nest trials until the depth
    # limit or the recursion limit, whichever came first, failed one of them, and the verdict
    # would follow that limit.
    run.conformance[key] = (True, ())
    try:
        walk(trial, value, url, structure, at or frame.path, frame)
        # Whatever added to the trial's issues as to a plain list (list.append(...)), past
        # TrialIssues.append: its errors ended no walk, and are counted here.
        if any(issue.is_error for issue in trial.issues):
            raise TrialFailed
        verdict = (True, tuple(dict.fromkeys(trial.unchecked)))
    except TrialFailed:
        verdict = (False, ())  # what could not be checked matters only to a value that conforms
    except BaseException:
        del run.conformance[key]
        raise
    run.conformance[key] = verdict
    return verdict


def _specializes(run: Run, resource_type: Any, url: str) -> bool:
    """Is ``resource_type`` the type defined at ``url``, or derived from it (every resource is a
    Resource)? Follows baseDefinition from the resource type's own definition."""
    if not isinstance(resource_type, str):
        return False
    registry = run.schema.registry
    current = resource_type if "/" in resource_type else CORE_BASE + resource_type
    for _ in range(8):  # R4's deepest chain is 3 (Patient → DomainResource → Resource)
        if current == url:
            return True
        definition = registry.structure_definition(current)
        base = definition.get("baseDefinition") if definition is not None else None
        if not isinstance(base, str):
            return False
        current = base
    return False


def alternative(run: Run, frame: Frame, value: Any, profiles: Sequence[str], *,
                at: str, walk: TrialWalk) -> str:
    """The profile a value is checked against when a type lists several.

    They are alternatives: the element SHALL conform to at least one (R4 ElementDefinition.type
    .profile). The first the value conforms to; a listed base type's own definition is met by
    every valid value of the type; when none is met, the first (reported against it).
    """
    if len(profiles) == 1:
        return profiles[0]
    rt = value.get("resourceType") if isinstance(value, Mapping) else None
    for url in profiles:
        structure = run.schema.find(url)
        if structure is None:
            continue
        if structure.derivation != "constraint":
            if rt is None or _specializes(run, rt, url):
                return url
        elif conformance(run, frame, value, url, at=at, walk=walk)[0]:
            return url
    return profiles[0]


def remember_walk(run: Run, resource: Mapping[str, Any], path: str,
                  structures: Sequence[CompiledStructure], walked: Walked | None, start: int,
                  unchecked_from: int) -> None:
    """Note what a resource was walked against (see ``_walk.walk_resource``) and, when no walk
    of it found an error, that it conforms to each structure (:func:`remember_conformance`)."""
    issues = run.issues
    # (each step skipped when there is nothing to take: most resources add no issue and
    # nothing unchecked)
    clean = len(issues) == start or not any(issue.is_error for issue in issues[start:])
    if walked is None:
        walked = run.walked[(id(resource), path)] = Walked(set(), True, ())
    walked.structures.update(s.url for s in structures)
    walked.clean = walked.clean and clean
    if len(run.unchecked) > unchecked_from:
        walked.unchecked = tuple(dict.fromkeys((*walked.unchecked,
                                                *run.unchecked[unchecked_from:])))
    if walked.clean:
        remember_conformance(run, resource, structures, walked.unchecked)


def remember_conformance(run: Run, resource: Mapping[str, Any],
                         structures: Sequence[CompiledStructure],
                         unchecked: tuple[str, ...]) -> None:
    """A resource walked without an error conforms to each structure it was walked against.

    That is what ``_walk.conforms`` would find by walking it again for one of them: a trial walks
    the resource against its type, its claimed profiles and the one asked, a subset of what was
    walked here. Remembering it spares a second walk of a Bundle entry that a reference's
    ``targetProfile`` names and the entry claims. Errors are not remembered: a trial finds
    exactly which profile they break.
    """
    verdict = (True, unchecked)
    for structure in structures:
        run.conformance.setdefault((id(resource), structure.url), verdict)
