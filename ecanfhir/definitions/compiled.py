"""The compiled form of a StructureDefinition (FHIR R4 §2.27 ElementDefinition): a tree of
element nodes, each with its types, constraints, binding, slicing and the values a profile fixes
or limits, and the JSON properties an object of the element may carry. :mod:`.schema` compiles
snapshots into these records; the validator and the XML mapping read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any

from .._frozen import frozen, record

if TYPE_CHECKING:
    from ..validation._issue import Issue

__all__ = [
    "PRIMITIVES",
    "Binding",
    "CompiledStructure",
    "Constraint",
    "ElementNode",
    "JsonProperty",
    "Slicing",
    "TypeRef",
]

PRIMITIVES = frozenset({
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary",
    "instant", "date", "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt",
    "positiveInt", "uuid", "xhtml",
})


@frozen
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()
    is_primitive: bool = field(default=False, compare=False)
    aggregation: tuple[str, ...] = ()  # contained | referenced | bundled (empty: any)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_primitive", self.code in PRIMITIVES)

    @property
    def target_types(self) -> tuple[str, ...]:
        """Resource type names a Reference may point to (empty: any)."""
        return tuple(p.rsplit("/", 1)[-1] for p in self.target_profiles
                     if p.startswith("http://hl7.org/fhir/StructureDefinition/"))


@frozen
class Constraint:
    key: str
    severity: str  # "error" | "warning"
    human: str
    expression: str
    best_practice: bool = False
    source: str = ""


@frozen
class Binding:
    strength: str
    value_set: str | None
    additional: tuple[tuple[str, str], ...] = ()  # (purpose, value set) of additional bindings
    max_value_set: str | None = None  # R4 elementdefinition-maxValueSet: no code outside it


@frozen
class Slicing:
    discriminators: tuple[tuple[str, str], ...]  # (type, path)
    rules: str  # closed | open | openAtEnd
    ordered: bool = False


@record(eq=False)
class ElementNode:
    """One ElementDefinition, with its children by name (``value[x]`` is ``value``)."""

    id: str
    path: str
    name: str
    min: int
    max: int | None  # None is "*"
    types: tuple[TypeRef, ...]
    choice: bool = False
    content_reference: str | None = None
    binding: Binding | None = None
    constraints: tuple[Constraint, ...] = ()
    fixed: tuple[str, Any] | None = None  # ("fixedCode", "x")
    pattern: tuple[str, Any] | None = None
    max_length: int | None = None
    min_value: tuple[str, Any] | None = None
    max_value: tuple[str, Any] | None = None
    is_modifier: bool = False
    must_support: bool = False
    slice_name: str | None = None
    slicing: Slicing | None = None
    children: dict[str, ElementNode] = field(default_factory=dict)
    slices: list[ElementNode] = field(default_factory=list)
    definition: Mapping[str, Any] = field(default_factory=dict, repr=False)
    structure: CompiledStructure | None = field(default=None, repr=False)
    repeats: bool = False  # JSON array or not: see schema._repeats
    # Per-type caches of Schema.json_properties / required children (filled lazily).
    props_cache: dict[str | None, dict[str, JsonProperty]] = field(default_factory=dict,
                                                                  repr=False)
    required_cache: dict[str | None, tuple[tuple[ElementNode, tuple[str, ...]], ...]] = field(
        default_factory=dict, repr=False)
    # Constraints to evaluate for a value checked against a type root (key: id of the root).
    constraint_cache: dict[int, tuple[Constraint, ...]] = field(default_factory=dict, repr=False)
    # Per type code: what the walker decides for an object value of this element that does not
    # depend on the value (see validation/_plan.py).
    object_plan_cache: dict[str | None, Any] = field(default_factory=dict, repr=False)
    # Per primitive type code: the checks of a primitive value (see validation/_plan.py).
    primitive_plan_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # The plan of the element's only type, when it has one and it is primitive (the same).
    leaf_plan: Any = field(default=None, repr=False)

    @property
    def base_path(self) -> str:
        base = self.definition.get("base")
        path = base.get("path") if isinstance(base, Mapping) else None
        return path if isinstance(path, str) else self.path

    def type_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)


@frozen
class JsonProperty:
    """How one JSON property name maps onto an element: ``valueQuantity`` → value[x], Quantity."""

    element: ElementNode
    type: TypeRef | None
    primitive_extension: bool = False  # the ``_name`` companion of a primitive
    # A primitive element that holds exactly one value, neither repeated nor sliced nor a
    # choice: without its ``_name`` companion, the walker checks the value as it meets it.
    leaf: bool = False
    # An element that is not a primitive nor a choice: this is its only JSON property.
    whole: bool = False
    # Such an element, neither repeated nor sliced, that admits one value: the walker walks its
    # one value (not an array) as it meets it, with nothing to count.
    one: bool = False
    # Such an element that repeats and is not sliced: the walker walks each object of its
    # array as it meets it.
    objects: bool = False
    # A primitive element that repeats, not sliced nor a choice: without its ``_name``
    # companion, the walker checks each value of its array as it meets it.
    items: bool = False
    # The ``_name`` of a leaf or of such an element: when the object has it, the values are
    # walked with it.
    companion: str = ""


@record(eq=False)
class CompiledStructure:
    url: str
    type: str
    kind: str
    root: ElementNode
    by_id: dict[str, ElementNode]
    derivation: str
    abstract: bool
    definition: Mapping[str, Any] = field(repr=False)
    # The errors generating its snapshot from its differential met (a path its base does not
    # have...): the structure holds what could be applied, and a resource checked against it
    # is told (see validation._conformance.snapshot_problems).
    snapshot_errors: tuple[Issue, ...] = ()
