"""References: resolution inside a Bundle and to contained resources, and target types.

Resolution follows R4 §3.3.1.4.2 (http://hl7.org/fhir/R4/bundle.html#references): an
absolute reference (``http…``, ``urn:uuid:``, ``urn:oid:``) matches an entry's ``fullUrl``; a
relative ``Type/id`` is made absolute against the base of the referring entry's RESTful
fullUrl, means nothing in the Bundle from a ``urn:`` fullUrl, and is matched by type and id
when the entry has no fullUrl; ``#id`` points into the container's ``contained``
(R4 §2.36.0.3 "References to contained resources"), and ``#`` to the container itself.

A reference that does not resolve here is judged by its type only as the HL7 validator judges
it (``InstanceValidator.checkReference``): the type a URL such as ``Group/1`` implies is checked
against the element's target types only when the user assumes valid REST references
(``ValidationOptions.assume_valid_rest_references``, the HL7 validator's
``-assumeValidRestReferences``); a resolved target's type is always checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..._frozen import frozen
from .._issue import Issue
from .bundle_matches import possible_matches
from .json_values import dicts
from .reference_fragments import fragment_target
from .reference_matches import several_matching_profiles
from .reference_query import suspicious

if TYPE_CHECKING:
    from ...definitions.compiled import TypeRef
    from .._context import BundleScope, Frame, PendingReference, Run

__all__ = ["Target", "check_references", "literal", "literal_type", "resolve", "resolver_for",
           "target_types"]

# [base/]Type/id[/_history/version] (R4 §2.3.0 "Literal references").
LITERAL = re.compile(
    r"^(?:(?P<base>(?:https?://|[a-z]+:)[^\s]*?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
    r"(?:/_history/(?P<version>[A-Za-z0-9\-.]{1,64}))?$"
)


@lru_cache(maxsize=4096)
def literal(reference: str) -> re.Match[str] | None:
    """:data:`LITERAL` matched against a reference or a fullUrl, once for each: a Bundle's
    references name the same few resources over and over, and its fullUrls are read again for
    each reference made from their entries."""
    return LITERAL.match(reference)


def literal_type(reference: str) -> str | None:
    """The resource type a literal reference names (``Patient/1`` → ``Patient``)."""
    m = literal(reference)
    return m.group("type") if m else None


def _bundle_frame(frame: Frame) -> Frame | None:
    """The nearest enclosing frame that is a Bundle entry."""
    f: Frame | None = frame
    while f is not None:
        if f.bundle is not None:
            return f
        f = f.parent
    return None


def resolve_in_bundle(scope: BundleScope, reference: str,
                      full_url: str | None) -> list[Mapping[str, Any]]:
    """Every entry a reference may point to (more than one is an ambiguity)."""
    ref = reference.split("#", 1)[0]
    m = literal(ref)
    version = m.group("version") if m else None
    if version:
        ref = ref[: ref.rindex("/_history/")]  # the last one: a base may hold one too
    hits = scope.by_full_url.get(ref, [])
    if not hits and m is not None and m.group("base") is None:
        fm = literal(full_url) if full_url else None
        if fm and fm.group("base"):
            hits = scope.by_full_url.get(f"{fm.group('base')}/{ref}", [])
        elif not (full_url or "").startswith(("urn:uuid:", "urn:oid:")):
            # R4 bundle.html §2.36.4.1: Type/id is resolved against the base of the entry's
            # RESTful fullUrl; from a urn fullUrl it has "no defined meaning" in the Bundle.
            # Without a fullUrl, entries are matched by type and id (as the HL7 validator does).
            hits = scope.by_type_id.get((m.group("type"), m.group("id")), [])
    if version and len(hits) > 1:
        hits = [h for h in hits if _version_of(h) == version]
    return hits


def _version_of(resource: Mapping[str, Any]) -> Any:
    meta = resource.get("meta")
    return meta.get("versionId") if isinstance(meta, Mapping) else None


def resolve(frame: Frame, reference: str) -> Mapping[str, Any] | None:
    """The resource a reference points to, seen from ``frame``; None when not found here."""
    if reference.startswith("#"):
        container = frame.container()
        if reference == "#":
            return container.resource
        for item in dicts(container.resource.get("contained")):
            if item.get("id") == reference[1:]:
                return item
        return None
    entry = _bundle_frame(frame)
    if entry is not None and entry.bundle is not None:
        hits = resolve_in_bundle(entry.bundle, reference, entry.full_url)
    elif frame.scope is not None:
        # An invariant on the Bundle itself (entry.resource.focus.resolve()): its entries.
        hits = resolve_in_bundle(frame.scope, reference, None)
    else:
        return None
    return hits[0] if len(hits) == 1 else None


def resolver_for(frame: Frame) -> Callable[[str], Mapping[str, Any] | None]:
    return lambda reference: resolve(frame, reference)


Conforms = Callable[["Frame", Mapping[str, Any], str], bool]
CORE_TYPE = "http://hl7.org/fhir/StructureDefinition/"
_ANY = frozenset({"Resource", "DomainResource"})  # abstract types: any resource may be the target


@frozen
class Target:
    """One ``targetProfile`` of a Reference: the resource type it admits, and the profile the
    target must then conform to (None for a base type, or a profile that is not loaded)."""

    type: str
    profile: str | None = None


def check_references(run: Run, conforms: Conforms | None = None) -> Iterator[Issue]:
    """Resolve every reference the walk collected; yield issues for the ones that fail.

    ``conforms(frame, resource, profile)`` checks a resolved target against a target profile
    (R4 §2.27 ElementDefinition.type.targetProfile).
    """
    implied = run.options.assume_valid_rest_references
    for pending in run.references:
        if implied and suspicious(pending.reference,
                                  is_resource_type=run.schema.registry.is_resource_type):
            yield Issue.warning("invalid", pending.path, f"the reference '{pending.reference}' "
                                "does not look like Type/id: check its syntax",
                                "reference-suspicious")
        yield from _check_reference(pending, target_types(run, pending.type_ref), conforms,
                                    implied=implied)


def target_types(run: Run, type_ref: TypeRef) -> tuple[Target, ...]:
    """What a Reference may point to, one :class:`Target` per ``targetProfile``.

    A targetProfile is a canonical of a StructureDefinition (R4 §2.27 ElementDefinition.type):
    a base resource type (``.../StructureDefinition/Device``) admits that type; a profile
    (``.../StructureDefinition/vitalsigns``, even in the core's namespace) admits its ``type``
    and asks for conformance to it. A profile that is not loaded admits any type and is not
    checked. Empty: any resource. Worked out once per list of target profiles while the
    loaded definitions stay the same.
    """
    urls = type_ref.target_profiles
    return run.terminology.remember(("reference-targets", urls), _targets, run, urls)


def _targets(run: Run, urls: tuple[str, ...]) -> tuple[Target, ...]:
    found: list[Target] = []
    registry = run.schema.registry
    for url in urls:
        name = url[len(CORE_TYPE):] if url.startswith(CORE_TYPE) else ""
        if name in _ANY or registry.is_resource_type(name):
            found.append(Target(name))  # a base type: known by name, nothing to compile
            continue
        structure = run.schema.find(url)
        if structure is not None:
            profile = url if structure.derivation == "constraint" else None
            found.append(Target(structure.type, profile))
        else:
            found.append(Target("Resource"))
    return tuple(dict.fromkeys(found))


def _admits(target_type: str, found_type: str) -> bool:
    """Whether a target of ``target_type`` admits a resource of ``found_type``. A logical model's
    type is its URL, which a literal reference (``.../CancerStage/1``) names by its last part."""
    if target_type == found_type or target_type in _ANY:
        return True
    return "/" in target_type and target_type.rsplit("/", 1)[-1] == found_type


def _check_reference(pending: PendingReference, targets: tuple[Target, ...],
                     conforms: Conforms | None, *, implied: bool) -> Iterator[Issue]:
    reference, frame, at = pending.reference, pending.frame, pending.path
    allowed = tuple(dict.fromkeys(t.type for t in targets))
    any_type = not allowed or not _ANY.isdisjoint(allowed)
    if reference.startswith("#"):
        target = resolve(frame, reference)
        if target is None:
            yield Issue.error("not-found", at, f"the reference '{reference}' does not match the "
                              "id of any contained resource", "reference-contained")
            return
        found_type = target.get("resourceType")
    else:
        entry = _bundle_frame(frame)
        hits = (resolve_in_bundle(entry.bundle, reference, entry.full_url)
                if entry is not None and entry.bundle is not None else [])
        target = hits[0] if len(hits) == 1 else None
        if target is not None and "#" in reference and reference.split("#", 1)[1] \
                and target.get("contained"):
            contained = fragment_target(target, reference, at)
            if isinstance(contained, Issue):
                yield contained
                return
            target = contained
        found_type = target.get("resourceType") if target is not None else literal_type(reference)
        if len(hits) > 1:
            yield Issue.error("multiple-matches", at, f"the reference '{reference}' matches "
                              f"{len(hits)} entries of the Bundle: it must identify one",
                              "reference-ambiguous")
        elif target is None and entry is not None and entry.bundle is not None:
            mismatch = _urn_type_mismatch(entry.bundle, reference, at, full_url=entry.full_url)
            if mismatch is not None:
                yield mismatch
                return
            yield from _unresolved_in_bundle(entry.bundle, reference, at,
                                             full_url=entry.full_url)
    if target is not None:
        yield from _check_aggregation(pending, "contained" if reference.startswith("#")
                                      else "bundled")
    elif not implied:
        return  # the type a URL implies is only trusted on request (see the module docstring)
    if not isinstance(found_type, str):
        return
    if not any_type and not any(_admits(t, found_type) for t in allowed):
        yield Issue.error("structure", at, f"the reference points to a {found_type}, which is not "
                          f"allowed here (allowed: {', '.join(allowed)})", "reference-type")
        return
    # The targets admitting this type: one without a profile admits it as it is; otherwise the
    # target must conform to one of the profiles (any one, as the HL7 validator accepts).
    matching = [t for t in targets if _admits(t.type, found_type)]
    known = [t for t in matching if t.type not in _ANY]
    if target is not None and conforms is not None and len(known) > 1:
        resolved = target
        yield from several_matching_profiles(
            resolved, found_type, known, lambda p: conforms(frame, resolved, p), at=at)
    if not matching or any(t.profile is None for t in matching):
        return
    profiles = [t.profile for t in matching if t.profile is not None]
    if target is not None and conforms is not None \
            and not any(conforms(frame, target, p) for p in profiles):
        yield Issue.error("structure", at, f"the referenced {found_type} does not conform to "
                          f"{' or '.join(profiles)}", "reference-profile")


def _check_aggregation(pending: PendingReference, mode: str) -> Iterator[Issue]:
    """ElementDefinition.type.aggregation (R4 §2.27, codesystem-resource-aggregation-mode):
    how the target may be held. ``referenced`` admits a target outside the resource, in the
    same Bundle or elsewhere; ``bundled`` one in the Bundle; ``contained`` one contained.

    Only a target found here is judged, as in the HL7 validator: a resource validated on its
    own (a message's entry checked alone, say) may point to one held in its Bundle."""
    modes = pending.type_ref.aggregation
    if not modes or mode in modes or (mode == "bundled" and "referenced" in modes):
        return
    held = {"contained": "a contained resource", "bundled": "an entry of the Bundle"}[mode]
    yield Issue.error("structure", pending.path, f"the reference '{pending.reference}' points "
                      f"to {held}, which the aggregation mode(s) of this element do not allow "
                      f"({', '.join(modes)})", "reference-aggregation")


def _urn_type_mismatch(scope: BundleScope, reference: str, at: str, *,
                       full_url: str | None) -> Issue | None:
    """A relative ``Type/id`` in an entry whose fullUrl is a URN, where the entry the HL7
    validator reads it as (``urn:uuid:`` + id) holds another type of resource.

    R4's rules give such a reference no meaning inside the Bundle (bundle.html §2.36.4.1), but
    the HL7 validator (``BaseValidator.getFromBundle``, called from
    ``InstanceValidator.localResolve``) takes the URN's prefix as the base, and an entry found
    there that is not a ``Type`` is an error (``Reference_REF_ResourceType``): the reference
    names, almost certainly by mistake, the id of another resource of the Bundle.
    """
    m = literal(reference)
    if m is None or m.group("base") is not None or not (full_url or "").startswith("urn:"):
        return None
    assert full_url is not None
    urn = full_url[: full_url.rindex(":") + 1] + m.group("id")
    version = m.group("version")  # Type/id/_history/v: only the entry at that version
    found = {r.get("resourceType") for r in scope.by_full_url.get(urn, ())
             if version is None or _version_of(r) == version} - {m.group("type")}
    if not found:
        return None
    return Issue.error("required", at, f"the reference '{reference}', read against the "
                       f"entry's fullUrl '{full_url}', names the entry '{urn}', whose resource "
                       f"is of type {' or '.join(sorted(map(str, found)))}, not "
                       f"{m.group('type')}",
                       "reference-resource-type")


def _unresolved_in_bundle(scope: BundleScope, reference: str, at: str, *,
                          full_url: str | None) -> Iterator[Issue]:
    bundle_type = scope.bundle.get("type")
    m = literal(reference.split("#", 1)[0])
    alike = scope.by_type_id.get((m.group("type"), m.group("id")), []) \
        if m is not None and m.group("base") is None else []
    if alike:
        # The HL7 validator: an entry of that type and id whose fullUrl the Bundle's rules do
        # not lead to is no match; a document or message must hold what it refers to.
        message = (f"the reference '{reference}' does not resolve by the Bundle's rules from "
                   f"the fullUrl '{full_url}' (R4 bundle.html §2.36.4.1), although an entry "
                   "has that type and id: refer to that entry by its fullUrl ("
                   f"{possible_matches(scope, alike, reference, full_url=full_url)})")
        if bundle_type in ("document", "message"):
            yield Issue.error("not-found", at, message, "reference-bundle")
        else:
            yield Issue.warning("not-found", at, message, "reference-bundle")
        return
    if reference.startswith(("urn:uuid:", "urn:oid:")):
        # A urn can only be resolved inside the Bundle that uses it (R4 §3.3.1.4.2).
        yield Issue.error("not-found", at, f"the reference '{reference}' does not resolve to any "
                          "entry in this Bundle (no entry has that fullUrl)", "reference-bundle")
    elif bundle_type in ("document", "message") and literal_type(reference) is not None \
            and not reference.startswith("http"):
        yield Issue.warning("not-found", at, f"the reference '{reference}' does not resolve to an "
                            f"entry in this {bundle_type} Bundle", "reference-bundle")
