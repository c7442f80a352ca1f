"""Element plans: what the walker decides once per element and type, not once per value.

A plan is compiled the first time a value of an element meets a type and cached on the
element (``ElementNode.primitive_plan_cache`` / ``object_plan_cache``): the primitive check
(datatype, maximum length, URI rules), whether a profile fixes or limits the value, whether it
is bound, and the constraints to evaluate with the FHIRPath type hint they run under. Those are
the element's own constraints plus its type's (R4 §2.27.0.1 ElementDefinition.constraint), less
ele-1, which the walker checks inline (:func:`ele_1`) because it only asks whether the value has
a value or children (R4 §2.24.0.6).
"""

from __future__ import annotations

from collections.abc import Callable

from .._frozen import frozen
from ..definitions.compiled import Constraint, ElementNode, TypeRef
from ._context import Run
from ._issue import Issue
from .checks.element_limits import has_limits
from .checks.invariant import Ready, ready
from .checks.primitive import PrimitiveCheck, plain_values, primitive_check

__all__ = ["ELE_1", "RESOURCE_TYPES", "ObjectPlan", "PrimitivePlan", "constraints_of",
           "core_counterpart", "core_reference", "ele_1", "object_plan", "primitive_plan",
           "rebound", "slice_type", "type_hint"]

RESOURCE_TYPES = ("Resource",)
ELE_1 = "hasValue() or (children().count() > id.count())"


@frozen
class PrimitivePlan:
    """What the walker decides for a primitive value of an element and type, once."""

    check: PrimitiveCheck
    # A text that matches ``plain`` and is at most ``limit`` long passes ``check``: see
    # checks/primitive.plain_values (None: every value takes ``check``).
    plain: Callable[[str], object] | None
    limit: int
    # The element's constraints, compiled (checks/invariant.ready) under the type's name.
    ready: Ready
    profiled: bool  # fixed, pattern, min/max or limits to check
    bound: bool
    # The core element a profile's element constrains, when its binding is not the profile's:
    # see :func:`core_counterpart`.
    core: ElementNode | None
    # ``plain`` when nothing else is checked on a value of this element (no profile values, no
    # binding, no constraint, no core binding): a text it matches, up to ``limit`` long, with
    # no ``_name`` companion, needs no more than that match.
    quiet: Callable[[str], object] | None = None


def primitive_plan(run: Run, element: ElementNode, type_ref: TypeRef) -> PrimitivePlan:
    """The element's plan for values of a primitive type, cached on the element like
    :func:`object_plan`."""
    plan: PrimitivePlan | None = element.primitive_plan_cache.get(type_ref.code)
    if plan is None:
        core = core_counterpart(run, element)
        core = core if core is not None and rebound(element, core) else None
        plain, limit = plain_values(run, element, type_ref)
        constraints, profiled = constraints_of(element, None), _profiled(element)
        bound = element.binding is not None
        quiet = None if constraints or profiled or bound or core is not None else plain
        plan = PrimitivePlan(primitive_check(run, element, type_ref), plain, limit,
                             ready(constraints, type_ref.code, True), profiled, bound, core,
                             quiet)
        element.primitive_plan_cache[type_ref.code] = plan
        if len(element.types) == 1 and element.types[0].code == type_ref.code:
            element.leaf_plan = plan  # (read by the walker without a look-up)
    return plan


@frozen
class ObjectPlan:
    """What the walker decides for an object value of an element and type, whatever it holds."""

    kind: str | None  # the type, or the element's only type
    inline_resource: bool  # Resource, or a resource type a profile narrowed it to
    # When the object is checked against the element itself (not an extension's or a type
    # profile's root): the constraints to evaluate, compiled (checks/invariant.ready) under
    # the FHIRPath type hint of the value.
    ready: Ready
    profiled: bool  # fixed, pattern, min/max or limits to check
    # The core element a profile's element constrains, when the profile changed its binding or
    # its Reference targets (see :func:`core_counterpart`).
    core: ElementNode | None


