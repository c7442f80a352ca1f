"""The walker: one pass over a JSON resource against compiled StructureDefinitions.

It follows FHIR's JSON representation (R4 §2.6.2, http://hl7.org/fhir/R4/json.html): each
property is an element of the parent's definition; repeating elements are arrays and only they
are; a primitive ``name`` may have a ``_name`` companion carrying its id and extensions, with
``null`` keeping the two arrays aligned; resources inside resources carry ``resourceType``.

The walker carries the FHIRPath location of each value and hands each value to the checks in
``checks/``; each check yields issues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..definitions.schema import CompiledStructure, Constraint, ElementNode, JsonProperty, TypeRef
from ._context import BundleScope, Frame, PendingReference, Run
from ._issue import Issue
from .checks.attachment import check_attachment
from .checks.binding import check_binding, check_coding_system
from .checks.bundle import check_bundle, scope_of
from .checks.bundle_link import check_bundle_links, check_search_set
from .checks.bundle_references import check_reachable_entries, check_relative_references
from .checks.code_system import check_code_system
from .checks.coding import check_coding_systems
from .checks.concept_map import check_concept_map
from .checks.element_limits import check_attachment_content, check_element_limits, has_limits
from .checks.extension import definition_path, resolve_extension
from .checks.invariant import check_invariants, frame_env
from .checks.logical import checks_ele_1, is_logical_type, logical_model, unknown_resource_type
from .checks.measure import check_measure, check_measure_report
from .checks.meta import check_meta
from .checks.narrative import check_narrative
from .checks.observation import vital_signs_profiles
from .checks.pattern import check_fixed_pattern, check_min_max
from .checks.primitive import PrimitiveCheck, primitive_check
from .checks.quantity import QUANTITY_TYPES, check_ucum_annotations
from .checks.questionnaire import check_questionnaire_response
from .checks.questionnaire_definition import check_questionnaire
from .checks.reference import resolver_for
from .checks.reference_parts import check_reference_parts
from .checks.search_parameter import check_capability_search_params, check_search_parameter
from .checks.sliced_element import check_sliced_element_limits
from .checks.slicing import SliceMatcher, assign_slices, check_slices
from .checks.structure import check_cardinality
from .checks.structure_definition import check_structure_definition
from .checks.uri import check_identifier
from .checks.value_set import check_value_set

__all__ = ["conforms", "walk_resource"]

RESOURCE_TYPES = ("Resource",)
CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"


def walk_resource(run: Run, resource: Any, path: str, *, parent: Frame | None = None,
                  contained: bool = False, bundle: BundleScope | None = None,
                  full_url: str | None = None, profiles: Sequence[str] = ()) -> Frame | None:
    """Validate a resource (top-level, contained or a Bundle entry's) and return its frame.

    The resource is checked against its type's core definition, and against every profile it
    claims in ``meta.profile`` or is asked to conform to (``profiles``) that is loaded.
    """
    if not isinstance(resource, dict):
        run.issues.append(Issue.error("structure", path, f"expected a resource (a JSON object), "
                                      f"found {_json_kind(resource)}", "json-form"))
        return None
    rt = resource.get("resourceType")
    if not isinstance(rt, str) or not rt:
        run.issues.append(Issue.error("required", path, "the resource has no resourceType "
                                      "property, so its type is unknown", "json-form"))
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
    structures = [model] if model is not None else [
        run.schema.structure(rt), *_profiles_of(run, resource, root_path, profiles)]
    if run.depth > run.options.max_depth:
        run.issues.append(Issue.error("structure", root_path, "resources are nested deeper than "
                                      f"{run.options.max_depth} levels", "json-form"))
        return frame
    run.depth += 1
    try:
        for structure in structures:
            if structure is not model and structure.type != rt:
                run.issues.append(Issue.error(
                    "structure", root_path, f"the profile {structure.url} is for {structure.type} "
                    f"resources, not {rt}", "profile-type"))
                continue
            _walk_object(run, resource, structure.root, None, root_path, frame, is_resource=True)
            run.issues.extend(check_invariants(run, structure.root.constraints, resource, frame,
                                               root_path, type_hint=rt))
        if rt == "Bundle":
            scope_of(frame)
            run.issues.extend(check_bundle(run, frame))
            run.issues.extend(check_bundle_links(resource, root_path))
            run.issues.extend(check_reachable_entries(resource, scope_of(frame), root_path))
            run.issues.extend(check_relative_references(run, frame))
            run.issues.extend(check_search_set(
                resource, root_path, is_resource_type=run.schema.registry.is_resource_type))
        elif rt == "QuestionnaireResponse":
            run.issues.extend(check_questionnaire_response(
                resource, root_path, registry=run.schema.registry, terminology=run.terminology,
                resolve=resolver_for(frame)))
        elif rt == "Questionnaire":
            run.issues.extend(check_questionnaire(resource, root_path,
                                                  registry=run.schema.registry))
        elif rt == "MeasureReport":
            run.issues.extend(check_measure_report(resource, root_path,
                                                   registry=run.schema.registry))
        elif rt == "Measure":
            run.issues.extend(check_measure(resource, root_path, registry=run.schema.registry))
        elif rt == "SearchParameter":
            run.issues.extend(check_search_parameter(resource, root_path,
                                                     registry=run.schema.registry))
        elif rt == "CapabilityStatement":
            run.issues.extend(check_capability_search_params(resource, root_path,
                                                             registry=run.schema.registry))
        elif rt == "ValueSet":
            run.issues.extend(check_value_set(run, resource, root_path))
        elif rt == "ConceptMap":
            run.issues.extend(check_concept_map(run, resource, root_path))
        elif rt == "CodeSystem":
            run.issues.extend(check_code_system(
                run, resource, root_path,
                contained_in=parent.resource_type if contained and parent else None))
        elif rt == "StructureDefinition":
            run.issues.extend(check_structure_definition(resource, root_path,
                                                         registry=run.schema.registry))
    finally:
        run.depth -= 1
    return frame


def _profiles_of(run: Run, resource: Mapping[str, Any], at: str,
                 asked: Sequence[str]) -> list[CompiledStructure]:
    """The loaded profiles a resource must conform to; unknown ones are reported (R4 §2.36.0.4)."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, Mapping) else None
    urls = [(u, f"{at}.meta.profile[{i}]") for i, u in
            enumerate(claimed if isinstance(claimed, list) else []) if isinstance(u, str)]
    implied = [(u, at) for u in vital_signs_profiles(resource)]
    found: list[CompiledStructure] = []
    for url, where in [*((u, at) for u in asked), *urls, *implied]:
        structure = run.schema.find(url)
        if structure is None:
            run.issues.append(_profile_not_used(run, url, where, asked=where == at))
        elif structure not in found and not _base_of(run, structure, resource):
            # Also a base definition named as a profile (a Bundle entry typed Resource with
            # profile .../DocumentManifest): it says which type the resource must be.
            found.append(structure)
    return found


def _base_of(run: Run, structure: CompiledStructure, resource: Mapping[str, Any]) -> bool:
    """Whether a definition adds nothing to the resource's own type: that type's core
    definition (checked already), or Resource / DomainResource, which every resource is."""
    if structure.type in ("Resource", "DomainResource") and structure.derivation != "constraint":
        return True
    rt = resource.get("resourceType")
    own = run.schema.registry.structure_definition(rt) if isinstance(rt, str) else None
    return own is not None and own.get("url") == structure.url


def _profile_not_used(run: Run, url: str, where: str, *, asked: bool) -> Issue:
    """A profile asked for (error) or claimed in meta.profile (warning) that cannot be applied:
    not loaded, or loaded but unusable (e.g. its base is missing), with the reason."""
    if run.schema.registry.structure_definition(url) is not None:
        reason, rule = f"could not be used: {run.schema.problem(url)}", "profile-unusable"
    else:
        reason, rule = "is not loaded", "profile-unknown"
    if asked:
        return Issue.error("not-found", where, f"profile '{url}' {reason}", rule)
    hint = "" if rule == "profile-unusable" else " (load its package with --ig)"
    return Issue.warning("not-found", where, f"profile '{url}' {reason}, so the resource was not "
                         f"checked against it{hint}", rule)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _walk_object(run: Run, obj: Mapping[str, Any], node: ElementNode, type_code: str | None,
                 path: str, frame: Frame, *, is_resource: bool = False,
                 hosts: tuple[str, ...] | None = None) -> None:
    """Check one JSON object's properties against the children of ``node``."""
    props = run.schema.json_properties(node, type_code)
    present: dict[int, tuple[ElementNode, list[tuple[str, JsonProperty, Any]]]] = {}
    for key, value in obj.items():
        if key == "resourceType" and (is_resource or is_logical_type(run, type_code, value)):
            continue
        prop = props.get(key)
        if prop is None:
            run.issues.append(_unknown_property(key, value, path, props))
            continue
        slot = present.setdefault(id(prop.element), (prop.element, []))
        slot[1].append((key, prop, value))
    extended = "extension" in obj or "modifierExtension" in obj
    if extended:
        run.hosts.append(hosts or _hosts(run, obj, node, type_code, path, frame, is_resource))
        run.host_values.append(None if hosts else (obj, frame))
    try:
        for element, occurrences in present.values():
            _walk_element(run, element, occurrences, path, frame)
    finally:
        if extended:
            run.hosts.pop()
            run.host_values.pop()
    # Required elements that are missing altogether.
    for child in run.schema.required(node, type_code):
        if id(child) not in present:
            run.issues.extend(check_cardinality(child, 0, f"{path}.{child.name}"))
            if child.slices:
                run.issues.extend(check_slices(child, (), (), f"{path}.{child.name}"))
    if run.options.must_support:
        run.issues.extend(_must_support(run, node, type_code, present, path))


def _must_support(run: Run, node: ElementNode, type_code: str | None, present: Mapping[int, Any],
                  path: str) -> list[Issue]:
    """mustSupport elements of a profile that this instance leaves out (on request only)."""
    out = []
    for child in run.schema.children(node, type_code).values():
        if child.must_support and id(child) not in present and child.min == 0:
            source = child.structure.url if child.structure is not None else ""
            out.append(Issue.information("informational", f"{path}.{child.name}",
                                         f"{child.path} is mustSupport in {source} but is not "
                                         "present", "must-support"))
    return out


def _hosts(run: Run, obj: Mapping[str, Any], node: ElementNode, type_code: str | None,
           path: str, frame: Frame, is_resource: bool) -> tuple[str, ...]:
    """What an object is, in the terms of StructureDefinition.context (R4 §2.17.0.4)."""
    names = [definition_path(path, frame.path, frame.resource_type), node.path, node.base_path]
    if node.content_reference:
        # Questionnaire.item.item is defined by contentReference #Questionnaire.item: it is a
        # Questionnaire.item for extension contexts too (the HL7 validator adds the referenced
        # element's path to the logical paths of the node).
        target = run.schema.content_target(node)
        if target is not None:
            names.append(target.path)
    if is_resource:
        names += ["Resource", "DomainResource", "CanonicalResource"]
    codes = [type_code] if type_code else list(node.type_codes())
    for code in codes:
        names.append(code)
        base = run.schema.find(code)
        if base is not None and base.derivation == "constraint":
            names.append(str(base.definition.get("baseDefinition", "")).rsplit("/", 1)[-1])
    if node.path == "Extension" or "Extension" in codes:
        url = obj.get("url")
        if isinstance(url, str):
            names.append(url)
    return tuple(dict.fromkeys(n for n in names if n))


def _unknown_property(key: str, value: Any, path: str, props: Mapping[str, JsonProperty]) -> Issue:
    if key == "resourceType":
        return Issue.error("structure", f"{path}.resourceType", "resourceType is only allowed on "
                           "a resource, not inside a datatype or backbone element", "json-form")
    hint = ""
    base = key[1:] if key.startswith("_") else key
    if base in props and key.startswith("_"):
        hint = f" ('{base}' is not a primitive, so it has no '_{base}' companion)"
    elif any(p.startswith(base) and p[len(base):][:1].isupper() for p in props):
        choices = sorted(p for p in props if p.startswith(base) and p[len(base):][:1].isupper()
                         and not p.startswith("_"))
        hint = f" ('{base}' is a choice element: use one of {', '.join(choices[:6])}" + (
            ", ..." if len(choices) > 6 else "") + ")"
    return Issue.error("structure", f"{path}.{key}", f"unrecognised property '{key}'{hint}",
                       "unknown-element")


def _walk_element(run: Run, element: ElementNode,
                  occurrences: list[tuple[str, JsonProperty, Any]], path: str,
                  frame: Frame) -> None:
    """All JSON properties that belong to one element (``value[x]`` may show up twice)."""
    if len(occurrences) == 1 and not occurrences[0][1].primitive_extension:
        key, prop, value = occurrences[0]
        type_ref = prop.type
        if element.choice and type_ref is not None:
            elem_path = f"{path}.{element.name}.ofType({type_ref.code})"
        else:
            elem_path = f"{path}.{element.name}"
        count = _walk_values(run, element, type_ref, key, value, None, elem_path, frame)
        if count < element.min or (element.max is not None and count > element.max):
            run.issues.extend(check_cardinality(element, count, f"{path}.{element.name}"))
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


def _walk_values(run: Run, element: ElementNode, type_ref: TypeRef | None, key: str, value: Any,
                 ext: Any, path: str, frame: Frame) -> int:
    """Walk the value(s) of one JSON property (and its ``_`` companion); return the count."""
    repeats = element.repeats
    primitive = type_ref is not None and type_ref.is_primitive
    if not repeats and not element.slices and type(value) is not list and type(ext) is not list:
        # The common case, one value of a single element: no item list, no [i] paths.
        _walk_value(run, element, type_ref, value, ext if primitive else None, path, frame)
        return 1
    if primitive:
        items = _align_primitive(run, element, key, value, ext, path)
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
                                              "(the element repeats), found " + _json_kind(value),
                                              "json-form"))
            items = [(f"{path}[0]" if repeats else path, value, None)]
    nodes: list[ElementNode | None] = [element] * len(items)
    if element.slices and items:
        nodes = _slice_items(run, element, type_ref, items, path, frame)
    for (item_path, item, item_ext), node in zip(items, nodes, strict=True):
        _walk_value(run, node or element, _slice_type(node, type_ref), item, item_ext,
                    item_path, frame)
        if node is not None and node is not element and element.children and node.children:
            run.issues.extend(check_sliced_element_limits(element, node, item, item_path))
    return len(items)


