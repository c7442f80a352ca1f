"""The elements of a snapshot being generated: keys, source trees, nodes.

An element is found by its *key*: the (name, slice name) segments below the root, read from
its ``id`` (slice names may contain dots, so the path guides the split) or, in a path-only
differential, from its ``path`` and the slices before it (FHIR R4 elementdefinition.html#id).
A base (or datatype) snapshot becomes a read-only :class:`Source` tree; the snapshot being
built is a tree of :class:`Node` s. Small ElementDefinition helpers (type codes, the JSON shape
of properties, JSON copies) are here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, Protocol

from .._frozen import record

__all__ = [
    "MAX_DEPTH", "Definitions", "Key", "Node", "Segment", "Source", "Tree", "base_of",
    "child_named", "element_keys", "ill_formed", "is_extension_path", "source_tree",
    "types_of", "usable", "working_code",
]

Segment = tuple[str, str | None]  # ("coding", "BodyHeightCode"): element name, slice name
Key = tuple[Segment, ...]  # the segments below the root: Patient.identifier:cpr.system

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
MAX_DEPTH = 20  # profiles on profiles on ...; deeper is a cycle or nonsense


class Definitions(Protocol):
    """What snapshot generation asks of the definitions (a :class:`~.registry.Registry`
    answers; ``snapshot_cache`` notes each answer on the way)."""

    def structure_definition(self, canonical: str) -> dict[str, Any] | None: ...

    def type_definition(self, type_code: str) -> dict[str, Any] | None: ...

    def is_type(self, name: str) -> bool: ...


# -- trees ---------------------------------------------------------------------------------
@record(eq=False)
class Source:
    """A read-only element of a base (or datatype) snapshot, with its children and slices."""

    element: Mapping[str, Any]
    name: str
    slice_name: str | None = None
    children: list[Source] = field(default_factory=list)
    slices: list[Source] = field(default_factory=list)


@record(eq=False)
class Tree:
    root: Source
    by_id: dict[str, Source]


@record(eq=False)
class Node:
    """An element of the snapshot being built."""

    element: dict[str, Any]
    name: str
    source: Source | None  # what the base says, untouched by this differential
    parent: Node | None  # for a slice: the sliced element's parent
    slice_name: str | None = None
    children: list[Node] = field(default_factory=list)
    slices: list[Node] = field(default_factory=list)
    dived: bool = False  # children unfolded from the element's type by this differential
    slicing_done: bool = True  # HL7's flag while processing a slice (see _locate)
    touched: bool = False  # a differential element applied to this very node
    appended: bool = False  # a new slice after those of an element the base already slices
    type_shortcut: bool = False  # value[x] sliced implicitly by renamed paths (valueQuantity)

    def walk(self) -> Iterator[dict[str, Any]]:
        """Snapshot order: the element, its children, then its slices (each with children)."""
        yield self.element
        for child in self.children:
            yield from child.walk()
        for slice_ in self.slices:
            yield from slice_.walk()


def _split_id(element_id: str, parts: Sequence[str]) -> Key | None:
    """``Patient.identifier:cpr.system`` → segments aligned with the path, or None when the id
    does not follow the path (slice names may contain dots, so the path guides the split)."""
    pieces = element_id.split(".")
    segments: list[Segment] = []
    j = 0
    for i, part in enumerate(parts):
        if j >= len(pieces):
            return None
        name, colon, slice_name = pieces[j].partition(":")
        j += 1
        if name != part:
            return None
        if colon:
            while j < len(pieces) and (i + 1 >= len(parts) or not (
                    pieces[j] == parts[i + 1] or pieces[j].startswith(parts[i + 1] + ":"))):
                slice_name += "." + pieces[j]
                j += 1
        segments.append((name, slice_name or None))
    return tuple(segments[1:]) if j == len(pieces) else None


def element_keys(elements: Sequence[Mapping[str, Any]]) -> list[Key | None]:
    """The key of each element: from its id, else from its path and the slices before it
    (in a path-only differential, ``Observation.component.code`` after a ``component`` slice
    belongs to that slice)."""
    context: dict[str, Key] = {}

    def key_of(parts: Sequence[str]) -> Key:
        if len(parts) <= 1:
            return ()
        found = context.get(".".join(parts))
        return found if found is not None else (*key_of(parts[:-1]), (parts[-1], None))

    keys: list[Key | None] = []
    for element in elements:
        path = element.get("path") if isinstance(element, Mapping) else None
        if not isinstance(path, str) or not path:
            keys.append(None)
            continue
        parts = path.split(".")
        slice_name = element.get("sliceName")
        slice_name = slice_name if isinstance(slice_name, str) and slice_name else None
        key = _split_id(element["id"], parts) if isinstance(element.get("id"), str) else None
        if key is not None and key and slice_name and key[-1][1] is None:
            key = (*key[:-1], (key[-1][0], slice_name))
        if key is None:
            key = (*key_of(parts[:-1]), (parts[-1], slice_name)) if len(parts) > 1 else ()
        for stale in [p for p in context if p.startswith(path + ".")]:
            del context[stale]
        context[path] = key
        keys.append(key)
    return keys


def source_tree(elements: Sequence[Mapping[str, Any]]) -> Tree:
    root = Source(elements[0], str(elements[0].get("path", "")))
    by_key: dict[Key, Source] = {(): root}
    by_id: dict[str, Source] = {root.name: root}
    for element, key in zip(elements[1:], element_keys(elements)[1:], strict=True):
        if not key:
            continue
        name, slice_name = key[-1]
        node = Source(element, name, slice_name)
        if slice_name is None:
            owner = by_key.get(key[:-1])
            if owner is None:
                continue
            owner.children.append(node)
        else:
            resliced = slice_name.rpartition("/")[0] or None
            owner = by_key.get((*key[:-1], (name, resliced)))
            if owner is not None:
                owner.slices.append(node)
            elif resliced is None and (parent := by_key.get(key[:-1])) is not None:
                parent.children.append(node)  # a lone slice, without its plain element
            else:
                continue
        by_key[key] = node
        by_id[str(element.get("id") or element.get("path"))] = node
    return Tree(root, by_id)


# -- small FHIR helpers -------------------------------------------------------------------
def working_code(type_ref: Mapping[str, Any]) -> str:
    """A type's code, with FHIRPath system types (``Extension.url``) mapped back to FHIR."""
    if not isinstance(type_ref, Mapping):
        return ""
    code = str(type_ref.get("code", ""))
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in type_ref.get("extension", ()):
            if ext.get("url") == FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri") or code)
        return code.rsplit(".", 1)[-1].lower()
    return code


