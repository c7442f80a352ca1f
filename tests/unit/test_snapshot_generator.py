"""Building the snapshot tree (``ecanfhir.definitions.snapshot_generator``): bases, unfolded
types and contentReferences, slices, re-slices, renamed choices, and the issues met on the
way, on hand-written profiles."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir._exceptions import SnapshotMissing
from ecanfhir.definitions.registry import Registry
from ecanfhir.definitions.snapshot import ensure_snapshot, generate_snapshot, snapshot_issues

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"


def profile(name: str, base: str, *diff: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A constraint on the core type ``base`` with these differential elements (ids from
    their paths unless given)."""
    return {"resourceType": "StructureDefinition", "url": EXAMPLE + name, "name": name,
            "status": "draft", "kind": "resource", "abstract": False, "type": base,
            "derivation": "constraint", "baseDefinition": CORE + base,
            "differential": {"element": [{**e, "id": e.get("id", e["path"])} for e in diff]},
            **extra}


def element(path: str, **props: Any) -> dict[str, Any]:
    return {"path": path, **props}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


def generated(registry: Registry, sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in generate_snapshot(sd, registry)["snapshot"]["element"]}


def issues(registry: Registry, sd: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    return [(i.severity, i.code, i.expression, i.message.removeprefix(sd["url"] + ": "))
            for i in snapshot_issues(sd, registry)]


# -- the differential as a whole -----------------------------------------------------------
@pytest.mark.parametrize("differential", [{"element": {}}, {"elements": []}, {"element": None}])
def test_differential_without_an_element_array(registry: Registry,
                                               differential: dict[str, Any]) -> None:
    sd = {**profile("no-array", "Patient"), "differential": differential}
    assert issues(registry, sd) == [
        ("error", "invalid", "StructureDefinition.differential",
         "the differential must hold an array 'element'; nothing of it was applied")]
    found = generated(registry, sd)
    assert found["Patient.birthDate"]["min"] == 0
    assert len(found) == len(registry.structure_definition(CORE + "Patient")["snapshot"][
        "element"])


def test_no_differential_copies_the_base(registry: Registry) -> None:
    sd = {k: v for k, v in profile("bare", "Patient").items() if k != "differential"}
    assert issues(registry, sd) == []
    base = registry.structure_definition(CORE + "Patient")["snapshot"]["element"]
    snapshot = generate_snapshot(sd, registry)["snapshot"]["element"]
    assert [e["id"] for e in snapshot] == [e["id"] for e in base]
    assert snapshot[1]["base"] == base[1]["base"]


def test_elements_are_copies_with_ids_and_paths_of_the_profile(registry: Registry) -> None:
    found = generated(registry, profile("copy", "Patient"))
    assert (found["Patient"]["id"], found["Patient"]["path"]) == ("Patient", "Patient")
    assert found["Patient.contact.name"]["path"] == "Patient.contact.name"
    assert found["Patient.contact.name"]["base"] == {
        "path": "Patient.contact.name", "min": 0, "max": "1"}


def test_path_of_another_resource(registry: Registry) -> None:
    sd = profile("other", "Patient", element("Observation.status", min=1))
    assert issues(registry, sd) == [
        ("error", "structure", "Observation.status", "path Observation.status is not in Patient")]


def test_issues_of_elements_without_id_are_at_their_path(registry: Registry) -> None:
    sd = profile("no-ids", "Patient")
    sd["differential"]["element"] = [{"path": "Observation.status"},
                                     {"path": "Patient.gender", "min": "1", "short": 2}]
    assert issues(registry, sd) == [
        ("error", "structure", "Observation.status", "path Observation.status is not in Patient"),
        ("error", "invalid", "Patient.gender", "ignoring ill-formed short, min")]


def test_ill_formed_properties_are_dropped(registry: Registry) -> None:
    sd = profile("bad", "Patient", element("Patient.gender", min="1", short="kept"))
    assert issues(registry, sd) == [("error", "invalid", "Patient.gender",
                                     "ignoring ill-formed min")]
    gender = generated(registry, sd)["Patient.gender"]
    assert (gender["min"], gender["short"]) == (0, "kept")


def test_element_without_path(registry: Registry) -> None:
    sd = profile("pathless", "Patient")
    sd["differential"]["element"] = [{"id": "Patient.gender"}, {"path": 3},
                                     {"id": "Patient.gender", "path": "Patient.gender",
                                      "min": 1}]
    assert issues(registry, sd) == [
        ("error", "invalid", "", "a differential element has no path")] * 2
    assert generated(registry, sd)["Patient.gender"]["min"] == 1


def test_unknown_element(registry: Registry) -> None:
    sd = profile("unknown", "Observation", element("Observation.valueFoo"),
                 element("Observation.code.shoe"))
    assert issues(registry, sd) == [
        ("error", "structure", "Observation.valueFoo", "Observation has no element 'valueFoo'"),
        ("error", "structure", "Observation.code.shoe",
         "Observation.code has no element 'shoe'")]


# -- bases ---------------------------------------------------------------------------------
def test_base_snapshot_generated_first_and_its_url_named(registry: Registry) -> None:
    reg = Registry()
    reg.add(profile("level1", "Patient", element("Patient", constraint=[
        {"key": "l1-1", "severity": "error", "human": "h", "expression": "true"}])))
    sd = {**profile("level2", "Patient", element("Patient.gender", min=1)),
          "baseDefinition": EXAMPLE + "level1"}
    found = generated(reg, sd)
    assert {c["key"]: c["source"] for c in found["Patient"]["constraint"]}["l1-1"] == \
        EXAMPLE + "level1"
    assert found["Patient.gender"]["min"] == 1


def test_cycle_message_names_the_chain() -> None:
    reg = Registry()
    for name, base in (("a", "b"), ("b", "a")):
        reg.add({**profile(name, "Patient"), "baseDefinition": EXAMPLE + base})
    with pytest.raises(SnapshotMissing) as raised:
        generate_snapshot(reg.structure_definition(EXAMPLE + "a") or {}, reg)
    assert str(raised.value) == (
        f"StructureDefinition {EXAMPLE}a: its bases form a cycle "
        f"({EXAMPLE}a → {EXAMPLE}b → {EXAMPLE}a)")


def test_id_names_the_profile_without_url(registry: Registry) -> None:
    sd = {k: v for k, v in profile("x", "Patient").items() if k != "url"}
    sd["id"] = "by-id"
    with pytest.raises(SnapshotMissing) as raised:
        generate_snapshot({**sd, "baseDefinition": ""}, registry)
    assert str(raised.value) == ("StructureDefinition by-id has no snapshot and no "
                                 "baseDefinition to generate one from")


def test_ensure_snapshot_of_a_mapping(registry: Registry) -> None:
    """A read-only mapping with a snapshot comes back as a dict with the same content."""
    from types import MappingProxyType

    patient = registry.structure_definition(CORE + "Patient") or {}
    found = ensure_snapshot(MappingProxyType(patient), registry)
    assert type(found) is dict and found == patient


def test_specialization_of_base(registry: Registry) -> None:
    """A logical model on R5's ``Base`` (not in R4): an abstract root with no children."""
    sd = {"resourceType": "StructureDefinition", "url": EXAMPLE + "Shoe", "type": "Shoe",
          "kind": "logical", "derivation": "specialization", "baseDefinition": CORE + "Base",
          "differential": {"element": [
              {"id": "Shoe", "path": "Shoe"},
              {"id": "Shoe.size", "path": "Shoe.size", "min": 1, "max": "1",
               "type": [{"code": "decimal"}]},
              {"id": "Shoe.size.unit.code", "path": "Shoe.size.unit.code", "min": 1}]}}
    snapshot = generate_snapshot(sd, registry)["snapshot"]["element"]
    assert snapshot[:2] == [
        {"id": "Shoe", "path": "Shoe", "min": 0, "max": "*",
         "base": {"path": "Base", "min": 0, "max": "*"}},
        {"id": "Shoe.size", "path": "Shoe.size", "min": 1, "max": "1",
         "type": [{"code": "decimal"}], "base": {"path": "Shoe.size", "min": 1, "max": "1"}}]
    assert [e["id"] for e in snapshot[2:]] == [  # decimal's children, walked into
        "Shoe.size.id", "Shoe.size.extension", "Shoe.size.value"]
    # a new element must be the last of its path: unit is not there to hold code
    assert issues(registry, sd) == [("error", "structure", "Shoe.size.unit.code",
                                     "Shoe.size has no element 'unit'")]


def test_specialization_root_named_by_type_without_differential(registry: Registry) -> None:
    sd = {"resourceType": "StructureDefinition", "url": EXAMPLE + "Boot", "type": "Boot",
          "kind": "logical", "derivation": "specialization", "baseDefinition": CORE + "Base"}
    assert [e["id"] for e in generate_snapshot(sd, registry)["snapshot"]["element"]] == [
        "Boot"]


def test_base_url_other_than_base_is_no_logical_base(registry: Registry) -> None:
    sd = {"resourceType": "StructureDefinition", "url": EXAMPLE + "Sock", "type": "Sock",
          "derivation": "specialization", "baseDefinition": CORE + "Bases"}
    with pytest.raises(SnapshotMissing, match="its base " + CORE + "Bases is not loaded"):
        generate_snapshot(sd, registry)


def test_sliced_new_element_in_a_specialization_is_unknown(registry: Registry) -> None:
    sd = {"resourceType": "StructureDefinition", "url": EXAMPLE + "Hat", "type": "Hat",
          "kind": "logical", "derivation": "specialization", "baseDefinition": CORE + "Base",
          "differential": {"element": [
              {"id": "Hat", "path": "Hat"},
              {"id": "Hat.size:big", "path": "Hat.size", "sliceName": "big"}]}}
    assert issues(registry, sd) == [("error", "structure", "Hat.size:big",
                                     "Hat has no element 'size'")]


# -- unfolding types and contentReferences ---------------------------------------------------
def test_content_reference_unfolds_its_target(registry: Registry) -> None:
    sd = profile("q", "Questionnaire", element("Questionnaire.item.item.linkId", maxLength=5))
    found = generated(registry, sd)
    nested = found["Questionnaire.item.item"]
    assert nested["type"] == [{"code": "BackboneElement"}]
    assert "contentReference" not in nested
    assert found["Questionnaire.item.item.linkId"]["maxLength"] == 5
    assert found["Questionnaire.item.item.linkId"]["path"] == "Questionnaire.item.item.linkId"
    ids = list(found)
    assert ids.index("Questionnaire.item.item.linkId") < ids.index("Questionnaire.item.item.item")
    # the unfolded item.item.item keeps its own reference until walked into
    assert found["Questionnaire.item.item.item"]["contentReference"] == "#Questionnaire.item"


def test_type_unfolds_only_when_walked_into(registry: Registry) -> None:
    found = generated(registry, profile("code", "Observation",
                                        element("Observation.code.text", min=1)))
    assert found["Observation.code.text"]["min"] == 1
    assert "Observation.code.coding" in found
    assert "Observation.category.coding" not in found


def test_references_unfold_reference(registry: Registry) -> None:
    found = generated(registry, profile("ref", "Observation",
                                        element("Observation.subject.display", max="0")))
    assert found["Observation.subject.display"]["max"] == "0"
    assert found["Observation.subject.reference"]["base"]["path"] == "Reference.reference"


def test_choice_of_several_types_does_not_unfold(registry: Registry) -> None:
    sd = profile("choice", "Observation", element("Observation.effective[x].start"))
    assert issues(registry, sd) == [
        ("error", "structure", "Observation.effective[x].start",
         "Observation.effective[x] has no element 'start'")]


def _with_coded_profile() -> Registry:
    """A registry holding a CodeableConcept profile ``coded`` that requires ``text``."""
    reg = Registry()
    reg.add({"resourceType": "StructureDefinition", "url": EXAMPLE + "coded", "name": "Coded",
             "status": "draft", "kind": "complex-type", "abstract": False,
             "type": "CodeableConcept", "derivation": "constraint",
             "baseDefinition": CORE + "CodeableConcept",
             "differential": {"element": [
                 {"id": "CodeableConcept.text", "path": "CodeableConcept.text", "min": 1}]}})
    return reg


def test_type_profile_gives_the_children(registry: Registry) -> None:
    reg = _with_coded_profile()
    sd = profile("typed", "Observation", element(
        "Observation.code", type=[{"code": "CodeableConcept", "profile": [EXAMPLE + "coded"]}]),
        element("Observation.code.coding", max="1"))
    found = generated(reg, sd)
    assert found["Observation.code.text"]["min"] == 1
    assert found["Observation.code.coding"]["max"] == "1"
    missing = profile("typed2", "Observation", element(
        "Observation.code", type=[{"code": "CodeableConcept",
                                   "profile": [EXAMPLE + "not-loaded"]}]),
        element("Observation.code.text", max="1"))
    assert generated(reg, missing)["Observation.code.text"]["min"] == 0


# -- slices --------------------------------------------------------------------------------
def test_slice_of_a_slice_name_with_a_colon(registry: Registry) -> None:
    sd = profile("f", "Patient",
                 element("Patient.identifier", slicing={
                     "discriminator": [{"type": "value", "path": "system"}], "rules": "open"}),
                 element("Patient.identifier", id="Patient.identifier:a", sliceName="a"),
                 element("Patient.identifier", id="Patient.identifier:a:b", sliceName="b"))
    assert issues(registry, sd) == [("error", "structure", "Patient.identifier:a:b",
                                     "slice 'a:b' of Patient.identifier is not declared")]


def test_child_of_an_undeclared_slice(registry: Registry) -> None:
    sd = profile("child", "Patient", element("Patient.identifier", id="Patient.identifier:x.system",
                                             min=1))
    sd["differential"]["element"][0]["path"] = "Patient.identifier.system"
    assert issues(registry, sd) == [("error", "structure", "Patient.identifier:x.system",
                                     "slice 'x' of Patient.identifier is not declared")]


def test_slices_without_slicing(registry: Registry) -> None:
    sd = profile("g", "Patient",
                 element("Patient.identifier", id="Patient.identifier:a", sliceName="a", min=1),
                 element("Patient.identifier", id="Patient.identifier:b", sliceName="b"))
    assert issues(registry, sd) == [
        ("error", "structure", "Patient.identifier:a",
         "slice 'a' on Patient.identifier, which has no slicing"),
        ("error", "structure", "Patient.identifier:b",
         "slice 'b' on Patient.identifier, which has no slicing")]
    found = generated(registry, sd)
    assert "slicing" not in found["Patient.identifier"]
    assert (found["Patient.identifier:a"]["sliceName"], found["Patient.identifier:a"]["min"]) \
        == ("a", 1)
    assert found["Patient.identifier:a"]["path"] == "Patient.identifier"


def test_lone_slice_renames_its_element(registry: Registry) -> None:
    """A single slice of an element without slicing and nothing else about it is that
    element, renamed (R4 ``catalog``: Composition.date:IssueDate)."""
    sd = profile("lone", "Composition", element(
        "Composition.date", id="Composition.date:IssueDate", sliceName="IssueDate", min=1))
    found = generated(registry, sd)
    assert "Composition.date" not in found
    issue_date = found["Composition.date:IssueDate"]
    assert (issue_date["sliceName"], issue_date["min"], issue_date["path"]) == (
        "IssueDate", 1, "Composition.date")
    base = [e["id"] for e in (registry.structure_definition(CORE + "Composition") or {})[
        "snapshot"]["element"]]
    assert list(found).index("Composition.date:IssueDate") == base.index("Composition.date")
    assert issues(registry, sd) == []


def test_lone_slice_on_an_extension_opens_url_slicing(registry: Registry) -> None:
    sd = profile("lone-ext", "Patient", element(
        "Patient.extension", id="Patient.extension:x", sliceName="x"))
    found = generated(registry, sd)
    assert found["Patient.extension"]["slicing"] == {
        "discriminator": [{"type": "value", "path": "url"}], "ordered": False, "rules": "open"}
    assert found["Patient.extension:x"]["sliceName"] == "x"
    assert "slicing" not in found["Patient.extension:x"]


def test_slice_of_a_renamed_slice_is_no_reslice() -> None:
    """A base whose element is a lone slice (renamed): another slice of it is not declared
    on a slicing, so it is left out with a warning."""
    reg = Registry()
    reg.add(profile("lone-base", "Composition", element(
        "Composition.date", id="Composition.date:IssueDate", sliceName="IssueDate")))
    sd = {**profile("lone-derived", "Composition", element(
        "Composition.date", id="Composition.date:Other", sliceName="Other")),
          "baseDefinition": EXAMPLE + "lone-base"}
    assert issues(reg, sd) == [
        ("warning", "not-supported", "Composition.date:Other",
         "slice 'Other' of the slice Composition.date:IssueDate is not a re-slice (a/b)")]
    assert "Composition.date:Other" not in generated(reg, sd)


def test_new_extension_slice_after_inherited_slices_unfolds(registry: Registry) -> None:
    """HL7 4.0.1: a new extension slice added to an already sliced extension gets its
    definition's children, unless it is the differential's last element."""
    reg = Registry()
    reg.add(profile("with-ext", "Patient", element(
        "Patient.extension", id="Patient.extension:nat", sliceName="nat",
        type=[{"code": "Extension", "profile": [CORE + "patient-nationality"]}])))
    derived = {**profile("more-ext", "Patient",
                         element("Patient.extension", id="Patient.extension:bp",
                                 sliceName="bp", type=[{"code": "Extension", "profile": [
                                     CORE + "patient-birthPlace"]}]),
                         element("Patient.gender", min=1)),
               "baseDefinition": EXAMPLE + "with-ext"}
    found = generated(reg, derived)
    assert found["Patient.extension:bp.url"]["fixedUri"] == CORE + "patient-birthPlace"
    assert found["Patient.extension:bp.value[x]"]["type"] == [{"code": "Address"}]
    last = {**derived, "url": EXAMPLE + "last-ext", "differential": {
        "element": derived["differential"]["element"][:1]}}
    assert "Patient.extension:bp.url" not in generated(reg, last)


# -- renamed choices -------------------------------------------------------------------------
def test_renamed_choice_with_a_type_the_base_lacks(registry: Registry) -> None:
    sd = profile("age", "Observation", element("Observation.valueAge", min=1))
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.valueAge",
         "type Age is not allowed by the base (Observation.value[x])")]
    found = generated(registry, sd)
    assert found["Observation.value[x]:valueAge"]["type"] == [{"code": "Age"}]


