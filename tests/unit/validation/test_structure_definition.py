"""StructureDefinitions validated as resources: their differential against their base
(checks/structure_definition.py). All profiles are small and synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CORE = "http://hl7.org/fhir/StructureDefinition/"
EX = "http://example.org/fhir/StructureDefinition/"
DIFF = "StructureDefinition.differential.element"


def profile(name: str, elements: list[dict[str, Any]], *, type_: str = "Observation",
            base: str | None = None, kind: str = "resource", **extra: Any) -> dict[str, Any]:
    for element in elements:
        element.setdefault("id", element["path"])
    return {"resourceType": "StructureDefinition", "text": NARRATIVE, "url": EX + name,
            "name": name.replace("-", "").title(), "status": "draft", "fhirVersion": "4.0.1",
            "kind": kind, "abstract": False, "type": type_, "derivation": "constraint",
            "baseDefinition": base or CORE + type_, "differential": {"element": elements},
            **extra}


def extension(name: str, *elements: dict[str, Any], base: str | None = None) -> dict[str, Any]:
    return profile(name, [{"path": "Extension"},
                          {"path": "Extension.url", "fixedUri": EX + name}, *elements],
                   type_="Extension", kind="complex-type", base=base,
                   context=[{"type": "element", "expression": "Patient"}])


def check(sd: dict[str, Any], *loaded: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for item in loaded:
        registry.add(item)
    return Validator(registry).validate(sd)


def errors(result: ValidationResult) -> list[tuple[str, str]]:
    return sorted((i.code, i.expression) for i in result.issues if i.is_error)


def test_valid_profile_has_no_error() -> None:
    """A profile that only narrows its base passes."""
    sd = profile("narrow", [{"path": "Observation"},
                            {"path": "Observation.code", "patternCodeableConcept": {
                                "coding": [{"system": "http://loinc.org", "code": "8867-4"}]}},
                            {"path": "Observation.subject", "min": 1}])
    assert errors(check(sd)) == []


def test_unknown_path_in_differential() -> None:
    """An element the base does not have (not even as a renamed choice) is an error there."""
    sd = profile("typo", [{"path": "Observation"}, {"path": "Observation.valueBla"}])
    assert_issue(check(sd), f"{DIFF}[1]", severity="error", code="structure",
                 fragment="has no element 'valueBla'")


def test_loosened_cardinality() -> None:
    """A profile may not allow more than its base."""
    sd = profile("loose", [{"path": "Observation"}, {"path": "Observation.status", "min": 0}])
    assert_issue(check(sd), f"{DIFF}[1]", severity="error", code="business-rule",
                 fragment="lower than the base min")


def test_derived_extension_may_not_change_the_fixed_url() -> None:
    """An extension profiled on another extension keeps the base's fixed url."""
    base = extension("ext-base", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    derived = extension("ext-derived", {"path": "Extension.value[x]",
                                        "type": [{"code": "string"}]}, base=EX + "ext-base")
    assert_issue(check(derived, base), f"{DIFF}[1]", severity="error", code="value",
                 fragment="contradicts the fixed value")
    same = extension("ext-same", base=EX + "ext-base")
    same["differential"]["element"][1]["fixedUri"] = EX + "ext-base"
    assert errors(check(same, base)) == []


@pytest.mark.parametrize("coding, bad", [
    ([{"system": "http://loinc.org", "code": "8867-4"}], False),
    ([{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}], False),
    ([{"system": "http://loinc.org", "code": "9279-1"}], True),
])
def test_pattern_must_agree_with_the_base_pattern(coding: list[dict[str, Any]],
                                                   bad: bool) -> None:
    """A pattern under a base pattern must contain it (R4 pattern[x] semantics)."""
    base = profile("hr", [{"path": "Observation"}, {"path": "Observation.code",
                   "patternCodeableConcept": {"coding": [{"system": "http://loinc.org",
                                                          "code": "8867-4"}]}}])
    derived = profile("hr-more", [{"path": "Observation"}, {
        "path": "Observation.code", "patternCodeableConcept": {"coding": coding}}],
        base=EX + "hr")
    assert errors(check(derived, base)) == ([("value", f"{DIFF}[1]")] if bad else [])


def test_slicing_on_the_root_element() -> None:
    """The root element of a profile cannot be sliced."""
    sd = extension("root-sliced")
    sd["differential"]["element"][0]["slicing"] = {
        "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}
    assert_issue(check(sd), f"{DIFF}[0]", severity="error", code="invalid",
                 fragment="root element")


BINDING = {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}


@pytest.mark.parametrize("path, type_, extra, bad", [
    ("Patient.birthDate", "date", {"binding": BINDING}, True),
    ("Patient.gender", "code", {"binding": BINDING}, False),
    ("Patient.maritalStatus", "CodeableConcept", {"binding": BINDING}, False),
    ("Patient.implicitRules", "uri", {"binding": BINDING}, False),
    ("Patient.active", "boolean", {"maxLength": 5}, True),
    ("Patient.implicitRules", "uri", {"maxLength": 50}, False),
    ("Patient.implicitRules", "uri", {"minValueInteger": 1}, True),
    ("Patient.birthDate", "date", {"minValueDate": "1900-01-01"}, False),
    ("Patient.implicitRules", "uri", {"extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/maxSize", "valueDecimal": 10}]}, True),
])
def test_constraints_need_types_that_have_them(path: str, type_: str, extra: dict[str, Any],
                                               bad: bool) -> None:
    """A binding, maxLength, minValue or maxSize on an element whose listed types have no
    code, length, order or size is an error (the HL7 validator's type characteristics)."""
    sd = profile("typed", [{"path": "Patient"}, {"path": path, "type": [{"code": type_}],
                                                 **extra}], type_="Patient")
    found = [e for e in errors(check(sd)) if e[0] == "business-rule"]
    assert found == ([("business-rule", f"{DIFF}[1]")] if bad else [])


