"""StructureDefinition checks for the extension inherit-obligations: the profile it names must
be an obligation profile on the same base. Profiles are synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
BASE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def profile(name: str, base: str, *extensions: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": BASE + name, "name": name,
            "text": NARRATIVE, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": "Patient", "baseDefinition": base,
            "derivation": "constraint", "extension": list(extensions),
            "differential": {"element": [{"id": "Patient.active", "path": "Patient.active",
                                          "min": 1}]}}


OBLIGATIONS = {"url": CORE + "obligation-profile", "valueBoolean": True}


def inherits(name: str) -> dict[str, Any]:
    return {"url": CORE + "inherit-obligations", "valueCanonical": BASE + name}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(profile("on-patient", CORE + "Patient", OBLIGATIONS))
    registry.add(profile("not-obligations", CORE + "Patient"))
    registry.add({**profile("on-other-base", BASE + "on-patient", OBLIGATIONS)})
    return Validator(registry)


@pytest.mark.parametrize(("inherited", "fragment"), [
    ("on-patient", None),
    ("not-obligations", "is not marked as an obligation profile"),
    ("on-other-base", "has the base"),
])
def test_inherited_obligations(validator: Validator, inherited: str,
                               fragment: str | None) -> None:
    result = validator.validate(profile("mine", CORE + "Patient", inherits(inherited)))
    found = [i for i in result.errors if i.rule == "sd-obligations"]
    if fragment is None:
        assert found == []
        return
    assert [(i.code, i.expression) for i in found] == [
        ("business-rule", "StructureDefinition.extension[0]")]
    assert fragment in found[0].message
