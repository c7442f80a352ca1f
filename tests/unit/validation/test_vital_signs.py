"""Vital-signs Observations (R4 §8.1 observation-vitalsigns.html), with the core profiles read
as the HL7 validator reads them. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOINC = "http://loinc.org"


def heart_rate(component_value: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "subject": {"display": "Synthetic patient"},
        "effectiveDateTime": "2025-03-01T10:00:00+01:00",
        "valueQuantity": {"value": 62, "unit": "/min", "system": "http://unitsofmeasure.org",
                          "code": "/min"},
        "component": [{"code": {"coding": [{"system": LOINC, "code": "8889-8"}]},
                       **component_value}],
    }


@pytest.mark.parametrize("component_value, type_", [
    ({"valueCodeableConcept": {"coding": [{"system": "http://example.org/modality",
                                           "code": "spot"}]}}, "CodeableConcept"),
    ({"valueQuantity": {"value": 3, "unit": "km", "system": "http://unitsofmeasure.org",
                        "code": "km"}}, "Quantity"),
])
def test_component_value_units_binding_is_extensible(component_value: dict[str, Any],
                                                     type_: str) -> None:
    """R4 binds every vital-sign component value to the UCUM vital-signs units as required;
    like the HL7 validator, a value outside it is a warning, not an error."""
    result = validate(heart_rate(component_value))
    assert_issue(result, f"Observation.component[0].value.ofType({type_})", severity="warning",
                 code="code-invalid", fragment="extensible")
    assert result.errors == ()
