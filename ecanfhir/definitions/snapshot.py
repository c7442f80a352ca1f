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
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._exceptions import SnapshotMissing
from .registry import Registry

if TYPE_CHECKING:  # imported when needed: validation imports the schema, which imports us
    from ..validation._issue import Issue, IssueCode

__all__ = ["ensure_snapshot", "generate_snapshot", "snapshot_issues"]

Segment = tuple[str, str | None]  # ("coding", "BodyHeightCode"): element name, slice name
Key = tuple[Segment, ...]  # the segments below the root: Patient.identifier:cpr.system

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
PROFILE_ELEMENT_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element"
CHOICE_PROPERTIES = ("fixed", "pattern", "minValue", "maxValue")
BINDABLE = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})
MAX_DEPTH = 20  # profiles on profiles on ...; deeper is a cycle or nonsense


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
    return _Generator(registry, ()).run(sd)[0]


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
    return _Generator(registry, ()).run(sd)[1]


def ensure_snapshot(sd: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    """``sd`` itself when it carries a snapshot, else :func:`generate_snapshot` (not cached:
    the caller owns any cache, e.g. by ``url|version``).

    Raises:
        SnapshotMissing: as :func:`generate_snapshot`.
    """
    return _Generator(registry, ()).ensure(sd)


# -- trees ---------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class _Source:
    """A read-only element of a base (or datatype) snapshot, with its children and slices."""

    element: Mapping[str, Any]
    name: str
    slice_name: str | None = None
    children: list[_Source] = field(default_factory=list)
    slices: list[_Source] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Tree:
    root: _Source
    by_id: dict[str, _Source]


@dataclass(eq=False, slots=True)
class _Node:
    """An element of the snapshot being built."""

    element: dict[str, Any]
    name: str
    source: _Source | None  # what the base says, untouched by this differential
    parent: _Node | None  # for a slice: the sliced element's parent
    slice_name: str | None = None
    children: list[_Node] = field(default_factory=list)
    slices: list[_Node] = field(default_factory=list)
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


def _element_keys(elements: Sequence[Mapping[str, Any]]) -> list[Key | None]:
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


def _source_tree(elements: Sequence[Mapping[str, Any]]) -> _Tree:
    root = _Source(elements[0], str(elements[0].get("path", "")))
    by_key: dict[Key, _Source] = {(): root}
    by_id: dict[str, _Source] = {root.name: root}
    for element, key in zip(elements[1:], _element_keys(elements)[1:], strict=True):
        if not key:
            continue
        name, slice_name = key[-1]
        node = _Source(element, name, slice_name)
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
    return _Tree(root, by_id)


# -- small FHIR helpers -------------------------------------------------------------------
def _working_code(type_ref: Mapping[str, Any]) -> str:
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


def _types_of(element: Mapping[str, Any], code: str) -> list[Any]:
    """The element's type entries for one type code (kept whole: profiles, targetProfiles)."""
    return [t for t in element.get("type", ()) if _working_code(t) == code] or [{"code": code}]


def _child(children: Sequence[_Node], name: str, slice_name: str | None) -> _Node | None:
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


def _ill_formed(element: Mapping[str, Any]) -> list[str]:
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


def _usable(sd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A snapshot's elements, or [] when it is not a list of elements with paths."""
    snapshot = sd.get("snapshot")
    found = snapshot.get("element") if isinstance(snapshot, Mapping) else None
    if not isinstance(found, list) or not all(
            isinstance(e, Mapping) and isinstance(e.get("path"), str) and e["path"]
            for e in found):
        return []
    return found


def _is_extension_path(path: str) -> bool:
    return path.endswith((".extension", ".modifierExtension"))


def _choice_key(element: Mapping[str, Any], prefix: str) -> str | None:
    return next((k for k in element if k.startswith(prefix) and k != prefix), None)


def _max_value(value: Any) -> float:
    return float("inf") if value == "*" else float(str(value)) if str(value).isdigit() else 0.0


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _base_of(element: Mapping[str, Any]) -> dict[str, Any]:
    base = element.get("base")
    if isinstance(base, Mapping):
        return dict(base)
    return {"path": element.get("path"), "min": element.get("min", 0),
            "max": element.get("max", "*")}


# -- the generator -------------------------------------------------------------------------
# Logical models written for R4 often specialise ``Base`` (R5's root type, which R4 core lacks),
# as the HL7 tools allow: an abstract root with no children.
_BASE_URL = "http://hl7.org/fhir/StructureDefinition/Base"


def _logical_base(url: str) -> Mapping[str, Any] | None:
    if url != _BASE_URL:
        return None
    root = {"id": "Base", "path": "Base", "min": 0, "max": "*",
            "base": {"path": "Base", "min": 0, "max": "*"}}
    return {"resourceType": "StructureDefinition", "url": _BASE_URL, "name": "Base",
            "kind": "logical", "abstract": True, "type": "Base",
            "snapshot": {"element": [root]}}


def _as_source(node: _Node) -> _Source:
    """A snapshot node as it stands now, as the source of a copy (a re-slice of it)."""
    return _Source(node.element, node.name, node.slice_name,
                   [_as_source(c) for c in node.children], [])


class _Generator:
    """One snapshot generation (and, through ``stack``, those of the bases it needs)."""

    def __init__(self, registry: Registry, stack: tuple[str, ...]) -> None:
        self.registry = registry
        self.stack = stack
        self.issues: list[Issue] = []
        self.url = ""
        self.base_url = ""
        self._trees: dict[str, _Tree] = {}
        self._matches: dict[tuple[Key, str], int] = {}  # differential elements per element
        self._created: _Node | None = None  # the slice the last element created, if any
        self._base_tree: _Tree | None = None
        self._specialization = False

    # -- entry points ------------------------------------------------------------------
    def ensure(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(sd, Mapping) and _usable(sd):
            return sd if isinstance(sd, dict) else dict(sd)
        return _Generator(self.registry, self.stack).run(sd)[0]

    def run(self, sd: Mapping[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
        base_elements = self._base_elements(sd)
        differential = sd.get("differential")
        diff = differential.get("element") if isinstance(differential, Mapping) else None
        if differential is not None and not isinstance(diff, list):
            self._issue("invalid", "StructureDefinition.differential", "the differential must "
                        "hold an array 'element'; nothing of it was applied")
        if not isinstance(diff, list):
            diff = []
        self._specialization = sd.get("derivation") == "specialization"
        self._base_tree = _source_tree(base_elements)
        root_name = self._base_tree.root.name
        if self._specialization:
            first = diff[0].get("path") if diff and isinstance(diff[0], Mapping) else None
            root_name = str(first or sd.get("type") or root_name).split(".")[0]
        root = self._instantiate(self._base_tree.root, None, root_name=root_name)
        self._apply_all(root, diff, root_name)
        result = dict(sd)
        result["snapshot"] = {"element": [_copy(e) for e in root.walk()]}
        return result, self.issues

    def _base_elements(self, sd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The snapshot of ``sd``'s base, generated first when the base has none."""
        if not isinstance(sd, Mapping) or sd.get("resourceType") != "StructureDefinition":
            raise SnapshotMissing("not a StructureDefinition: cannot generate a snapshot")
        self.url = str(sd.get("url") or sd.get("id") or "")
        if self.url in self.stack or len(self.stack) > MAX_DEPTH:
            raise SnapshotMissing(f"StructureDefinition {self.url}: its bases form a cycle "
                                  f"({' → '.join((*self.stack, self.url))})")
        base_url = sd.get("baseDefinition")
        if not isinstance(base_url, str) or not base_url:
            raise SnapshotMissing(f"StructureDefinition {self.url} has no snapshot and no "
                                  "baseDefinition to generate one from")
        base = self.registry.structure_definition(base_url) or _logical_base(base_url)
        if base is None:
            raise SnapshotMissing(f"cannot generate the snapshot of {self.url}: its base "
                                  f"{base_url} is not loaded")
        self.base_url = str(base.get("url", base_url))
        elements = _usable(_Generator(self.registry, (*self.stack, self.url)).ensure(base))
        if not elements:
            raise SnapshotMissing(f"the base {base_url} of {self.url} has no usable snapshot")
        return elements

    def _apply_all(self, root: _Node, diff: list[Any], root_name: str) -> None:
        keys = _element_keys(diff)
        for key in keys:
            if key:
                where = (key[:-1], key[-1][0])
                self._matches[where] = self._matches.get(where, 0) + 1
        for i, (element, key) in enumerate(zip(diff, keys, strict=True)):
            self._created = None
            self._apply(root, element, key, root_name)
            following = diff[i + 1].get("path") if i + 1 < len(diff) \
                and isinstance(diff[i + 1], Mapping) else None
            if self._created is not None and self._created.appended and following \
                    and not str(following).startswith(f"{element['path']}."):
                self._unfold_extension(self._created)

    # -- building nodes ----------------------------------------------------------------
    def _instantiate(self, src: _Source, parent: _Node | None, *, root_name: str = "",
                     slice_name: str | None = None, slices: bool = True) -> _Node:
        element = dict(src.element)
        name = src.name
        slice_name = slice_name if slice_name is not None else src.slice_name
        if parent is None:
            element["id"] = element["path"] = name = root_name or src.name
        else:
            element["path"] = f"{parent.element['path']}.{name}"
            element["id"] = f"{parent.element['id']}.{name}" + (
                f":{slice_name}" if slice_name else "")
        element["base"] = _base_of(src.element)
        node = _Node(element, name, src, parent, slice_name)
        node.children = [self._instantiate(c, node) for c in src.children]
        if slices:
            node.slices = [self._instantiate(s, parent) for s in src.slices]
        return node

    def _tree(self, sd: Mapping[str, Any]) -> _Tree | None:
        url = str(sd.get("url", ""))
        tree = self._trees.get(url)
        if tree is None:
            try:
                full = _Generator(self.registry, (*self.stack, self.url)).ensure(sd)
            except SnapshotMissing:
                return None
            elements = _usable(full)
            if not elements:
                return None
            tree = self._trees[url] = _source_tree(elements)
        return tree

    def _type_tree(self, type_ref: Mapping[str, Any]) -> _Tree | None:
        """The snapshot a type's children come from: its profile's, else the type's own."""
        for profile in type_ref.get("profile", ())[:1]:
            sd = self.registry.structure_definition(str(profile))
            tree = self._tree(sd) if sd is not None else None
            if tree is not None:
                return tree
        code = _working_code(type_ref)
        sd = self.registry.type_definition(code) if code else None
        return self._tree(sd) if sd is not None else None

    def _unfold_extension(self, node: _Node) -> None:
        """HL7 4.0.1 quirk: a new extension slice added after the slices the base already has
        gets the children of its extension definition (``url`` fixed, ``value[x]`` typed),
        unless it is the differential's last element (ElementDefinition.extension:Question
        in ``elementdefinition-de``)."""
        types = node.element.get("type") or []
        if len(types) == 1 and types[0].get("code") == "Extension" and not node.children:
            self._children(node)

    def _children(self, node: _Node) -> list[_Node] | None:
        """The node's children, unfolding its type (or contentReference) when it has none."""
        if node.children:
            return node.children
        element = node.element
        ref = element.get("contentReference")
        if isinstance(ref, str) and self._base_tree is not None:
            target = self._base_tree.by_id.get(ref.partition("#")[2])
            if target is None:
                return None
            element.pop("contentReference", None)
            element["type"] = list(target.element.get("type", ()))
            node.children = [self._instantiate(c, node) for c in target.children]
            node.dived = True
            return node.children
        types = element.get("type") or []
        if len(types) != 1 and not (types and all(t.get("code") == "Reference" for t in types)):
            return None
        tree = self._type_tree(types[0])
        if tree is None or not tree.root.children:
            return None
        node.children = [self._instantiate(c, node) for c in tree.root.children]
        node.dived = True
        return node.children

    # -- applying the differential -----------------------------------------------------
    def _issue(self, code: IssueCode, where: str, message: str, *,
               warning: bool = False) -> None:
        from ..validation._issue import Issue

        make = Issue.warning if warning else Issue.error
        self.issues.append(make(code, where, f"{self.url}: {message}", "snapshot"))

    def _apply(self, root: _Node, element: Any, key: Key | None, root_name: str) -> None:
        if key is None or not isinstance(element, Mapping):
            self._issue("invalid", "", "a differential element has no path")
            return
        where = str(element.get("id") or element.get("path"))
        bad = _ill_formed(element)
        if bad:
            self._issue("invalid", where, f"ignoring ill-formed {', '.join(bad)}")
            element = {k: v for k, v in element.items() if k not in bad}
        if str(element["path"]).split(".")[0] != root_name:
            self._issue("structure", where, f"path {element['path']} is not in {root_name}")
            return
        node = self._locate(root, key, element, where)
        if node is not None:
            self._merge(node, element, where)

    def _locate(self, root: _Node, key: Key, diff: Mapping[str, Any], where: str) -> _Node | None:
        """Find (or create: slices, unfolded types) the node a differential element names.

        HL7's generator processes a slice of a backbone element with a flag ("slicingDone")
        that makes a renamed choice (``component:x.valueQuantity``) constrain ``value[x]``
        itself instead of opening a type slice; the flag is dropped when the walk dives into a
        datatype, and is not set for new slices added to an element the base already slices.
        """
        node = root
        in_slice = False
        for depth, (name, slice_name) in enumerate(key):
            last = depth == len(key) - 1
            children = self._children(node) or []
            if node.dived:
                in_slice = False
            child = _child(children, name, slice_name)
            if child is None:
                choice = self._match_choice(children, name, where)
                # A renamed choice may name its implied type slice (R4 tools write
                # Extension.valueBoolean:valueBoolean); any other slice name is unknown.
                if choice is None or slice_name not in (None, name):
                    self._missing(node, name, diff, where, last)
                    return None
                child, code = choice
                if not in_slice:
                    child = self._type_slice(child, code, where)
                elif not last and len(child.element.get("type", ())) > 1:
                    child.element["type"] = _types_of(child.element, code)
            if slice_name is not None and child.slice_name != slice_name:
                found = self._find_slice(child, slice_name)
                if found is None:
                    if not last or diff.get("sliceName") not in (None, slice_name):
                        self._issue("structure", where, f"slice '{slice_name}' of "
                                    f"{child.element['id']} is not declared")
                        return None
                    found = self._declare_slice(child, slice_name, key, diff, where, in_slice)
                    if found is None:
                        return None
                    self._created = found
                child = found
            if child.slice_name is not None:
                in_slice = child.slicing_done
            node = child
        return node

    def _declare_slice(self, sliced: _Node, name: str, key: Key, diff: Mapping[str, Any],
                       where: str, in_slice: bool) -> _Node | None:
        code = self._slice_type(sliced, name)
        if code is not None:
            return self._type_slice(sliced, code, where)
        if self._lone_slice(sliced, key):
            return self._rename_as_slice(sliced, name, in_slice)
        return self._new_slice(sliced, name, diff, where)

    def _missing(self, node: _Node, name: str, diff: Mapping[str, Any], where: str,
                 last: bool) -> None:
        """A name the base does not have: new in a specialization, else an error."""
        if self._specialization and last and not diff.get("sliceName"):
            element = _copy(dict(diff))
            element["path"] = f"{node.element['path']}.{name}"
            element["id"] = f"{node.element['id']}.{name}"
            element["base"] = _base_of(element)
            node.children.append(_Node(element, name, _Source(element, name), node,
                                       touched=True))
            return
        self._issue("structure", where, f"{node.element['path']} has no element '{name}'")

    def _match_choice(self, children: list[_Node], name: str,
                      where: str) -> tuple[_Node, str] | None:
        """``valueQuantity`` → (the ``value[x]`` node, ``Quantity``)."""
        for child in children:
            stem = child.name[:-3]
            if not child.name.endswith("[x]") or not name.startswith(stem) or name == stem:
                continue
            suffix = name[len(stem):]
            # Types narrowed only by earlier renamed choices still allow the base's others.
            typed = child.source.element if child.type_shortcut and child.source else \
                child.element
            for t in typed.get("type", ()):
                code = _working_code(t)
                if code[:1].upper() + code[1:] == suffix:
                    return child, code
            for code in (suffix, suffix[:1].lower() + suffix[1:]):
                if self.registry.is_type(code):
                    self._issue("business-rule", where, f"type {code} is not allowed by "
                                f"the base ({child.element['id']})")
                    return child, code
        return None

    @staticmethod
    def _slice_type(choice: _Node, slice_name: str) -> str | None:
        """The type a slice of a choice names by the R4 convention (``valueQuantity``)."""
        if not choice.name.endswith("[x]") or choice.slice_name is not None:
            return None
        stem = choice.name[:-3]
        for t in choice.element.get("type", ()):
            code = _working_code(t)
            if stem + code[:1].upper() + code[1:] == slice_name:
                return code
        return None

    def _find_slice(self, node: _Node, slice_name: str) -> _Node | None:
        """The slice (or re-slice ``a/b``: slice ``b`` of slice ``a``, kept under ``a``)."""
        parts = slice_name.split("/")
        current: _Node | None = node
        for i in range(len(parts)):
            wanted = "/".join(parts[: i + 1])
            current = next((s for s in current.slices if s.slice_name == wanted), None) \
                if current is not None else None
        # A re-slice whose slice the element lacks was taken as a slice of its own (_reslice).
        return current or next((s for s in node.slices if s.slice_name == slice_name), None)

    def _lone_slice(self, node: _Node, key: Key) -> bool:
        """A slice name on an element without slicing, and nothing else in the differential
        about that element: R4 tools treat the slice as the element itself, renamed
        (``Composition.date:IssueDate`` in ``catalog``, no plain ``Composition.date``)."""
        return (not node.element.get("slicing") and not node.touched and not node.slices
                and node.parent is not None and node.slice_name is None
                and not _is_extension_path(node.element["path"])
                and self._matches.get((key[:-1], key[-1][0]), 0) == 1)

    def _rename_as_slice(self, node: _Node, name: str, in_slice: bool) -> _Node:
        assert node.parent is not None
        source = node.source or _Source(node.element, node.name)
        renamed = self._instantiate(source, node.parent, slice_name=name, slices=False)
        renamed.element["sliceName"] = name
        renamed.slicing_done = in_slice
        siblings = node.parent.children
        siblings[siblings.index(node)] = renamed
        return renamed

    def _type_slice(self, choice: _Node, code: str, where: str) -> _Node:
        """The implicit type slice a renamed choice path names (HL7 R4: value[x]:valueQuantity;
        the sliced element's types become the list of type slices)."""
        name = choice.name[:-3] + code[:1].upper() + code[1:]
        found = self._find_slice(choice, name)
        if found is not None:
            return found
        types = _types_of(choice.source.element if choice.source else choice.element, code)
        if not choice.element.get("slicing") and not choice.touched:
            choice.type_shortcut = True
            choice.element["type"] = []
        if choice.type_shortcut or not choice.element.get("slicing"):
            self._type_slicing(choice)
        if choice.type_shortcut:
            choice.element["type"] = [*choice.element["type"], *types]
        created = self._new_slice(choice, name, {}, where)
        assert created is not None  # a plain (not re-)slice is always created
        created.element["type"] = types
        return created

    @staticmethod
    def _type_slicing(choice: _Node) -> None:
        # The type slicing a renamed choice (or a type slice without slicing) implies: closed
        # and unordered, as the R4 publication has it (bodyheight's value[x]).
        choice.element["slicing"] = {"discriminator": [{"type": "type", "path": "$this"}],
                                     "ordered": False, "rules": "closed"}

    def _new_slice(self, sliced: _Node, name: str, diff: Mapping[str, Any],
                   where: str) -> _Node | None:
        if sliced.slice_name is not None:
            self._issue("not-supported", where, f"slice '{name}' of the slice "
                        f"{sliced.element['id']} is not a re-slice (a/b)", warning=True)
            return None
        if "/" in name:
            return self._reslice(sliced, name, where)
        return self._plain_slice(sliced, name, where)

    def _plain_slice(self, sliced: _Node, name: str, where: str) -> _Node:
        element = sliced.element
        if not element.get("slicing"):
            if _is_extension_path(element["path"]):
                element["slicing"] = {"discriminator": [{"type": "value", "path": "url"}],
                                      "ordered": False, "rules": "open"}
            elif sliced.name.endswith("[x]"):
                self._type_slicing(sliced)
            else:
                self._issue("structure", where, f"slice '{name}' on {element['id']}, which "
                            "has no slicing")
        source = sliced.source or _Source(element, sliced.name)
        node = self._instantiate(source, sliced.parent, slice_name=name, slices=False)
        node.element.pop("slicing", None)
        node.element["sliceName"] = name
        node.appended = bool(source.element.get("slicing"))
        node.slicing_done = not node.appended
        sliced.slices.append(node)
        return node

    def _reslice(self, sliced: _Node, name: str, where: str) -> _Node | None:
        """Re-slicing (R4 profiling.html §5.1.0.11): ``a/b`` is slice ``b`` of slice ``a``, a
        subset of ``a``'s values, so it starts as a copy of ``a`` (its constraints and
        children) and is listed after ``a``'s children. Inside a slice whose element lacks
        ``a`` (slices copy the base's children, so a slice ``a`` of the slicing entry is not
        there: ``action:x.extension:a/b``), the re-slice is taken as a slice of the element."""
        parent_name = name.rpartition("/")[0]
        parent = self._find_slice(sliced, parent_name)
        if parent is None:
            self._issue("structure", where, f"slice '{parent_name}' re-sliced by '{name}' is "
                        f"not declared on {sliced.element['id']}: taken as a slice of it",
                        warning=True)
            return self._plain_slice(sliced, name, where)
        node = self._instantiate(_as_source(parent), sliced.parent, slice_name=name,
                                 slices=False)
        node.element.pop("slicing", None)
        node.element["sliceName"] = name
        node.appended, node.slicing_done = parent.appended, parent.slicing_done
        parent.slices.append(node)
        return node

    # -- merging one differential element ----------------------------------------------
    def _merge(self, node: _Node, diff: Mapping[str, Any], where: str) -> None:
        """Lay a differential element over its snapshot element (HL7 updateFromDefinition)."""
        self._template(node, diff)
        el = node.element
        if diff.get("slicing"):
            self._merge_slicing(node, diff["slicing"])
        for prop in ("short", "definition", "comment", "requirements", "label"):
            if prop in diff:
                text = str(diff[prop])
                el[prop] = f"{el.get(prop, '')}\r\n{text[3:]}" if text.startswith("...") \
                    and prop in ("definition", "comment", "requirements") else text
        self._merge_cardinality(node, diff, where)
        for prefix in CHOICE_PROPERTIES:
            found = _choice_key(diff, prefix)
            if found is not None:
                for old in [k for k in el if k.startswith(prefix) and k != prefix]:
                    del el[old]
                el[found] = diff[found]
        for prop in ("maxLength", "mustSupport", "isSummary"):
            if prop in diff:
                el[prop] = diff[prop]
        if _is_extension_path(el["path"]) or el["path"] == "Extension":
            # Profiles cannot change isModifier, but extensions say whether they modify.
            for prop in ("isModifier", "isModifierReason"):
                if prop in diff:
                    el[prop] = diff[prop]
        for prop in ("alias", "condition", "code", "example", "mapping"):
            if diff.get(prop):
                have = list(el.get(prop, ()))
                el[prop] = have + [v for v in diff[prop] if v not in have]
        if diff.get("binding"):
            self._merge_binding(el, diff["binding"], where)
        if diff.get("type"):
            self._merge_type(el, diff["type"], where)
            # A binding only makes sense on a bindable type (HL7 drops it: task 8477).
            if el.get("binding") and not any(_working_code(t) in BINDABLE for t in el["type"]):
                del el["binding"]
        if any("source" not in c for c in el.get("constraint", ())):
            # Inherited invariants name where they come from (HL7: the base's url).
            el["constraint"] = [c if "source" in c else {**c, "source": self.base_url}
                                for c in el["constraint"]]
        if diff.get("constraint"):
            keys = {c.get("key") for c in el.get("constraint", ()) if isinstance(c.get("key"), str)}
            added = [{**c, "source": c.get("source") or self.url}
                     for c in diff["constraint"] if c.get("key") not in keys]
            el["constraint"] = [*el.get("constraint", ()), *added]
        if diff.get("extension"):
            urls = {e.get("url") for e in diff["extension"]}
            el["extension"] = [e for e in el.get("extension", ()) if e.get("url") not in urls]
            el["extension"] += list(diff["extension"])
        node.touched = True

    def _template(self, node: _Node, diff: Mapping[str, Any]) -> None:
        """A single profiled type (not Reference) makes the profile's root the starting point,
        overwritten by what the base says (HL7 overWriteWithCurrent)."""
        types: Sequence[Any] = diff.get("type") or ()
        if node.touched or len(types) != 1 or types[0].get("code") == "Reference" \
                or not types[0].get("profile") or node.appended:
            return
        profile = types[0]["profile"][0]
        sd = self.registry.structure_definition(str(profile))
        tree = self._tree(sd) if sd is not None else None
        if tree is None:
            return
        src = tree.root
        # The profile may name one of its elements (JSON: an extension on _profile[0]).
        profile_extras = types[0].get("_profile") or [None]
        for ext in (profile_extras[0] or {}).get("extension", ()):
            if ext.get("url") == PROFILE_ELEMENT_EXT:
                src = tree.by_id.get(str(ext.get("valueString")), src)
        template = dict(src.element)
        usage = node.source.element if node.source is not None else node.element
        for prop in ("label", "definition", "short", "comment", "requirements", "min", "max",
                     "maxLength", "mustSupport", "binding"):
            if prop in usage:
                template[prop] = usage[prop]
        for prefix in (*CHOICE_PROPERTIES, "example"):
            if _choice_key(usage, prefix) is not None or prefix in usage:
                for old in [k for k in template if k.startswith(prefix)]:
                    del template[old]
                template.update({k: v for k, v in usage.items() if k.startswith(prefix)})
        for prop in ("code", "alias"):
            template[prop] = [*template.get(prop, ()), *usage.get(prop, ())]
            if not template[prop]:
                del template[prop]
        keys = {c.get("key") for c in template.get("constraint", ())}
        template["constraint"] = [*template.get("constraint", ()), *(
            c for c in usage.get("constraint", ()) if c.get("key") not in keys)]
        for prop in ("id", "path", "base", "sliceName"):
            template.pop(prop, None)
            if prop in node.element:
                template[prop] = node.element[prop]
        template.pop("slicing", None)
        node.element = template

    def _merge_slicing(self, node: _Node, slicing: Mapping[str, Any]) -> None:
        el = node.element
        current = el.get("slicing")
        if node.source is None or not node.source.element.get("slicing") or not current:
            el["slicing"] = dict(slicing)
        else:
            merged = dict(current)
            discriminators = list(merged.get("discriminator", ()))
            merged["discriminator"] = discriminators + [
                d for d in slicing.get("discriminator", ()) if d not in discriminators]
            for prop in ("ordered", "rules", "description"):
                if prop in slicing:
                    merged[prop] = slicing[prop]
            el["slicing"] = merged
        # A renamed choice (valueQuantity) made the closed R4 type slicing; an explicit type
        # slicing keeps the differential's rules: ``open`` leaves the types without a slice
        # allowed and unconstrained (HL7's IG tools publish IPS MedicationStatement.effective[x]
        # so; the validator does not force it closed either).
        if node.type_shortcut:
            self._type_slicing(node)

    def _merge_cardinality(self, node: _Node, diff: Mapping[str, Any], where: str) -> None:
        el = node.element
        if "min" in diff:
            if isinstance(diff["min"], int) and diff["min"] < int(el.get("min", 0)) \
                    and node.slice_name is None:
                self._issue("business-rule", where, f"min {diff['min']} is lower than the "
                            f"base min {el.get('min')}")
            el["min"] = diff["min"]
        if "max" in diff:
            if _max_value(diff["max"]) > _max_value(el.get("max", "*")):
                self._issue("business-rule", where, f"max {diff['max']} is higher than the "
                            f"base max {el.get('max')}")
            el["max"] = diff["max"]

    def _merge_type(self, el: dict[str, Any], types: list[Any], where: str) -> None:
        allowed = {_working_code(t) for t in el.get("type", ())}
        if allowed and types != el.get("type"):
            for t in types:
                code = _working_code(t)
                if code not in allowed and not self._specializes(code, allowed):
                    self._issue("business-rule", where, f"type {code} is not allowed by the "
                                f"base ({', '.join(sorted(allowed))})")
        el["type"] = list(types)

    def _specializes(self, code: str, allowed: set[str]) -> bool:
        """True when type ``code`` derives from one of ``allowed`` (Age from Quantity, a
        resource from Resource)."""
        sd = self.registry.type_definition(code)
        for _ in range(MAX_DEPTH):
            base = sd.get("baseDefinition") if sd is not None else None
            if not isinstance(base, str):
                return False
            sd = self.registry.structure_definition(base)
            if sd is not None and (sd.get("type") in allowed or sd.get("id") in allowed):
                return True
        return False

    def _merge_binding(self, el: dict[str, Any], binding: Mapping[str, Any], where: str) -> None:
        current = el.get("binding")
        if current == binding:
            return
        strength = binding.get("strength")
        if current and current.get("strength") == "required" and strength \
                and strength != "required":
            self._issue("business-rule", where, f"binding strength {strength} weakens the "
                        "base's required binding")
        merged = {k: v for k, v in (current or {}).items()
                  if k not in ("extension", "description")}
        merged.update(binding)
        el["binding"] = merged
