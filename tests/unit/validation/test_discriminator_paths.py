"""Discriminator paths of a validated profile, followed through each slice's definitions
(checks/discriminator_path.py). All profiles are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_structure_definition import CORE, DIFF, EX, check, extension, profile

from ecanfhir import ValidationResult


def path_issues(result: ValidationResult) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule == "sd-discriminator-path"]


def sliced(path: str, sliced_path: str = "Observation.component",
           *slice_elements: dict[str, Any], type_: str = "Observation") -> dict[str, Any]:
    """``sliced_path`` sliced by a value discriminator on ``path``, one slice 'a'."""
    return profile("discpath", [
        {"path": type_},
        {"path": sliced_path, "slicing": {
            "discriminator": [{"type": "value", "path": path}], "rules": "open"}},
        {"id": f"{sliced_path}:a", "path": sliced_path, "sliceName": "a"},
        *slice_elements], type_=type_)


@pytest.mark.parametrize("path", [
    "code.coding.system", "code", "$this.code.coding.code", "value", "valueQuantity",
    "interpretation.text"])
def test_paths_that_lead_somewhere_pass(path: str) -> None:
    """Names of the slice's children and, below them, of their types' elements."""
    assert path_issues(check(sliced(path))) == []


@pytest.mark.parametrize("path, fragment", [
    ("code.codding.system", "has no element 'codding'"),
    ("colour", "has no element 'colour'"),
    ("(code).text", "group"),
    ("'code'", "constant"),
    ("code.first()", "first() is not allowed"),
    ("code..text", "not a well-formed path"),
    ("code.resolve()", "not a Reference"),
    ("value.ofType(Quantity)", "several types"),
    ("value.unit", "several types"),
])
def test_paths_that_cannot_be_followed(path: str, fragment: str) -> None:
    """A misspelt name, a group, a constant, another function, resolve() on a
    CodeableConcept, ofType() or a name on a choice the slice leaves open: errors."""
    result = check(sliced(path))
    assert path_issues(result) == [("error", "invalid", f"{DIFF}[2]")]
    assert fragment in next(i.message for i in result.issues
                            if i.rule == "sd-discriminator-path")


def test_of_type_on_a_slice_with_one_type_passes() -> None:
    """value.ofType(Quantity) where the slice has constrained value[x] to Quantity."""
    sd = sliced("value.ofType(Quantity)", "Observation.component", {
        "id": "Observation.component:a.value[x]", "path": "Observation.component.value[x]",
        "type": [{"code": "Quantity"}]})
    assert path_issues(check(sd)) == []


def test_several_type_profiles() -> None:
    """A name below an element with two profiles of its type: which one is not known."""
    sd = sliced("value.unit", "Observation.component", {
        "id": "Observation.component:a.value[x]", "path": "Observation.component.value[x]",
        "type": [{"code": "Quantity",
                  "profile": [CORE + "SimpleQuantity", CORE + "MoneyQuantity"]}]})
    result = check(sd)
    assert path_issues(result) == [("error", "invalid", f"{DIFF}[2]")]
    assert "several type profiles" in next(i.message for i in result.issues
                                           if i.rule == "sd-discriminator-path")


def test_extension_path_needs_the_extension_slice() -> None:
    """extension('url') finds the slice whose type profile is that extension."""
    ext = extension("colour", {"path": "Extension.value[x]", "type": [{"code": "string"}]})
    slice_ext = {"id": "Observation.component:a.extension:colour",
                 "path": "Observation.component.extension", "sliceName": "colour",
                 "type": [{"code": "Extension", "profile": [EX + "colour"]}]}
    good = sliced(f"extension('{EX}colour').value", "Observation.component", slice_ext)
    assert path_issues(check(good, ext)) == []
    bad = sliced(f"extension('{EX}other').value", "Observation.component", slice_ext)
    assert path_issues(check(bad, ext)) == [("error", "invalid", f"{DIFF}[2]")]


def test_resolve_into_a_loaded_target_profile() -> None:
    """resolve() continues in the one target profile; a name it lacks is an error, a target
    profile that is not loaded only a warning."""
    def entry_sliced(path: str, target: str) -> dict[str, Any]:
        return sliced(path, "List.entry", {
            "id": "List.entry:a.item", "path": "List.entry.item",
            "type": [{"code": "Reference", "targetProfile": [target]}]}, type_="List")

    assert path_issues(check(entry_sliced("item.resolve().gender", CORE + "Patient"))) == []
    assert path_issues(check(entry_sliced("item.resolve().colour", CORE + "Patient"))) == [
        ("error", "invalid", f"{DIFF}[2]")]
    assert path_issues(check(entry_sliced("item.resolve().gender", EX + "absent"))) == [
        ("warning", "not-found", f"{DIFF}[2]")]


def test_path_into_an_element_without_type() -> None:
    """Questionnaire.item.item is a contentReference: its names are those of item."""
    good = sliced("linkId", "Questionnaire.item.item", type_="Questionnaire")
    assert path_issues(check(good)) == []
    bad = sliced("colour", "Questionnaire.item.item", type_="Questionnaire")
    assert path_issues(check(bad)) == [("error", "invalid", f"{DIFF}[2]")]


@pytest.mark.parametrize("path, sliced_path, type_, fragment", [
    ("resolve()", "Questionnaire.item.item", "Questionnaire", "has no type"),
    ("ofType(string)", "Questionnaire.item.item", "Questionnaire", "has no type"),
    ("value.resolve()", "Observation.component", "Observation", "several types"),
])
def test_functions_on_elements_without_one_type(path: str, sliced_path: str, type_: str,
                                                fragment: str) -> None:
    """resolve() and ofType() need the element to have exactly one type."""
    result = check(sliced(path, sliced_path, type_=type_))
    assert path_issues(result) == [("error", "invalid", f"{DIFF}[2]")]
    assert fragment in next(i.message for i in result.issues
                            if i.rule == "sd-discriminator-path")