def test_renamed_choice_lower_case_type(registry: Registry) -> None:
    found = generated(registry, profile("str", "Observation",
                                        element("Observation.valueString", maxLength=3)))
    value = found["Observation.value[x]"]
    assert value["type"] == [{"code": "string"}]
    assert value["slicing"]["rules"] == "closed"
    assert found["Observation.value[x]:valueString"]["maxLength"] == 3


def test_two_renamed_choices_make_two_type_slices(registry: Registry) -> None:
    found = generated(registry, profile(
        "two", "Observation", element("Observation.valueString", maxLength=3),
        element("Observation.valueQuantity.unit", min=1)))
    assert [t["code"] for t in found["Observation.value[x]"]["type"]] == ["string", "Quantity"]
    assert [k for k in found if k.startswith("Observation.value[x]:")][:2] == [
        "Observation.value[x]:valueString", "Observation.value[x]:valueQuantity"]
    assert found["Observation.value[x]:valueQuantity.unit"]["min"] == 1
    assert issues(registry, profile("two", "Observation",
                                    element("Observation.valueString"),
                                    element("Observation.valueQuantity.unit"))) == []


def test_renamed_choice_named_as_its_own_slice(registry: Registry) -> None:
    sd = profile("ext-bool", "Observation", element(
        "Observation.valueBoolean", id="Observation.valueBoolean:valueBoolean"))
    assert issues(registry, sd) == []
    assert generated(registry, sd)["Observation.value[x]:valueBoolean"]["type"] == [
        {"code": "boolean"}]
    other = profile("ext-bool2", "Observation", element(
        "Observation.valueBoolean", id="Observation.valueBoolean:other"))
    assert issues(registry, other) == [
        ("error", "structure", "Observation.valueBoolean:other",
         "Observation has no element 'valueBoolean'")]


