"""Minimal valid instances of the pilot's clinical and telemedicine profiles (synthetic data).

Each factory returns a new dict, so a test may mutate it. Patients, practitioners and
organisations are fictitious; references to them are not resolved in standalone validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ecanfhir import ValidationResult, Validator
from ecanfhir.definitions.pilot import pilot_url

Resource = dict[str, Any]

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SKS = "urn:oid:1.2.208.176.2.4.12"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CORE_EXT = "http://hl7.org/fhir/StructureDefinition/"
PATIENT_REF = {"reference": "Patient/4f1b0c2e-0000-4000-8000-000000000001"}
ORG_REF = {"reference": "Organization/4f1b0c2e-0000-4000-8000-000000000002"}
ROLE_REF = {"reference": "PractitionerRole/4f1b0c2e-0000-4000-8000-000000000003"}
CONDITION_REF = {"reference": "Condition/4f1b0c2e-0000-4000-8000-000000000004"}
REFERRAL_REF = {"reference": "ServiceRequest/4f1b0c2e-0000-4000-8000-000000000005"}


def sd(profile_id: str) -> str:
    """The canonical URL of a pilot StructureDefinition."""
    return pilot_url("StructureDefinition", profile_id)

def check(validator: Validator, resource: Resource, profile: str) -> ValidationResult:
    """Validate ``resource`` against the pilot profile ``profile`` (an id)."""
    return validator.validate(resource, profiles=[sd(profile)])


def assert_only(result: ValidationResult, expression: str, rule: str, *, severity: str,
                code: str) -> None:
    """Issues of ``rule`` at ``expression`` exist and all have this severity and code."""
    found = [i for i in result.issues if i.expression == expression and i.rule == rule]
    assert found, result.issues
    assert {(i.severity, i.code) for i in found} == {(severity, code)}, found



def cs(code_system_id: str) -> str:
    return pilot_url("CodeSystem", code_system_id)


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def histology(code: str = "8500/3", system: str = ICDO3) -> dict[str, Any]:
    return {"url": sd("ecan-histology-morphology-behavior"),
            "valueCodeableConcept": concept(system, code)}


def laterality(code: str = "7771000") -> dict[str, Any]:
    return {"url": sd("ecan-laterality"), "valueCodeableConcept": concept(SCT, code)}


def tnm_prefix(code: str) -> dict[str, Any]:
    return {"url": sd("ecan-tnm-prefix"), "valueCode": code}


def primary_condition() -> Resource:
    """Breast cancer, upper-outer quadrant (ICD-10 C50.4 = SKS DC504), ductal carcinoma 8500/3."""
    return {
        "resourceType": "Condition", "id": "primary-1", "text": NARRATIVE,
        "extension": [histology(), laterality()],
        "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                  "active"),
        "verificationStatus": concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
        "code": {"coding": [{"system": ICD10, "code": "C50.4"}, {"system": SKS, "code": "DC504"}]},
        "bodySite": [concept(ICDO3, "C50.4")],
        "subject": dict(PATIENT_REF),
        "onsetDateTime": "2025-03-04",
    }


def secondary_condition() -> Resource:
    """Liver metastasis (ICD-10 C78.7) of the primary breast cancer."""
    return {
        "resourceType": "Condition", "id": "secondary-1", "text": NARRATIVE,
        "extension": [{"url": CORE_EXT + "condition-related",
                       "valueReference": dict(CONDITION_REF)},
                      histology("8500/6")],
        "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                  "active"),
        "code": {"coding": [{"system": ICD10, "code": "C78.7"}]},
        "subject": dict(PATIENT_REF),
        "recordedDate": "2025-03-10",
    }


def stage_group() -> Resource:
    """Clinical stage group IIA (UICC 8th edition), coded as text plus a SNOMED CT stage."""
    return {
        "resourceType": "Observation", "id": "stage-1", "text": NARRATIVE,
        "extension": [tnm_prefix("c")],
        "status": "final",
        "code": concept(LOINC, "21908-9"),
        "subject": dict(PATIENT_REF),
        "focus": [dict(CONDITION_REF)],
        "effectiveDateTime": "2025-03-05",
        "valueCodeableConcept": {"text": "Stage IIA"},
        "method": {"text": "UICC TNM 8th edition"},
    }


def tnm_category() -> Resource:
    """Clinical T category cT2."""
    return {
        "resourceType": "Observation", "id": "tnm-t-1", "text": NARRATIVE,
        "status": "final",
        "code": concept(LOINC, "21905-5"),
        "subject": dict(PATIENT_REF),
        "focus": [dict(CONDITION_REF)],
        "effectiveDateTime": "2025-03-05",
        "valueCodeableConcept": {"text": "cT2"},
        "method": {"text": "UICC TNM 8th edition"},
    }


def ecog() -> Resource:
    return {
        "resourceType": "Observation", "id": "ecog-1", "text": NARRATIVE,
        "status": "final",
        "code": concept(LOINC, "89247-1"),
        "subject": dict(PATIENT_REF),
        "effectiveDateTime": "2025-03-05",
        "valueInteger": 1,
        "interpretation": [concept(LOINC, "LA9623-5")],
    }


def tumor_marker() -> Resource:
    """Carcinoembryonic antigen in serum or plasma (LOINC 2039-6), in UCUM ng/mL."""
    return {
        "resourceType": "Observation", "id": "marker-1", "text": NARRATIVE,
        "status": "final",
        "code": concept(LOINC, "2039-6"),
        "subject": dict(PATIENT_REF),
        "effectiveDateTime": "2025-03-05",
        "valueQuantity": {"value": 3.1, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"},
    }


def pathology_report() -> Resource:
    return {
        "resourceType": "DiagnosticReport", "id": "path-1", "text": NARRATIVE,
        "status": "final",
        "code": concept(LOINC, "60568-3"),
        "subject": dict(PATIENT_REF),
        "issued": "2025-03-06T10:00:00+01:00",
        "conclusion": "Invasive ductal carcinoma, grade 2.",
    }


def referral() -> Resource:
    return {
        "resourceType": "ServiceRequest", "id": "referral-1", "text": NARRATIVE,
        "identifier": [{"system": "https://hospital.example/case-id", "value": "CASE-0001"}],
        "status": "active",
        "intent": "order",
        "category": [concept(cs("ecan-referral-reason"), "tumour-board-review")],
        "code": {"text": "National tumour board review"},
        "subject": dict(PATIENT_REF),
        "authoredOn": "2025-03-07T09:00:00+01:00",
        "requester": dict(ROLE_REF),
        "performer": [dict(ORG_REF)],
        "reasonReference": [dict(CONDITION_REF)],
    }


def tumour_board_outcome() -> Resource:
    return {
        "resourceType": "CarePlan", "id": "outcome-1", "text": NARRATIVE,
        "extension": [{"url": sd("ecan-based-on-referral"), "valueReference": dict(REFERRAL_REF)}],
        "status": "active",
        "intent": "plan",
        "category": [concept(cs("ecan-tumour-board-type"), "pre-therapeutic")],
        "subject": dict(PATIENT_REF),
        "created": "2025-03-14",
        "addresses": [dict(CONDITION_REF)],
        "activity": [{"detail": {
            "code": concept(cs("ecan-tumour-board-recommendation"), "surgery"),
            "status": "scheduled"}}],
    }


def care_team() -> Resource:
    return {
        "resourceType": "CareTeam", "id": "mdt-1", "text": NARRATIVE,
        "status": "active",
        "name": "Breast cancer MDT",
        "participant": [{"role": [{"text": "Oncologist"}], "member": dict(ROLE_REF)}],
    }


def telemedicine_encounter() -> Resource:
    return {
        "resourceType": "Encounter", "id": "tele-1", "text": NARRATIVE,
        "identifier": [{"system": "https://hospital.example/encounter-id", "value": "TEL-0001"}],
        "status": "finished",
        "class": {"system": ACTCODE, "code": "VR"},
        "type": [concept(cs("ecan-teleconsult-modality"), "video")],
        "subject": dict(PATIENT_REF),
        "participant": [{"individual": dict(ROLE_REF)}],
        "period": {"start": "2025-04-01T10:00:00+02:00", "end": "2025-04-01T10:20:00+02:00"},
        "serviceProvider": dict(ORG_REF),
    }


def appointment() -> Resource:
    return {
        "resourceType": "Appointment", "id": "appt-1", "text": NARRATIVE,
        "status": "booked",
        "serviceType": [{"text": "Oncology video consultation"}],
        "start": "2025-04-01T10:00:00+02:00",
        "end": "2025-04-01T10:20:00+02:00",
        "comment": "Join by the video link sent by secure mail.",
        "participant": [{"actor": dict(PATIENT_REF), "status": "accepted"},
                        {"actor": dict(ROLE_REF), "status": "accepted"}],
    }


def pro_response() -> Resource:
    return {
        "resourceType": "QuestionnaireResponse", "id": "pro-1", "text": NARRATIVE,
        "questionnaire": "https://questionnaires.example/Questionnaire/synthetic-pro",
        "status": "completed",
        "subject": dict(PATIENT_REF),
        "encounter": {"reference": "Encounter/tele-1"},
        "authored": "2025-04-01T09:30:00+02:00",
    }


def home_measurement() -> Resource:
    return {
        "resourceType": "Observation", "id": "home-1", "text": NARRATIVE,
        "status": "final",
        "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category",
                             "vital-signs")],
        "code": concept(LOINC, "29463-7", "Body weight"),
        "subject": dict(PATIENT_REF),
        "effectiveDateTime": "2025-04-02T08:00:00+02:00",
        "valueQuantity": {"value": 71.5, "unit": "kg", "system": UCUM, "code": "kg"},
    }


def changed(resource: Resource, change: Callable[[Resource], object]) -> Resource:
    """A deep copy of ``resource`` with ``change`` applied to it."""
    copied = copy.deepcopy(resource)
    change(copied)
    return copied


def _parent(resource: Resource, path: str) -> tuple[Any, str | int]:
    *head, last = path.split(".")
    node: Any = resource
    for step in head:
        node = node[int(step)] if step.isdigit() else node[step]
    return node, int(last) if last.isdigit() else last


def drop(path: str) -> Callable[[Resource], None]:
    """A change removing the element at a dotted JSON path (``code.coding.1``)."""
    def change(resource: Resource) -> None:
        node, key = _parent(resource, path)
        del node[key]
    return change


def put(path: str, value: Any) -> Callable[[Resource], None]:
    """A change setting the element at a dotted JSON path."""
    def change(resource: Resource) -> None:
        node, key = _parent(resource, path)
        node[key] = copy.deepcopy(value)
    return change


def append(path: str, value: Any) -> Callable[[Resource], None]:
    """A change appending ``value`` to the array at a dotted JSON path."""
    def change(resource: Resource) -> None:
        node, key = _parent(resource, path)
        node[key].append(copy.deepcopy(value))
    return change


def replace_choice(old: str, new: str, value: Any) -> Callable[[Resource], None]:
    """A change swapping one choice-type property for another (e.g. to ``valueString``)."""
    def change(resource: Resource) -> None:
        del resource[old]
        resource[new] = copy.deepcopy(value)
    return change


def both(*changes: Callable[[Resource], None]) -> Callable[[Resource], None]:
    def change(resource: Resource) -> None:
        for one in changes:
            one(resource)
    return change