def types_of(element: Mapping[str, Any], code: str) -> list[Any]:
    """The element's type entries for one type code (kept whole: profiles, targetProfiles)."""
    return [t for t in element.get("type", ()) if working_code(t) == code] or [{"code": code}]


def child_named(children: Sequence[Node], name: str, slice_name: str | None) -> Node | None:
    """The child with this name: the plain element, else one renamed as a lone slice."""
    named = [c for c in children if c.name == name]
    return next((c for c in named if c.slice_name is None), None) \
        or next((c for c in named if c.slice_name == slice_name), None) \
        or (named[0] if named else None)


# The JSON shape each ElementDefinition property must have for the merge to use it:
# (type, type of the list's items).
_SHAPES: dict[str, tuple[type, type | None]] = {
    **dict.fromkeys(("short", "definition", "comment", "requirements", "label", "max",
                     "sliceName", "isModifierReason"), (str, None)),
    **dict.fromkeys(("min", "maxLength"), (int, None)),
    **dict.fromkeys(("mustSupport", "isModifier", "isSummary"), (bool, None)),
    **dict.fromkeys(("slicing", "binding"), (dict, None)),
    **dict.fromkeys(("type", "constraint", "code", "example", "mapping", "extension"),
                    (list, dict)),
    **dict.fromkeys(("alias", "condition"), (list, str)),
}


def _shaped(value: Any, shape: type, item: type | None = None) -> bool:
    if isinstance(value, bool) and shape is not bool:
        return False
    if not isinstance(value, shape):
        return False
    return item is None or (isinstance(value, list) and all(isinstance(v, item) for v in value))


def ill_formed(element: Mapping[str, Any]) -> list[str]:
    """The properties of a differential element that do not have their JSON shape."""
    bad = [prop for prop, (shape, item) in _SHAPES.items()
           if prop in element and not _shaped(element[prop], shape, item)]
    if "type" in element and "type" not in bad and not all(
            _shaped(t.get("code", ""), str) and _shaped(t.get("profile", []), list, str)
            and _shaped(t.get("targetProfile", []), list, str) for t in element["type"]):
        bad.append("type")
    if "slicing" in element and "slicing" not in bad and not _shaped(
            element["slicing"].get("discriminator", []), list, dict):
        bad.append("slicing")
    if "constraint" in element and "constraint" not in bad and not all(
            _shaped(c.get("key", ""), str) for c in element["constraint"]):
        bad.append("constraint")
    return bad


def usable(sd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A snapshot's elements, or [] when it is not a list of elements with paths."""
    snapshot = sd.get("snapshot")
    found = snapshot.get("element") if isinstance(snapshot, Mapping) else None
    if not isinstance(found, list) or not all(
            isinstance(e, Mapping) and isinstance(e.get("path"), str) and e["path"]
            for e in found):
        return []
    return found


def is_extension_path(path: str) -> bool:
    return path.endswith((".extension", ".modifierExtension"))


def base_of(element: Mapping[str, Any]) -> dict[str, Any]:
    base = element.get("base")
    if isinstance(base, Mapping):
        return dict(base)
    return {"path": element.get("path"), "min": element.get("min", 0),
            "max": element.get("max", "*")}