def test_renamed_choice_in_a_slice_narrows_the_choice(registry: Registry) -> None:
    """Inside a backbone slice the 4.0.1 tools narrow value[x] itself (``bp``)."""
    sd = profile("bp", "Observation",
                 element("Observation.component", slicing={
                     "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}),
                 element("Observation.component", id="Observation.component:sys",
                         sliceName="sys"),
                 element("Observation.component.valueQuantity.unit",
                         id="Observation.component:sys.valueQuantity.unit", min=1))
    found = generated(registry, sd)
    value = found["Observation.component:sys.value[x]"]
    assert [t["code"] for t in value["type"]] == ["Quantity"]
    assert "slicing" not in value
    assert found["Observation.component:sys.value[x].unit"]["min"] == 1
    assert issues(registry, sd) == []


# -- re-slices and appended slices -----------------------------------------------------------
SLICED_IDENTIFIER = element("Patient.identifier", slicing={
    "discriminator": [{"type": "value", "path": "system"}], "rules": "open"})


def identifier_slice(name: str, **props: Any) -> dict[str, Any]:
    return element("Patient.identifier", id=f"Patient.identifier:{name}", sliceName=name,
                   **props)


def test_reslice_of_a_reslice_copies_the_nearest(registry: Registry) -> None:
    """``a/b/c`` is a re-slice of ``a/b`` (not of ``a``): it copies ``a/b`` and follows it."""
    sd = profile("deep", "Patient", SLICED_IDENTIFIER, identifier_slice("a", max="3"),
                 identifier_slice("a/b", max="2"), identifier_slice("a/b/c"))
    assert issues(registry, sd) == []
    found = generated(registry, sd)
    assert (found["Patient.identifier:a/b/c"]["max"],
            found["Patient.identifier:a/b/c"]["sliceName"]) == ("2", "a/b/c")
    slices = [i for i in found if i.startswith("Patient.identifier:")]
    assert slices == ["Patient.identifier:a", "Patient.identifier:a/b",
                      "Patient.identifier:a/b/c"]


def test_reslice_drops_the_slicing_of_its_slice(registry: Registry) -> None:
    """A slice that declares how it is re-sliced passes its children and limits to the
    re-slice, not that slicing."""
    sd = profile("resliced-slicing", "Patient", SLICED_IDENTIFIER,
                 identifier_slice("a", max="3", slicing={
                     "discriminator": [{"type": "value", "path": "value"}], "rules": "closed"}),
                 identifier_slice("a/b"))
    found = generated(registry, sd)
    assert found["Patient.identifier:a"]["slicing"]["rules"] == "closed"
    assert "slicing" not in found["Patient.identifier:a/b"]
    assert found["Patient.identifier:a/b"]["max"] == "3"


def test_reslice_copies_the_renamed_slices_among_its_children(registry: Registry) -> None:
    sd = profile("renamed-child", "Patient", SLICED_IDENTIFIER, identifier_slice("a"),
                 element("Patient.identifier.period", id="Patient.identifier:a.period:p",
                         sliceName="p", min=1),
                 identifier_slice("a/b"))
    found = generated(registry, sd)
    assert found["Patient.identifier:a.period:p"]["min"] == 1
    assert found["Patient.identifier:a/b.period:p"]["min"] == 1
    assert found["Patient.identifier:a/b.period:p"]["sliceName"] == "p"


def test_reslice_of_an_element_without_slicing(registry: Registry) -> None:
    """``mrn/old`` on an element neither sliced nor holding ``mrn``: a warning for the
    missing slice, an error for the missing slicing, and the slice is kept."""
    sd = profile("no-slicing", "Patient", identifier_slice("x"), identifier_slice("mrn/old"))
    assert issues(registry, sd) == [
        ("error", "structure", "Patient.identifier:x",
         "slice 'x' on Patient.identifier, which has no slicing"),
        ("warning", "structure", "Patient.identifier:mrn/old",
         "slice 'mrn' re-sliced by 'mrn/old' is not declared on Patient.identifier: taken as "
         "a slice of it"),
        ("error", "structure", "Patient.identifier:mrn/old",
         "slice 'mrn/old' on Patient.identifier, which has no slicing")]
    assert generated(registry, sd)["Patient.identifier:mrn/old"]["sliceName"] == "mrn/old"


def test_appended_slice_of_another_type_is_not_unfolded() -> None:
    """Only a new extension slice is unfolded after inherited slices: a new Identifier slice
    keeps no children of its own."""
    reg = Registry()
    reg.add(profile("ids", "Patient", SLICED_IDENTIFIER, identifier_slice("a")))
    sd = {**profile("more-ids", "Patient", identifier_slice("b", max="1"),
                    element("Patient.gender", min=1)), "baseDefinition": EXAMPLE + "ids"}
    found = generated(reg, sd)
    assert found["Patient.identifier:b"]["max"] == "1"
    assert not any(i.startswith("Patient.identifier:b.") for i in found)
    assert "slicing" not in found["Patient.identifier:b"]
    assert found["Patient.identifier"]["slicing"]["rules"] == "open"


def test_lone_slice_of_a_backbone_keeps_its_children(registry: Registry) -> None:
    sd = profile("lone-contact", "Patient", element(
        "Patient.contact", id="Patient.contact:c", sliceName="c", max="1"))
    found = generated(registry, sd)
    assert "Patient.contact" not in found
    assert found["Patient.contact:c.name"]["path"] == "Patient.contact.name"
    assert [i for i in found if i.startswith("Patient.contact")][:3] == [
        "Patient.contact:c", "Patient.contact:c.id", "Patient.contact:c.extension"]


# -- renamed choices: what the base allows ----------------------------------------------------
def test_renamed_choice_of_a_lower_case_type_the_base_lacks(registry: Registry) -> None:
    sd = profile("uri", "Observation", element("Observation.valueUri"))
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.valueUri",
         "type uri is not allowed by the base (Observation.value[x])")]


