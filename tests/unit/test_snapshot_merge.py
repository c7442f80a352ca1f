"""Laying a differential element over its snapshot element (``ecanfhir.definitions.
snapshot_merge``): texts, cardinality, fixed/pattern and limits, flags, lists, bindings, types,
invariants, extensions and the template of a profiled type, on hand-written profiles."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir.definitions.registry import Registry
from ecanfhir.definitions.snapshot import generate_snapshot, snapshot_issues

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
PROFILE_ELEMENT = CORE + "elementdefinition-profile-element"
VS = "http://example.org/fhir/ValueSet/"
OBS_VALUE = ("CodeableConcept, Period, Quantity, Range, Ratio, SampledData, boolean, dateTime, "
             "integer, string, time")


def profile(name: str, base: str, *diff: dict[str, Any], kind: str = "resource",
            **extra: Any) -> dict[str, Any]:
    """A constraint on ``base`` (a core type, or a url) with these differential elements."""
    base_url = base if ":" in base else CORE + base
    kind_type = base if ":" not in base else extra.pop("type")
    return {"resourceType": "StructureDefinition", "url": EXAMPLE + name, "name": name,
            "status": "draft", "kind": kind, "abstract": False, "type": kind_type,
            "derivation": "constraint", "baseDefinition": base_url,
            "differential": {"element": [
                {**e, "id": e.get("id", e["path"])} for e in diff]}, **extra}


def element(path: str, **props: Any) -> dict[str, Any]:
    return {"path": path, **props}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return make_registry()


def make_registry() -> Registry:
    reg = Registry()
    # A datatype profile whose root differs from what Observation.code says.
    reg.add(profile("coded", "CodeableConcept", element(
        "CodeableConcept", short="Coded", definition="A coded concept", comment="root comment",
        alias=["Root alias"], code=[{"system": "http://loinc.org", "code": "root"}],
        mustSupport=True, patternCodeableConcept={"text": "root"}, maxValueInteger=3,
        example=[{"label": "root", "valueString": "r"}], constraint=[
            {"key": "cc-1", "severity": "error", "human": "h", "expression": "true"}]),
        kind="complex-type"))
    # A base profile whose elements carry what a derived profile merges with.
    reg.add(profile(
        "obs-base", "Observation",
        element("Observation.code", patternCodeableConcept={"text": "base"}, alias=["A"],
                binding={"strength": "example", "valueSet": VS + "base",
                         "description": "the base's", "extension": [
                             {"url": "http://example.org/ext", "valueString": "x"}]},
                extension=[{"url": "http://example.org/u", "valueString": "old"},
                           {"url": "http://example.org/v", "valueString": "kept"}]),
        element("Observation.component", slicing={
            "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}),
        element("Observation.component", id="Observation.component:a", sliceName="a",
                min=1)))
    # A base whose Observation.code says what a template takes over.
    reg.add(profile("obs-usage", "Observation", element(
        "Observation.code", label="L", requirements="R", maxLength=9, mustSupport=False,
        example=[{"label": "usage", "valueString": "u"}], code=[
            {"system": "http://loinc.org", "code": "usage"}], minValueInteger=1,
        comment="usage comment", constraint=[
            {"key": "ou-1", "severity": "error", "human": "h", "expression": "true"}]),
        element("Observation.category", slicing={"rules": "open"}),
        element("Observation.note", max="0")))
    # A datatype profile with a hand-written snapshot whose root has no invariants.
    reg.add({"resourceType": "StructureDefinition", "url": EXAMPLE + "coded-snap",
             "name": "CodedSnap", "status": "draft", "kind": "complex-type",
             "abstract": False, "type": "CodeableConcept", "derivation": "constraint",
             "baseDefinition": CORE + "CodeableConcept", "snapshot": {"element": [
                 {"id": "CodeableConcept", "path": "CodeableConcept", "min": 0, "max": "*",
                  "short": "snap"}]}})
    # A base with a hand-written snapshot whose invariant names no source.
    reg.add({"resourceType": "StructureDefinition", "url": EXAMPLE + "basic-snap",
             "name": "BasicSnap", "status": "draft", "kind": "resource", "abstract": False,
             "type": "Basic", "derivation": "constraint", "baseDefinition": CORE + "Basic",
             "snapshot": {"element": [
                 {"id": "Basic", "path": "Basic", "min": 0, "max": "*", "constraint": [
                     {"key": "bs-1", "severity": "error", "human": "h", "expression": "true"},
                     {"key": "bs-2", "severity": "error", "human": "h", "expression": "true",
                      "source": EXAMPLE + "elsewhere"}]},
                 {"id": "Basic.author", "path": "Basic.author",
                  "type": [{"code": "Reference"}]},
                 {"id": "Basic.code", "path": "Basic.code", "min": 1, "max": "1",
                  "type": [{"code": "CodeableConcept"}]}]}})
    return reg


def generated(registry: Registry, sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in generate_snapshot(sd, registry)["snapshot"]["element"]}


def issues(registry: Registry, sd: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(i.severity, i.code, i.expression or "", i.message)
            for i in snapshot_issues(sd, registry)]


# -- texts ---------------------------------------------------------------------------------
def test_texts_replace_or_append() -> None:
    """``...`` at the start of definition, comment or requirements appends to the base's
    text (after CRLF); other texts, and ``...`` in short or label, replace it."""
    reg = Registry()
    sd = profile("texts", "Patient", element(
        "Patient.name", short="...the name", definition="...and more", comment="...c",
        requirements="...R", label="...L"))
    name = generated(reg, sd)["Patient.name"]
    assert (name["short"], name["definition"], name["comment"], name["requirements"],
            name["label"]) == ("...the name", "A name associated with the individual.\r\n"
                               "and more", "\r\nc", "\r\nR", "...L")
    assert issues(reg, sd) == []


# -- cardinality ---------------------------------------------------------------------------
def test_lower_min_is_an_error_except_on_a_slice(registry: Registry) -> None:
    sd = profile("low", EXAMPLE + "obs-base",
                 element("Observation.status", min=0),
                 element("Observation.component", id="Observation.component:a", sliceName="a",
                         min=0),
                 type="Observation")
    found = generated(registry, sd)
    assert found["Observation.status"]["min"] == 0
    assert found["Observation.component:a"]["min"] == 0
    assert issues(registry, sd) == [
        ("error", "business-rule", "Observation.status",
         EXAMPLE + "low: min 0 is lower than the base min 1")]


@pytest.mark.parametrize(("path", "max_", "message"), [
    ("Patient.gender", "*", "max * is higher than the base max 1"),
    ("Patient.gender", "2", "max 2 is higher than the base max 1"),
    ("Patient.gender", "1", None),
    ("Patient.gender", "0", None),
    ("Patient.name", "5", None),
    ("Patient.name", "*", None),
])
def test_higher_max_is_an_error(registry: Registry, path: str, max_: str,
                                message: str | None) -> None:
    sd = profile("max", "Patient", element(path, max=max_))
    assert generated(registry, sd)[path]["max"] == max_
    assert issues(registry, sd) == ([] if message is None else [
        ("error", "business-rule", path, EXAMPLE + "max: " + message)])


def test_same_min_is_no_error(registry: Registry) -> None:
    sd = profile("same", "Observation", element("Observation.status", min=1))
    assert issues(registry, sd) == []


# -- slicing -------------------------------------------------------------------------------
def test_slicing_of_a_sliced_base_is_merged(registry: Registry) -> None:
    """Discriminators add to the base's (no duplicates); ordered, rules and description
    replace the base's; what the differential leaves out stays."""
    sd = profile("resliced", EXAMPLE + "obs-base", element("Observation.component", slicing={
        "discriminator": [{"type": "value", "path": "code.coding.system"},
                          {"type": "pattern", "path": "code"}],
        "ordered": True, "rules": "closed", "description": "by code and system"}),
        type="Observation")
    assert generated(registry, sd)["Observation.component"]["slicing"] == {
        "discriminator": [{"type": "pattern", "path": "code"},
                          {"type": "value", "path": "code.coding.system"}],
        "ordered": True, "rules": "closed", "description": "by code and system"}
    assert issues(registry, sd) == []


