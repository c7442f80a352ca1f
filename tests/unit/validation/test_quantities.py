"""UCUM annotations in Quantity codes (ecanfhir.validation.checks.quantity): advice only.

Each asserts severity, rule and FHIRPath location, and that the resource stays valid.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
UCUM = "http://unitsofmeasure.org"
AT = "Observation.value.ofType(Quantity)"


def observation(quantity: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Leukocytes"}, "valueQuantity": {"value": 3, **quantity}}


def found(quantity: dict[str, Any]) -> list[tuple[str, str]]:
    result = validate(observation(quantity))
    assert result.ok
    return [(i.severity, i.expression) for i in result.issues if i.rule == "ucum-annotation"]


def test_code_without_annotation_says_nothing() -> None:
    """10*9/L has no annotation."""
    assert found({"unit": "10^9/L", "system": UCUM, "code": "10*9/L"}) == []


@pytest.mark.parametrize(("quantity", "expected"), [
    ({"system": UCUM, "code": "{cells}/uL"}, [("warning", AT)]),
    ({"unit": "per microlitre", "system": UCUM, "code": "{cells}/uL"},
     [("warning", f"{AT}.unit")]),
    ({"unit": "cells/uL", "system": UCUM, "code": "{cells}/uL"}, [("information", f"{AT}.code")]),
])
def test_annotated_code(quantity: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    """An annotation needs a unit that says it; said, it is still noted as ignored."""
    assert found(quantity) == expected