@pytest.mark.parametrize("name", ["boolean", "abcdeBoolean", "value", "valueFoo"])
def test_no_renamed_choice(registry: Registry, name: str) -> None:
    """A type name alone, a type after another stem of the same length, the stem alone or an
    unknown type names no choice."""
    sd = profile("bare-type", "Observation", element("Observation." + name))
    assert issues(registry, sd) == [
        ("error", "structure", "Observation." + name, f"Observation has no element '{name}'")]


def test_renamed_choice_after_an_explicit_narrowing(registry: Registry) -> None:
    """value[x] narrowed to Quantity by the profile: valueString names a type it no longer
    allows (only narrowing by renamed choices keeps the base's other types)."""
    sd = profile("narrowed", "Observation",
                 element("Observation.value[x]", type=[{"code": "Quantity"}]),
                 element("Observation.valueString"))
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.valueString",
         "type string is not allowed by the base (Observation.value[x])")]


def test_second_renamed_choice_is_allowed_by_the_base(registry: Registry) -> None:
    sd = profile("two-ok", "Observation", element("Observation.valueString"),
                 element("Observation.valueBoolean"))
    assert issues(registry, sd) == []


# -- new elements of a specialization ---------------------------------------------------------
def shoe(*diff: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": EXAMPLE + "Shoe", "type": "Shoe",
            "kind": "logical", "derivation": "specialization", "baseDefinition": CORE + "Base",
            "differential": {"element": [{"id": "Shoe", "path": "Shoe"},
                                         *({**e, "id": e.get("id", e["path"])} for e in diff)]}}