def test_binding_without_listed_types_is_not_judged() -> None:
    """Like the HL7 validator, only the types an element lists are judged."""
    sd = profile("untyped", [{"path": "Patient"}, {"path": "Patient.birthDate",
                                                   "binding": BINDING}], type_="Patient")
    assert errors(check(sd)) == []


def test_target_profile_only_on_references() -> None:
    """A targetProfile on a type that refers to nothing is an error."""
    sd = profile("target", [{"path": "Patient"}, {"path": "Patient.implicitRules", "type": [{
        "code": "uri", "targetProfile": [CORE + "Patient"]}]}], type_="Patient")
    assert_issue(check(sd), f"{DIFF}[1]", severity="error", code="business-rule",
                 fragment="targetProfile")


def test_path_outside_the_type() -> None:
    """Every element path starts with the type the StructureDefinition is about."""
    sd = profile("elsewhere", [{"path": "Observation"}, {"path": "Patient.gender"}])
    [issue] = [i for i in check(sd).issues if i.rule == "sd-element"]
    assert (issue.severity, issue.code, issue.expression) == ("error", "not-found", f"{DIFF}[1]")
    assert "is not in the type 'Observation'" in issue.message


def test_slicing_an_element_that_does_not_repeat() -> None:
    """Only a repeating or choice element can be sliced."""
    sd = profile("one", [{"path": "Observation"}, {"path": "Observation.status", "slicing": {
        "discriminator": [{"type": "value", "path": "$this"}], "rules": "open"}}])
    assert ("not-found", f"{DIFF}[1].slicing") in errors(check(sd))


def test_meaning_when_missing_only_on_extensions() -> None:
    """A profile may say what a missing extension means, not what a missing element means."""
    sd = profile("meaning", [{"path": "Observation"}, {"path": "Observation.status",
                                                       "meaningWhenMissing": "final"}])
    assert_issue(check(sd), f"{DIFF}[1]", severity="error", code="not-found",
                 fragment="meaningWhenMissing")


def invariant(key: str, expression: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "severity": "error", "human": "Synthetic rule", "expression": expression,
            **extra}


@pytest.mark.parametrize("constraints, where, severity, fragment", [
    ([invariant("obs-6", "value.exists()")], "[0]", "error", "already used by the base"),
    ([invariant("my-1", "status.exists()"), invariant("my-1", "code.exists()")], "[1]",
     "error", "already used in this profile"),
    ([invariant("my-1", "status.exists()", source=CORE + "Observation")], "[0]", "warning",
     "not from this profile"),
])
def test_new_invariants(constraints: list[dict[str, Any]], where: str, severity: str,
                        fragment: str) -> None:
    """A profile's invariant does not reuse a key for another expression (an error); one
    that names another source is warned about."""
    sd = profile("rules", [{"path": "Observation", "constraint": constraints}])
    assert_issue(check(sd), f"{DIFF}[0].constraint{where}", severity=severity, code="invalid",
                 fragment=fragment)