def _slice_type(node: ElementNode | None, type_ref: TypeRef | None) -> TypeRef | None:
    """The type a value is checked as: its slice's, when the slice profiles the type.

    A slice such as DK-core's ``Patient.identifier:cpr`` constrains its values by a type
    profile (``Identifier`` with dk-core-cpr-identifier) rather than by child elements; a value
    in the slice SHALL conform to it (R4 ElementDefinition.type.profile), as the HL7 validator
    checks it.
    """
    if node is None or type_ref is None or type_ref.profiles:
        return type_ref
    return next((t for t in node.types if t.code == type_ref.code and t.profiles), type_ref)


def _slice_items(run: Run, element: ElementNode, type_ref: TypeRef | None,
                 items: list[tuple[str, Any, Any]], path: str,
                 frame: Frame) -> list[ElementNode | None]:
    """Assign each value of a sliced element to its slice and check the slicing rules."""
    matcher = SliceMatcher(run, resolver_for(frame),
                           lambda value, url, kind: conformance(run, frame, value, url, kind))
    assignment = assign_slices(matcher, element,
                               [(at, value, type_ref) for at, value, _ in items])
    run.issues.extend(assignment.issues)
    run.issues.extend(check_slices(element, assignment.chosen, [at for at, _, _ in items], path,
                                   undecided=assignment.undecided))
    return assignment.chosen


