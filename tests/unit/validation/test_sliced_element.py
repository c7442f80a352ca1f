"""A profile's constraints on a sliced element's children hold in every slice: with
``Parameters.parameter.extension`` max 0, a parameter that a slice took may not carry an
extension either (checks/sliced_element). Profile and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, Validator

PROFILE = EXAMPLE + "plain-parameters"


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(constraint(
        "plain-parameters", "Parameters",
        element("Parameters.parameter", slicing={
            "discriminator": [{"type": "value", "path": "name"}], "rules": "open"}),
        element("Parameters.parameter.extension", max="0"),
        element("Parameters.parameter:first", sliceName="first", min=1, max="1"),
        element("Parameters.parameter:first.name", fixedString="first")))
    return Validator(registry)


def parameters(*parameter: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parameter)}


EXTENSION = [{"url": "http://example.org/fhir/StructureDefinition/note", "valueString": "x"}]


@pytest.mark.parametrize(("parameter", "found"), [
    ({"name": "first", "valueString": "a"}, []),
    ({"name": "first", "valueString": "a", "extension": EXTENSION},
     [("error", "structure", "Parameters.parameter[0].extension")]),
])
def test_a_slice_keeps_the_sliced_element_limits(
        validator: Validator, parameter: dict[str, Any], found: list[tuple[str, ...]]) -> None:
    result = validator.validate(parameters(parameter), profiles=[PROFILE])
    assert [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule == "cardinality-max"] == found
