"""The element keys, source trees, nodes and small ElementDefinition helpers that snapshot
generation works on (``ecanfhir.definitions.snapshot_elements``), on hand-written elements."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir.definitions.snapshot_elements import (
    Node,
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

FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
SYSTEM = "http://hl7.org/fhirpath/System."


def el(path: str, element_id: str | None = None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"path": path, **extra}
    if element_id is not None:
        found["id"] = element_id
    return found


# -- keys ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("element", "key"), [
    (el("Patient", "Patient"), ()),
    (el("Patient.identifier.system", "Patient.identifier:cpr.system"),
     (("identifier", "cpr"), ("system", None))),
    # a slice name with dots: the path says where it ends
    (el("Patient.identifier.system", "Patient.identifier:dk.cpr.v2.system"),
     (("identifier", "dk.cpr.v2"), ("system", None))),
    (el("Patient.identifier", "Patient.identifier:dk.cpr"), (("identifier", "dk.cpr"),)),
    # the next part with a slice of its own ends the dotted slice name too
    (el("Patient.identifier.extension", "Patient.identifier:a.b.extension:c"),
     (("identifier", "a.b"), ("extension", "c"))),
    # a sliceName the id leaves out names the last segment's slice
    (el("Patient.identifier", "Patient.identifier", sliceName="cpr"), (("identifier", "cpr"),)),
    # an empty sliceName is none
    (el("Patient.identifier", "Patient.identifier", sliceName=""), (("identifier", None),)),
])
def test_key_from_id(element: dict[str, Any], key: tuple[Any, ...]) -> None:
    assert element_keys([element]) == [key]


@pytest.mark.parametrize("element_id", [
    "Patient.name.family",  # another element than the path
    "Patient.identifier",  # shorter than the path
    "Patient.identifier.system.value",  # longer than the path
    "Basic.identifier.system",  # another root
])
def test_id_that_does_not_follow_the_path_falls_back_to_the_path(element_id: str) -> None:
    assert element_keys([el("Patient.identifier.system", element_id)]) == [
        (("identifier", None), ("system", None))]


def test_path_only_keys_follow_the_slices_before_them() -> None:
    """Without ids, a child belongs to the last slice of its parent's path; a new element at
    the parent's path (another slice) starts afresh, and its old children are forgotten."""
    elements: list[Any] = [
        el("Observation"),
        el("Observation.component", sliceName="systolic"),
        el("Observation.component.code"),
        el("Observation.component", sliceName="diastolic"),
        el("Observation.component.code.text"),
        el("Observation.component"),
        el("Observation.component.code"),
    ]
    assert element_keys(elements) == [
        (),
        (("component", "systolic"),),
        (("component", "systolic"), ("code", None)),
        (("component", "diastolic"),),
        (("component", "diastolic"), ("code", None), ("text", None)),
        (("component", None),),
        (("component", None), ("code", None)),
    ]


def test_id_with_more_parts_than_the_path_falls_back_to_the_slices_before_it() -> None:
    """An id that goes on after the path ends is no key: the path and the slice before the
    element give it (here the component slice ``s``)."""
    elements: list[Any] = [el("Observation"), el("Observation.component", sliceName="s"),
                           el("Observation.component.code", "Observation.component.code.text")]
    assert element_keys(elements)[2] == (("component", "s"), ("code", None))


def test_slice_name_the_id_leaves_out_names_the_last_segment_only() -> None:
    """``sliceName`` completes the id's key at its last segment; the parent's segment stays
    as the id says (not the slice seen before at that path)."""
    elements: list[Any] = [
        el("Observation"),
        el("Observation.component", "Observation.component:s", sliceName="s"),
        el("Observation.component.code", "Observation.component.code", sliceName="x")]
    assert element_keys(elements)[2] == (("component", None), ("code", "x"))


@pytest.mark.parametrize("slice_name", ["", 5, None, ["s"]])
def test_slice_name_that_is_no_string_is_none(slice_name: Any) -> None:
    assert element_keys([el("Patient.identifier", sliceName=slice_name)]) == [
        (("identifier", None),)]


def test_elements_without_a_path_have_no_key() -> None:
    elements: list[Any] = [el("Patient"), {"id": "Patient.x"}, el(""), {"path": 3}, "text",
                           el("Patient.name")]
    assert element_keys(elements) == [(), None, None, None, None, (("name", None),)]


def test_a_key_from_the_path_uses_the_id_as_given_elsewhere() -> None:
    """An id that is not a string is ignored; the path gives the key."""
    assert element_keys([el("Patient.name", None, id=7)]) == [(("name", None),)]