def conforms(run: Run, frame: Frame, value: Any, url: str, kind: str | None = None, *,
             at: str | None = None) -> bool:
    """Does a value (at ``at``, by default its resource's path) conform to a profile?"""
    return conformance(run, frame, value, url, kind, at=at)[0]


def conformance(run: Run, frame: Frame, value: Any, url: str,
                kind: str | None = None, *, at: str | None = None
                ) -> tuple[bool, tuple[str, ...]]:
    """Does a value conform to a profile, and what could not be checked on the way (a required
    binding to a value set that cannot be evaluated offline)?"""
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
    trial = Run(run.schema, run.terminology, run.options, depth=run.depth,
                conformance=run.conformance)
    if "resourceType" in value:
        walk_resource(trial, value, at or frame.path, parent=frame, profiles=(url,))
    else:
        _walk_object(trial, value, structure.root, None, at or frame.path, frame)
    verdict = (not any(issue.is_error for issue in trial.issues),
               tuple(dict.fromkeys(trial.unchecked)))
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


def _align_primitive(run: Run, element: ElementNode, key: str, value: Any, ext: Any,
                     path: str) -> list[tuple[str, Any, Any]]:
    """Zip a primitive array with its ``_name`` companion (R4 JSON §2.6.2.3)."""
    repeats = element.repeats
    if not repeats:
        for v, label in ((value, key), (ext, "_" + key)):
            if isinstance(v, list):
                run.issues.append(Issue.error("structure", path, f"'{label}' must be a single "
                                              "value, not an array (its maximum cardinality is 1)",
                                              "json-form"))
                return []
        return [(path, value, ext)]
    values = value if isinstance(value, list) else ([] if value is None else [value])
    exts = ext if isinstance(ext, list) else ([] if ext is None else [ext])
    for v, label in ((value, key), (ext, "_" + key)):
        if v is not None and not isinstance(v, list):
            run.issues.append(Issue.error("structure", path, f"'{label}' must be an array (the "
                                          "element repeats), found " + _json_kind(v), "json-form"))
        elif isinstance(v, list) and not v:
            run.issues.append(Issue.error("structure", path, f"'{label}' is an empty array: "
                                          "leave the property out instead", "json-form"))
    if values and exts and len(values) != len(exts):
        run.issues.append(Issue.error("structure", path, f"'{key}' has {len(values)} item(s) but "
                                      f"'_{key}' has {len(exts)}: the arrays must align",
                                      "json-form"))
    out = []
    for i in range(max(len(values), len(exts))):
        v = values[i] if i < len(values) else None
        e = exts[i] if i < len(exts) else None
        at = f"{path}[{i}]"
        if v is None and e is None:
            run.issues.append(Issue.error("structure", at, "null is only allowed in a primitive "
                                          "array where the '_' companion has content at the same "
                                          "position", "json-form"))
            continue
        out.append((at, v, e))
    return out