def test_new_choice_renamed_keeps_its_types(registry: Registry) -> None:
    """A new element is touched by its own differential element: naming one of its types
    later opens a type slice, and does not narrow the element (no implicit shortcut)."""
    sd = shoe(element("Shoe.value[x]", min=0, max="1",
                      type=[{"code": "string"}, {"code": "integer"}]),
              element("Shoe.valueString", maxLength=5))
    assert issues(sd=sd, registry=registry) == []
    found = generated(registry, sd)
    assert found["Shoe.value[x]"]["type"] == [{"code": "string"}, {"code": "integer"}]
    assert found["Shoe.value[x]:valueString"]["maxLength"] == 5


def test_new_choice_without_types(registry: Registry) -> None:
    sd = shoe(element("Shoe.value[x]", min=0, max="1"), element("Shoe.valueString"))
    assert issues(sd=sd, registry=registry) == [
        ("error", "business-rule", "Shoe.valueString",
         "type string is not allowed by the base (Shoe.value[x])")]


def test_slice_of_a_new_element(registry: Registry) -> None:
    sd = shoe(element("Shoe.size", min=0, max="*", type=[{"code": "string"}]),
              element("Shoe.size", id="Shoe.size:big", sliceName="big", max="1"))
    assert issues(sd=sd, registry=registry) == [
        ("error", "structure", "Shoe.size:big", "slice 'big' on Shoe.size, which has no slicing")]
    big = generated(registry, sd)["Shoe.size:big"]
    assert (big["path"], big["sliceName"], big["max"]) == ("Shoe.size", "big", "1")


