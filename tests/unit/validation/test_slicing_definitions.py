"""Slicings a validated profile defines: slices that fit their discriminators, type slicing of
choices, base slices in order (checks/slicing_definition.py). All profiles are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_structure_definition import CORE, DIFF, EX, check, profile

from ecanfhir import ValidationResult


def rule_issues(result: ValidationResult, *rules: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in result.issues if i.rule in rules]


def sliced_components(kind: str, path: str, *slice_elements: dict[str, Any]) -> dict[str, Any]:
    """Observation.component sliced by one discriminator, with one slice 'a' and its
    ``slice_elements``."""
    return profile("components", [
        {"path": "Observation"},
        {"path": "Observation.component", "slicing": {
            "discriminator": [{"type": kind, "path": path}], "rules": "open"}},
        {"id": "Observation.component:a", "path": "Observation.component", "sliceName": "a"},
        *slice_elements])


def test_exists_discriminator_needs_min_or_max() -> None:
    """An existence discriminator: the slice sets min >= 1 or max = 0 on the element."""
    sd = sliced_components("exists", "dataAbsentReason")
    assert rule_issues(check(sd), "sd-slice-discriminator") == [
        ("error", "business-rule", f"{DIFF}[2]")]


@pytest.mark.parametrize("constraint", [{"min": 1}, {"max": "0"}])
def test_exists_discriminator_satisfied(constraint: dict[str, Any]) -> None:
    """min 1 or max 0 on the discriminated element tells the slice apart."""
    sd = sliced_components("exists", "dataAbsentReason", {
        "id": "Observation.component:a.dataAbsentReason",
        "path": "Observation.component.dataAbsentReason", **constraint})
    assert rule_issues(check(sd), "sd-slice-discriminator") == []


@pytest.mark.parametrize("kind", ["type", "profile"])
def test_type_and_profile_discriminators_need_one_type(kind: str) -> None:
    """A slice left with all the choices of value[x] cannot be told apart by type/profile;
    one type (with a profile, for profile) can."""
    sd = sliced_components(kind, "value[x]")
    assert rule_issues(check(sd), "sd-slice-discriminator") == [
        ("error", "business-rule", f"{DIFF}[2]")]
    sd["differential"]["element"].append({
        "id": "Observation.component:a.value[x]", "path": "Observation.component.value[x]",
        "type": [{"code": "Quantity", "profile": [CORE + "SimpleQuantity"]}]})
    assert rule_issues(check(sd), "sd-slice-discriminator") == []


def value_type_slicing(slicing: dict[str, Any], *slices: dict[str, Any]) -> dict[str, Any]:
    return profile("valuetypes", [
        {"path": "Observation"},
        {"path": "Observation.value[x]", "slicing": slicing}, *slices])


TYPE_SLICING = {"discriminator": [{"type": "type", "path": "$this"}], "rules": "open",
                "ordered": False}


def type_slice(name: str, *codes: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"Observation.value[x]:{name}", "path": "Observation.value[x]",
            "sliceName": name, "type": [{"code": code} for code in codes], **extra}


@pytest.mark.parametrize("slicing", [
    {**TYPE_SLICING, "discriminator": [{"type": "value", "path": "$this"}]},
    {**TYPE_SLICING, "discriminator": [{"type": "type", "path": "code"}]},
    {**TYPE_SLICING, "discriminator": [{"type": "type", "path": "$this"}] * 2},
    {**TYPE_SLICING, "ordered": True},
])
def test_type_slicing_of_a_choice(slicing: dict[str, Any]) -> None:
    """A choice is sliced by one type discriminator on $this, unordered."""
    sd = value_type_slicing(slicing, type_slice("valueQuantity", "Quantity"))
    assert rule_issues(check(sd), "sd-type-slice") == [
        ("error", "business-rule", f"{DIFF}[1].slicing")]


def test_good_type_slicing_passes() -> None:
    """Type slices named after their one type, none required among several: no issue."""
    sd = value_type_slicing(TYPE_SLICING, type_slice("valueQuantity", "Quantity"),
                            type_slice("valueString", "string"))
    assert rule_issues(check(sd), "sd-type-slice", "sd-slice-discriminator") == []


def test_type_slice_of_the_wrong_type() -> None:
    """A slice named valueQuantity is a Quantity, not a string."""
    sd = value_type_slicing(TYPE_SLICING, type_slice("valueQuantity", "string"))
    assert rule_issues(check(sd), "sd-type-slice") == [
        ("error", "business-rule", f"{DIFF}[2]")]


def test_type_slice_with_two_types() -> None:
    """A type slice has one type."""
    sd = value_type_slicing(TYPE_SLICING, type_slice("valueQuantity", "Quantity", "string"))
    assert ("error", "business-rule", f"{DIFF}[2]") in rule_issues(check(sd), "sd-type-slice")


def test_required_type_slice_among_several() -> None:
    """A required type slice leaves no room for the other type slices."""
    sd = value_type_slicing(TYPE_SLICING, type_slice("valueQuantity", "Quantity", min=1),
                            type_slice("valueString", "string"))
    assert rule_issues(check(sd), "sd-type-slice") == [
        ("error", "business-rule", f"{DIFF}[2]")]


def two_slices_base() -> dict[str, Any]:
    """A profile slicing Observation.category by coding, with slices 'first' then 'second'."""
    return profile("twoslices", [
        {"path": "Observation"},
        {"path": "Observation.category", "slicing": {
            "discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}},
        {"id": "Observation.category:first", "path": "Observation.category",
         "sliceName": "first", "patternCodeableConcept": {"text": "one"}},
        {"id": "Observation.category:second", "path": "Observation.category",
         "sliceName": "second", "patternCodeableConcept": {"text": "two"}}])


def test_base_slices_out_of_order() -> None:
    """A derived profile constrains the base's slices in the base's order."""
    derived = profile("reordered", [
        {"path": "Observation"},
        {"id": "Observation.category:second", "path": "Observation.category",
         "sliceName": "second", "min": 1},
        {"id": "Observation.category:first", "path": "Observation.category",
         "sliceName": "first", "min": 1}], base=EX + "twoslices")
    assert rule_issues(check(derived, two_slices_base()), "sd-slice-order") == [
        ("error", "structure", f"{DIFF}[2]")]
    derived["differential"]["element"][1:] = derived["differential"]["element"][2:0:-1]
    assert rule_issues(check(derived, two_slices_base()), "sd-slice-order") == []


def test_type_slice_named_otherwise() -> None:
    """A type slice is named after its type: 'quantity' must be 'valueQuantity'."""
    sd = value_type_slicing(TYPE_SLICING, type_slice("quantity", "Quantity"))
    [issue] = [i for i in check(sd).issues if i.rule == "sd-type-slice"]
    assert (issue.severity, issue.expression) == ("error", f"{DIFF}[2]")
    assert "must be named 'valueQuantity'" in issue.message


@pytest.mark.parametrize("kind", ["type", "profile"])
def test_slice_without_any_type(kind: str) -> None:
    """A slice of an element defined by contentReference has no type to be told apart by."""
    sd = profile("noslicetype", [
        {"path": "Questionnaire"},
        {"path": "Questionnaire.item.item", "slicing": {
            "discriminator": [{"type": kind, "path": "$this"}], "rules": "open"}},
        {"id": "Questionnaire.item.item:a", "path": "Questionnaire.item.item",
         "sliceName": "a"}], type_="Questionnaire")
    [issue] = [i for i in check(sd).issues if i.rule == "sd-slice-discriminator"]
    assert (issue.severity, issue.code, issue.expression) == (
        "error", "business-rule", f"{DIFF}[2]")
    assert "has no type" in issue.message


def coding_slices(*slice_elements: dict[str, Any],
                  discriminators: tuple[str, ...] = ("system",)) -> dict[str, Any]:
    return profile("codingslices", [
        {"path": "Observation"},
        {"path": "Observation.code.coding", "slicing": {
            "discriminator": [{"type": "value", "path": p} for p in discriminators],
            "rules": "open"}},
        {"id": "Observation.code.coding:a", "path": "Observation.code.coding",
         "sliceName": "a"}, *slice_elements])


@pytest.mark.parametrize("discriminators", [("system",), ("system", "code")])
def test_slice_without_any_discriminator_value(discriminators: tuple[str, ...]) -> None:
    """A value slicing: a slice that fixes none of the discriminated values matches nothing."""
    sd = coding_slices(discriminators=discriminators)
    [issue] = [i for i in check(sd).issues if i.rule == "sd-slice-discriminator"]
    assert (issue.severity, issue.code, issue.expression) == (
        "error", "business-rule", f"{DIFF}[2]")
    assert "gives none of the discriminators" in issue.message


@pytest.mark.parametrize("constraint", [
    {"id": "Observation.code.coding:a.system", "path": "Observation.code.coding.system",
     "fixedUri": "http://loinc.org"},
    {"id": "Observation.code.coding:a", "path": "Observation.code.coding",
     "patternCoding": {"system": "http://loinc.org"}},
])
def test_slice_with_a_discriminator_value(constraint: dict[str, Any]) -> None:
    """A fixed value at the path, or a pattern above it, gives the slice its value."""
    sd = coding_slices()
    elements = sd["differential"]["element"]
    if constraint["id"] == elements[2]["id"]:
        elements[2].update(constraint)
    else:
        elements.append(constraint)
    assert [i for i in check(sd).issues if i.rule == "sd-slice-discriminator"] == []


def test_sub_extension_slice_is_matched_by_its_name() -> None:
    """A complex extension's sub-extension slice without a fixed url is matched by its name."""
    sd = profile("complexext", [
        {"path": "Extension"},
        {"path": "Extension.extension", "slicing": {
            "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}},
        {"id": "Extension.extension:confidence", "path": "Extension.extension",
         "sliceName": "confidence", "type": [{"code": "Extension"}]},
        {"path": "Extension.url", "fixedUri": EX + "complexext"}],
        type_="Extension", kind="complex-type",
        context=[{"type": "element", "expression": "Quantity"}])
    assert [i for i in check(sd).issues if i.rule == "sd-slice-discriminator"] == []