def _walk_value(run: Run, element: ElementNode, type_ref: TypeRef | None, value: Any, ext: Any,
                path: str, frame: Frame) -> None:
    if type_ref is not None and type_ref.is_primitive:
        _walk_primitive(run, element, type_ref, value, ext, path, frame)
        return
    code = type_ref.code if type_ref is not None else None
    _check_profile_values(run, element, code, value, path)
    if code is None and len(element.types) > 1 and isinstance(value, Mapping) \
            and "resourceType" in value:
        code = _resource_among(run, element, value, path)
        if code == "":
            return
    plan = _object_plan(run, element, code)
    if plan.inline_resource:
        kind = plan.kind
        rt = value.get("resourceType") if isinstance(value, Mapping) else None
        if kind not in RESOURCE_TYPES and isinstance(rt, str) and rt != kind:
            run.issues.append(Issue.error("structure", path, f"expected a {kind} here, found a "
                                          f"{rt}", "resource-type"))
            return
        _walk_inline_resource(run, element, value, path, frame)
        return
    if not isinstance(value, dict):
        run.issues.append(Issue.error("structure", path, f"expected an object ({code or 'element'})"
                                      f", found {_json_kind(value)}", "json-form"))
        return
    if not value:
        run.issues.append(Issue.error("structure", path, "empty object: an element must have a "
                                      "value, children or extensions (ele-1)", "ele-1"))
        return
    if run.depth > run.options.max_depth:
        run.issues.append(Issue.error("structure", path, "elements are nested deeper than "
                                      f"{run.options.max_depth} levels", "json-form"))
        return
    target, target_type = _object_definition(run, element, type_ref, value, path, frame)
    run.depth += 1
    try:
        _walk_object(run, value, target, target_type, path, frame)
    finally:
        run.depth -= 1
    if target is not element:
        constraints = _constraints(element, target)
        hint = _type_hint(element, code, target)
    else:
        constraints, hint = plan.constraints, plan.hint
    if not _beyond_id(value) and checks_ele_1(element):
        run.issues.append(_ele_1(element, path))
    if constraints:
        run.issues.extend(check_invariants(run, constraints, value, frame, path, type_hint=hint))
    if code in QUANTITY_TYPES:
        run.issues.extend(check_ucum_annotations(value, path))
    if code in ("Coding", "CodeableConcept", "Quantity"):
        if element.binding is not None:
            run.issues.extend(check_binding(run, element, code, value, path))
        run.issues.extend(check_coding_system(run, code, value, path))
        run.issues.extend(check_coding_systems(run, code, value, path, binding=element.binding))
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
    elif code == "Reference":
        run.issues.extend(check_reference_parts(value, path))
        reference = value.get("reference")
        if isinstance(reference, str) and reference and type_ref is not None:
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


