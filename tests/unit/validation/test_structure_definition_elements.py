"""StructureDefinitions validated as resources: what their elements say about types, profiles,
bindings, values, ids and invariants (checks/element_type.py, checks/element_definition.py).
All profiles are small and synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from test_structure_definition import CORE, DIFF, EX, check, extension, profile

from ecanfhir import Registry, ValidationResult, Validator

SNAP = "StructureDefinition.snapshot.element"


def rule_issues(result: ValidationResult, rule: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in result.issues if i.rule == rule]


def with_snapshot(elements: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A profile on Basic whose snapshot is ``elements`` (after a root element)."""
    root = {"id": "Basic", "path": "Basic", "min": 0, "max": "*"}
    sd = profile("snap", [{"path": "Basic"}], type_="Basic", **extra)
    sd["snapshot"] = {"element": [root, *elements]}
    return sd


def snap_element(path: str, types: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": path, "path": path, "min": 0, "max": "1",
            "type": [{"code": code} for code in types], **extra}


# -- type.profile and targetProfile ------------------------------------------------------
def test_type_profile_for_another_type() -> None:
    """A profile on Quantity named as the profile of a CodeableConcept element is an error."""
    sd = profile("wrongprofile", [{"path": "Observation"}, {
        "path": "Observation.code", "type": [
            {"code": "CodeableConcept", "profile": [CORE + "SimpleQuantity"]}]}])
    assert_issue(check(sd), f"{DIFF}[1].type[0].profile[0]", severity="error", code="invalid",
                 fragment="is for type 'Quantity'")


def test_type_profile_of_a_specialised_type_passes() -> None:
    """A profile on Patient fits an element of type Resource (Patient is a Resource)."""
    sd = profile("fits", [{"path": "Bundle"}, {
        "path": "Bundle.entry.resource", "type": [
            {"code": "Resource", "profile": [CORE + "Patient"]}]}], type_="Bundle")
    assert rule_issues(check(sd), "sd-type-profile") == []


def test_unknown_type_profile_is_a_warning() -> None:
    """A profile that is not loaded is not judged (a warning says so)."""
    sd = profile("unknownprofile", [{"path": "Observation"}, {
        "path": "Observation.subject", "type": [
            {"code": "Reference", "targetProfile": [EX + "not-loaded"]}]}])
    assert rule_issues(check(sd), "sd-type-profile") == [
        ("warning", "not-found", f"{DIFF}[1].type[0].targetProfile[0]")]


def test_target_profile_must_be_a_resource_profile() -> None:
    """A Reference cannot target a datatype profile."""
    sd = profile("target", [{"path": "Observation"}, {
        "path": "Observation.subject", "type": [
            {"code": "Reference", "targetProfile": [CORE + "Quantity"]}]}])
    [issue] = [i for i in check(sd).issues if i.rule == "sd-type-profile"]
    assert (issue.severity, issue.code, issue.expression) == (
        "error", "invalid", f"{DIFF}[1].type[0].targetProfile[0]")
    assert "not a resource" in issue.message


def modifier_extension() -> dict[str, Any]:
    ext = extension("mod-ext", {"path": "Extension.value[x]", "type": [{"code": "boolean"}]})
    ext["snapshot"] = {"element": [{"id": "Extension", "path": "Extension", "min": 0,
                                    "max": "*", "isModifier": True}]}
    return ext


@pytest.mark.parametrize("path, bad", [
    ("Observation.extension", True), ("Observation.modifierExtension", False)])
def test_modifier_extension_only_on_modifier_extension(path: str, bad: bool) -> None:
    """An extension definition that is a modifier is used on modifierExtension, not extension."""
    sd = profile("usesmod", [{"path": "Observation"}, {
        "id": path + ":mod", "path": path, "sliceName": "mod",
        "type": [{"code": "Extension", "profile": [EX + "mod-ext"]}]}])
    found = rule_issues(check(sd, modifier_extension()), "sd-type-profile")
    assert found == ([("error", "invalid", f"{DIFF}[1].type[0].profile[0]")] if bad else [])