def test_own_invariant_with_its_source_is_fine() -> None:
    """An invariant whose source is the profile itself, and a repeat of a base one, pass."""
    sd = profile("fine", [{"path": "Observation", "constraint": [
        invariant("my-1", "status.exists()", source=EX + "fine"),
        invariant("obs-6", "dataAbsentReason.empty() or value.empty()")]}])
    assert errors(check(sd)) == []


def test_extension_url_is_its_canonical() -> None:
    """An extension defined on Extension fixes Extension.url to its own URL."""
    sd = extension("self")
    sd["differential"]["element"][1]["fixedUri"] = EX + "other"
    assert_issue(check(sd), "StructureDefinition", severity="error", code="invalid",
                 fragment="not its own URL")
    del sd["differential"]["element"][1]["fixedUri"]
    assert_issue(check(sd), "StructureDefinition", severity="error", code="invalid",
                 fragment="does not fix Extension.url")


def test_context_only_on_extensions() -> None:
    """A profile of a resource has no extension context."""
    sd = profile("ctx", [{"path": "Observation"}],
                 context=[{"type": "element", "expression": "Patient"}])
    assert_issue(check(sd), "StructureDefinition.context[0]", severity="error", code="invalid",
                 fragment="only an extension")


def test_unknown_base_is_a_warning_only() -> None:
    """A base that is not loaded: one not-found warning; the differential is not judged."""
    sd = profile("orphan", [{"path": "Observation"}, {"path": "Observation.valueBla"}],
                 base=EX + "nowhere")
    result = check(sd)
    assert_issue(result, "StructureDefinition", severity="warning", code="not-found",
                 fragment="is not loaded")
    assert errors(result) == []


def test_constraint_on_another_type() -> None:
    """A constraint keeps its base's type."""
    sd = profile("mixed", [{"path": "Patient"}], type_="Patient", base=CORE + "Observation")
    assert ("invalid", "StructureDefinition.type") in errors(check(sd))


def test_renamed_choice_slices_of_an_extension() -> None:
    """value[x] narrowed by renamed choices that name their slices (valueBoolean:valueBoolean,
    as HL7's extension pack writes them) is a valid profile."""
    sd = extension("official", {"id": "Extension.valueBoolean:valueBoolean",
                                "path": "Extension.valueBoolean", "sliceName": "valueBoolean",
                                "type": [{"code": "boolean"}]},
                   {"id": "Extension.valueCodeableConcept:valueCodeableConcept",
                    "path": "Extension.valueCodeableConcept",
                    "sliceName": "valueCodeableConcept", "type": [{"code": "CodeableConcept"}]})
    assert errors(check(sd)) == []