@dataclass(frozen=True, slots=True)
class _PrimitivePlan:
    """What the walker decides for a primitive value of an element and type, once."""

    check: PrimitiveCheck
    constraints: tuple[Constraint, ...]
    profiled: bool  # fixed, pattern, min/max or limits to check
    bound: bool


def _primitive_plan(run: Run, element: ElementNode, type_ref: TypeRef) -> _PrimitivePlan:
    """The element's plan for values of a primitive type, cached on the element like
    :func:`_object_plan`."""
    plan: _PrimitivePlan | None = element.primitive_plan_cache.get(type_ref.code)
    if plan is None:
        profiled = element.fixed is not None or element.pattern is not None \
            or element.min_value is not None or element.max_value is not None \
            or has_limits(element)
        plan = _PrimitivePlan(primitive_check(run, element, type_ref),
                              _constraints(element, None), profiled, element.binding is not None)
        element.primitive_plan_cache[type_ref.code] = plan
    return plan


def _walk_primitive(run: Run, element: ElementNode, type_ref: TypeRef, value: Any, ext: Any,
                    path: str, frame: Frame) -> None:
    """A primitive value and its ``_x`` companion (R4 JSON §2.6.2.3)."""
    plan = _primitive_plan(run, element, type_ref)
    if plan.profiled:
        _check_profile_values(run, element, type_ref.code, value, path)
    if value is not None:
        problem = plan.check(run, value, path)
        if problem is not None:
            run.issues.append(problem)
    if ext is not None:
        hosts = (definition_path(path, frame.path, frame.resource_type), element.path,
                 element.base_path, type_ref.code)
        _walk_primitive_extension(run, type_ref, ext, path, frame, hosts)
    if plan.bound and isinstance(value, str):
        run.issues.extend(check_binding(run, element, type_ref.code, value, path))
    if value is None and not (isinstance(ext, dict) and _beyond_id(ext)):
        run.issues.append(_ele_1(element, path))
    if plan.constraints:
        run.issues.extend(check_invariants(run, plan.constraints, (value, ext), frame,
                                           path, type_hint=type_ref.code, primitive=True))