def test_plain_extension_not_on_modifier_extension() -> None:
    """An extension definition that is not a modifier cannot be a modifierExtension."""
    plain = modifier_extension()
    plain["snapshot"]["element"][0]["isModifier"] = False
    sd = profile("usesplain", [{"path": "Observation"}, {
        "id": "Observation.modifierExtension:plain", "path": "Observation.modifierExtension",
        "sliceName": "plain", "type": [{"code": "Extension", "profile": [EX + "mod-ext"]}]}])
    assert_issue(check(sd, plain), f"{DIFF}[1].type[0].profile[0]", severity="error",
                 code="invalid", fragment="is not a modifier extension")


# -- bindings ------------------------------------------------------------------------------
def test_binding_to_a_code_system_is_an_error() -> None:
    """A binding's valueSet must be a ValueSet, not a CodeSystem."""
    sd = profile("bindcs", [{"path": "Observation"}, {
        "path": "Observation.code", "binding": {
            "strength": "required", "valueSet": "http://terminology.hl7.org/CodeSystem/v2-0203"}}])
    cs = {"resourceType": "CodeSystem", "url": "http://terminology.hl7.org/CodeSystem/v2-0203",
          "status": "active", "content": "not-present"}
    result = check(sd, cs)
    assert_issue(result, f"{DIFF}[1].binding.valueSet", severity="error", code="invalid",
                 fragment="names a CodeSystem")
    assert rule_issues(result, "sd-binding") == []


def test_binding_to_an_unknown_value_set_is_a_warning() -> None:
    """A value set that is not loaded is only a warning; a loaded one passes."""
    sd = profile("bindvs", [{"path": "Observation"}, {
        "path": "Observation.code", "binding": {
            "strength": "extensible", "valueSet": EX.replace("StructureDefinition", "ValueSet")
            + "nowhere"}}])
    assert rule_issues(check(sd), "sd-binding") == [
        ("warning", "not-found", f"{DIFF}[1].binding.valueSet")]
    sd["differential"]["element"][1]["binding"]["valueSet"] = \
        "http://hl7.org/fhir/ValueSet/observation-codes|4.0.1"
    assert rule_issues(check(sd), "sd-binding") == []


def test_binding_without_value_set_in_a_snapshot_is_warned() -> None:
    """A snapshot binding without a value set binds nothing (a warning)."""
    sd = with_snapshot([snap_element("Basic.code", ["CodeableConcept"],
                                     binding={"strength": "example"})])
    assert ("warning", "business-rule", f"{SNAP}[1].binding") in rule_issues(
        check(sd), "sd-binding")


def test_binding_on_several_bindable_types_is_information() -> None:
    """One binding on code and Coding applies to both (information)."""
    sd = with_snapshot([snap_element("Basic.extension.value[x]", ["code", "Coding"], binding={
        "strength": "example", "valueSet": "http://hl7.org/fhir/ValueSet/observation-codes"})])
    assert rule_issues(check(sd), "sd-binding") == [
        ("information", "business-rule", f"{SNAP}[1].binding")]


# -- values and types in snapshots ----------------------------------------------------------
def test_fixed_value_of_another_type() -> None:
    """A fixed string on a boolean element is an error; a fixed boolean passes."""
    sd = with_snapshot([snap_element("Basic.code", ["CodeableConcept"]),
                        snap_element("Basic.extension.value[x]", ["boolean"], fixedString="y")])
    assert_issue(check(sd), f"{SNAP}[2].fixedString", severity="error", code="structure",
                 fragment="type 'string'")
    sd["snapshot"]["element"][2] = snap_element("Basic.extension.value[x]", ["boolean"],
                                                fixedBoolean=True)
    assert rule_issues(check(sd), "sd-element-value") == []


def test_pattern_of_a_parent_type_fits_a_specialisation() -> None:
    """A Quantity pattern fits an Age element (Age specialises Quantity)."""
    sd = with_snapshot([snap_element("Basic.extension.value[x]", ["Age"],
                                     patternQuantity={"system": "http://unitsofmeasure.org"})])
    assert rule_issues(check(sd), "sd-element-value") == []