def _profiled(element: ElementNode) -> bool:
    """Whether a profile fixes or limits the element's values (fixed[x], pattern[x],
    minValue[x], maxValue[x], the limits of checks/element_limits)."""
    return element.fixed is not None or element.pattern is not None \
        or element.min_value is not None or element.max_value is not None \
        or has_limits(element)


def object_plan(run: Run, element: ElementNode, code: str | None) -> ObjectPlan:
    """The element's plan for objects of type ``code``, cached on the element.

    The cache holds immutable plans assigned whole, so threads sharing the schema at worst
    compute the same plan twice.
    """
    plan: ObjectPlan | None = element.object_plan_cache.get(code)
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
    core = core_counterpart(run, element)
    if core is not None and not rebound(element, core) \
            and _reference_targets(core) == _reference_targets(element):
        core = None
    plan = ObjectPlan(kind, inline, ready(constraints_of(element, type_root),
                                          type_hint(element, code, type_root), False),
                      _profiled(element), core)
    element.object_plan_cache[code] = plan
    return plan


def type_hint(element: ElementNode, code: str | None, type_root: ElementNode | None) -> str:
    """The FHIRPath type of an object value, for its invariants."""
    if element.content_reference and type_root is not None:
        return type_root.path
    return element.path if element.children or not code else code


def ele_1(element: ElementNode, at: str) -> Issue:
    """ele-1, checked inline: every element has a value or children (R4 §2.24.0.6)."""
    human = next((c.human for c in element.constraints if c.key == "ele-1"),
                 "All FHIR elements must have a @value or children")
    return Issue.error("invariant", at, f"constraint ele-1 failed: {human}", "ele-1")


def constraints_of(element: ElementNode, type_root: ElementNode | None) -> tuple[Constraint, ...]:
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


# -- a profile's walk in place of the core definition's -----------------------------------------
# A resource that claims a profile of its type is walked against that profile alone, not also
# against its type's core definition (see _walk.walk_resource): the profile's snapshot holds
# every element, cardinality and constraint of the core, tightened. What a profile may replace
# rather than tighten, the core's binding of an element and the targets of a Reference, the walk
# checks against the core element as well, so the issues are those of both walks, as the HL7
# validator reports them (it validates against the base definition and then each profile).
CORE = "http://hl7.org/fhir/StructureDefinition/"


def core_counterpart(run: Run, element: ElementNode) -> ElementNode | None:
    """The element of a core definition that a profile's element constrains, found by its base
    path (``Observation.code.coding`` unfolded in a profile is ``CodeableConcept.coding``);
    None for an element of a core definition itself, or when there is none."""
    structure = element.structure
    if structure is None or structure.derivation != "constraint":
        return None
    base = element.base_path
    core = run.schema.find(CORE + base.split(".", 1)[0])
    found = core.by_id.get(base) if core is not None else None
    return found if found is not element else None


def rebound(element: ElementNode, core: ElementNode) -> bool:
    """Whether a profile's element replaced the binding of its core element."""
    return core.binding is not None and core.binding != element.binding


def _reference_targets(element: ElementNode) -> tuple[str, ...] | None:
    ref = core_reference(element)
    return ref.target_profiles if ref is not None else None


def core_reference(element: ElementNode) -> TypeRef | None:
    """An element's Reference type (its targets), if it has one."""
    return next((t for t in element.types if t.code == "Reference"), None)


def slice_type(node: ElementNode | None, type_ref: TypeRef | None) -> TypeRef | None:
    """The type a value is checked as: its slice's own, which may narrow the element's.

    A slice such as DK-core's ``Patient.identifier:cpr`` constrains its values by a type
    profile (``Identifier`` with dk-core-cpr-identifier) rather than by child elements, and a
    Reference slice may allow fewer targets than the element; a value in the slice SHALL
    conform to them (R4 ElementDefinition.type.profile and .targetProfile), as the HL7
    validator checks it against the slice's definition.
    """
    if node is None or type_ref is None or type_ref.profiles:
        return type_ref
    code = type_ref.code
    for own in node.types:  # (a loop, not next() over a generator: this runs for every array)
        if own.code == code:
            return own
    return type_ref