def _resource_among(run: Run, element: ElementNode, value: Mapping[str, Any],
                    path: str) -> str | None:
    """A resource element narrowed to several resource types (``Bundle.entry.resource`` sliced
    by type, each slice a resource type): the resource's own type, "" (reported) when it is
    none of them, None when the element is not such an element."""
    allowed = element.type_codes()
    if not all(run.schema.registry.is_resource_type(t) for t in allowed):
        return None
    rt = value.get("resourceType")
    if isinstance(rt, str) and rt in allowed:
        return rt
    shown = rt if isinstance(rt, str) else _json_kind(rt)
    run.issues.append(Issue.error("structure", path, f"expected one of {', '.join(allowed)} "
                                  f"here, found {shown}", "resource-type"))
    return ""


ELE_1 = "hasValue() or (children().count() > id.count())"


def _beyond_id(obj: Mapping[str, Any]) -> bool:
    """Whether an object has a property other than ``id`` (``obj.keys() - {"id"}``, no set)."""
    return len(obj) > ("id" in obj)


@dataclass(frozen=True, slots=True)
class _ObjectPlan:
    """What the walker decides for an object value of an element and type, whatever it holds."""

    kind: str | None  # the type, or the element's only type
    inline_resource: bool  # Resource, or a resource type a profile narrowed it to
    # When the object is checked against the element itself (not an extension's or a type
    # profile's root): the constraints to evaluate, and the FHIRPath type hint.
    constraints: tuple[Constraint, ...]
    hint: str


