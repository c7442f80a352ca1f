"""The snapshot generator: a StructureDefinition's differential laid over its base's snapshot.

:class:`SnapshotGenerator` copies the base snapshot into a tree of nodes, finds (or creates) the
node each differential element names: children unfolded from a datatype or a
contentReference, slices, re-slices, the implied type slices of renamed choices (FHIR R4
profiling.html §5.1.0.9 to §5.1.0.11); ``snapshot_merge`` then lays the element over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import SnapshotMissing
from ..formats.json_copy import copy_json
from .snapshot_elements import (
    MAX_DEPTH,
    Definitions,
    Key,
    Node,
    Source,
    Tree,
    base_of,
    child_named,
    element_keys,
    ill_formed,
    is_extension_path,
    source_tree,
    types_of,
    usable,
    working_code,
)
from .snapshot_merge import ElementMerge

if TYPE_CHECKING:
    from ..validation._issue import Issue

__all__ = ["SnapshotGenerator"]

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


def _as_source(node: Node) -> Source:
    """A snapshot node as it stands now, as the source of a copy (a re-slice of it)."""
    return Source(node.element, node.name, node.slice_name,
                  [_as_source(c) for c in node.children], [])


class SnapshotGenerator(ElementMerge):
    """One snapshot generation (and, through ``stack``, those of the bases it needs)."""

    def __init__(self, registry: Definitions, stack: tuple[str, ...]) -> None:
        self.registry = registry
        self.stack = stack
        self.issues: list[Issue] = []
        self.url = ""
        self.base_url = ""
        self._trees: dict[str, Tree] = {}
        self._matches: dict[tuple[Key, str], int] = {}  # differential elements per element
        self._created: Node | None = None  # the slice the last element created, if any
        self._base_tree: Tree | None = None
        self._specialization = False

    # -- entry points ------------------------------------------------------------------
    def ensure(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(sd, Mapping) and usable(sd):
            return sd if isinstance(sd, dict) else dict(sd)
        return SnapshotGenerator(self.registry, self.stack).run(sd)[0]

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
        self._base_tree = source_tree(base_elements)
        root_name = self._base_tree.root.name
        if self._specialization:
            first = diff[0].get("path") if diff and isinstance(diff[0], Mapping) else None
            root_name = str(first or sd.get("type") or root_name).split(".")[0]
        root = self._instantiate(self._base_tree.root, None, root_name=root_name)
        self._apply_all(root, diff, root_name)
        result = dict(sd)
        result["snapshot"] = {"element": [copy_json(e) for e in root.walk()]}
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
        elements = usable(SnapshotGenerator(self.registry, (*self.stack, self.url)).ensure(base))
        if not elements:
            raise SnapshotMissing(f"the base {base_url} of {self.url} has no usable snapshot")
        return elements

    def _apply_all(self, root: Node, diff: list[Any], root_name: str) -> None:
        keys = element_keys(diff)
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
    def _instantiate(self, src: Source, parent: Node | None, *, root_name: str = "",
                     slice_name: str | None = None, slices: bool = True) -> Node:
        element = dict(src.element)
        name = src.name
        slice_name = slice_name if slice_name is not None else src.slice_name
        if parent is None:
            element["id"] = element["path"] = name = root_name or src.name
        else:
            element["path"] = f"{parent.element['path']}.{name}"
            element["id"] = f"{parent.element['id']}.{name}" + (
                f":{slice_name}" if slice_name else "")
        element["base"] = base_of(src.element)
        node = Node(element, name, src, parent, slice_name)
        node.children = [self._instantiate(c, node) for c in src.children]
        if slices:
            node.slices = [self._instantiate(s, parent) for s in src.slices]
        return node

    def _tree(self, sd: Mapping[str, Any]) -> Tree | None:
        url = str(sd.get("url", ""))
        tree = self._trees.get(url)
        if tree is None:
            try:
                full = SnapshotGenerator(self.registry, (*self.stack, self.url)).ensure(sd)
            except SnapshotMissing:
                return None
            elements = usable(full)
            if not elements:
                return None
            tree = self._trees[url] = source_tree(elements)
        return tree

    def _type_tree(self, type_ref: Mapping[str, Any]) -> Tree | None:
        """The snapshot a type's children come from: its profile's, else the type's own."""
        for profile in type_ref.get("profile", ())[:1]:
            sd = self.registry.structure_definition(str(profile))
            tree = self._tree(sd) if sd is not None else None
            if tree is not None:
                return tree
        code = working_code(type_ref)
        sd = self.registry.type_definition(code) if code else None
        return self._tree(sd) if sd is not None else None

    def _unfold_extension(self, node: Node) -> None:
        """HL7 4.0.1 quirk: a new extension slice added after the slices the base already has
        gets the children of its extension definition (``url`` fixed, ``value[x]`` typed),
        unless it is the differential's last element (ElementDefinition.extension:Question
        in ``elementdefinition-de``)."""
        types = node.element.get("type") or []
        if len(types) == 1 and types[0].get("code") == "Extension" and not node.children:
            self._children(node)

    def _children(self, node: Node) -> list[Node] | None:
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

    def _apply(self, root: Node, element: Any, key: Key | None, root_name: str) -> None:
        if key is None or not isinstance(element, Mapping):
            self._issue("invalid", "", "a differential element has no path")
            return
        where = str(element.get("id") or element.get("path"))
        bad = ill_formed(element)
        if bad:
            self._issue("invalid", where, f"ignoring ill-formed {', '.join(bad)}")
            element = {k: v for k, v in element.items() if k not in bad}
        if str(element["path"]).split(".")[0] != root_name:
            self._issue("structure", where, f"path {element['path']} is not in {root_name}")
            return
        node = self._locate(root, key, element, where)
        if node is not None:
            self._merge(node, element, where)

    def _locate(self, root: Node, key: Key, diff: Mapping[str, Any], where: str) -> Node | None:
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
            child = child_named(children, name, slice_name)
            if child is None:
                choice = self._match_choice(children, name, where)
                # A renamed choice may name its implied type slice (R4 tools write
                # Extension.valueBoolean:valueBoolean); any other slice name is unknown.
                if choice is None or slice_name not in (None, name):
                    self._missing(node, name, diff, where, last)
                    return None
                child, code = choice
                if not in_slice:
                    sliced = self._type_slice(child, code, where)
                    if sliced is None:
                        return None
                    child = sliced
                elif not last and len(child.element.get("type", ())) > 1:
                    child.element["type"] = types_of(child.element, code)
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

    def _declare_slice(self, sliced: Node, name: str, key: Key, diff: Mapping[str, Any],
                       where: str, in_slice: bool) -> Node | None:
        code = self._slice_type(sliced, name)
        if code is not None:
            return self._type_slice(sliced, code, where)
        if self._lone_slice(sliced, key):
            return self._rename_as_slice(sliced, name, in_slice)
        return self._new_slice(sliced, name, diff, where)

    def _missing(self, node: Node, name: str, diff: Mapping[str, Any], where: str,
                 last: bool) -> None:
        """A name the base does not have: new in a specialization, else an error."""
        if self._specialization and last and not diff.get("sliceName"):
            element = copy_json(dict(diff))
            element["path"] = f"{node.element['path']}.{name}"
            element["id"] = f"{node.element['id']}.{name}"
            element["base"] = base_of(element)
            node.children.append(Node(element, name, Source(element, name), node,
                                      touched=True))
            return
        self._issue("structure", where, f"{node.element['path']} has no element '{name}'")

    def _match_choice(self, children: list[Node], name: str,
                      where: str) -> tuple[Node, str] | None:
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
                code = working_code(t)
                if code[:1].upper() + code[1:] == suffix:
                    return child, code
            for code in (suffix, suffix[:1].lower() + suffix[1:]):
                if self.registry.is_type(code):
                    self._issue("business-rule", where, f"type {code} is not allowed by "
                                f"the base ({child.element['id']})")
                    return child, code
        return None

    @staticmethod
    def _slice_type(choice: Node, slice_name: str) -> str | None:
        """The type a slice of a choice names by the R4 convention (``valueQuantity``)."""
        if not choice.name.endswith("[x]") or choice.slice_name is not None:
            return None
        stem = choice.name[:-3]
        for t in choice.element.get("type", ()):
            code = working_code(t)
            if stem + code[:1].upper() + code[1:] == slice_name:
                return code
        return None

    def _find_slice(self, node: Node, slice_name: str) -> Node | None:
        """The slice (or re-slice ``a/b``: slice ``b`` of slice ``a``, kept under ``a``)."""
        parts = slice_name.split("/")
        current: Node | None = node
        for i in range(len(parts)):
            wanted = "/".join(parts[: i + 1])
            current = next((s for s in current.slices if s.slice_name == wanted), None) \
                if current is not None else None
        # A re-slice whose slice the element lacks was taken as a slice of its own (_reslice).
        return current or next((s for s in node.slices if s.slice_name == slice_name), None)

    def _lone_slice(self, node: Node, key: Key) -> bool:
        """A slice name on an element without slicing, and nothing else in the differential
        about that element: R4 tools treat the slice as the element itself, renamed
        (``Composition.date:IssueDate`` in ``catalog``, no plain ``Composition.date``)."""
        return (not node.element.get("slicing") and not node.touched and not node.slices
                and node.parent is not None and node.slice_name is None
                and not is_extension_path(node.element["path"])
                and self._matches.get((key[:-1], key[-1][0]), 0) == 1)

    def _rename_as_slice(self, node: Node, name: str, in_slice: bool) -> Node:
        assert node.parent is not None
        source = node.source or Source(node.element, node.name)
        renamed = self._instantiate(source, node.parent, slice_name=name, slices=False)
        renamed.element["sliceName"] = name
        renamed.slicing_done = in_slice
        siblings = node.parent.children
        siblings[siblings.index(node)] = renamed
        return renamed

    def _type_slice(self, choice: Node, code: str, where: str) -> Node | None:
        """The implicit type slice a renamed choice path names (HL7 R4: value[x]:valueQuantity;
        the sliced element's types become the list of type slices)."""
        name = choice.name[:-3] + code[:1].upper() + code[1:]
        found = self._find_slice(choice, name)
        if found is not None:
            return found
        if choice.slice_name is not None:  # a choice renamed as a lone slice: reported, skipped
            return self._new_slice(choice, name, {}, where)
        types = types_of(choice.source.element if choice.source else choice.element, code)
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

    def _new_slice(self, sliced: Node, name: str, diff: Mapping[str, Any],
                   where: str) -> Node | None:
        if sliced.slice_name is not None:
            self._issue("not-supported", where, f"slice '{name}' of the slice "
                        f"{sliced.element['id']} is not a re-slice (a/b)", warning=True)
            return None
        if "/" in name:
            return self._reslice(sliced, name, where)
        return self._plain_slice(sliced, name, where)

    def _plain_slice(self, sliced: Node, name: str, where: str) -> Node:
        element = sliced.element
        if not element.get("slicing"):
            if is_extension_path(element["path"]):
                element["slicing"] = {"discriminator": [{"type": "value", "path": "url"}],
                                      "ordered": False, "rules": "open"}
            elif sliced.name.endswith("[x]"):
                self._type_slicing(sliced)
            else:
                self._issue("structure", where, f"slice '{name}' on {element['id']}, which "
                            "has no slicing")
        source = sliced.source or Source(element, sliced.name)
        node = self._instantiate(source, sliced.parent, slice_name=name, slices=False)
        node.element.pop("slicing", None)
        node.element["sliceName"] = name
        node.appended = bool(source.element.get("slicing"))
        node.slicing_done = not node.appended
        sliced.slices.append(node)
        return node

    def _reslice(self, sliced: Node, name: str, where: str) -> Node | None:
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