def test_element_without_type_or_content_reference() -> None:
    """A snapshot element below the root needs a type or a contentReference."""
    sd = with_snapshot([{"id": "Basic.code", "path": "Basic.code", "min": 0, "max": "1"},
                        {"id": "Basic.author", "path": "Basic.author", "min": 0, "max": "1",
                         "contentReference": "#Basic.code"}])
    assert rule_issues(check(sd), "sd-element-value") == [
        ("error", "structure", f"{SNAP}[1]")]


@pytest.mark.parametrize("value, key, severity", [
    ({"patternCoding": {"system": "http://loinc.org"}}, "patternCoding", "information"),
    ({"patternCode": "a"}, "patternCode", "warning")])
def test_values_on_repeating_elements(value: dict[str, Any], key: str, severity: str) -> None:
    """A pattern on a repeating element applies to every repeat: information, a warning for
    primitives (some validators apply it to one repeat only)."""
    sd = with_snapshot([{**snap_element("Basic.extension.value[x]", ["Coding", "code"]),
                         "max": "*", **value}])
    assert rule_issues(check(sd), "sd-element-value") == [
        (severity, "business-rule", f"{SNAP}[1].{key}")]


def test_fixed_complex_value_is_warned() -> None:
    """A fixed Coding forbids every other property: a warning suggests a pattern."""
    sd = with_snapshot([{**snap_element("Basic.extension.value[x]", ["Coding"]), "max": "*",
                         "fixedCoding": {"system": "http://loinc.org"}}])
    found = rule_issues(check(sd), "sd-element-value")
    assert ("warning", "business-rule", f"{SNAP}[1].fixedCoding") in found


def test_type_must_support_needs_a_must_support_element() -> None:
    """Types marked must-support on an element that is not must-support: warned."""
    marked = {"code": "Quantity", "extension": [
        {"url": CORE + "elementdefinition-type-must-support", "valueBoolean": True}]}
    sd = with_snapshot([{**snap_element("Basic.extension.value[x]", []), "type": [marked]}])
    assert rule_issues(check(sd), "sd-must-support") == [
        ("warning", "business-rule", f"{SNAP}[1]")]
    sd["snapshot"]["element"][1]["mustSupport"] = True
    assert rule_issues(check(sd), "sd-must-support") == []


def test_type_must_support_in_a_differential_is_information() -> None:
    """In a differential without snapshot the inner mark is only a hint."""
    marked = {"code": "Reference", "targetProfile": [CORE + "Patient"], "_targetProfile": [
        {"extension": [{"url": CORE + "elementdefinition-type-must-support",
                        "valueBoolean": True}]}]}
    sd = profile("msdiff", [{"path": "Observation"},
                            {"path": "Observation.subject", "type": [marked]}])
    assert rule_issues(check(sd), "sd-must-support") == [
        ("information", "business-rule", f"{DIFF}[1]")]


# -- ids, paths, derivation --------------------------------------------------------------------
def test_same_id_twice() -> None:
    """Element ids are unique within the differential."""
    sd = profile("dupid", [{"path": "Observation"}, {"path": "Observation.code", "min": 1},
                           {"path": "Observation.code", "max": "1"}])
    assert ("error", "duplicate", f"{DIFF}[2]") in rule_issues(check(sd), "sd-element")


def test_snapshot_element_without_path() -> None:
    """Every snapshot element has a path."""
    sd = with_snapshot([{"id": "Basic.code", "min": 0, "max": "1"}])
    assert ("error", "required", f"{SNAP}[1]") in rule_issues(check(sd), "sd-element")


def test_base_definition_needs_a_derivation() -> None:
    """A StructureDefinition with a baseDefinition says whether it constrains or specialises."""
    sd = profile("noderivation", [{"path": "Observation"}])
    del sd["derivation"]
    assert ("error", "required", "StructureDefinition") in rule_issues(check(sd), "sd-base")