# -- source trees --------------------------------------------------------------------------
def test_source_tree_children_slices_and_reslices() -> None:
    elements = [
        el("Patient", "Patient"),
        el("Patient.identifier", "Patient.identifier"),
        el("Patient.identifier.system", "Patient.identifier.system"),
        el("Patient.identifier", "Patient.identifier:cpr", sliceName="cpr"),
        el("Patient.identifier.system", "Patient.identifier:cpr.system"),
        el("Patient.identifier", "Patient.identifier:cpr/old", sliceName="cpr/old"),
        el("Patient.name", "Patient.name"),
    ]
    tree = source_tree(elements)
    root = tree.root
    assert (root.name, root.slice_name, root.element) == ("Patient", None, elements[0])
    assert [c.name for c in root.children] == ["identifier", "name"]
    identifier = root.children[0]
    assert [c.name for c in identifier.children] == ["system"]
    assert [(s.name, s.slice_name) for s in identifier.slices] == [("identifier", "cpr")]
    cpr = identifier.slices[0]
    assert [c.element["id"] for c in cpr.children] == ["Patient.identifier:cpr.system"]
    assert [s.slice_name for s in cpr.slices] == ["cpr/old"]
    assert tree.by_id["Patient"] is root
    assert tree.by_id["Patient.identifier:cpr"] is cpr
    assert tree.by_id["Patient.identifier:cpr/old"] is cpr.slices[0]
    assert set(tree.by_id) == {e["id"] for e in elements}


def test_source_tree_lone_slice_orphans_and_path_ids() -> None:
    """A slice without its plain element is a child; an element whose parent is missing, or
    a re-slice of a missing slice, is left out; elements without ids are found by path."""
    elements = [
        el("Composition"),
        el("Composition.date", "Composition.date:IssueDate", sliceName="IssueDate"),
        el("Composition.section.title", "Composition.section.title"),
        el("Composition.event", "Composition.event:a/b", sliceName="a/b"),
        el("Composition.title"),
    ]
    tree = source_tree(elements)
    assert [(c.name, c.slice_name) for c in tree.root.children] == [
        ("date", "IssueDate"), ("title", None)]
    assert set(tree.by_id) == {"Composition", "Composition.date:IssueDate",
                               "Composition.title"}
    assert tree.by_id["Composition.title"].element is elements[4]


def test_source_tree_nested_reslice_and_lone_slice() -> None:
    """A re-slice and a lone slice below the root belong to their own parent."""
    elements = [
        el("Patient", "Patient"),
        el("Patient.contact", "Patient.contact"),
        el("Patient.contact.telecom", "Patient.contact.telecom"),
        el("Patient.contact.telecom", "Patient.contact.telecom:a", sliceName="a"),
        el("Patient.contact.telecom", "Patient.contact.telecom:a/b", sliceName="a/b"),
        el("Patient.contact.name", "Patient.contact.name:n", sliceName="n"),
    ]
    tree = source_tree(elements)
    contact = tree.by_id["Patient.contact"]
    assert [(c.name, c.slice_name) for c in contact.children] == [
        ("telecom", None), ("name", "n")]
    assert [c.name for c in tree.root.children] == ["contact"]
    a = tree.by_id["Patient.contact.telecom:a"]
    assert [s.element["id"] for s in a.slices] == ["Patient.contact.telecom:a/b"]


def test_source_tree_skips_an_element_without_key_and_goes_on() -> None:
    """A second element at the root's path has no key below the root: it is skipped, the
    elements after it are not."""
    tree = source_tree([el("Patient", "Patient"), el("Patient", "Patient.again"),
                        el("Patient.name", "Patient.name")])
    assert [c.name for c in tree.root.children] == ["name"]
    assert set(tree.by_id) == {"Patient", "Patient.name"}


def test_source_tree_root_without_path() -> None:
    assert source_tree([{"id": "x"}]).root.name == ""


# -- nodes ---------------------------------------------------------------------------------
def node(name: str, slice_name: str | None = None, **parts: list[Node]) -> Node:
    return Node({"id": name + (f":{slice_name}" if slice_name else "")}, name, None, None,
                slice_name, **parts)


def test_node_defaults() -> None:
    fresh = node("a")
    assert (fresh.children, fresh.slices, fresh.dived, fresh.slicing_done, fresh.touched,
            fresh.appended, fresh.type_shortcut) == ([], [], False, True, False, False, False)


def test_walk_is_element_children_then_slices() -> None:
    tree = node("a", children=[node("b", children=[node("c")])],
                slices=[node("a", "s", children=[node("d")]), node("a", "t")])
    assert [e["id"] for e in tree.walk()] == ["a", "b", "c", "a:s", "d", "a:t"]


def test_child_named_prefers_the_plain_element_then_the_slice() -> None:
    plain, renamed, other = node("date"), node("date", "IssueDate"), node("date", "Other")
    assert child_named([renamed, plain], "date", "IssueDate") is plain
    assert child_named([other, renamed], "date", "IssueDate") is renamed
    assert child_named([other, renamed], "date", "Missing") is other
    assert child_named([other, renamed], "date", None) is other
    assert child_named([node("title")], "date", None) is None
    assert child_named([], "date", None) is None


