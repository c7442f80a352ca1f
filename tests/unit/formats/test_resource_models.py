"""Objects from ``fhir.resources`` (pydantic R4B models) go straight into ``validate()`` and
``Validator.validate()``: serialised by their own JSON method, then validated against R4."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.plandefinition import PlanDefinition

from ecanfhir import ValidationResult, Validator, validate
from ecanfhir.formats._models import is_resource_model, resource_json

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">synthetic</div>'}


def _errors(result: ValidationResult) -> list[tuple[str, str, str]]:
    return [(i.code, i.expression, i.rule) for i in result.errors]


def test_patient_model_is_validated_as_r4() -> None:
    """A Patient model's JSON is what is validated: a code the model's type allows but R4's
    required binding does not is reported at its FHIRPath location."""
    patient = Patient(id="p1", text=NARRATIVE, gender="mal", birthDate="1970-01-02")
    assert _errors(validate(patient)) == [("code-invalid", "Patient.gender",
                                           "binding-required")]
    assert validate(Patient(id="p1", text=NARRATIVE, gender="male")).issues == ()


def test_observation_model_through_a_validator() -> None:
    """Validator.validate() takes the model too; invariants run on its JSON (obs-6)."""
    observation = Observation.model_validate({
        "resourceType": "Observation", "text": NARRATIVE, "status": "final",
        "code": {"text": "weight"}, "valueQuantity": {"value": 71.5, "unit": "kg"},
        "dataAbsentReason": {"text": "not asked"}})
    result = Validator().validate(observation)
    assert _errors(result) == [("invariant", "Observation", "obs-6")]


def test_bundle_model_with_nested_resource_models() -> None:
    """A Bundle model holding resource models: the locations run into the entries."""
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:1b9f4f5a-8a59-4f2e-9d1e-3c0b5d6e7f80",
             "resource": {"resourceType": "Patient", "text": NARRATIVE, "active": True}},
            {"fullUrl": "urn:uuid:2b9f4f5a-8a59-4f2e-9d1e-3c0b5d6e7f80",
             "resource": {"resourceType": "Observation", "text": NARRATIVE,
                          "status": "finished", "code": {"text": "x"}}}]})
    assert isinstance(bundle.entry[1].resource, Observation)
    assert _errors(validate(bundle)) == [
        ("code-invalid", "Bundle.entry[1].resource.status", "binding-required")]


@pytest.mark.parametrize(("model", "expression"), [
    # R4B added subject[x] canonical to PlanDefinition; R4 4.0.1 has no subjectCanonical.
    (PlanDefinition.model_validate({"resourceType": "PlanDefinition", "text": NARRATIVE,
                                    "status": "draft", "subjectCanonical": "http://x.test/g"}),
     "PlanDefinition.subjectCanonical"),
    # fhir.resources' own comment field is no FHIR element.
    (Patient(id="p1", text=NARRATIVE, fhir_comments=["a note"]), "Patient.fhir_comments"),
])
def test_r4b_only_elements_are_unknown_in_r4(model: Any, expression: str) -> None:
    assert _errors(validate(model)) == [("structure", expression, "unknown-element")]


def test_model_serialisation_is_the_models_own() -> None:
    """The JSON is the model's (its normalisation included), not pydantic's plain dump."""
    observation = Observation.model_validate_json(
        '{"resourceType": "Observation", "status": "final", "code": {"text": "x"},'
        ' "issued": "2026-01-02T10:00:00.000Z", "valueQuantity": {"value": 1.50}}')
    data = resource_json(observation)
    assert data == {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                    "issued": "2026-01-02T10:00:00Z", "valueQuantity": {"value": 1.5}}


class _OldModel:
    """A pydantic-1 era model: FHIR JSON from json(), no model_dump_json()."""

    def get_resource_type(self) -> str:
        return "Patient"

    def json(self) -> str:
        return '{"resourceType": "Patient", "gender": "female"}'


def test_models_are_recognised_by_their_methods() -> None:
    """Duck typing: older releases' json(), and nothing else is taken for a model."""
    assert resource_json(_OldModel()) == {"resourceType": "Patient", "gender": "female"}
    assert validate(_OldModel()).errors == ()
    for plain in ({"resourceType": "Patient"}, "{}", b"{}", None, 3, Patient):
        assert not is_resource_model(plain)
        assert resource_json(plain) is plain


def test_ecanfhir_imports_nothing_from_fhir_resources() -> None:
    """fhir.resources stays optional: validating imports none of it."""
    code = ("import sys, ecanfhir; ecanfhir.validate({'resourceType': 'Patient'}); "
            "print(sorted(m for m in sys.modules if m.startswith('fhir')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert "fhir.resources" not in done.stdout and "fhir_core" not in done.stdout
    assert done.stdout.startswith("[")