def test_slicing_of_a_new_element_merges_with_its_own(registry: Registry) -> None:
    sd = shoe(element("Shoe.size", min=0, max="*", type=[{"code": "string"}], slicing={
        "discriminator": [{"type": "value", "path": "$this"}], "rules": "open"}),
        element("Shoe.size", slicing={"rules": "closed"}))
    assert generated(registry, sd)["Shoe.size"]["slicing"] == {
        "discriminator": [{"type": "value", "path": "$this"}], "rules": "closed"}


def test_only_the_first_type_profile_gives_children() -> None:
    """The children of a profiled type come from its first profile; when that one is not
    loaded, from the type itself (not from a later profile)."""
    reg = _with_coded_profile()
    sd = profile("second", "Observation", element(
        "Observation.code", type=[{"code": "CodeableConcept", "profile": [
            EXAMPLE + "not-loaded", EXAMPLE + "coded"]}]),
        element("Observation.code.coding", max="1"))
    assert generated(reg, sd)["Observation.code.text"]["min"] == 0


def test_children_of_an_unknown_type(registry: Registry) -> None:
    sd = profile("shoe-value", "Observation",
                 element("Observation.value[x]", type=[{"code": "Shoe"}]),
                 element("Observation.value[x].size", min=1))
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.value[x]",
         "type Shoe is not allowed by the base (CodeableConcept, Period, Quantity, Range, "
         "Ratio, SampledData, boolean, dateTime, integer, string, time)"),
        ("error", "structure", "Observation.value[x].size",
         "Observation.value[x] has no element 'size'")]


def test_slicing_without_slices_is_no_lone_slice() -> None:
    """A base that declares a slicing but no slice: a new slice is added to it, the sliced
    element stays."""
    reg = Registry()
    reg.add(profile("slicing-only", "Patient", SLICED_IDENTIFIER))
    sd = {**profile("first-slice", "Patient", identifier_slice("a", max="1")),
          "baseDefinition": EXAMPLE + "slicing-only"}
    found = generated(reg, sd)
    assert found["Patient.identifier"]["slicing"]["discriminator"] == [
        {"type": "value", "path": "system"}]
    assert found["Patient.identifier:a"]["max"] == "1"
    assert issues(reg, sd) == []


def test_nested_lone_slice_renames_its_element(registry: Registry) -> None:
    sd = profile("nested-lone", "Patient", element(
        "Patient.contact.name", id="Patient.contact.name:n", sliceName="n", min=1))
    found = generated(registry, sd)
    assert "Patient.contact.name" not in found
    assert found["Patient.contact.name:n"]["min"] == 1
    assert issues(registry, sd) == []


def test_slice_named_like_a_type_of_an_element_that_is_no_choice(registry: Registry) -> None:
    """``gender:genCode`` is an ordinary (lone) slice: only a choice has type slices."""
    sd = profile("gen-code", "Patient", element(
        "Patient.gender", id="Patient.gender:genCode", sliceName="genCode"))
    found = generated(registry, sd)
    assert "Patient.gender" not in found
    assert "slicing" not in found["Patient.gender:genCode"]
    assert found["Patient.gender:genCode"]["type"] == [{"code": "code"}]


def test_slices_of_a_choice_not_named_by_type(registry: Registry) -> None:
    """Slices of value[x] without slicing and not named after a type slice it by type."""
    sd = profile("choice-slices", "Observation",
                 element("Observation.value[x]", id="Observation.value[x]:a", sliceName="a"),
                 element("Observation.value[x]", id="Observation.value[x]:b", sliceName="b"))
    assert issues(registry, sd) == []
    found = generated(registry, sd)
    assert found["Observation.value[x]"]["slicing"] == {
        "discriminator": [{"type": "type", "path": "$this"}], "ordered": False,
        "rules": "closed"}
    assert [i for i in found if i.startswith("Observation.value[x]:")] == [
        "Observation.value[x]:a", "Observation.value[x]:b"]


