"""Discriminator values the HL7 validator cannot evaluate, and type slices named after no type
(checks/slicing_values.py, checks/slicing_definition.py). All profiles are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_slicing_definitions import TYPE_SLICING, rule_issues, value_type_slicing
from test_structure_definition import DIFF, check, profile

RULE = "sd-slice-discriminator-value"
LOINC = {"system": "http://loinc.org", "code": "8867-4"}


def sliced(kind: str, path: str, element: str, *slice_elements: dict[str, Any],
           **on_slice: Any) -> dict[str, Any]:
    """``element`` of Observation sliced by one discriminator, with one slice 'a'."""
    return profile("values", [
        {"path": "Observation"},
        {"path": f"Observation.{element}", "slicing": {
            "discriminator": [{"type": kind, "path": path}], "rules": "open"}},
        {"id": f"Observation.{element}:a", "path": f"Observation.{element}", "sliceName": "a",
         **on_slice},
        *slice_elements])


@pytest.mark.parametrize("pattern", [
    {"text": "vital signs", "coding": [LOINC]},  # text
    {"coding": []},  # no coding
    {"extension": [{"url": "http://example.org/x", "valueString": "y"}], "coding": [LOINC]},
    {"coding": [{**LOINC, "extension": [{"url": "http://example.org/x", "valueString": "y"}]}]},
])
def test_codeable_concept_pattern_the_hl7_validator_cannot_evaluate(pattern: Any) -> None:
    """A CodeableConcept discriminator value with text, without coding or with extensions is a
    warning at the slice."""
    sd = sliced("pattern", "$this", "category", patternCodeableConcept=pattern)
    assert rule_issues(check(sd), RULE) == [("warning", "not-supported", f"{DIFF}[2]")]


@pytest.mark.parametrize("pattern", [
    {"extension": [{"url": "http://example.org/x", "valueString": "y"}],
     "system": "http://example.org/mrn"},
    {"system": "http://example.org/mrn", "period": {"start": "2020-01-01"}},
    {"assigner": {"display": "Example Hospital"}},
])
def test_identifier_pattern_the_hl7_validator_cannot_evaluate(pattern: Any) -> None:
    """An Identifier discriminator value with extensions, with other properties than system,
    value, use and type, or with none of them, is a warning at the slice."""
    sd = profile("ids", [
        {"path": "Patient"},
        {"path": "Patient.identifier", "slicing": {
            "discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}},
        {"id": "Patient.identifier:a", "path": "Patient.identifier", "sliceName": "a",
         "patternIdentifier": pattern}], type_="Patient")
    assert rule_issues(check(sd), RULE) == [("warning", "not-supported", f"{DIFF}[2]")]


@pytest.mark.parametrize(("kind", "key", "value"), [
    ("value", "fixedQuantity", {"value": 1, "unit": "mg"}),  # a complex fixed value
    ("value", "fixedDateTime", "2020-01-01"),  # a primitive fixed value not supported
    ("pattern", "patternQuantity", {"unit": "mg"}),  # a complex pattern
])
def test_value_types_the_hl7_validator_cannot_evaluate(kind: str, key: str, value: Any) -> None:
    """Fixed values other than CodeableConcept, Coding, Identifier and simple values, and
    complex patterns other than those, are warnings at the slice."""
    sd = sliced(kind, "value[x]", "component", {
        "id": "Observation.component:a.value[x]", "path": "Observation.component.value[x]",
        key: value})
    assert rule_issues(check(sd), RULE) == [("warning", "not-supported", f"{DIFF}[2]")]


@pytest.mark.parametrize(("key", "value"), [
    ("patternCodeableConcept", {"coding": [LOINC]}),
    ("fixedCoding", LOINC),
    ("patternIdentifier", {"system": "http://example.org/mrn"}),
    ("fixedCode", "final"),
    ("patternDateTime", "2020"),
])
def test_values_the_hl7_validator_evaluates(key: str, value: Any) -> None:
    """Codings, CodeableConcepts with codings only, plain Identifiers and simple values are
    fine."""
    sd = sliced("value", "$this", "category", **{key: value})
    assert rule_issues(check(sd), RULE) == []


def test_type_slice_named_after_no_type() -> None:
    """A type slice that states no type must be named after one of the choice's types."""
    bad = value_type_slicing(TYPE_SLICING, {"id": "Observation.value[x]:valueFoo",
                                            "path": "Observation.value[x]",
                                            "sliceName": "valueFoo"})
    assert rule_issues(check(bad), "sd-type-slice") == [("error", "business-rule", f"{DIFF}[2]")]
    good = value_type_slicing(TYPE_SLICING, {"id": "Observation.value[x]:valueQuantity",
                                             "path": "Observation.value[x]",
                                             "sliceName": "valueQuantity"})
    assert rule_issues(check(good), "sd-type-slice", "sd-slice-discriminator") == []