def test_slicing_merge_keeps_what_the_differential_leaves_out(registry: Registry) -> None:
    sd = profile("rules-only", EXAMPLE + "obs-base", element(
        "Observation.component", slicing={"ordered": False}), type="Observation")
    assert generated(registry, sd)["Observation.component"]["slicing"] == {
        "discriminator": [{"type": "pattern", "path": "code"}], "rules": "open",
        "ordered": False}


def test_slicing_of_an_unsliced_base_is_the_differential_s(registry: Registry) -> None:
    """Where the base has no slicing, the differential's is taken as it is, even over the
    url slicing an earlier extension slice of this differential opened."""
    sd = profile("ext-slicing", "Patient",
                 element("Patient.extension", id="Patient.extension:a", sliceName="a"),
                 element("Patient.extension", slicing={
                     "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}))
    assert generated(registry, sd)["Patient.extension"]["slicing"] == {
        "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}


def test_slicing_after_a_renamed_choice_stays_the_closed_type_slicing(
        registry: Registry) -> None:
    sd = profile("renamed-then-sliced", "Observation",
                 element("Observation.valueQuantity", id="Observation.valueQuantity"),
                 element("Observation.value[x]", slicing={
                     "discriminator": [{"type": "type", "path": "$this"}], "rules": "open",
                     "description": "mine"}))
    assert generated(registry, sd)["Observation.value[x]"]["slicing"] == {
        "discriminator": [{"type": "type", "path": "$this"}], "ordered": False,
        "rules": "closed"}


# -- fixed, pattern, limits, flags ---------------------------------------------------------
def test_fixed_pattern_and_limits_replace_only_their_own_kind(registry: Registry) -> None:
    sd = profile("kinds", EXAMPLE + "obs-base",
                 element("Observation.code", fixedCodeableConcept={"text": "fixed"}),
                 element("Observation.value[x]", minValueInteger=1, maxValueInteger=9),
                 type="Observation")
    found = generated(registry, sd)
    code = found["Observation.code"]
    assert (code["patternCodeableConcept"], code["fixedCodeableConcept"]) == (
        {"text": "base"}, {"text": "fixed"})
    value = found["Observation.value[x]"]
    assert (value["minValueInteger"], value["maxValueInteger"]) == (1, 9)

    again = profile("kinds2", EXAMPLE + "obs-base",
                    element("Observation.code", patternCoding={"code": "c"}),
                    type="Observation")
    code = generated(registry, again)["Observation.code"]
    assert code["patternCoding"] == {"code": "c"}
    assert "patternCodeableConcept" not in code


def test_flags_and_max_length(registry: Registry) -> None:
    sd = profile("flags", "Patient", element("Patient.gender", mustSupport=True,
                                              isSummary=False, maxLength=6))
    gender = generated(registry, sd)["Patient.gender"]
    assert (gender["mustSupport"], gender["isSummary"], gender["maxLength"]) == (True, False, 6)


def test_is_modifier_only_changes_on_extensions(registry: Registry) -> None:
    """A profile cannot make an element a modifier; an extension says whether it is one."""
    sd = profile("modifiers", "Patient",
                 element("Patient.name", isModifier=True, isModifierReason="no"),
                 element("Patient.modifierExtension", id="Patient.modifierExtension:m",
                         sliceName="m", isModifier=True, isModifierReason="it modifies"),
                 element("Patient.extension", id="Patient.extension:e", sliceName="e",
                         isModifier=True, isModifierReason="it does too"))
    found = generated(registry, sd)
    assert found["Patient.name"]["isModifier"] is False
    assert "isModifierReason" not in found["Patient.name"]
    assert (found["Patient.modifierExtension:m"]["isModifier"],
            found["Patient.modifierExtension:m"]["isModifierReason"]) == (True, "it modifies")
    assert (found["Patient.extension:e"]["isModifier"],
            found["Patient.extension:e"]["isModifierReason"]) == (True, "it does too")


def test_extension_definition_says_whether_it_modifies(registry: Registry) -> None:
    sd = profile("modifying", "Extension", element(
        "Extension", isModifier=True, isModifierReason="changes the meaning"),
        kind="complex-type", context=[{"type": "element", "expression": "Patient"}])
    root = generated(registry, sd)["Extension"]
    assert (root["isModifier"], root["isModifierReason"]) == (True, "changes the meaning")


def test_lists_add_what_the_base_lacks(registry: Registry) -> None:
    sd = profile("lists", EXAMPLE + "obs-base", element(
        "Observation.code", alias=["B", "A"], condition=["obs-6"],
        code=[{"system": "http://loinc.org", "code": "1-8"}],
        example=[{"label": "e", "valueString": "x"}],
        mapping=[{"identity": "rim", "map": "m"}]), type="Observation")
    code = generated(registry, sd)["Observation.code"]
    assert code["alias"] == ["A", "B"]
    assert code["condition"] == ["obs-6"]
    assert code["code"] == [{"system": "http://loinc.org", "code": "1-8"}]
    assert code["example"] == [{"label": "e", "valueString": "x"}]
    assert code["mapping"] == [{"identity": "rim", "map": "m"}]


def test_empty_lists_change_nothing(registry: Registry) -> None:
    sd = profile("empty", EXAMPLE + "obs-base", element("Observation.code", alias=[]),
                 type="Observation")
    assert generated(registry, sd)["Observation.code"]["alias"] == ["A"]


# -- bindings ------------------------------------------------------------------------------
def test_binding_merge_drops_the_base_description_and_extensions(registry: Registry) -> None:
    sd = profile("bound", EXAMPLE + "obs-base", element(
        "Observation.code", binding={"strength": "preferred", "valueSet": VS + "new"}),
        type="Observation")
    assert generated(registry, sd)["Observation.code"]["binding"] == {
        "strength": "preferred", "valueSet": VS + "new"}
    assert issues(registry, sd) == []


def test_binding_merge_keeps_what_the_differential_leaves_out(registry: Registry) -> None:
    sd = profile("described", EXAMPLE + "obs-base", element(
        "Observation.code", binding={"description": "mine"}), type="Observation")
    assert generated(registry, sd)["Observation.code"]["binding"] == {
        "strength": "example", "valueSet": VS + "base", "description": "mine"}


def test_binding_the_same_as_the_base_is_kept_whole(registry: Registry) -> None:
    base = generated(registry, profile("x", EXAMPLE + "obs-base", type="Observation"))
    binding = base["Observation.code"]["binding"]
    sd = profile("same-binding", EXAMPLE + "obs-base",
                 element("Observation.code", binding=binding), type="Observation")
    assert generated(registry, sd)["Observation.code"]["binding"] == binding
    assert binding["description"] == "the base's"


@pytest.mark.parametrize(("strength", "message"), [
    ("extensible", "binding strength extensible weakens the base's required binding"),
    ("example", "binding strength example weakens the base's required binding"),
    ("required", None),
    (None, None),
])
def test_weakened_required_binding(registry: Registry, strength: str | None,
                                   message: str | None) -> None:
    binding = {"valueSet": VS + "g"} if strength is None else {
        "strength": strength, "valueSet": VS + "g"}
    sd = profile("weak", "Patient", element("Patient.gender", binding=binding))
    assert generated(registry, sd)["Patient.gender"]["binding"] == {
        "strength": strength or "required", "valueSet": VS + "g"}
    assert issues(registry, sd) == ([] if message is None else [
        ("error", "business-rule", "Patient.gender", EXAMPLE + "weak: " + message)])


def test_weaker_binding_of_a_preferred_base_is_no_error(registry: Registry) -> None:
    sd = profile("example-code", "Observation", element(
        "Observation.code", binding={"strength": "example", "valueSet": VS + "c"}))
    assert issues(registry, sd) == []


@pytest.mark.parametrize(("code", "kept"), [
    ("boolean", False), ("Coding", True), ("string", True), ("uri", True),
    ("Quantity", True), ("code", True), ("CodeableConcept", True), ("integer", False),
])
def test_binding_kept_only_on_a_bindable_type(registry: Registry, code: str,
                                             kept: bool) -> None:
    sd = profile("ext-" + code, "Extension", element(
        "Extension.value[x]", type=[{"code": code}],
        binding={"strength": "required", "valueSet": VS + "v"}),
        kind="complex-type", context=[{"type": "element", "expression": "Patient"}])
    value = generated(registry, sd)["Extension.value[x]"]
    assert ("binding" in value) is kept


# -- types ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "types", "message"), [
    ("Patient.birthDate", ["string"], "type string is not allowed by the base (date)"),
    ("Patient.deceased[x]", ["boolean"], None),
    ("Patient.deceased[x]", ["boolean", "integer"],
     "type integer is not allowed by the base (boolean, dateTime)"),
    ("Observation.value[x]", ["Age"], None),  # Age specializes Quantity
    ("Observation.value[x]", ["Duration", "string"], None),
    ("Observation.value[x]", ["Patient"], "type Patient is not allowed by the base (" + OBS_VALUE
     + ")"),
])
def test_types_must_be_allowed_by_the_base(registry: Registry, path: str, types: list[str],
                                          message: str | None) -> None:
    resource = path.split(".")[0]
    sd = profile("types", resource, element(path, type=[{"code": c} for c in types]))
    assert [t["code"] for t in generated(registry, sd)[path]["type"]] == types
    assert issues(registry, sd) == ([] if message is None else [
        ("error", "business-rule", path, EXAMPLE + "types: " + message)])


def test_resource_type_specializes_resource(registry: Registry) -> None:
    sd = profile("entry", "Bundle", element("Bundle.entry.resource", type=[{"code": "Patient"}]))
    assert generated(registry, sd)["Bundle.entry.resource"]["type"] == [{"code": "Patient"}]
    assert issues(registry, sd) == []


def test_unknown_type_is_not_allowed(registry: Registry) -> None:
    sd = profile("unknown", "Observation", element("Observation.value[x]",
                                                   type=[{"code": "Shoe"}]))
    assert [i[3] for i in issues(registry, sd)] == [
        EXAMPLE + "unknown: type Shoe is not allowed by the base (" + OBS_VALUE + ")"]


# -- invariants and extensions -------------------------------------------------------------
def test_constraints_are_added_with_their_source(registry: Registry) -> None:
    sd = profile("inv", "Patient", element("Patient", constraint=[
        {"key": "inv-1", "severity": "error", "human": "h", "expression": "true"},
        {"key": "inv-2", "severity": "error", "human": "h", "expression": "true",
         "source": EXAMPLE + "elsewhere"},
        {"key": "dom-2", "severity": "error", "human": "not this", "expression": "false"}]))
    root = generated(registry, sd)["Patient"]
    sources = [(c["key"], c["source"]) for c in root["constraint"]]
    assert sources[-2:] == [("inv-1", EXAMPLE + "inv"), ("inv-2", EXAMPLE + "elsewhere")]
    assert [c["expression"] for c in root["constraint"] if c["key"] == "dom-2"] == [
        "contained.contained.empty()"]
    assert len(sources) == len(dict(sources))


def test_inherited_constraints_name_the_base(registry: Registry) -> None:
    sd = profile("from-snap", EXAMPLE + "basic-snap", element("Basic", short="s"),
                 element("Basic.code", short="c"), type="Basic")
    found = generated(registry, sd)
    assert found["Basic"]["constraint"] == [
        {"key": "bs-1", "severity": "error", "human": "h", "expression": "true",
         "source": EXAMPLE + "basic-snap"},
        {"key": "bs-2", "severity": "error", "human": "h", "expression": "true",
         "source": EXAMPLE + "elsewhere"}]
    assert "constraint" not in found["Basic.code"]


def test_constraint_on_an_element_without_any(registry: Registry) -> None:
    sd = profile("first-inv", EXAMPLE + "basic-snap", element("Basic.code", constraint=[
        {"key": "fi-1", "severity": "warning", "human": "h", "expression": "true"}]),
        type="Basic")
    assert generated(registry, sd)["Basic.code"]["constraint"] == [
        {"key": "fi-1", "severity": "warning", "human": "h", "expression": "true",
         "source": EXAMPLE + "first-inv"}]


@pytest.mark.parametrize(("change", "message"), [
    ({"min": 0}, None),  # a missing min is 0
    ({"min": 0, "max": "5"}, None),  # a missing max is *
    ({"max": "x"}, None),  # a max that is no number is not compared
])
def test_cardinality_against_an_element_without_one(registry: Registry, change: dict[str, Any],
                                                    message: str | None) -> None:
    sd = profile("author", EXAMPLE + "basic-snap", element("Basic.author", **change),
                 type="Basic")
    author = generated(registry, sd)["Basic.author"]
    assert {k: author[k] for k in change} == change
    assert issues(registry, sd) == []


def test_max_that_is_no_number_loosens_nothing(registry: Registry) -> None:
    sd = profile("no-number", EXAMPLE + "obs-usage", element("Observation.note", max="x"),
                 type="Observation")
    assert generated(registry, sd)["Observation.note"]["max"] == "x"
    assert issues(registry, sd) == []


def test_issues_come_from_the_snapshot_rule(registry: Registry) -> None:
    sd = profile("rule", "Patient", element("Patient.gender", max="*"))
    assert [(i.rule, i.severity) for i in snapshot_issues(sd, registry)] == [
        ("snapshot", "error")]


def test_template_over_an_element_without_constraints(registry: Registry) -> None:
    sd = profile("templ-basic", EXAMPLE + "basic-snap", element("Basic.code", type=CODED),
                 type="Basic")
    code = generated(registry, sd)["Basic.code"]
    assert [c["key"] for c in code["constraint"]] == ["ele-1", "cc-1"]
    assert (code["min"], code["max"], code["short"]) == (1, "1", "Coded")


def test_extensions_of_an_element_replace_those_with_their_url(registry: Registry) -> None:
    sd = profile("exts", EXAMPLE + "obs-base", element("Observation.code", extension=[
        {"url": "http://example.org/u", "valueString": "new"},
        {"url": "http://example.org/w", "valueString": "added"}]), type="Observation")
    assert generated(registry, sd)["Observation.code"]["extension"] == [
        {"url": "http://example.org/v", "valueString": "kept"},
        {"url": "http://example.org/u", "valueString": "new"},
        {"url": "http://example.org/w", "valueString": "added"}]


# -- the template of a profiled type --------------------------------------------------------
def test_profiled_extension_starts_from_its_definition(registry: Registry) -> None:
    """A slice typed by one profile starts as that profile's root (its condition, no
    isSummary), overwritten by what the base says of the element (short, min, max)."""
    sd = profile("nat", "Patient", element(
        "Patient.extension", id="Patient.extension:nat", sliceName="nat",
        type=[{"code": "Extension", "profile": [CORE + "patient-nationality"]}]))
    nat = generated(registry, sd)["Patient.extension:nat"]
    assert nat["condition"] == ["ele-1"]
    assert "isSummary" not in nat
    assert (nat["short"], nat["min"], nat["max"]) == (
        "Additional content defined by implementations", 0, "*")
    assert (nat["id"], nat["path"], nat["sliceName"]) == (
        "Patient.extension:nat", "Patient.extension", "nat")
    assert nat["base"] == {"path": "DomainResource.extension", "min": 0, "max": "*"}
    assert [c["key"] for c in nat["constraint"]] == ["ele-1", "ext-1"]


def test_profile_element_names_the_template(registry: Registry) -> None:
    sd = profile("nat-code", "Patient", element(
        "Patient.extension", id="Patient.extension:code", sliceName="code",
        type=[{"code": "Extension", "profile": [CORE + "patient-nationality"],
               "_profile": [{"extension": [{"url": PROFILE_ELEMENT,
                                            "valueString": "Extension.extension:code"}]}]}]))
    code = generated(registry, sd)["Patient.extension:code"]
    assert "isSummary" in code  # the nationality's code slice has it, its root has not
    assert "condition" not in code
    assert code["short"] == "Additional content defined by implementations"


def test_template_never_brings_slicing(registry: Registry) -> None:
    sd = profile("nat-ext", "Patient", element(
        "Patient.extension", id="Patient.extension:sub", sliceName="sub",
        type=[{"code": "Extension", "profile": [CORE + "patient-nationality"],
               "_profile": [{"extension": [{"url": PROFILE_ELEMENT,
                                            "valueString": "Extension.extension"}]}]}]))
    found = generated(registry, sd)["Patient.extension:sub"]
    assert "slicing" not in found
    assert found["isSummary"] is False  # Extension.extension's own, the root has none


@pytest.mark.parametrize("type_", [
    {"code": "Extension"},
    {"code": "Reference", "profile": [CORE + "patient-nationality"]},
    {"code": "Extension", "profile": [EXAMPLE + "not-loaded"]},
])
def test_no_template_without_one_loaded_profile(registry: Registry,
                                                type_: dict[str, Any]) -> None:
    sd = profile("plain", "Patient", element(
        "Patient.extension", id="Patient.extension:p", sliceName="p", type=[type_]))
    found = generated(registry, sd)["Patient.extension:p"]
    assert found["isSummary"] is False
    assert "condition" not in found


CODED = [{"code": "CodeableConcept", "profile": [EXAMPLE + "coded"]}]
ELE_1 = {"key": "ele-1", "severity": "error",
         "human": "All FHIR elements must have a @value or children",
         "expression": "hasValue() or (children().count() > id.count())",
         "source": CORE + "Element"}
CC_1 = {"key": "cc-1", "severity": "error", "human": "h", "expression": "true",
        "source": EXAMPLE + "coded"}
CODE_SHORT = "Type of observation (code / type)"
CODE_DEFINITION = 'Describes what was observed. Sometimes this is called the observation "name".'


def test_template_of_a_profiled_datatype(registry: Registry) -> None:
    """The profile's root, with the base element's texts, cardinality, binding and
    fixed/pattern laid over it (HL7 overWriteWithCurrent): the root's comment, mustSupport,
    maxValue and example stay, codes and aliases add up, the base's pattern replaces the
    root's, invariants add the base's, and the element's id, path and base are its own."""
    sd = profile("templ", EXAMPLE + "obs-base", element("Observation.code", type=CODED),
                 type="Observation")
    assert generated(registry, sd)["Observation.code"] == {
        "id": "Observation.code", "path": "Observation.code",
        "base": {"path": "Observation.code", "min": 1, "max": "1"},
        "short": CODE_SHORT, "definition": CODE_DEFINITION, "comment": "root comment",
        "min": 1, "max": "1", "condition": ["ele-1"], "constraint": [ELE_1, CC_1],
        "isModifier": False, "maxValueInteger": 3, "mustSupport": True,
        "alias": ["Root alias", "A"], "code": [{"system": "http://loinc.org", "code": "root"}],
        "example": [{"label": "root", "valueString": "r"}],
        "binding": {"strength": "example", "valueSet": VS + "base", "description": "the base's",
                    "extension": [{"url": "http://example.org/ext", "valueString": "x"}]},
        "patternCodeableConcept": {"text": "base"}, "type": CODED}
    assert issues(registry, sd) == []


def test_template_takes_the_base_element_s_usage(registry: Registry) -> None:
    """Label, requirements, maxLength, mustSupport, examples and minValue of the base
    element win over the root's; the root's pattern stays where the base has none."""
    sd = profile("templ2", EXAMPLE + "obs-usage", element("Observation.code", type=CODED),
                 type="Observation")
    code = generated(registry, sd)["Observation.code"]
    assert (code["label"], code["requirements"], code["maxLength"], code["mustSupport"]) == (
        "L", "R", 9, False)
    assert code["example"] == [{"label": "usage", "valueString": "u"}]
    assert code["code"] == [{"system": "http://loinc.org", "code": "root"},
                            {"system": "http://loinc.org", "code": "usage"}]
    assert code["alias"] == ["Root alias"]
    assert (code["minValueInteger"], code["maxValueInteger"]) == (1, 3)
    assert code["patternCodeableConcept"] == {"text": "root"}
    assert code["binding"] == {"strength": "example",
                               "valueSet": "http://hl7.org/fhir/ValueSet/observation-codes"}
    assert code["comment"] == "usage comment"
    assert [c["key"] for c in code["constraint"]] == ["ele-1", "cc-1", "ou-1"]


def test_no_template_once_the_element_was_touched(registry: Registry) -> None:
    sd = profile("twice", "Observation", element("Observation.code", short="first"),
                 element("Observation.code", type=CODED))
    code = generated(registry, sd)["Observation.code"]
    assert (code["short"], code["type"]) == ("first", CODED)
    assert "alias" not in code and "comment" not in code


def test_no_template_for_a_slice_appended_to_inherited_slices() -> None:
    reg = make_registry()
    reg.add(profile("with-nat", "Patient", element(
        "Patient.extension", id="Patient.extension:nat", sliceName="nat",
        type=[{"code": "Extension", "profile": [CORE + "patient-nationality"]}])))
    sd = profile("more", EXAMPLE + "with-nat", element(
        "Patient.extension", id="Patient.extension:bp", sliceName="bp",
        type=[{"code": "Extension", "profile": [CORE + "patient-birthPlace"]}]),
        element("Patient.gender", min=1), type="Patient")
    found = generated(reg, sd)
    assert found["Patient.extension:bp"]["isSummary"] is False
    assert "condition" not in found["Patient.extension:bp"]
    assert found["Patient.extension:nat"]["condition"] == ["ele-1"]


def test_slicing_merge_over_a_base_slicing_without_discriminator(registry: Registry) -> None:
    sd = profile("disc", EXAMPLE + "obs-usage", element("Observation.category", slicing={
        "discriminator": [{"type": "pattern", "path": "$this"}]}), type="Observation")
    assert generated(registry, sd)["Observation.category"]["slicing"] == {
        "rules": "open", "discriminator": [{"type": "pattern", "path": "$this"}]}


def test_template_without_invariants(registry: Registry) -> None:
    sd = profile("templ-snap", "Observation", element("Observation.code", type=[
        {"code": "CodeableConcept", "profile": [EXAMPLE + "coded-snap"]}]))
    code = generated(registry, sd)["Observation.code"]
    assert [c["key"] for c in code["constraint"]] == ["ele-1"]
    assert code["min"] == 1


@pytest.mark.parametrize(("named", "condition"), [
    ("Extension.nothing", ["ele-1"]),  # an id the profile lacks: its root
    ("Extension.extension:code", None),
])
def test_profile_element_on_an_element_that_is_no_slice(registry: Registry, named: str,
                                                        condition: list[str] | None) -> None:
    """The element a profile names is the template; its id, path and sliceName are not."""
    sd = profile("nat-plain", "Patient", element("Patient.extension", type=[
        {"code": "Extension", "profile": [CORE + "patient-nationality"],
         "_profile": [{"extension": [{"url": PROFILE_ELEMENT, "valueString": named}]}]}]))
    found = generated(registry, sd)["Patient.extension"]
    assert found.get("condition") == condition
    assert "sliceName" not in found
    assert (found["id"], found["path"]) == ("Patient.extension", "Patient.extension")
