"""A profile walked in place of its type's core definition (ecanfhir.validation._walk and
_plan.core_counterpart): what a profile replaces rather than tightens, an element's binding and
a Reference's targets, is still checked against the core element, so the issues are those of a
walk against the core definition and one against the profile. All data is synthetic."""

from __future__ import annotations

from typing import Any

from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SYSTEM = "http://example.org/fhir/CodeSystem/synthetic-status"
VALUE_SET = "http://example.org/fhir/ValueSet/synthetic-status"
CODE_SYSTEM = {"resourceType": "CodeSystem", "url": SYSTEM, "status": "active",
               "content": "complete", "concept": [{"code": "a"}, {"code": "b"}]}
STATUSES = {"resourceType": "ValueSet", "url": VALUE_SET, "status": "active",
            "compose": {"include": [{"system": SYSTEM}]}}
REBOUND = constraint("rebound-patient", "Patient", element(
    "Patient.maritalStatus", binding={"strength": "required", "valueSet": VALUE_SET}))
NARROW_GENDER = constraint("narrow-gender", "Patient", element(
    "Patient.gender", binding={"strength": "required", "valueSet": VALUE_SET}))
PATIENT_SUBJECT = constraint("patient-subject", "Observation", element(
    "Observation.subject", type=[{"code": "Reference",
                                  "targetProfile": ["http://hl7.org/fhir/StructureDefinition/"
                                                    "Patient"]}]))


def validate(resource: dict[str, Any], *profiles: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    registry.add_all([CODE_SYSTEM, STATUSES, *profiles])
    return Validator(registry).validate(resource)


def claiming(resource: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "meta": {"profile": [profile["url"]]}}


def rules_at(result: ValidationResult, where: str) -> list[tuple[str, str]]:
    return [(i.severity, i.rule) for i in result.issues if i.expression == where]


def test_a_replaced_binding_of_a_codeable_concept_is_checked_against_the_core_too() -> None:
    """The profile binds maritalStatus to its own value set: a code from it meets the profile,
    and is still outside the core's extensible marital-status value set (a warning)."""
    patient = claiming({"resourceType": "Patient", "text": NARRATIVE,
                        "maritalStatus": {"coding": [{"system": SYSTEM, "code": "a"}]}}, REBOUND)
    result = validate(patient, REBOUND)
    assert rules_at(result, "Patient.maritalStatus") == [("warning", "binding-extensible")]
    assert result.ok
    outside = claiming({**patient, "maritalStatus": {"coding": [{"system": SYSTEM,
                                                                 "code": "c"}]}}, REBOUND)
    assert ("error", "binding-required") in rules_at(validate(outside, REBOUND),
                                                     "Patient.maritalStatus")


def test_a_replaced_binding_of_a_code_is_checked_against_the_core_too() -> None:
    """gender bound to another value set by the profile: 'a' is in the profile's value set but
    not in the core's required AdministrativeGender (an error from the core element);
    'female' the other way round."""
    patient = {"resourceType": "Patient", "text": NARRATIVE}
    result = validate(claiming({**patient, "gender": "a"}, NARROW_GENDER), NARROW_GENDER)
    assert rules_at(result, "Patient.gender") == [("error", "binding-required")]
    assert "administrative-gender" in next(
        i.message for i in result.issues if i.expression == "Patient.gender")
    result = validate(claiming({**patient, "gender": "female"}, NARROW_GENDER), NARROW_GENDER)
    assert rules_at(result, "Patient.gender") == [("error", "binding-required")]
    assert VALUE_SET in next(i.message for i in result.issues if i.expression == "Patient.gender")


def test_replaced_reference_targets_are_checked_against_the_core_too() -> None:
    """The profile allows only a Patient as subject: a Device meets the core's targets but
    not the profile's; an Organization meets neither, and both say so."""
    def bundle(target: dict[str, Any]) -> dict[str, Any]:
        observation = claiming({"resourceType": "Observation", "text": NARRATIVE,
                                "status": "final", "code": {"text": "synthetic"},
                                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-"
                                                         "000000000002"}}, PATIENT_SUBJECT)
        return {"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
             "resource": observation},
            {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002", "resource": target}]}

    where = "Bundle.entry[0].resource.subject.reference"
    device = validate(bundle({"resourceType": "Device", "text": NARRATIVE}), PATIENT_SUBJECT)
    assert [i.message for i in device.errors if i.expression == where] == [
        "the reference points to a Device, which is not allowed here (allowed: Patient)"]
    organization = validate(bundle({"resourceType": "Organization", "text": NARRATIVE}),
                            PATIENT_SUBJECT)
    assert [i.message for i in organization.errors if i.expression == where] == [
        "the reference points to a Organization, which is not allowed here (allowed: Patient, "
        "Group, Device, Location)",
        "the reference points to a Organization, which is not allowed here (allowed: Patient)"]


def test_without_a_profile_the_core_alone_is_checked() -> None:
    patient = {"resourceType": "Patient", "text": NARRATIVE, "gender": "a"}
    assert rules_at(validate(patient, NARROW_GENDER), "Patient.gender") == [
        ("error", "binding-required")]
    assert EXAMPLE not in next(i.message for i in validate(patient).issues
                               if i.expression == "Patient.gender")


COMPONENT_CODE = constraint("rebound-component", "Observation", element(
    "Observation.component.code", binding={"strength": "required", "valueSet": VALUE_SET}))


def test_a_replaced_binding_below_the_root_is_checked_against_the_core_too() -> None:
    """Observation.component.code rebound by the profile (core: example binding, so silent);
    the code outside the profile's value set is an error of the profile, and the core's
    counterpart is found three steps down."""
    from ecanfhir.validation._context import Run
    from ecanfhir.validation._plan import core_counterpart

    registry = Registry()
    registry.add_all([CODE_SYSTEM, STATUSES, COMPONENT_CODE])
    validator = Validator(registry)
    run = Run(validator.schema, validator.terminology, validator.options)
    node = validator.schema.structure(COMPONENT_CODE["url"]).by_id["Observation.component.code"]
    core = core_counterpart(run, node)
    assert core is not None and core.path == "Observation.component.code"
    assert core is validator.schema.structure("Observation").by_id["Observation.component.code"]


def test_no_core_counterpart_for_core_elements_or_unknown_bases() -> None:
    from dataclasses import replace

    from ecanfhir.validation._context import Run
    from ecanfhir.validation._plan import core_counterpart

    validator = Validator(Registry())
    run = Run(validator.schema, validator.terminology, validator.options)
    core = validator.schema.structure("Patient")
    assert core_counterpart(run, core.by_id["Patient.gender"]) is None  # a core element
    profiled = Registry()
    profiled.add_all([CODE_SYSTEM, STATUSES, NARROW_GENDER])
    node = Validator(profiled).schema.structure(NARROW_GENDER["url"]).by_id["Patient.gender"]
    assert core_counterpart(run, replace(node, structure=None)) is None
    unknown = replace(node, definition={**node.definition, "base": {"path": "Unknown.gender"}})
    assert core_counterpart(run, unknown) is None
