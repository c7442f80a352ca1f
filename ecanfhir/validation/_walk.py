"""The walker: one pass over a JSON resource against compiled StructureDefinitions.

It follows FHIR's JSON representation (R4 §2.6.2, http://hl7.org/fhir/R4/json.html): each
property is an element of the parent's definition; repeating elements are arrays and only they
are; a primitive ``name`` may have a ``_name`` companion carrying its id and extensions, with
``null`` keeping the two arrays aligned; resources inside resources carry ``resourceType``.

The walker carries the FHIRPath location of each value and hands each value to the checks in
``checks/``; each check yields issues. What it decides once per element and type is in
``_plan``; which profiles a resource must meet, and whether a value conforms to one, in
``_conformance`` (given the walker's trial walk); the rules of whole resources of one type in
``_resource_rules``; what it says of JSON that does not have FHIR's form, in ``_json_form``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._exceptions import SnapshotMissing
from ..definitions.compiled import CompiledStructure, ElementNode, JsonProperty, TypeRef
from ._conformance import (
    alternative,
    conformance,
    profiles_of,
    remember_walk,
    snapshot_problems,
    type_profile_not_used,
)
from ._context import BundleScope, Frame, PendingReference, Run
from ._issue import Issue
from ._json_form import (
    align_primitive,
    beyond_id,
    json_kind,
    resource_among,
    unknown_property,
    untyped,
)
from ._plan import (
    RESOURCE_TYPES,
    ObjectPlan,
    PrimitivePlan,
    constraints_of,
    core_reference,
    ele_1,
    object_plan,
    primitive_plan,
    rebound,
    slice_type,
    type_hint,
)
from ._resource_rules import check_resource_rules
from .checks.attachment import check_attachment
from .checks.binding import check_bound_text, check_coded_value
from .checks.bundle import scope_of
from .checks.definition_status import check_definition_status
from .checks.element_ids import check_element_id
from .checks.element_limits import check_attachment_content, check_element_limits, has_limits
from .checks.extension import context_names, definition_path, resolve_extension
from .checks.invariant import check_invariants, check_ready, frame_env
from .checks.logical import checks_ele_1, is_logical_type, logical_model, unknown_resource_type
from .checks.meta import check_meta
from .checks.must_support import check_must_support
from .checks.narrative import check_narrative
from .checks.narrative_source import check_narrative_source
from .checks.pattern import check_fixed_pattern, check_min_max
from .checks.quantity import QUANTITY_TYPES, check_ucum_annotations
from .checks.reference import resolver_for
from .checks.reference_parts import check_reference_parts
from .checks.sliced_element import check_sliced_element_limits
from .checks.slicing import SliceMatcher, assign_slices, check_slices
from .checks.structure import check_cardinality
from .checks.uri import check_identifier

__all__ = ["conforms", "walk_resource"]


def walk_resource(run: Run, resource: Any, path: str, *, parent: Frame | None = None,
                  contained: bool = False, bundle: BundleScope | None = None,
                  full_url: str | None = None, profiles: Sequence[str] = ()) -> Frame | None:
    """Validate a resource (top-level, contained or a Bundle entry's) and return its frame.

    The resource is checked against its type's core definition, and against every profile it
    claims in ``meta.profile`` or is asked to conform to (``profiles``) that is loaded.
    """
    if not isinstance(resource, dict):
        run.issues.append(Issue.error("structure", path, f"expected a resource (a JSON object), "
                                      f"found {json_kind(resource)}", "json-form"))
        return None
    rt = resource.get("resourceType")
    if not isinstance(rt, str) or not rt:
        run.issues.append(untyped(rt, path))
        return None
    model = None  # a logical model's instance names the model's URL (checks/logical.py)
    if not run.schema.registry.is_resource_type(rt):
        model = logical_model(run, rt)
        if model is None:
            run.issues.append(unknown_resource_type(run, rt, path))
            return None
    root_path = (rt if model is None else model.root.path) if parent is None else path
    frame = Frame(resource, root_path, rt, parent=parent, contained=contained, bundle=bundle,
                  full_url=full_url)
    frame.env = frame_env(run, frame, conforms)
    run.frames.append(frame)
    # A logical model's instance, like a resource, meets the profiles asked of it too.
    try:
        core = model or run.schema.structure(rt)
    except SnapshotMissing as exc:  # a loaded definition of the type that cannot be read
        run.issues.append(Issue.error("not-found", root_path, f"the definition of {rt} "
                                      f"cannot be used, so the resource was not checked: {exc}",
                                      "profile-unusable"))
        return frame
    structures = [core, *profiles_of(run, resource, root_path, profiles)]
    if run.depth > run.options.max_depth:
        run.issues.append(Issue.error("structure", root_path, "resources are nested deeper than "
                                      f"{run.options.max_depth} levels", "json-form"))
        return frame
    # A container walked against several structures (a Bundle against its core definition and
    # its profile) meets the resources inside it once per walk: each is walked against each of
    # its structures once, and later only against what a later meeting adds (a profile that the
    # container's profile asks of it). Their issues would be the same again.
    walked = run.walked.get((id(resource), root_path)) if parent is not None else None
    if walked is not None:
        structures = [s for s in structures if s.url not in walked.structures]
    # A profile of the resource's type holds all of the core definition, tightened: the first
    # one is walked in its place (what a profile may replace, it checks against the core too:
    # see _plan.CORE).
    primary = next((s for s in structures[1:] if s.type == rt and s.derivation == "constraint"),
                   None) if model is None and structures and structures[0] is core else None
    run.depth += 1
    start, unchecked_from = len(run.issues), len(run.unchecked)
    outer = run.in_place_of_core
    try:
        for structure in structures if primary is None else structures[1:]:
            if structure is not model and structure.type != rt:
                run.issues.append(Issue.error(
                    "structure", root_path, f"the profile {structure.url} is for {structure.type} "
                    f"resources, not {rt}", "profile-type"))
                continue
            run.in_place_of_core = structure is primary
            _walk_object(run, resource, structure.root, None, root_path, frame, is_resource=True)
            run.issues.extend(check_invariants(run, structure.root.constraints, resource, frame,
                                               root_path, type_hint=rt))
        if walked is None:
            check_resource_rules(run, frame)
    finally:
        run.depth -= 1
        run.in_place_of_core = outer
    remember_walk(run, resource, root_path, structures, walked, start, unchecked_from)
    return frame


def _walk_object(run: Run, obj: Mapping[str, Any], node: ElementNode, type_code: str | None,
                 path: str, frame: Frame, *, is_resource: bool = False,
                 hosts: tuple[str, ...] | None = None) -> None:
    """Check one JSON object's properties against the children of ``node``."""
    # The caches looked up here rather than through the functions that fill them: this runs
    # for every object and value (the same for the plans below).
    props = node.props_cache.get(type_code)
    if props is None:
        props = run.schema.json_properties(node, type_code)
    if not is_resource and "id" in obj and type_code != "ElementDefinition":
        # ElementDefinition.id is the element's path-based id, unique within a snapshot and
        # within a differential (R4 elementdefinition.html#id), repeated between the two
        duplicate = check_element_id(frame.element_ids, obj["id"], path)
        if duplicate is not None:
            run.issues.append(duplicate)
    # The elements whose properties wait for the others (a value and its `_x` companion, the
    # types of a choice), walked after the loop; made when the first one is met.
    present: dict[int, tuple[ElementNode, list[tuple[str, JsonProperty, Any]]]] | None = None
    extended = "extension" in obj or "modifierExtension" in obj
    if extended:  # what the object's extensions are on (their contexts)
        run.hosts.append(hosts or context_names(run, obj, node, type_code, path, frame,
                                                is_resource))
        run.host_values.append(None if hosts else (obj, frame))
    try:
        for key, value in obj.items():
            if key == "resourceType" and (is_resource or is_logical_type(run, type_code, value)):
                continue
            prop = props.get(key)
            if prop is None:
                run.issues.append(unknown_property(key, path, props))
                continue
            if prop.leaf and type(value) is not list and prop.companion not in obj:
                # The common case: one primitive value, which nothing else in the object
                # (a companion, another type of a choice) is counted or paired with.
                element = prop.element
                plan: PrimitivePlan | None = element.leaf_plan
                if plan is not None and plan.quiet is not None and type(value) is str \
                        and len(value) <= plan.limit and plan.quiet(value) is not None:
                    continue  # plain text where nothing else is checked (_walk_primitive)
                _walk_primitive(run, element, prop.type, value,  # type: ignore[arg-type]
                                None, f"{path}.{key}", frame)
                continue
            if prop.items and type(value) is list and value and prop.companion not in obj \
                    and None not in value:
                # An array of primitive values (no companion, no null to align with one): what
                # _walk_element comes to for it, each value walked at its index, then the count.
                element = prop.element
                plan = element.leaf_plan
                quiet = plan.quiet if plan is not None else None
                at = f"{path}.{key}"
                for i, item in enumerate(value):
                    if quiet is not None and type(item) is str and len(item) <= plan.limit \
                            and quiet(item) is not None:
                        continue
                    _walk_primitive(run, element, prop.type,  # type: ignore[arg-type]
                                    item, None, f"{at}[{i}]", frame)
                if len(value) < element.min or (element.max is not None
                                                and len(value) > element.max):
                    run.issues.extend(check_cardinality(element, len(value), at))
                continue
            if prop.whole and present is None:
                # An element with no other property to wait for, met before any that has:
                # walked now, still in the order of the properties (element ids are met so).
                element = prop.element
                if type(value) is not list:
                    if prop.one:
                        # What _walk_one and _walk_values come to for one value of an element
                        # that admits one: the value walked at the element's path.
                        _walk_value(run, element, prop.type, value, None, f"{path}.{key}",
                                    frame)
                        continue
                elif value and prop.objects:
                    # And for an array of objects of an element that repeats, not sliced: each
                    # walked at its index, then the count checked.
                    own, at = slice_type(element, prop.type), f"{path}.{key}"
                    for i, item in enumerate(value):
                        _walk_value(run, element, own, item, None, f"{at}[{i}]", frame)
                    if len(value) < element.min or (element.max is not None
                                                    and len(value) > element.max):
                        run.issues.extend(check_cardinality(element, len(value), at))
                    continue
                _walk_one(run, element, key, prop, value, path, frame)
                continue
            if present is None:
                present = {}
            slot = present.setdefault(id(prop.element), (prop.element, []))
            slot[1].append((key, prop, value))
        if present is not None:
            for element, occurrences in present.values():
                _walk_element(run, element, occurrences, path, frame)
    finally:
        if extended:
            run.hosts.pop()
            run.host_values.pop()
    # Required elements that are missing altogether: none of their properties is there.
    required = node.required_cache.get(type_code)
    if required is None:
        required = run.schema.required(node, type_code)
    for child, keys in required:
        for key in keys:
            if key in obj:
                break
        else:
            run.issues.extend(check_cardinality(child, 0, f"{path}.{child.name}"))
            if child.slices:
                run.issues.extend(check_slices(child, (), (), f"{path}.{child.name}"))
    if run.options.must_support:
        met = {id(prop.element) for key in obj if (prop := props.get(key)) is not None}
        run.issues.extend(check_must_support(run, node, type_code, met, path))


def _walk_element(run: Run, element: ElementNode,
                  occurrences: list[tuple[str, JsonProperty, Any]], path: str,
                  frame: Frame) -> None:
    """All JSON properties that belong to one element (``value[x]`` may show up twice)."""
    if len(occurrences) == 1 and not occurrences[0][1].primitive_extension:
        key, prop, value = occurrences[0]
        _walk_one(run, element, key, prop, value, path, frame)
        return
    values = [o for o in occurrences if not o[1].primitive_extension]
    companions = {o[1].type.code if o[1].type else "": o for o in occurrences
                  if o[1].primitive_extension}
    if element.choice:
        keys = sorted({o[0].lstrip("_") for o in occurrences})
        if len(keys) > 1:
            run.issues.append(Issue.error(
                "structure", f"{path}.{element.name}",
                f"{element.name}[x] has several values ({', '.join(keys)}); only one is allowed",
                "choice-type"))
            return
    # Pair each typed value with its `_x` companion (by type, for choice elements).
    pairs: list[tuple[str, TypeRef | None, Any, Any]] = []
    for key, prop, value in values:
        code = prop.type.code if prop.type else ""
        companion = companions.pop(code, None)
        pairs.append((key, prop.type, value, companion[2] if companion else None))
    for key, prop, value in companions.values():
        pairs.append((key.lstrip("_"), prop.type, None, value))
    count = 0
    for key, type_ref, value, ext in pairs:
        elem_path = f"{path}.{element.name}"
        if element.choice and type_ref is not None:
            elem_path = f"{path}.{element.name}.ofType({type_ref.code})"
        count += _walk_values(run, element, type_ref, key, value, ext, elem_path, frame)
    run.issues.extend(check_cardinality(element, count, f"{path}.{element.name}"))


def _walk_one(run: Run, element: ElementNode, key: str, prop: JsonProperty, value: Any,
              path: str, frame: Frame) -> None:
    """The one JSON property of an element (no ``_x`` companion, no other type of a choice)."""
    type_ref = prop.type
    if element.choice and type_ref is not None:
        elem_path = f"{path}.{element.name}.ofType({type_ref.code})"
    else:
        elem_path = f"{path}.{element.name}"
    count = _walk_values(run, element, type_ref, key, value, None, elem_path, frame)
    if count < element.min or (element.max is not None and count > element.max):
        run.issues.extend(check_cardinality(element, count, f"{path}.{element.name}"))


def _walk_values(run: Run, element: ElementNode, type_ref: TypeRef | None, key: str, value: Any,
                 ext: Any, path: str, frame: Frame) -> int:
    """Walk the value(s) of one JSON property (and its ``_`` companion); return the count."""
    repeats = element.repeats
    primitive = type_ref is not None and type_ref.is_primitive
    if not repeats and not element.slices and type(value) is not list and type(ext) is not list:
        # The common case, one value of a single element: no item list, no [i] paths.
        _walk_value(run, element, type_ref, value, ext if primitive else None, path, frame)
        return 1
    if type(value) is list and value and repeats and not primitive and not element.slices:
        # The common case of an array: objects of an element that is not sliced (what the
        # loop at the end comes to, without the item and node lists).
        own = slice_type(element, type_ref)
        for i, item in enumerate(value):
            _walk_value(run, element, own, item, None, f"{path}[{i}]", frame)
        return len(value)
    if primitive:
        items = align_primitive(run, element, key, value, ext, path)
    else:
        if isinstance(value, list) and not repeats:
            run.issues.append(Issue.error("structure", path, f"'{key}' must be a single value, "
                                          "not an array (its maximum cardinality is 1)",
                                          "json-form"))
            items = [(f"{path}[{i}]", v, None) for i, v in enumerate(value)]
        elif isinstance(value, list):
            items = [(f"{path}[{i}]", v, None) for i, v in enumerate(value)]
            if not value:
                run.issues.append(Issue.error("structure", path, f"'{key}' is an empty array: "
                                              "leave the property out instead", "json-form"))
        else:
            if repeats:
                run.issues.append(Issue.error("structure", path, f"'{key}' must be an array "
                                              "(the element repeats), found " + json_kind(value),
                                              "json-form"))
            items = [(f"{path}[0]" if repeats else path, value, None)]
    nodes: list[ElementNode | None] = [element] * len(items)
    if element.slices:  # an empty array fills no slice, as a missing element does not
        nodes = _slice_items(run, element, type_ref, items, path, frame)
    own = slice_type(element, type_ref)
    for (item_path, item, item_ext), node in zip(items, nodes, strict=True):
        _walk_value(run, node or element, own if node is element else slice_type(node, type_ref),
                    item, item_ext, item_path, frame)
        if node is not None and node is not element and element.children and node.children:
            run.issues.extend(check_sliced_element_limits(element, node, item, item_path))
    return len(items)


def _slice_items(run: Run, element: ElementNode, type_ref: TypeRef | None,
                 items: list[tuple[str, Any, Any]], path: str,
                 frame: Frame) -> list[ElementNode | None]:
    """Assign each value of a sliced element to its slice and check the slicing rules."""
    # A value tried against a slice's profile is walked where it is: its extensions' contexts
    # and its element ids are those of its own path, not of the resource's.
    where = {id(value): at for at, value, _ in items}
    matcher = SliceMatcher(run, resolver_for(frame),
                           lambda value, url, _type: conformance(
                               run, frame, value, url, at=where.get(id(value)),
                               walk=_walk_trial))
    assignment = assign_slices(matcher, element,
                               [(at, value, type_ref) for at, value, _ in items])
    run.issues.extend(assignment.issues)
    run.issues.extend(check_slices(element, assignment.chosen, [at for at, _, _ in items], path,
                                   undecided=assignment.undecided))
    return assignment.chosen


def conforms(run: Run, frame: Frame, value: Any, url: str) -> bool:
    """Does a value (a resource, at its own path) conform to a profile?"""
    return conformance(run, frame, value, url, walk=_walk_trial)[0]


def _walk_trial(trial: Run, value: Mapping[str, Any], url: str, structure: CompiledStructure,
                at: str, frame: Frame) -> None:
    """Walk a value into a trial run of :func:`conformance`: a resource with the profile asked
    of it, an element (a datatype) against the profile's root."""
    # The first error ends a trial: the profile's fixed and pattern values of its top-level
    # elements are compared first, as the walk will compare them (a MessageHeader tried against
    # a profile with another event is not walked through its meta and narrative first).
    for key, prop in trial.schema.json_properties(structure.root).items():
        element = prop.element
        if (element.fixed is not None or element.pattern is not None) \
                and not prop.primitive_extension and not element.slices:
            found = value.get(key)
            for i, item in enumerate(found if type(found) is list else (found,)):
                if item is not None:
                    trial.issues.extend(check_fixed_pattern(
                        element, item, f"{at}.{key}[{i}]" if type(found) is list else
                        f"{at}.{key}"))
    if "resourceType" in value:
        # A contained resource is tried inside its container, as it is walked: its "#id"
        # references and %rootResource are the container's (R4 references.html#contained).
        # Any other (a Bundle entry) is tried in the Bundle of the resource referring to it.
        container = frame.container()
        items = container.resource.get("contained")
        contained = isinstance(items, list) and any(item is value for item in items)
        walk_resource(trial, value, at, parent=container, contained=contained, profiles=(url,))
    else:
        # Its element ids are checked apart from the resource's: a trial must not leave them in
        # the resource's frame (the walk proper would find each one repeated).
        _walk_object(trial, value, structure.root, None, at, replace(frame, element_ids={}))


def _walk_value(run: Run, element: ElementNode, type_ref: TypeRef | None, value: Any, ext: Any,
                path: str, frame: Frame) -> None:
    if type_ref is not None and type_ref.is_primitive:
        _walk_primitive(run, element, type_ref, value, ext, path, frame)
        return
    code = type_ref.code if type_ref is not None else None
    plan: ObjectPlan | None = element.object_plan_cache.get(code)
    if plan is None:
        plan = object_plan(run, element, code)
    if plan.profiled:
        _check_profile_values(run, element, code, value, path)
    if code is None and len(element.types) > 1 and isinstance(value, dict):
        # A resource element narrowed to several types: even without a resourceType the value
        # is a resource (of none of them), not an element to walk as an object.
        code = resource_among(run, element, value, path)
        if code == "":
            return
        plan = object_plan(run, element, code)
    if plan.inline_resource:
        kind = plan.kind
        rt = value.get("resourceType") if isinstance(value, dict) else None
        if kind not in RESOURCE_TYPES and isinstance(rt, str) and rt != kind:
            run.issues.append(Issue.error("structure", path, f"expected a {kind} here, found a "
                                          f"{rt}", "resource-type"))
            return
        _walk_inline_resource(run, element, value, path, frame)
        return
    if not isinstance(value, dict):
        run.issues.append(Issue.error("structure", path, f"expected an object ({code or 'element'})"
                                      f", found {json_kind(value)}", "json-form"))
        return
    if not value:
        run.issues.append(Issue.error("structure", path, "empty object: an element must have a "
                                      "value, children or extensions (ele-1)", "ele-1"))
        return
    if run.depth > run.options.max_depth:
        run.issues.append(Issue.error("structure", path, "elements are nested deeper than "
                                      f"{run.options.max_depth} levels", "json-form"))
        return
    if element.children:  # a backbone element, or one a profile unfolded: its own children
        target, target_type = element, None
    elif code == "Extension" or (type_ref is not None and type_ref.profiles):
        target, target_type = _object_definition(run, element, type_ref, value, path, frame)
    else:  # (what _object_definition comes to for any other object)
        target, target_type = element, code
    run.depth += 1
    try:
        _walk_object(run, value, target, target_type, path, frame)
    finally:
        run.depth -= 1
    if len(value) <= ("id" in value) and checks_ele_1(element):  # (not beyond_id(value))
        run.issues.append(ele_1(element, path))
    if target is not element:
        constraints = constraints_of(element, target)
        if constraints:
            run.issues.extend(check_invariants(run, constraints, value, frame, path,
                                               type_hint=type_hint(element, code, target)))
    elif plan.ready:
        run.issues.extend(check_ready(run, plan.ready, value, frame, path))
    if code in QUANTITY_TYPES:
        run.issues.extend(check_ucum_annotations(value, path))
    if code in ("Coding", "CodeableConcept", "Quantity"):
        core = plan.core if run.in_place_of_core else None
        run.issues.extend(check_coded_value(
            run, element, code, value, path, language=frame.resource.get("language"),
            core=core if core is not None and rebound(element, core) else None))
    elif code == "Attachment":
        run.issues.extend(check_attachment(value, path))
        run.issues.extend(check_attachment_content(value, path))
    elif code == "Identifier":
        run.issues.extend(check_identifier(value, path))
    elif code == "Meta":
        run.issues.extend(check_meta(value, path))
    elif code == "Narrative":
        own = path == f"{frame.path}.text"  # the resource's language applies to its own text
        run.issues.extend(check_narrative(value, path, language=frame.resource.get("language")
                                          if own else None))
        run.issues.extend(check_narrative_source(element, value, path))
    elif code == "Reference":
        run.issues.extend(check_reference_parts(value, path))
        reference = value.get("reference")
        if isinstance(reference, str) and reference and type_ref is not None:
            core_ref = core_reference(plan.core) \
                if run.in_place_of_core and plan.core is not None else None
            if core_ref is not None and core_ref.target_profiles != type_ref.target_profiles:
                # the core element's targets too (first, as the core definition's walk came)
                run.references.append(PendingReference(f"{path}.reference", reference,
                                                       core_ref, frame))
            run.references.append(PendingReference(f"{path}.reference", reference, type_ref,
                                                   frame))


def _check_profile_values(run: Run, element: ElementNode, code: str | None, value: Any,
                          path: str) -> None:
    """fixed[x], pattern[x], minValue[x]/maxValue[x] and the limits a profile sets."""
    if element.fixed is not None or element.pattern is not None:
        run.issues.extend(check_fixed_pattern(element, value, path))
    if element.min_value is not None or element.max_value is not None:
        run.issues.extend(check_min_max(element, value, path))
    if has_limits(element) and value is not None:
        run.issues.extend(check_element_limits(element, code, value, path))


def _walk_primitive(run: Run, element: ElementNode, type_ref: TypeRef, value: Any, ext: Any,
                    path: str, frame: Frame) -> None:
    """A primitive value and its ``_x`` companion (R4 JSON §2.6.2.3)."""
    plan: PrimitivePlan | None = element.primitive_plan_cache.get(type_ref.code)
    if plan is None:
        plan = primitive_plan(run, element, type_ref)
    if plan.profiled:
        _check_profile_values(run, element, type_ref.code, value, path)
    if value is not None:
        plain = plan.plain
        if plain is None or type(value) is not str or len(value) > plan.limit \
                or plain(value) is None:
            problem = plan.check(run, value, path)
            if problem is not None:
                run.issues.append(problem)
    if ext is not None:
        hosts = (definition_path(path, frame.path, frame.resource_type), element.path,
                 element.base_path, type_ref.code)
        _walk_primitive_extension(run, type_ref, ext, path, frame, hosts)
    if run.in_place_of_core and plan.core is not None and isinstance(value, str):
        # the core element's binding first, as the core definition's walk came first
        run.issues.extend(check_bound_text(run, plan.core, type_ref.code, value, path))
    if plan.bound and isinstance(value, str):
        run.issues.extend(check_bound_text(run, element, type_ref.code, value, path))
    if value is None and not (isinstance(ext, dict) and beyond_id(ext)):
        run.issues.append(ele_1(element, path))
    if plan.ready:
        run.issues.extend(check_ready(run, plan.ready, (value, ext), frame, path,
                                      primitive=True))


def _object_definition(run: Run, element: ElementNode, type_ref: TypeRef | None, value: Any,
                       path: str, frame: Frame) -> tuple[ElementNode, str | None]:
    """The node whose children an object is checked against (and the type, if by type).

    Inline children (backbone elements, unfolded profiles) come first; an Extension is checked
    against its own definition when it can be resolved; a datatype with a profile against that
    profile; everything else against its type's core definition.
    """
    code = type_ref.code if type_ref is not None else None
    if element.children:
        return element, None
    if code == "Extension":
        structure, issues = resolve_extension(
            run, value, modifier=element.name == "modifierExtension",
            hosts=run.hosts[-1] if run.hosts else (), at=path,
            host=run.host_values[-1] if run.host_values else None)
        run.issues.extend(issues)
        if structure is not None:
            run.issues.extend(check_definition_status(run, structure.url, "extension", path))
            run.issues.extend(snapshot_problems(run, structure, path))
            return structure.root, None
    elif type_ref is not None and type_ref.profiles:
        url = alternative(run, frame, value, type_ref.profiles, at=path, walk=_walk_trial)
        profile = run.schema.find(url)
        if profile is None:
            run.issues.append(type_profile_not_used(run, url, element.path, path))
        elif profile.derivation == "constraint":
            if code is not None and profile.type != code:
                # HL7 InstanceValidator: Validation_VAL_Profile_WrongType2
                run.issues.append(Issue.error(
                    "structure", path, f"the profile {profile.url} that {element.path} names "
                    f"for its type {code} is a profile of {profile.type}, so it was not applied",
                    "profile-type"))
                return element, code
            run.issues.extend(snapshot_problems(run, profile, path))
            return profile.root, None
    return element, code


def _walk_primitive_extension(run: Run, type_ref: TypeRef, ext: Any, path: str,
                              frame: Frame, hosts: tuple[str, ...]) -> None:
    if not isinstance(ext, dict):
        run.issues.append(Issue.error("structure", path, "the '_' companion of a primitive must "
                                      "be an object with id and/or extension, found "
                                      f"{json_kind(ext)}", "json-form"))
        return
    if not ext:
        run.issues.append(Issue.error("structure", path, "empty object: an element must have a "
                                      "value, children or extensions (ele-1)", "ele-1"))
        return
    root = run.schema.type_root(type_ref.code)
    if root is not None:
        _walk_object(run, ext, root, None, path, frame, hosts=hosts)


def _walk_inline_resource(run: Run, element: ElementNode, value: Any, path: str,
                          frame: Frame) -> None:
    """``contained``, ``Bundle.entry.resource``, ``Parameters.parameter.resource``..."""
    contained = element.path.count(".") == 1 and element.path.endswith(".contained")
    bundle = None
    full_url = None
    if frame.resource_type == "Bundle" and element.path == "Bundle.entry.resource":
        bundle = scope_of(frame)
        full_url = bundle.full_url_of.get(id(value))
    # Type profiles (a Bundle profile's entry slice naming a Composition profile...) apply to
    # the resource when it is of that type.
    rt = value.get("resourceType") if isinstance(value, dict) else None
    profiles = tuple(p for t in element.types if t.code in (rt, "Resource") for p in t.profiles)
    if len(profiles) > 1:
        profiles = (alternative(run, frame, value, profiles, at=path, walk=_walk_trial),)
    walk_resource(run, value, path, parent=frame, contained=contained, bundle=bundle,
                  full_url=full_url, profiles=profiles)