# -- small helpers -------------------------------------------------------------------------
@pytest.mark.parametrize(("type_ref", "code"), [
    ({"code": "Quantity"}, "Quantity"),
    ({"code": SYSTEM + "String"}, "string"),
    ({"code": SYSTEM + "DateTime"}, "datetime"),
    ({"code": SYSTEM + "String", "extension": [{"url": FHIR_TYPE, "valueUrl": "uri"}]}, "uri"),
    ({"code": SYSTEM + "String", "extension": [{"url": FHIR_TYPE, "valueUri": "id"}]}, "id"),
    ({"code": SYSTEM + "String", "extension": [
        {"url": "http://example.org/other", "valueUrl": "uri"},
        {"url": FHIR_TYPE, "valueUrl": "markdown"}]}, "markdown"),
    ({"code": SYSTEM + "String", "extension": [{"url": FHIR_TYPE}]}, SYSTEM + "String"),
    ({"code": "string", "extension": [{"url": FHIR_TYPE, "valueUrl": "uri"}]}, "string"),
    ({}, ""),
    ("Quantity", ""),
])
def test_working_code(type_ref: Any, code: str) -> None:
    assert working_code(type_ref) == code


def test_types_of_keeps_whole_entries_or_makes_one() -> None:
    ref = {"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}
    element = {"type": [{"code": "string"}, ref, {"code": SYSTEM + "String"}]}
    assert types_of(element, "Reference") == [ref]
    assert types_of(element, "string") == [{"code": "string"}, {"code": SYSTEM + "String"}]
    assert types_of(element, "Quantity") == [{"code": "Quantity"}]
    assert types_of({}, "uri") == [{"code": "uri"}]


@pytest.mark.parametrize(("element", "bad"), [
    ({"path": "Patient.name", "short": "x", "min": 1, "max": "1", "mustSupport": True,
      "type": [{"code": "HumanName", "profile": ["p"], "targetProfile": []}],
      "slicing": {"discriminator": [{"type": "value", "path": "use"}]},
      "constraint": [{"key": "k-1"}], "alias": ["a"], "binding": {}}, []),
    ({"short": 3}, ["short"]),
    ({"max": 1}, ["max"]),
    ({"min": "1"}, ["min"]),
    ({"min": True}, ["min"]),  # a JSON boolean is no integer
    ({"maxLength": 1.5}, ["maxLength"]),
    ({"mustSupport": "true"}, ["mustSupport"]),
    ({"isModifier": 1}, ["isModifier"]),
    ({"slicing": []}, ["slicing"]),
    ({"binding": "required"}, ["binding"]),
    ({"type": {"code": "string"}}, ["type"]),
    ({"type": ["string"]}, ["type"]),
    ({"constraint": [{"key": "a"}, "b"]}, ["constraint"]),
    ({"alias": ["a", 2]}, ["alias"]),
    ({"condition": "ele-1"}, ["condition"]),
    ({"type": [{"code": 3}]}, ["type"]),
    ({"type": [{"code": "Reference", "profile": "p"}]}, ["type"]),
    ({"type": [{"code": "Reference", "targetProfile": [3]}]}, ["type"]),
    ({"type": [{"code": "Reference", "profile": ["p", 3]}]}, ["type"]),
    ({"type": [{"profile": ["p"]}]}, []),  # a missing code is not a wrong one
    ({"slicing": {"discriminator": {"type": "value"}}}, ["slicing"]),
    ({"slicing": {"discriminator": ["value"]}}, ["slicing"]),
    ({"slicing": {"rules": "open"}}, []),
    ({"constraint": [{"key": 1}]}, ["constraint"]),
    ({"constraint": [{"human": "no key"}]}, []),
    ({"short": 1, "min": "0", "type": "x"}, ["short", "min", "type"]),
])
def test_ill_formed(element: dict[str, Any], bad: list[str]) -> None:
    assert ill_formed(element) == bad


@pytest.mark.parametrize(("sd", "found"), [
    ({}, []),
    ({"snapshot": []}, []),
    ({"snapshot": {"element": {}}}, []),
    ({"snapshot": {"element": [{"path": "Patient"}, {"id": "Patient.name"}]}}, []),
    ({"snapshot": {"element": [{"path": "Patient"}, {"path": ""}]}}, []),
    ({"snapshot": {"element": [{"path": "Patient"}, "Patient.name"]}}, []),
    ({"snapshot": {"element": [{"path": "Patient"}, {"path": "Patient.name"}]}},
     [{"path": "Patient"}, {"path": "Patient.name"}]),
])
def test_usable(sd: dict[str, Any], found: list[Any]) -> None:
    assert usable(sd) == found


@pytest.mark.parametrize(("path", "expected"), [
    ("Patient.extension", True), ("Patient.name.modifierExtension", True),
    ("Extension", False), ("Patient.extensions", False), ("Patient.extension.url", False),
])
def test_is_extension_path(path: str, expected: bool) -> None:
    assert is_extension_path(path) is expected


def test_base_of() -> None:
    base = {"path": "Resource.id", "min": 0, "max": "1"}
    element = {"path": "Patient.id", "base": base}
    found = base_of(element)
    assert found == base and found is not base
    assert base_of({"path": "Shoe.size", "min": 1, "max": "1"}) == {
        "path": "Shoe.size", "min": 1, "max": "1"}
    assert base_of({"path": "Shoe.size"}) == {"path": "Shoe.size", "min": 0, "max": "*"}
    assert base_of({"path": "Shoe.size", "base": "x"}) == {
        "path": "Shoe.size", "min": 0, "max": "*"}
