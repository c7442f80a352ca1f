"""Slice membership where the discriminating value is not on the discriminator's own element.

R4 §5.1.0.10 (profiling.html#discriminator): a ``value`` discriminator compares the value at its
path with the slice's fixed or pattern value. Profiles often fix that value deeper, inside a
slice of their own (core ``bp``: ``component:SystolicBP.code.coding:SBPCode.code`` fixed,
component sliced by ``code.coding.code``); the value then matches when it meets those nested
fixed values, as the HL7 validator tests it (``code.coding.where(system=... and code=...)``).
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue
from _profiles import constraint, element

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def validate(resource: dict[str, Any], *resources: dict[str, Any],
             profile: str | None = None) -> ValidationResult:
    registry = Registry()
    for r in resources:
        registry.add(r)
    profiles = [profile or resources[0]["url"]] if resources or profile else []
    return Validator(registry).validate(resource, profiles=profiles)


def coded(code: str, value: float) -> dict[str, Any]:
    """An Observation.component with one LOINC coding and a value in mm[Hg]."""
    return {"code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}


# -- a value fixed inside a slice of the slice ------------------------------------------------

def pressures(*discriminator_paths: str) -> dict[str, Any]:
    """component sliced by value on ``discriminator_paths``; the 'upper' slice fixes its LOINC
    code only inside its own ``code.coding:loinc`` slice (like core bp's SystolicBP)."""
    slicing = {"discriminator": [{"type": "value", "path": p} for p in discriminator_paths],
               "rules": "open"}
    name = "pressures-" + "-".join(p.replace(".", "") for p in discriminator_paths)
    return constraint(
        name, "Observation",
        element("Observation.component", slicing=slicing),
        element("Observation.component:upper", sliceName="upper", min=1, max="1"),
        element("Observation.component:upper.code.coding", slicing={
            "discriminator": [{"type": "value", "path": "code"},
                              {"type": "value", "path": "system"}], "rules": "open"}),
        element("Observation.component:upper.code.coding:loinc", sliceName="loinc", min=1,
                max="1"),
        element("Observation.component:upper.code.coding:loinc.system", min=1, fixedUri=LOINC),
        element("Observation.component:upper.code.coding:loinc.code", min=1,
                fixedCode="8480-6"),
        element("Observation.component:upper.interpretation", max="0"))


PATHS = [("code.coding.code", "code.coding.system"), ("code",)]
IDS = ["bp-style-paths", "path-to-the-codeableconcept"]


def observation(*components: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic pressures"}, "component": list(components)}


@pytest.mark.parametrize("paths", PATHS, ids=IDS)
def test_value_fixed_inside_a_nested_slice_fills_the_slice(paths: tuple[str, ...]) -> None:
    """8480-6 fixed in ``component:upper.code.coding:loinc``: such a component fills 'upper'."""
    result = validate(observation(coded("8462-4", 60), coded("8480-6", 107)), pressures(*paths))
    assert result.errors == ()


@pytest.mark.parametrize("paths", PATHS, ids=IDS)
def test_other_codes_leave_the_nested_value_slice_empty(paths: tuple[str, ...]) -> None:
    """Only a diastolic component: 'upper' (1..1) is empty, so the check still bites."""
    result = validate(observation(coded("8462-4", 60)), pressures(*paths))
    assert_issue(result, "Observation.component", severity="error", code="required",
                 fragment="slice 'upper'")


@pytest.mark.parametrize("paths", PATHS, ids=IDS)
def test_component_in_the_nested_value_slice_gets_its_rules(paths: tuple[str, ...]) -> None:
    """The 'upper' component is checked against the slice: interpretation is not allowed."""
    upper = {**coded("8480-6", 107), "interpretation": [{"text": "High"}]}
    result = validate(observation(upper), pressures(*paths))
    assert_issue(result, "Observation.component[0].interpretation", severity="error",
                 code="structure", fragment="maximum allowed = 0")


def test_core_blood_pressure_profile_accepts_a_textbook_blood_pressure() -> None:
    """LOINC 85354-9 with 8480-6 and 8462-4 components fills bp's SystolicBP and DiastolicBP."""
    bp = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
          "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
          "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
          "subject": {"display": "Synthetic patient"}, "effectiveDateTime": "2024-03-01",
          "component": [coded("8480-6", 107), coded("8462-4", 60)]}
    assert validate(bp, profile=CORE + "bp").errors == ()
    bp["component"] = [coded("8462-4", 60), coded("8867-4", 61)]
    result = validate(bp, profile=CORE + "bp")
    assert_issue(result, "Observation.component", severity="error", code="required",
                 fragment="slice 'SystolicBP'")