def test_type_slice_keeps_the_base_s_type_entry() -> None:
    """A renamed choice's type slice takes the base's entry for that type whole (its
    profile), even after an earlier renamed choice narrowed the element."""
    reg = Registry()
    simple = [{"code": "Quantity", "profile": [CORE + "SimpleQuantity"]}, {"code": "string"}]
    reg.add(profile("simple-value", "Observation", element("Observation.value[x]",
                                                           type=simple)))
    sd = {**profile("two-values", "Observation", element("Observation.valueString"),
                    element("Observation.valueQuantity")),
          "baseDefinition": EXAMPLE + "simple-value"}
    found = generated(reg, sd)
    assert found["Observation.value[x]:valueQuantity"]["type"] == simple[:1]
    assert found["Observation.value[x]"]["type"] == [simple[1], simple[0]]


def test_several_reference_types_unfold_reference(registry: Registry) -> None:
    sd = profile("two-refs", "Observation",
                 element("Observation.subject", type=[
                     {"code": "Reference", "targetProfile": [CORE + "Patient"]},
                     {"code": "Reference", "targetProfile": [CORE + "Group"]}]),
                 element("Observation.subject.display", max="0"))
    assert issues(registry, sd) == []
    assert generated(registry, sd)["Observation.subject.display"]["max"] == "0"


def test_content_reference_inside_a_slice_leaves_the_slice(registry: Registry) -> None:
    """Walking into a contentReference unfolds a type of its own: a renamed choice there is
    a type slice again, as after diving into a datatype."""
    sd = profile("q-slice", "Questionnaire",
                 element("Questionnaire.item", slicing={
                     "discriminator": [{"type": "value", "path": "linkId"}], "rules": "open"}),
                 element("Questionnaire.item", id="Questionnaire.item:s", sliceName="s"),
                 element("Questionnaire.item.item.enableWhen.answerBoolean",
                         id="Questionnaire.item:s.item.enableWhen.answerBoolean"))
    found = generated(registry, sd)
    assert "Questionnaire.item:s.item.enableWhen.answer[x]:answerBoolean" in found
    assert issues(registry, sd) == []


def test_renamed_choice_under_a_choice_renamed_as_a_slice(registry: Registry) -> None:
    """``value[x]:foo`` alone renames value[x]; ``valueString`` then names a type slice of a
    slice: a warning, the element is skipped (it used to fail an assertion)."""
    sd = profile("lone-choice", "Observation",
                 element("Observation.value[x]", id="Observation.value[x]:foo", sliceName="foo"),
                 element("Observation.valueString", maxLength=3))
    assert issues(registry, sd) == [
        ("warning", "not-supported", "Observation.valueString",
         "slice 'valueString' of the slice Observation.value[x]:foo is not a re-slice (a/b)")]
    found = generated(registry, sd)
    assert "slicing" not in found["Observation.value[x]:foo"]
    assert not any("maxLength" in e for e in found.values())


def test_datatype_inside_a_slice_leaves_the_slice(registry: Registry) -> None:
    """Diving into a datatype (Annotation) from a slice: its renamed choice is a type slice,
    not a narrowing as directly inside a backbone slice."""
    sd = profile("note-slice", "Observation",
                 element("Observation.note", slicing={
                     "discriminator": [{"type": "exists", "path": "author"}], "rules": "open"}),
                 element("Observation.note", id="Observation.note:n", sliceName="n"),
                 element("Observation.note.authorString", id="Observation.note:n.authorString",
                         maxLength=9))
    found = generated(registry, sd)
    assert found["Observation.note:n.author[x]:authorString"]["maxLength"] == 9
    assert issues(registry, sd) == []


def test_named_one_of_two_lone_slices() -> None:
    """A base whose element exists only as two slices (no plain element): the slice named is
    the one constrained."""
    reg = Registry()
    reg.add({"resourceType": "StructureDefinition", "url": EXAMPLE + "two-lone", "name": "TwoLone",
             "status": "draft", "kind": "resource", "abstract": False, "type": "Basic",
             "derivation": "constraint", "baseDefinition": CORE + "Basic",
             "snapshot": {"element": [
                 {"id": "Basic", "path": "Basic", "min": 0, "max": "*"},
                 {"id": "Basic.code:A", "path": "Basic.code", "sliceName": "A", "min": 0,
                  "max": "1", "type": [{"code": "CodeableConcept"}]},
                 {"id": "Basic.code:B", "path": "Basic.code", "sliceName": "B", "min": 0,
                  "max": "1", "type": [{"code": "CodeableConcept"}]}]}})
    sd = {**profile("pick-b", "Basic", element("Basic.code", id="Basic.code:B", short="b")),
          "baseDefinition": EXAMPLE + "two-lone"}
    assert issues(reg, sd) == []
    found = generated(reg, sd)
    assert found["Basic.code:B"]["short"] == "b"
    assert "short" not in found["Basic.code:A"]


# -- the root of a specialization, the depth of bases ------------------------------------------
def logical(*paths: str) -> dict[str, Any]:
    """A logical model whose type is its URL (as R4 logical models have it)."""
    return {"resourceType": "StructureDefinition", "url": EXAMPLE + "Sandal",
            "type": EXAMPLE + "Sandal", "kind": "logical", "derivation": "specialization",
            "baseDefinition": CORE + "Base", "differential": {"element": [
                {"id": p, "path": p, "min": 0, "max": "1",
                 **({"type": [{"code": "string"}]} if "." in p else {})}
                for p in paths]}}


@pytest.mark.parametrize(("paths", "ids"), [
    (["Sandal", "Sandal.strap"], ["Sandal", "Sandal.strap"]),
    (["Sandal"], ["Sandal"]),
    (["Sandal.strap"], ["Sandal", "Sandal.strap"]),  # the root named by the first path
])
def test_specialization_root_named_by_the_differential(registry: Registry, paths: list[str],
                                                       ids: list[str]) -> None:
    sd = logical(*paths)
    assert issues(registry, sd) == []
    assert [e["id"] for e in generate_snapshot(sd, registry)["snapshot"]["element"]] == ids


