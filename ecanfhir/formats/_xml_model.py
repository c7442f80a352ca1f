"""The type model behind the FHIR XML ↔ JSON mapping (R4 §2.6.1 XML, §2.6.2 JSON).

Both representations carry the same content; what the mapping needs from the definitions is,
for each complex type or backbone element, its children *in definition order* (XML orders
elements, JSON does not), and for each child: its names (``value[x]`` is ``valueQuantity``,
``valueString``…), its types, whether it repeats (a JSON array), whether it is a primitive
(and of which JSON kind: number, boolean or string), whether XML carries it as an attribute
(``representation: xmlAttr``: ``Element.id`` on datatypes, ``Extension.url``), whether it is
XHTML (``Narrative.div``) and whether it holds a whole resource (``Bundle.entry.resource``,
``contained``, ``Parameters.parameter.resource``).

The model is built lazily from the R4 core StructureDefinitions ecanfhir ships, through the
compiled :class:`~ecanfhir.definitions.schema.Schema`, and cached: one :class:`XmlType` per type or
backbone element.

>>> patient = type_model("Patient")
>>> patient.children[0].name, patient.child("name").repeats
('id', True)
>>> child, code = patient.by_name["deceasedDateTime"]
>>> child.name, code, json_kind(code)
('deceased', 'dateTime', 'string')
>>> type_model("Extension").child("url").attribute
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from functools import cache
from typing import Literal

from .._frozen import frozen
from ..definitions.compiled import PRIMITIVES, ElementNode
from ..definitions.registry import Registry
from ..definitions.schema import Schema

__all__ = [
    "JsonKind",
    "XmlChild",
    "XmlType",
    "child_model",
    "is_primitive",
    "is_resource_type",
    "json_kind",
    "type_model",
]

JsonKind = Literal["number", "boolean", "string"]
_NUMBERS = frozenset({"integer", "decimal", "positiveInt", "unsignedInt", "integer64"})
# Type codes whose element holds a whole resource (its XML element wraps the resource's own).
_RESOURCE_CODES = frozenset({"Resource", "DomainResource"})


def is_primitive(type_code: str) -> bool:
    """Whether a type is a FHIR primitive (a ``value`` attribute in XML, a bare JSON value)."""
    return type_code in PRIMITIVES


def json_kind(type_code: str) -> JsonKind:
    """How a primitive's value is written in JSON: a number, a boolean, or a string."""
    if type_code in _NUMBERS:
        return "number"
    if type_code == "boolean":
        return "boolean"
    return "string"


@frozen
class XmlChild:
    """One child element of a type or backbone element, as both formats see it."""

    name: str  # the definition's name: "value" for value[x]
    path: str  # "Observation.value[x]"
    types: tuple[str, ...]  # type codes ("Quantity", "string", "Resource", "BackboneElement")
    repeats: bool  # an array in JSON (decided by the base max, R4 §2.6.2)
    choice: bool  # a [x] element: one XML/JSON name per type
    attribute: bool  # an XML attribute (representation xmlAttr)
    xhtml: bool  # the narrative div: an XHTML element, a string in JSON
    content_reference: str | None  # "#Questionnaire.item": children from that element
    node: ElementNode = field(repr=False, compare=False)

    @property
    def xml_names(self) -> dict[str, str]:
        """The element (or attribute) names this child may appear under, each with its type."""
        if not self.choice:
            return {self.name: self.types[0] if len(self.types) == 1 else ""}
        names: dict[str, str] = {}
        for code in self.types:
            # A logical model as a choice type is named by its URL's last part.
            short = code.rsplit("/", 1)[-1]
            names[self.name + short[0].upper() + short[1:]] = code
        return names

    @property
    def holds_resource(self) -> bool:
        """Whether the element wraps a resource (``<resource><Patient>…</Patient></resource>``):
        typed ``Resource`` or a resource type (the core's ``Bundle.entry.response.outcome``
        is ``OperationOutcome``; R4 §2.6.1: a resource inside an element is wrapped)."""
        return _wraps(self.types)

    def is_primitive(self, type_code: str | None = None) -> bool:
        code = type_code if type_code is not None else (self.types[0] if self.types else "")
        return is_primitive(code)


@frozen
class XmlType:
    """The children of a type (``HumanName``) or backbone element (``Bundle.entry``), ordered."""

    path: str
    children: tuple[XmlChild, ...]
    # Every element/attribute name (choices expanded) → (the child, its type code).
    by_name: Mapping[str, tuple[XmlChild, str]] = field(repr=False)
    kind: str = ""  # "resource", "complex-type", "primitive-type" or "" for a backbone element
    # Each child's position in definition order, by its definition name.
    positions: Mapping[str, int] = field(default_factory=dict, repr=False)

    def child(self, name: str) -> XmlChild:
        """The child named ``name`` in the definition (``value`` for ``value[x]``)."""
        return self.children[self.positions[name]]

    def order(self, child: XmlChild) -> int:
        """The child's position in definition order (XML requires this order)."""
        return self.positions[child.name]


@cache
def _wraps(types: tuple[str, ...]) -> bool:
    """:attr:`XmlChild.holds_resource` of an element of these types (asked for each element
    read)."""
    return any(t in _RESOURCE_CODES or is_resource_type(t) for t in types)


@cache
def _schema() -> Schema:
    # R4 core only: the XML mapping is fixed by the base definitions (profiles never change
    # names, order or representation).
    return Schema(Registry(defaults=False))


def is_resource_type(name: str) -> bool:
    """Whether ``name`` is a concrete R4 resource type (``Patient``, not ``Resource``)."""
    model = type_model(name)
    return model is not None and model.kind == "resource" and name not in _RESOURCE_CODES


@cache
def type_model(type_code: str) -> XmlType | None:
    """The model of a core datatype or resource by type code; None when R4 has no such type."""
    if not type_code or not type_code[0].isalpha():
        return None
    structure = _schema().find(type_code)
    if structure is None:
        return None
    return _model(structure.root, structure.kind)


def child_model(child: XmlChild, type_code: str | None = None) -> XmlType | None:
    """The model of a child element's content: its inline backbone children, the element a
    ``contentReference`` names, or its type's (``type_code`` picks one of a choice)."""
    node = child.node
    if node.children:
        return _model(node, "")
    if node.content_reference:
        target = _schema().content_target(node)
        return _model(target, "") if target is not None and target.children else None
    code = type_code or (child.types[0] if len(child.types) == 1 else "")
    return type_model(code) if code else None


@cache
def _model(node: ElementNode, kind: str) -> XmlType:
    # Element nodes hash by identity, and the core schema compiles each one once.
    children = tuple(_child(n) for n in node.children.values())
    by_name: dict[str, tuple[XmlChild, str]] = {}
    for child in children:
        for name, code in child.xml_names.items():
            by_name.setdefault(name, (child, code))
    positions = {child.name: n for n, child in reversed(list(enumerate(children)))}
    return XmlType(node.path, children, by_name, kind, positions)


def _child(node: ElementNode) -> XmlChild:
    types = node.type_codes()
    if not types and node.content_reference:
        target = _schema().content_target(node)
        types = target.type_codes() if target is not None else ()
    representation = node.definition.get("representation") or ()
    return XmlChild(
        name=node.name,
        path=node.path,
        types=types,
        repeats=node.repeats,
        choice=node.choice,
        attribute="xmlAttr" in representation,
        xhtml=types == ("xhtml",) or "xhtml" in representation,
        content_reference=node.content_reference,
        node=node,
    )