# -- invariants ----------------------------------------------------------------------------------
def invariant(**fields: Any) -> dict[str, Any]:
    return {"key": "syn-1", "severity": "error", "human": "Synthetic rule", **fields}


@pytest.mark.parametrize("fields, expected", [
    ({"expression": "status.exists() and"}, ("error", "invalid")),
    ({"expression": "status.frobnicate()"}, ("warning", "invalid")),
    ({"xpath": "f:status"}, ("information", "informational")),
])
def test_invariant_expressions(fields: dict[str, Any], expected: tuple[str, str]) -> None:
    """A new invariant's FHIRPath must parse (error), use functions this engine knows
    (warning), and exist at all (information: it cannot be checked)."""
    sd = profile("badinv", [{"path": "Observation", "constraint": [invariant(**fields)]}])
    assert rule_issues(check(sd), "sd-fhirpath" if "expression" in fields
                       else "sd-invariant") == [(*expected, f"{DIFF}[0].constraint[0]")]


def test_good_invariant_expression_passes() -> None:
    """A well-formed invariant gives no sd-fhirpath issue."""
    sd = profile("goodinv", [{"path": "Observation", "constraint": [
        invariant(expression="Observation.status.exists() implies code.exists()")]}])
    assert rule_issues(check(sd), "sd-fhirpath") == []