def test_extension_for_any_element_is_warned() -> None:
    """An extension whose context is Element gets a warning at that context."""
    sd = extension("anywhere", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    sd["context"] = [{"type": "element", "expression": "Element"}]
    assert_issue(check(sd), "StructureDefinition.context[0]", severity="warning",
                 code="business-rule", fragment="any element")


def test_invariant_without_key_is_warned() -> None:
    """An invariant needs a key to be reported by (a warning)."""
    sd = profile("nokey", [{"path": "Observation", "constraint": [
        {"severity": "error", "human": "Synthetic rule", "expression": "status.exists()"}]}])
    assert_issue(check(sd), f"{DIFF}[0].constraint[0]", severity="warning", code="informational",
                 fragment="no key")


def test_constraint_keeps_its_base_kind() -> None:
    """A constraint on a resource is a resource (kind), as its base."""
    sd = profile("kind", [{"path": "Observation"}], kind="complex-type")
    assert ("invalid", "StructureDefinition.kind") in errors(check(sd))


def test_context_invariant_only_on_extensions() -> None:
    """contextInvariant belongs to extensions too."""
    sd = profile("ctxinv", [{"path": "Observation"}], contextInvariant=["true"])
    assert_issue(check(sd), "StructureDefinition.contextInvariant[0]", severity="error",
                 code="invalid", fragment="only an extension")


CODING_SLICING = {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed",
                  "ordered": False}


def sliced_base() -> dict[str, Any]:
    """A profile whose Observation.code.coding is sliced by system, closed, with one slice."""
    return profile("sliced", [
        {"path": "Observation"},
        {"id": "Observation.code.coding", "path": "Observation.code.coding",
         "slicing": CODING_SLICING},
        {"id": "Observation.code.coding:loinc", "path": "Observation.code.coding",
         "sliceName": "loinc", "min": 0, "max": "1"},
        {"id": "Observation.code.coding:loinc.system", "path": "Observation.code.coding.system",
         "fixedUri": "http://loinc.org"}])


@pytest.mark.parametrize("slicing, what", [
    ({**CODING_SLICING, "rules": "open"}, "rules"),
    ({**CODING_SLICING, "ordered": True}, "ordered"),
    ({**CODING_SLICING, "discriminator": [{"type": "value", "path": "code"}]}, "discriminator"),
])
def test_slicing_restated_differently(slicing: dict[str, Any], what: str) -> None:
    """A derived profile may restate its base's slicing, not loosen or change it."""
    derived = profile("resliced", [{"path": "Observation"}, {
        "id": "Observation.code.coding", "path": "Observation.code.coding", "slicing": slicing}],
        base=EX + "sliced")
    assert_issue(check(derived, sliced_base()), f"{DIFF}[1].slicing", severity="error",
                 code="business-rule", fragment=f"slicing's {what} differs")


def test_slicing_restated_the_same_and_existing_slice_constrained() -> None:
    """Restating the slicing (with an added discriminator) and narrowing a slice pass."""
    derived = profile("same", [{"path": "Observation"}, {
        "id": "Observation.code.coding", "path": "Observation.code.coding",
        "slicing": {**CODING_SLICING, "discriminator": [
            {"type": "value", "path": "system"}, {"type": "value", "path": "code"}]}},
        {"id": "Observation.code.coding:loinc", "path": "Observation.code.coding",
         "sliceName": "loinc", "min": 1}], base=EX + "sliced")
    assert errors(check(derived, sliced_base())) == []


def test_no_new_slice_in_a_closed_slicing() -> None:
    """A closed slicing cannot get a new slice in a derived profile."""
    derived = profile("extra", [{"path": "Observation"}, {
        "id": "Observation.code.coding:snomed", "path": "Observation.code.coding",
        "sliceName": "snomed"}], base=EX + "sliced")
    assert ("business-rule", f"{DIFF}[1]") in errors(check(derived, sliced_base()))


def test_differential_out_of_order() -> None:
    """Differential elements follow the base snapshot's order (identifier before birthDate);
    out of order is a warning (the snapshot is still generated as meant)."""
    sd = profile("order", [{"path": "Patient"}, {"path": "Patient.birthDate", "min": 1},
                           {"path": "Patient.identifier", "min": 1}], type_="Patient")
    assert_issue(check(sd), f"{DIFF}[2]", severity="warning", code="structure",
                 fragment="follow the snapshot's order")
    in_order = profile("order", [{"path": "Patient"}, {"path": "Patient.identifier", "min": 1},
                                 {"path": "Patient.birthDate", "min": 1}], type_="Patient")
    assert [i for i in check(in_order).issues if i.rule == "sd-order"] == []


def test_invariant_key_of_the_wrong_shape_does_not_crash() -> None:
    """A constraint whose key is not a string is reported, not raised on."""
    sd = profile("badkey", [{"path": "Observation", "constraint": [
        {"key": ["k"], "severity": "error", "human": "x", "expression": "true"}]}])
    assert ("invalid", f"{DIFF}[0]") in errors(check(sd))


@pytest.mark.parametrize("path, rules", [
    ("Observation.code", []),
    ("Observation...code", ["eld-19", "eld-20"]),
    ("Observation.co de", ["eld-19", "eld-20"]),
    ("Observation.Code", ["eld-20"]),
])
def test_element_paths_are_checked_whole(path: str, rules: list[str]) -> None:
    """eld-19 (error) and eld-20 (warning) judge the whole path: FHIRPath matches() finds a
    part, so R4's patterns are anchored, as the HL7 validator runs them."""
    sd = profile("paths", [{"path": "Observation"}, {"path": path, "min": 1}])
    found = sorted(i.rule for i in check(sd).issues
                   if i.rule in ("eld-19", "eld-20") and i.expression == f"{DIFF}[1]")
    assert found == rules


@pytest.mark.parametrize("context, bad", [
    ("Patient.name", False), ("HumanName.family", False),
    ("Questionnaire.item.item.enableWhen", False), ("Observation.value[x]", False),
    ("CanonicalResource", False), ("Patient.nmae", True), ("Pateint", True),
])
def test_extension_context_names_an_element(context: str, bad: bool) -> None:
    """An element context must name an element of R4 (R5's abstract types are accepted)."""
    sd = extension("ctx-el", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    sd["context"] = [{"type": "element", "expression": context}]
    found = [i for i in check(sd).issues if i.expression == "StructureDefinition.context[0]"
             and i.rule == "sd-context"]
    assert [(i.severity, i.code) for i in found] == ([("error", "invalid")] if bad else [])
