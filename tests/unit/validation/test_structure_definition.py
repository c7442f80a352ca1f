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
    sd = profile("narrow", [{"path": "Observation"}, {"path": "Observation.subject", "min": 1},
                            {"path": "Observation.code", "patternCodeableConcept": {
                                "coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}])
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


@pytest.mark.parametrize("path, bad", [
    ("Patient.birthDate", True),           # date
    ("Patient.gender", False),             # code
    ("Patient.maritalStatus", False),      # CodeableConcept
    ("Patient.implicitRules", False),      # uri
])
def test_binding_needs_a_bindable_type(path: str, bad: bool) -> None:
    """A binding on an element of a type that carries no code is an error."""
    sd = profile("bound", [{"path": "Patient"}, {"path": path, "binding": {
        "strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}}],
        type_="Patient")
    found = [e for e in errors(check(sd)) if e[0] == "business-rule"]
    assert found == ([("business-rule", f"{DIFF}[1]")] if bad else [])


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