def test_context_invariant_expression_must_parse() -> None:
    """An extension's contextInvariant is FHIRPath too."""
    ext = extension("ctxinv", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    ext["contextInvariant"] = ["%extension.exists() and ("]
    assert rule_issues(check(ext), "sd-fhirpath") == [
        ("error", "invalid", "StructureDefinition.contextInvariant[0]")]


def test_type_profile_without_a_type() -> None:
    """A profile that does not say which type it constrains cannot be a type's profile."""
    untyped = profile("untyped", [{"path": "Quantity"}], type_="Quantity")
    del untyped["type"]
    sd = profile("usesuntyped", [{"path": "Observation"}, {
        "path": "Observation.value[x]", "type": [{"code": "Quantity",
                                                  "profile": [EX + "untyped"]}]}])
    assert_issue(check(sd, untyped), f"{DIFF}[1].type[0].profile[0]", severity="error",
                 code="invalid", fragment="has no type")


def test_structure_definition_without_type() -> None:
    """A StructureDefinition says its type (1..1), and a constraint has its base's."""
    sd = profile("notype", [{"path": "Observation"}])
    del sd["type"]
    result = check(sd)
    assert ("error", "required", "StructureDefinition.type") in rule_issues(
        result, "cardinality-min")
    assert ("error", "invalid", "StructureDefinition.type") in rule_issues(result, "sd-base")


def test_base_without_type() -> None:
    """A base that says no type cannot be constrained into an Observation profile."""
    base = profile("basenotype", [{"path": "Observation"}])
    del base["type"]
    sd = profile("onnotype", [{"path": "Observation"}], base=EX + "basenotype")
    assert rule_issues(check(sd, base), "sd-base") == [
        ("error", "invalid", "StructureDefinition.type")]


@pytest.mark.parametrize("path, fragment", [
    ("Observation..code", "missing"),
    ("Observation." + "c" * 65, "longer than 64"),
    ("Observation.co de", "whitespace"),
    ("Observation.code[0]", "'[' or ']'"),
    ("Observation.co$de", "character '$'"),
])
def test_illegal_differential_paths(path: str, fragment: str) -> None:
    """Differential paths are dot-separated FHIR names of at most 64 characters."""
    sd = profile("badpath", [{"path": "Observation"}, {"id": "x", "path": path}])
    found = [i for i in check(sd).issues if i.rule == "sd-element"
             and i.expression == f"{DIFF}[1]"]
    assert [(i.severity, i.code) for i in found] == [("error", "invalid")]
    assert fragment in found[0].message


def test_legal_differential_paths_pass() -> None:
    """Choice names, dashes and underscores are fine."""
    sd = profile("goodpath", [{"path": "Observation"}, {"path": "Observation.value[x]"}])
    assert [i for i in check(sd).issues if i.rule == "sd-element"] == []


def test_unknown_type_code() -> None:
    """A type code that is no FHIR R4 type (a typo) is an error."""
    sd = profile("badtype", [{"path": "Observation"},
                             {"path": "Observation.value[x]", "type": [{"code": "Quantty"}]}])
    assert ("error", "not-found", f"{DIFF}[1].type[0]") in rule_issues(
        check(sd), "sd-type-profile")


def test_content_reference_names_an_element() -> None:
    """A local contentReference points at an element id of the same snapshot."""
    sd = with_snapshot([snap_element("Basic.code", ["CodeableConcept"]),
                        {"id": "Basic.author", "path": "Basic.author", "min": 0, "max": "1",
                         "contentReference": "#Basic.nowhere"}])
    assert rule_issues(check(sd), "sd-element-value") == [
        ("error", "not-found", f"{SNAP}[2].contentReference")]


def test_is_summary_cannot_change() -> None:
    """isSummary is the base's: restating it is fine, changing it an error."""
    sd = profile("summary", [{"path": "Observation"},
                             {"path": "Observation.code", "isSummary": False},
                             {"path": "Observation.subject", "isSummary": True}])
    assert rule_issues(check(sd), "sd-base") == [
        ("error", "business-rule", f"{DIFF}[1].isSummary")]


def test_element_context_given_as_fhirpath_is_warned() -> None:
    """A fhirpath context that is just an element path should be an element context."""
    ext = extension("fpctx", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    ext["context"] = [{"type": "fhirpath", "expression": "Patient.contact"},
                      {"type": "fhirpath", "expression": "Patient.name.where(use = 'official')"}]
    assert [(i.severity, i.expression) for i in check(ext).issues if i.rule == "sd-context"] \
        == [("warning", "StructureDefinition.context[0]")]


def test_type_without_code() -> None:
    """A type names its code (ElementDefinition.type.code is 1..1)."""
    sd = profile("nocode", [{"path": "Observation"}, {"path": "Observation.value[x]", "type": [
        {"profile": [CORE + "SimpleQuantity"]}]}])
    assert rule_issues(check(sd), "cardinality-min") == [
        ("error", "required", f"{DIFF}[1].type[0].code")]


def test_fixed_codeable_concept_with_user_selected() -> None:
    """A fixed CodeableConcept whose coding says userSelected: a coding without it differs."""
    coding = {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M",
              "userSelected": True}
    fixed = profile("fixedcc", [{"path": "Patient"}, {
        "path": "Patient.maritalStatus", "fixedCodeableConcept": {"coding": [coding]}}],
        type_="Patient")
    registry = Registry()
    registry.add(fixed)
    patient = {"resourceType": "Patient", "text": fixed["text"],
               "meta": {"profile": [fixed["url"]]}}
    validator = Validator(registry)
    assert validator.validate({**patient, "maritalStatus": {"coding": [coding]}}).errors == ()
    without = {k: v for k, v in coding.items() if k != "userSelected"}
    result = validator.validate({**patient, "maritalStatus": {"coding": [without]}})
    assert [(i.code, i.expression, i.rule) for i in result.errors] == [
        ("value", "Patient.maritalStatus", "fixed")]


@pytest.mark.parametrize("target, bad", [
    (CORE + "Practitioner", True), (CORE + "Patient", False), (EX + "my-patient", False)])
def test_target_profile_narrows_the_base(target: str, bad: bool) -> None:
    """Observation.subject targets Patient, Group, Device or Location: a Practitioner profile
    is not a constraint on those; Patient or a profile derived from it is."""
    my_patient = profile("my-patient", [{"path": "Patient"}], type_="Patient")
    sd = profile("subjects", [{"path": "Observation"}, {
        "path": "Observation.subject", "type": [{"code": "Reference", "targetProfile": [target]}]}])
    found = [(i.severity, i.expression) for i in check(sd, my_patient).issues
             if i.rule == "sd-base"]
    assert found == ([("error", f"{DIFF}[1].type[0].targetProfile[0]")] if bad else [])
