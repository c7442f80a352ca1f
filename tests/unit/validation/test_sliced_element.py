"""A profile's constraints on a sliced element's children hold in every slice: with
``Parameters.parameter.extension`` max 0, a parameter that a slice took may not carry an
extension either (checks/sliced_element). Profile and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
PROFILE = "http://example.org/fhir/StructureDefinition/plain-parameters"


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "url": PROFILE, "name": "PlainParameters",
        "status": "draft", "kind": "resource", "abstract": False, "type": "Parameters",
        "baseDefinition": CORE + "Parameters", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Parameters.parameter", "path": "Parameters.parameter",
             "slicing": {"discriminator": [{"type": "value", "path": "name"}],
                         "rules": "open"}},
            {"id": "Parameters.parameter.extension", "path": "Parameters.parameter.extension",
             "max": "0"},
            {"id": "Parameters.parameter:first", "path": "Parameters.parameter",
             "sliceName": "first", "min": 1, "max": "1"},
            {"id": "Parameters.parameter:first.name", "path": "Parameters.parameter.name",
             "fixedString": "first"}]}})
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