def _object_plan(run: Run, element: ElementNode, code: str | None) -> _ObjectPlan:
    """The element's plan for objects of type ``code``, cached on the element.

    The cache holds immutable plans assigned whole, so threads sharing the schema at worst
    compute the same plan twice.
    """
    plan: _ObjectPlan | None = element.object_plan_cache.get(code)
    if plan is not None:
        return plan
    kind = code if code is not None or len(element.types) != 1 else element.types[0].code
    # Resource, or a resource type a profile narrowed it to (an entry slice of MessageHeader):
    # an inline resource either way.
    inline = kind in RESOURCE_TYPES or (kind is not None and kind[:1].isupper()
                                        and run.schema.registry.is_resource_type(kind))
    type_root: ElementNode | None
    if element.content_reference:
        # Questionnaire.item.item is a Questionnaire.item: its constraints apply too.
        type_root = run.schema.content_target(element)
    else:
        type_root = run.schema.type_root(code) if code and not element.children else None
    plan = _ObjectPlan(kind, inline, _constraints(element, type_root),
                       _type_hint(element, code, type_root))
    element.object_plan_cache[code] = plan
    return plan


def _type_hint(element: ElementNode, code: str | None, type_root: ElementNode | None) -> str:
    """The FHIRPath type of an object value, for its invariants."""
    if element.content_reference and type_root is not None:
        return type_root.path
    return element.path if element.children or not code else code


def _ele_1(element: ElementNode, at: str) -> Issue:
    """ele-1, checked inline: every element has a value or children (R4 §2.24.0.6)."""
    human = next((c.human for c in element.constraints if c.key == "ele-1"),
                 "All FHIR elements must have a @value or children")
    return Issue.error("invariant", at, f"constraint ele-1 failed: {human}", "ele-1")


def _constraints(element: ElementNode, type_root: ElementNode | None) -> tuple[Constraint, ...]:
    """The element's constraints plus its type's, less ele-1 (checked inline), cached."""
    key = id(type_root)
    hit = element.constraint_cache.get(key)
    if hit is None:
        merged = list(element.constraints)
        keys = {c.key for c in merged}
        if type_root is not None:
            merged += [c for c in type_root.constraints if c.key not in keys]
        hit = tuple(c for c in merged if not (c.key == "ele-1" and c.expression == ELE_1))
        element.constraint_cache[key] = hit
    return hit


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
            return structure.root, None
    elif type_ref is not None and type_ref.profiles:
        profile = run.schema.find(_alternative(run, frame, value, type_ref.profiles, at=path))
        if profile is not None and profile.derivation == "constraint":
            return profile.root, None
    return element, code


def _alternative(run: Run, frame: Frame, value: Any, profiles: Sequence[str], *,
                 at: str) -> str:
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
        elif conforms(run, frame, value, url, at=at):
            return url
    return profiles[0]


def _walk_primitive_extension(run: Run, type_ref: TypeRef, ext: Any, path: str,
                              frame: Frame, hosts: tuple[str, ...]) -> None:
    if not isinstance(ext, dict):
        run.issues.append(Issue.error("structure", path, "the '_' companion of a primitive must "
                                      "be an object with id and/or extension, found "
                                      f"{_json_kind(ext)}", "json-form"))
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
    rt = value.get("resourceType") if isinstance(value, Mapping) else None
    profiles = tuple(p for t in element.types if t.code in (rt, "Resource") for p in t.profiles)
    if len(profiles) > 1:
        profiles = (_alternative(run, frame, value, profiles, at=path),)
    walk_resource(run, value, path, parent=frame, contained=contained, bundle=bundle,
                  full_url=full_url, profiles=profiles)