def test_not_a_structure_definition_message(registry: Registry) -> None:
    with pytest.raises(SnapshotMissing) as raised:
        generate_snapshot({"resourceType": "ValueSet"}, registry)
    assert str(raised.value) == "not a StructureDefinition: cannot generate a snapshot"


@pytest.mark.parametrize(("levels", "fails"), [(21, False), (22, True)])
def test_depth_of_bases(levels: int, fails: bool) -> None:
    """Up to 21 profiles, each the base of the next, are generated; a deeper chain is taken
    for a cycle."""
    reg = Registry()
    base = CORE + "Patient"
    for level in range(1, levels):
        reg.add({**profile(f"level{level}", "Patient"), "baseDefinition": base})
        base = EXAMPLE + f"level{level}"
    top = {**profile("top", "Patient", element("Patient.gender", min=1)),
           "baseDefinition": base}
    if fails:
        with pytest.raises(SnapshotMissing, match="its bases form a cycle"):
            generate_snapshot(top, reg)
    else:
        assert generated(reg, top)["Patient.gender"]["min"] == 1


def test_inherited_invariants_name_the_base_s_own_url() -> None:
    """A base found by a versioned canonical: invariants without a source name the base's
    url (without the version)."""
    reg = Registry()
    reg.add({"resourceType": "StructureDefinition", "url": EXAMPLE + "vb", "version": "1.0",
             "name": "VB", "status": "draft", "kind": "resource", "abstract": False,
             "type": "Basic", "derivation": "constraint", "baseDefinition": CORE + "Basic",
             "snapshot": {"element": [
                 {"id": "Basic", "path": "Basic", "min": 0, "max": "*", "constraint": [
                     {"key": "v-1", "severity": "error", "human": "h", "expression": "true"}]},
                 {"id": "Basic.code", "path": "Basic.code", "min": 1, "max": "1",
                  "type": [{"code": "CodeableConcept"}]}]}})
    sd = {**profile("on-vb", "Basic", element("Basic", short="x")),
          "baseDefinition": EXAMPLE + "vb|1.0"}
    assert [c["source"] for c in generated(reg, sd)["Basic"]["constraint"]] == [EXAMPLE + "vb"]


def test_renamed_choice_last_in_a_backbone_slice_keeps_the_types(registry: Registry) -> None:
    """Inside a backbone slice a renamed choice that is the differential's last word on it
    constrains value[x] itself, with the types the differential does not narrow."""
    sd = profile("last", "Observation",
                 element("Observation.component", slicing={
                     "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}),
                 element("Observation.component", id="Observation.component:sys",
                         sliceName="sys"),
                 element("Observation.component.valueQuantity",
                         id="Observation.component:sys.valueQuantity", min=1))
    assert issues(registry, sd) == []
    value = generated(registry, sd)["Observation.component:sys.value[x]"]
    assert value["min"] == 1
    assert len(value["type"]) == 11


def test_lone_slice_inside_a_slice_stays_in_the_slice(registry: Registry) -> None:
    """A lone slice renamed inside a backbone slice keeps that slice's way with renamed
    choices (value[x] constrained itself, no type slice)."""
    sd = profile("lone-in-slice", "Questionnaire",
                 element("Questionnaire.item", slicing={
                     "discriminator": [{"type": "value", "path": "linkId"}], "rules": "open"}),
                 element("Questionnaire.item", id="Questionnaire.item:s", sliceName="s"),
                 element("Questionnaire.item.enableWhen", id="Questionnaire.item:s.enableWhen:e",
                         sliceName="e"),
                 element("Questionnaire.item.enableWhen.answerBoolean",
                         id="Questionnaire.item:s.enableWhen:e.answerBoolean", min=1))
    assert issues(registry, sd) == []
    found = generated(registry, sd)
    assert found["Questionnaire.item:s.enableWhen:e.answer[x]"]["min"] == 1
    assert not any(":answerBoolean" in i for i in found)


def test_renamed_choice_in_a_slice_narrows_two_types_to_one(registry: Registry) -> None:
    sd = profile("two-types", "Observation",
                 element("Observation.component", slicing={
                     "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}),
                 element("Observation.component", id="Observation.component:sys",
                         sliceName="sys"),
                 element("Observation.component.value[x]", id="Observation.component:sys.value[x]",
                         type=[{"code": "Quantity"}, {"code": "string"}]),
                 element("Observation.component.valueQuantity.unit",
                         id="Observation.component:sys.valueQuantity.unit", min=1))
    assert issues(registry, sd) == []
    found = generated(registry, sd)
    assert found["Observation.component:sys.value[x]"]["type"] == [{"code": "Quantity"}]
    assert found["Observation.component:sys.value[x].unit"]["min"] == 1


def test_renamed_choice_of_a_type_the_slice_lacks_keeps_its_type(registry: Registry) -> None:
    """In a backbone slice whose value[x] allows only Quantity, valueString names a type the
    base does not allow: an error, and value[x] keeps its one type."""
    sd = profile("only-quantity", "Observation",
                 element("Observation.component", slicing={
                     "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}),
                 element("Observation.component", id="Observation.component:sys",
                         sliceName="sys"),
                 element("Observation.component.value[x]", id="Observation.component:sys.value[x]",
                         type=[{"code": "Quantity"}]),
                 element("Observation.component.valueString.extension",
                         id="Observation.component:sys.valueString.extension", max="0"))
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.component:sys.valueString.extension",
         "type string is not allowed by the base (Observation.component:sys.value[x])")]
    found = generated(registry, sd)
    assert found["Observation.component:sys.value[x]"]["type"] == [{"code": "Quantity"}]
