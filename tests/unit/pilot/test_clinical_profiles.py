"""The pilot's clinical (case exchange) profiles, extensions and terminology.

Each profile: a minimal valid instance validates without errors; each mandatory element,
slice, binding and invariant has an invalid instance whose issue is asserted by severity,
code, rule and FHIRPath location. All data is synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ecanfhir import ValidationOptions, Validator
from ecanfhir.definitions.pilot import pilot_source

from ._clinical_data import (
    CONDITION_REF,
    CORE_EXT,
    ICD10,
    LOINC,
    SCT,
    SKS,
    Resource,
    append,
    assert_only,
    both,
    care_team,
    changed,
    check,
    concept,
    cs,
    drop,
    ecog,
    histology,
    laterality,
    pathology_report,
    primary_condition,
    put,
    referral,
    replace_choice,
    sd,
    secondary_condition,
    stage_group,
    tnm_category,
    tnm_prefix,
    tumor_marker,
    tumour_board_outcome,
)

Factory = Callable[[], Resource]
OTHER_CS = "http://example.org/fhir/CodeSystem/other"
PRIMARY = "ecan-primary-cancer-condition"
SECONDARY = "ecan-secondary-cancer-condition"
STAGE = "ecan-tnm-stage-group"
CATEGORY = "ecan-tnm-category"
ECOG = "ecan-ecog-performance-status"
MARKER = "ecan-tumor-marker-test"
PATHOLOGY = "ecan-pathology-report"
REFERRAL = "ecan-cancer-referral"
OUTCOME = "ecan-tumour-board-outcome"
CARE_TEAM = "ecan-care-team"
HIST_VALUE = "Condition.extension[0].value.ofType(CodeableConcept)"


VALID: list[tuple[str, Factory]] = [
    (PRIMARY, primary_condition), (SECONDARY, secondary_condition), (STAGE, stage_group),
    (CATEGORY, tnm_category), (ECOG, ecog), (MARKER, tumor_marker),
    (PATHOLOGY, pathology_report), (REFERRAL, referral), (OUTCOME, tumour_board_outcome),
    (CARE_TEAM, care_team),
]


@pytest.mark.parametrize(("profile", "factory"), VALID, ids=[p for p, _ in VALID])
def test_minimal_instance_is_valid(validator: Validator, profile: str, factory: Factory) -> None:
    """The minimal synthetic instance of each clinical profile has no errors."""
    result = check(validator, factory(), profile)
    assert result.errors == (), result.errors


def _case(profile: str, factory: Factory, change: Callable[[Resource], None], expression: str,
          rule: str, severity: str = "error", code: str = "required", *, id: str) -> Any:
    return pytest.param(profile, factory, change, expression, rule, severity, code, id=id)


MIN, MAX, SLICE = "cardinality-min", "cardinality-max", "slice-cardinality"
INV = "invariant"
INVALID = [
    # -- EcanPrimaryCancerCondition
    _case(PRIMARY, primary_condition, drop("clinicalStatus"), "Condition.clinicalStatus", MIN,
          id="primary-clinicalStatus-1..1"),
    _case(PRIMARY, primary_condition, drop("code"), "Condition.code", MIN, id="primary-code-1..1"),
    _case(PRIMARY, primary_condition, drop("subject"), "Condition.subject", MIN,
          id="primary-subject-1..1"),
    _case(PRIMARY, primary_condition, put("code", {"text": "Breast cancer"}),
          "Condition.code.coding", MIN, id="primary-code.coding-1..*"),
    _case(PRIMARY, primary_condition, put("code.coding.1", {"system": ICD10, "code": "C50.9"}),
          "Condition.code.coding", SLICE, "error", "structure", id="primary-slice-icd10-0..1"),
    _case(PRIMARY, primary_condition, put("code.coding.0", {"system": SKS, "code": "DC509"}),
          "Condition.code.coding", SLICE, "error", "structure", id="primary-slice-sks-d-0..1"),
    _case(PRIMARY, primary_condition, put("code.coding", [{"system": ICD10, "code": "I10"}]),
          "Condition.code", "ecan-cond-1", "error", INV, id="primary-ecan-cond-1-icd10-range"),
    _case(PRIMARY, primary_condition, put("code.coding.1.code", "DI10"),
          "Condition.code", "ecan-cond-1", "error", INV, id="primary-ecan-cond-1-sks-range"),
    _case(PRIMARY, primary_condition, put("code.coding", [{"system": OTHER_CS, "code": "x"}]),
          "Condition.code", "ecan-cond-1", "error", INV, id="primary-ecan-cond-1-no-system"),
    _case(PRIMARY, primary_condition, put("code.coding", [{"system": ICD10, "code": "C78.7"}]),
          "Condition.code", "ecan-cond-4", "warning", INV, id="primary-ecan-cond-4-secondary-code"),
    _case(PRIMARY, primary_condition, put("extension.0", histology("8500/6")),
          "Condition", "ecan-cond-2", "error", INV, id="primary-ecan-cond-2-behaviour"),
    _case(PRIMARY, primary_condition, drop("onsetDateTime"),
          "Condition", "ecan-cond-3", "error", INV, id="primary-ecan-cond-3-date"),
    _case(PRIMARY, primary_condition, append("extension", histology("8520/3")),
          "Condition.extension", SLICE, "error", "structure", id="primary-histology-0..1"),
    _case(PRIMARY, primary_condition, append("extension", laterality("24028007")),
          "Condition.extension", SLICE, "error", "structure", id="primary-laterality-0..1"),
    _case(PRIMARY, primary_condition, put("extension.1", laterality("399537006")),
          "Condition.extension[1].value.ofType(CodeableConcept)", "binding-required", "error",
          "code-invalid", id="primary-laterality-binding"),
    _case(PRIMARY, primary_condition, put("extension.0", histology("850/3")),
          HIST_VALUE, "ecan-hist-1", "error", INV, id="histology-ecan-hist-1-form"),
    _case(PRIMARY, primary_condition, put("extension.0", histology("2039-6", LOINC)),
          HIST_VALUE, "ecan-hist-2", "error", INV, id="histology-ecan-hist-2-system"),
    # -- EcanSecondaryCancerCondition
    _case(SECONDARY, secondary_condition, put("stage", [{"summary": {"text": "IV"}}]),
          "Condition.stage", MAX, "error", "structure", id="secondary-stage-0..0"),
    _case(SECONDARY, secondary_condition, put("code.coding.0.code", "C50.4"),
          "Condition.code", "ecan-sec-1", "error", INV, id="secondary-ecan-sec-1-range"),
    _case(SECONDARY, secondary_condition, put("extension.1", histology("8500/2")),
          "Condition", "ecan-sec-2", "error", INV, id="secondary-ecan-sec-2-behaviour"),
    _case(SECONDARY, secondary_condition, drop("recordedDate"),
          "Condition", "ecan-cond-3", "error", INV, id="secondary-ecan-cond-3-date"),
    _case(SECONDARY, secondary_condition, drop("clinicalStatus"), "Condition.clinicalStatus", MIN,
          id="secondary-clinicalStatus-1..1"),
    # -- EcanTNMStageGroup
    _case(STAGE, stage_group, drop("method"), "Observation.method", MIN, id="stage-method-1..1"),
    _case(STAGE, stage_group, drop("focus"), "Observation.focus", MIN, id="stage-focus-1..1"),
    _case(STAGE, stage_group, append("focus", CONDITION_REF), "Observation.focus", MAX, "error",
          "structure", id="stage-focus-max-1"),
    _case(STAGE, stage_group, drop("subject"), "Observation.subject", MIN, id="stage-subject-1..1"),
    _case(STAGE, stage_group, drop("effectiveDateTime"), "Observation.effective", MIN,
          id="stage-effective-1..1"),
    _case(STAGE, stage_group, replace_choice("effectiveDateTime", "effectivePeriod",
                                             {"start": "2025-03-05"}),
          "Observation.effectivePeriod", "unknown-element", "error", "structure",
          id="stage-effective-dateTime-only"),
    _case(STAGE, stage_group, drop("valueCodeableConcept"), "Observation.value", MIN,
          id="stage-value-1..1"),
    _case(STAGE, stage_group, replace_choice("valueCodeableConcept", "valueString", "IIA"),
          "Observation.valueString", "unknown-element", "error", "structure",
          id="stage-value-CodeableConcept-only"),
    _case(STAGE, stage_group, put("component", [{"code": {"text": "T"}, "valueString": "T2"}]),
          "Observation.component", MAX, "error", "structure", id="stage-component-0..0"),
    _case(STAGE, stage_group,
          put("hasMember", [{"reference": f"Observation/t{i}"} for i in range(4)]),
          "Observation.hasMember", MAX, "error", "structure", id="stage-hasMember-0..3"),
    _case(STAGE, stage_group, put("code", concept(LOINC, "21905-5")), "Observation.code",
          "binding-required", "error", "code-invalid", id="stage-code-binding"),
    _case(STAGE, stage_group, put("extension.0", tnm_prefix("p")), "Observation", "ecan-tnm-1",
          "error", INV, id="stage-ecan-tnm-1-prefix-p-on-clinical"),
    _case(STAGE, stage_group, put("extension.0", tnm_prefix("x")),
          "Observation.extension[0].value.ofType(code)", "binding-required", "error",
          "code-invalid", id="tnm-prefix-binding"),
    # -- EcanTNMCategory
    _case(CATEGORY, tnm_category, drop("method"), "Observation.method", MIN,
          id="category-method-1..1"),
    _case(CATEGORY, tnm_category, drop("focus"), "Observation.focus", MIN,
          id="category-focus-1..1"),
    _case(CATEGORY, tnm_category, drop("valueCodeableConcept"), "Observation.value", MIN,
          id="category-value-1..1"),
    _case(CATEGORY, tnm_category, put("hasMember", [{"reference": "Observation/x"}]),
          "Observation.hasMember", MAX, "error", "structure", id="category-hasMember-0..0"),
    _case(CATEGORY, tnm_category, put("device", {"reference": "Device/x"}),
          "Observation.device", MAX, "error", "structure", id="category-device-0..0"),
    _case(CATEGORY, tnm_category, put("referenceRange", [{"text": "n/a"}]),
          "Observation.referenceRange", MAX, "error", "structure",
          id="category-referenceRange-0..0"),
    _case(CATEGORY, tnm_category, put("code", concept(LOINC, "21908-9")), "Observation.code",
          "binding-required", "error", "code-invalid", id="category-code-binding"),
    _case(CATEGORY, tnm_category, both(put("code", concept(LOINC, "21899-0")),
                                       put("extension", [tnm_prefix("c")])),
          "Observation", "ecan-tnm-1", "error", INV, id="category-ecan-tnm-1-prefix-c-on-path"),
    # -- EcanECOGPerformanceStatus
    _case(ECOG, ecog, put("valueInteger", 6), "Observation", "ecan-ecog-1", "error", INV,
          id="ecog-ecan-ecog-1-above-5"),
    _case(ECOG, ecog, put("valueInteger", -1), "Observation", "ecan-ecog-1", "error", INV,
          id="ecog-ecan-ecog-1-negative"),
    _case(ECOG, ecog, drop("valueInteger"), "Observation.value", MIN, id="ecog-value-1..1"),
    _case(ECOG, ecog, replace_choice("valueInteger", "valueString", "1"),
          "Observation.valueString", "unknown-element", "error", "structure",
          id="ecog-value-integer-only"),
    _case(ECOG, ecog, put("code", concept(LOINC, "89243-0")), "Observation.code", "pattern",
          "error", "value", id="ecog-code-pattern-89247-1"),
    _case(ECOG, ecog, put("interpretation", [concept(LOINC, "LA4489-6")]),
          "Observation.interpretation[0]", "binding-required", "error", "code-invalid",
          id="ecog-interpretation-binding"),
    _case(ECOG, ecog, drop("subject"), "Observation.subject", MIN, id="ecog-subject-1..1"),
    _case(ECOG, ecog, replace_choice("effectiveDateTime", "effectiveInstant",
                                     "2025-03-05T10:00:00Z"),
          "Observation.effectiveInstant", "unknown-element", "error", "structure",
          id="ecog-effective-dateTime-or-Period"),
    _case(ECOG, ecog, put("bodySite", {"text": "n/a"}), "Observation.bodySite", MAX, "error",
          "structure", id="ecog-bodySite-0..0"),
    _case(ECOG, ecog, put("specimen", {"reference": "Specimen/x"}), "Observation.specimen", MAX,
          "error", "structure", id="ecog-specimen-0..0"),
    _case(ECOG, ecog, put("device", {"reference": "Device/x"}), "Observation.device", MAX,
          "error", "structure", id="ecog-device-0..0"),
    _case(ECOG, ecog, put("hasMember", [{"reference": "Observation/x"}]),
          "Observation.hasMember", MAX, "error", "structure", id="ecog-hasMember-0..0"),
    _case(ECOG, ecog, put("component", [{"code": {"text": "x"}, "valueInteger": 1}]),
          "Observation.component", MAX, "error", "structure", id="ecog-component-0..0"),
    # -- EcanTumorMarkerTest
    _case(MARKER, tumor_marker, drop("subject"), "Observation.subject", MIN,
          id="marker-subject-1..1"),
    _case(MARKER, tumor_marker, drop("valueQuantity"), "Observation.value", MIN,
          id="marker-value-1..1"),
    _case(MARKER, tumor_marker, replace_choice("valueQuantity", "valueBoolean", True),
          "Observation.valueBoolean", "unknown-element", "error", "structure",
          id="marker-value-types"),
    _case(MARKER, tumor_marker, put("valueQuantity", {"value": 3.1, "unit": "ng/mL"}),
          "Observation", "ecan-tmt-2", "error", INV, id="marker-ecan-tmt-2-ucum"),
    _case(MARKER, tumor_marker, put("code", {"text": "CEA"}), "Observation", "ecan-tmt-1",
          "warning", INV, id="marker-ecan-tmt-1-loinc"),
    # -- EcanPathologyReport
    _case(PATHOLOGY, pathology_report, drop("issued"), "DiagnosticReport.issued", MIN,
          id="pathology-issued-1..1"),
    _case(PATHOLOGY, pathology_report, drop("subject"), "DiagnosticReport.subject", MIN,
          id="pathology-subject-1..1"),
    _case(PATHOLOGY, pathology_report, put("code", {"text": "Pathology"}), "DiagnosticReport",
          "ecan-path-1", "error", INV, id="pathology-ecan-path-1-loinc"),
    # -- EcanCancerReferral
    _case(REFERRAL, referral, drop("identifier"), "ServiceRequest.identifier", MIN,
          id="referral-identifier-1..*"),
    _case(REFERRAL, referral, put("status", "draft"), "ServiceRequest.status",
          "binding-required", "error", "code-invalid", id="referral-status-binding"),
    _case(REFERRAL, referral, put("intent", "plan"), "ServiceRequest.intent", "fixed", "error",
          "value", id="referral-intent-fixed-order"),
    _case(REFERRAL, referral, drop("category"), "ServiceRequest.category", MIN,
          id="referral-category-1..1"),
    _case(REFERRAL, referral, append("category", {"text": "second category"}),
          "ServiceRequest.category", MAX, "error", "structure", id="referral-category-max-1"),
    _case(REFERRAL, referral, put("category", [concept(OTHER_CS, "x")]),
          "ServiceRequest.category[0]", "binding-extensible", "warning", "code-invalid",
          id="referral-category-extensible"),
    _case(REFERRAL, referral, drop("code"), "ServiceRequest.code", MIN, id="referral-code-1..1"),
    _case(REFERRAL, referral, drop("subject"), "ServiceRequest.subject", MIN,
          id="referral-subject-1..1"),
    _case(REFERRAL, referral, drop("authoredOn"), "ServiceRequest.authoredOn", MIN,
          id="referral-authoredOn-1..1"),
    _case(REFERRAL, referral, drop("requester"), "ServiceRequest.requester", MIN,
          id="referral-requester-1..1"),
    _case(REFERRAL, referral, drop("performer"), "ServiceRequest.performer", MIN,
          id="referral-performer-1..*"),
    _case(REFERRAL, referral, drop("reasonReference"), "ServiceRequest.reasonReference", MIN,
          id="referral-reasonReference-1..*"),
    # -- EcanTumourBoardOutcome
    _case(OUTCOME, tumour_board_outcome, drop("extension"), "CarePlan.extension", SLICE,
          id="outcome-basedOnReferral-1..1"),
    _case(OUTCOME, tumour_board_outcome, append("extension", {
        "url": sd("ecan-based-on-referral"), "valueReference": {"reference": "ServiceRequest/r2"}}),
        "CarePlan.extension", SLICE, "error", "structure", id="outcome-basedOnReferral-max-1"),
    _case(OUTCOME, tumour_board_outcome, put("intent", "order"), "CarePlan.intent", "fixed",
          "error", "value", id="outcome-intent-fixed-plan"),
    _case(OUTCOME, tumour_board_outcome, drop("category"), "CarePlan.category", MIN,
          id="outcome-category-1..1"),
    _case(OUTCOME, tumour_board_outcome,
          put("category", [concept(OTHER_CS, "intra-operative")]), "CarePlan.category[0]",
          "binding-required", "error", "code-invalid", id="outcome-category-binding"),
    _case(OUTCOME, tumour_board_outcome, drop("created"), "CarePlan.created", MIN,
          id="outcome-created-1..1"),
    _case(OUTCOME, tumour_board_outcome, drop("addresses"), "CarePlan.addresses", MIN,
          id="outcome-addresses-1..*"),
    _case(OUTCOME, tumour_board_outcome, drop("activity"), "CarePlan.activity", MIN,
          id="outcome-activity-1..*"),
    _case(OUTCOME, tumour_board_outcome,
          put("activity", [{"reference": {"reference": "ServiceRequest/x"}}]),
          "CarePlan.activity[0].detail", MIN, id="outcome-activity.detail-1..1"),
    _case(OUTCOME, tumour_board_outcome, drop("activity.0.detail.code"),
          "CarePlan.activity[0].detail.code", MIN, id="outcome-detail.code-1..1"),
    _case(OUTCOME, tumour_board_outcome, put("activity.0.detail.code", concept(OTHER_CS, "x")),
          "CarePlan.activity[0].detail.code", "binding-extensible", "warning", "code-invalid",
          id="outcome-detail.code-extensible"),
    _case(OUTCOME, tumour_board_outcome, put("activity.0.detail.status", "cancelled"),
          "CarePlan.activity[0].detail", "ecan-tb-1", "error", INV, id="outcome-ecan-tb-1"),
    # -- EcanCareTeam
    _case(CARE_TEAM, care_team, drop("participant"), "CareTeam.participant", MIN,
          id="care-team-participant-1..*"),
    _case(CARE_TEAM, care_team, drop("participant.0.role"), "CareTeam.participant[0].role", MIN,
          id="care-team-role-1..*"),
    _case(CARE_TEAM, care_team, drop("participant.0.member"),
          "CareTeam.participant[0].member", MIN, id="care-team-member-1..1"),
]


@pytest.mark.parametrize(("profile", "factory", "change", "expression", "rule", "severity",
                          "code"), INVALID)
def test_invalid_instance_reports_the_rule(validator: Validator, profile: str, factory: Factory,
                                           change: Callable[[Resource], None], expression: str,
                                           rule: str, severity: str, code: str) -> None:
    """Breaking one element, slice, binding or invariant yields that rule's issue, there."""
    result = check(validator, changed(factory(), change), profile)
    assert_only(result, expression, rule, severity=severity, code=code)


@pytest.mark.parametrize(("profile", "factory", "change"), [
    pytest.param(PRIMARY, primary_condition, put("code", concept(SCT, "254837009")),
                 id="primary-snomed-only"),
    pytest.param(PRIMARY, primary_condition, append("code.coding", {"system": SCT,
                                                                    "code": "254837009"}),
                 id="primary-open-slicing-three-systems"),
    pytest.param(PRIMARY, primary_condition, put("code.coding", [{"system": ICD10,
                                                                  "code": "D05.1"}]),
                 id="primary-in-situ-D05.1"),
    pytest.param(PRIMARY, primary_condition, both(drop("onsetDateTime"), append("extension", {
        "url": CORE_EXT + "condition-assertedDate", "valueDateTime": "2025-03-01"})),
                 id="primary-date-from-assertedDate"),
    pytest.param(PRIMARY, primary_condition, both(drop("onsetDateTime"),
                                                  put("recordedDate", "2025-03-02")),
                 id="primary-date-from-recordedDate"),
    pytest.param(PRIMARY, primary_condition, put("extension.0", histology("35917007", SCT)),
                 id="histology-snomed"),
    pytest.param(SECONDARY, secondary_condition, put("code.coding",
                                                     [{"system": SKS, "code": "DC787"}]),
                 id="secondary-sks-DC787"),
    pytest.param(STAGE, stage_group, append("extension", tnm_prefix("y")), id="stage-yc-prefix"),
    pytest.param(ECOG, ecog, replace_choice("effectiveDateTime", "effectivePeriod",
                                            {"start": "2025-03-05"}), id="ecog-effectivePeriod"),
    pytest.param(ECOG, ecog, both(put("valueInteger", 5),
                                  put("interpretation", [concept(LOINC, "LA9627-6")])),
                 id="ecog-grade-5"),
    pytest.param(MARKER, tumor_marker, replace_choice("valueQuantity", "valueString", "positive"),
                 id="marker-valueString"),
    pytest.param(OUTCOME, tumour_board_outcome, put("category", [concept(SCT, "307153007")]),
                 id="outcome-category-snomed-map"),
    pytest.param(OUTCOME, tumour_board_outcome, put("activity.0.detail", {
        "code": concept(cs("ecan-tumour-board-recommendation"), "surgery"), "status": "stopped",
        "statusReason": {"text": "The patient declined surgery"}}), id="outcome-stopped-reason"),
])
def test_variants_are_valid(validator: Validator, profile: str, factory: Factory,
                            change: Callable[[Resource], None]) -> None:
    """Alternatives the profiles allow (other code systems, dates, choice types) pass."""
    result = check(validator, changed(factory(), change), profile)
    assert result.errors == (), result.errors


# -- ecan-ref-1 inside a Bundle ------------------------------------------------------------

BASE = "https://hospital.example/fhir/"


def collection(*resources: Resource) -> Resource:
    return {"resourceType": "Bundle", "id": "case-1", "type": "collection", "entry": [
        {"fullUrl": f"{BASE}{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


def claiming_referral(reason: str = "Condition/primary-1") -> Resource:
    resource = referral()
    resource["meta"] = {"profile": [sd(REFERRAL)]}
    resource["reasonReference"] = [{"reference": reason}]
    return resource


def test_referral_with_primary_condition_in_bundle_is_valid(validator: Validator) -> None:
    """ecan-ref-1 holds when the reason resolves to a primary cancer condition."""
    result = validator.validate(collection(claiming_referral(), primary_condition()))
    assert result.errors == (), result.errors


def test_referral_with_sks_coded_condition_in_bundle_is_valid(validator: Validator) -> None:
    """An SKS-D code alone (DC504) identifies a primary cancer for ecan-ref-1."""
    condition = changed(primary_condition(), put("code.coding", [{"system": SKS,
                                                                  "code": "DC504"}]))
    result = validator.validate(collection(claiming_referral(), condition))
    assert result.errors == (), result.errors


@pytest.mark.parametrize("code", ["I10", "C78.7"], ids=["not-cancer", "secondary-cancer"])
def test_referral_reason_not_primary_cancer_fails_ecan_ref_1(validator: Validator,
                                                             code: str) -> None:
    """A resolved reason with a non-cancer or secondary ICD-10 code fails ecan-ref-1."""
    condition = changed(primary_condition(), put("code.coding", [{"system": ICD10,
                                                                  "code": code}]))
    result = validator.validate(collection(claiming_referral(), condition))
    assert_only(result, "Bundle.entry[0].resource", "ecan-ref-1", severity="error",
                code="invariant")


def test_referral_reason_not_conforming_fails_the_target_profile(validator: Validator) -> None:
    """A resolved non-cancer Condition also fails the targetProfile (primary condition)."""
    condition = changed(primary_condition(), put("code.coding", [{"system": ICD10,
                                                                  "code": "I10"}]))
    result = validator.validate(collection(claiming_referral(), condition))
    assert_only(result, "Bundle.entry[0].resource.reasonReference[0].reference",
                "reference-profile", severity="error", code="structure")


def test_referral_reason_resolving_to_observation_fails_ecan_ref_1(validator: Validator) -> None:
    """A reason that resolves to something other than a Condition fails ecan-ref-1."""
    result = validator.validate(collection(claiming_referral("Observation/ecog-1"), ecog()))
    assert_only(result, "Bundle.entry[0].resource", "ecan-ref-1", severity="error",
                code="invariant")


def test_ecan_ref_1_is_harmless_when_the_reason_does_not_resolve(validator: Validator) -> None:
    """Standalone, or in a Bundle without the Condition, ecan-ref-1 passes."""
    assert "ecan-ref-1" not in {i.rule for i in check(validator, referral(), REFERRAL).issues}
    result = validator.validate(collection(claiming_referral()))
    assert "ecan-ref-1" not in {i.rule for i in result.issues}


# -- references to profiled targets -------------------------------------------------------

@pytest.fixture(scope="module")
def trusting(validator: Validator) -> Validator:
    """The pilot validator trusting the type a reference names (--assume-valid-rest-references):
    the type of a target that is not at hand is then checked too."""
    return Validator(validator.registry,
                     options=ValidationOptions(assume_valid_rest_references=True))


@pytest.mark.parametrize(("profile", "factory", "change", "expression"), [
    pytest.param(PRIMARY, primary_condition, put("subject", {"reference": "Group/g1"}),
                 "Condition.subject.reference", id="subject-group-for-ecan-patient"),
    pytest.param(SECONDARY, secondary_condition,
                 put("extension.0.valueReference", {"reference": "Observation/ecog-1"}),
                 "Condition.extension[0].value.ofType(Reference).reference",
                 id="secondary-related-primary-type"),
])
def test_unresolved_reference_of_wrong_type_to_profiled_target(
        validator: Validator, trusting: Validator, profile: str, factory: Factory,
        change: Callable[[Resource], None], expression: str) -> None:
    """'Group/g1' is no ecan-patient, 'Observation/ecog-1' no primary cancer Condition: an
    error when reference types are trusted; by default, as in the HL7 validator, a target
    that is not at hand is not judged by the type its URL names."""
    resource = changed(factory(), change)
    assert_only(check(trusting, resource, profile), expression, "reference-type",
                severity="error", code="structure")
    assert [i for i in check(validator, resource, profile).issues
            if i.rule == "reference-type"] == []


# -- the package sources themselves --------------------------------------------------------

CLINICAL_SDS = [PRIMARY, SECONDARY, STAGE, CATEGORY, ECOG, MARKER, PATHOLOGY, REFERRAL, OUTCOME,
                CARE_TEAM, "ecan-histology-morphology-behavior", "ecan-laterality",
                "ecan-tnm-prefix", "ecan-based-on-referral"]


def _source(folder: str, resource_id: str) -> dict[str, Any]:
    path = pilot_source() / folder / f"{resource_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("resource_id", CLINICAL_SDS)
def test_structure_definitions_are_differential_only_drafts(resource_id: str) -> None:
    """Each clinical StructureDefinition: draft, R4, a constraint on core, no snapshot."""
    sd_json = _source("StructureDefinition", resource_id)
    assert sd_json["id"] == resource_id
    assert sd_json["url"] == "{{canonical}}/StructureDefinition/" + resource_id
    assert (sd_json["status"], sd_json["fhirVersion"], sd_json["derivation"],
            sd_json["publisher"]) == ("draft", "4.0.1", "constraint", "ecanfhir")
    assert sd_json["baseDefinition"].startswith("http://hl7.org/fhir/StructureDefinition/")
    assert sd_json["name"][0].isupper() and "-" not in sd_json["name"]
    assert "snapshot" not in sd_json and sd_json["differential"]["element"]
    assert sd_json["description"]


@pytest.mark.parametrize("resource_id", CLINICAL_SDS)
def test_invariants_compile_and_name_their_source(validator: Validator, resource_id: str) -> None:
    """Every ecan-* constraint parses as FHIRPath and names its StructureDefinition."""
    from ecanfhir.fhirpath.engine import compile_expression

    sd_json = validator.registry.structure_definition(sd(resource_id))
    assert sd_json is not None
    for element in sd_json["differential"]["element"]:
        for constraint in element.get("constraint", []):
            assert constraint["key"].startswith("ecan-")
            assert constraint["source"] == sd(resource_id)
            compile_expression(constraint["expression"])


def test_laterality_value_set_enumerates_the_three_snomed_sides(validator: Validator) -> None:
    """ecan-laterality: SNOMED CT left 7771000, right 24028007, bilateral 51440002."""
    vs = _source("ValueSet", "ecan-laterality")
    codes = {c["code"] for inc in vs["compose"]["include"] for c in inc["concept"]}
    assert codes == {"7771000", "24028007", "51440002"}


def test_sks_concept_map_follows_the_rule() -> None:
    """Every sample pair of ecan-sks-icd10 is SKS = 'D' + ICD-10 without the dot."""
    cm = _source("ConceptMap", "ecan-sks-icd10")
    to_icd = next(g for g in cm["group"] if g["source"] == SKS)
    to_sks = next(g for g in cm["group"] if g["source"] == ICD10)
    assert len(to_sks["element"]) >= 20
    for element in to_icd["element"]:
        target = element["target"][0]["code"]
        if element["target"][0]["equivalence"] == "equivalent":
            assert element["code"] == "D" + target.replace(".", "")
        else:  # a Danish sub-code truncates to its ICD-10 code
            assert element["code"].startswith("D" + target.replace(".", ""))
    assert {(e["code"], e["target"][0]["code"]) for e in to_sks["element"]} == {
        (e["target"][0]["code"], e["code"]) for e in to_icd["element"]
        if e["target"][0]["equivalence"] == "equivalent"}


def test_ecog_concept_map_targets_the_answer_list() -> None:
    """MII ECOG 0..4 map to LA9622-7..LA9626-8; LA9627-6 (dead) and MII 'U' are unmatched."""
    cm = _source("ConceptMap", "ecan-ecog-mii-loinc")
    answers = {c["code"] for c in _source("ValueSet", "ecan-ecog-performance-status-answers")
               ["compose"]["include"][0]["concept"]}
    forward = {e["code"]: e["target"][0] for e in cm["group"][0]["element"]}
    assert [forward[str(i)]["code"] for i in range(5)] == [
        "LA9622-7", "LA9623-5", "LA9624-3", "LA9625-0", "LA9626-8"]
    assert forward["U"]["equivalence"] == "unmatched"
    assert {t["code"] for t in forward.values() if "code" in t} < answers
    backward = {e["code"]: e["target"][0] for e in cm["group"][1]["element"]}
    assert backward["LA9627-6"]["equivalence"] == "unmatched"


@pytest.mark.parametrize(("folder", "resource_id"), [
    ("CodeSystem", "ecan-referral-reason"), ("CodeSystem", "ecan-tumour-board-type"),
    ("CodeSystem", "ecan-tumour-board-recommendation"), ("CodeSystem", "ecan-tnm-prefix"),
    ("ValueSet", "ecan-laterality"), ("ValueSet", "ecan-referral-reason"),
    ("ValueSet", "ecan-tumour-board-type"), ("ValueSet", "ecan-referral-status"),
    ("ValueSet", "ecan-tnm-stage-group-type"), ("ValueSet", "ecan-tnm-category-type"),
    ("ValueSet", "ecan-ecog-performance-status-answers"),
    ("ConceptMap", "ecan-sks-icd10"), ("ConceptMap", "ecan-ecog-mii-loinc"),
])
def test_terminology_resources_are_valid_r4(validator: Validator, folder: str,
                                            resource_id: str) -> None:
    """The shipped terminology resources validate against R4 core without errors."""
    result = validator.validate(_loaded(folder, resource_id))
    assert result.errors == (), result.errors


def _loaded(folder: str, resource_id: str) -> dict[str, Any]:
    """The resource as loaded (``{{canonical}}`` substituted)."""
    text = json.dumps(_source(folder, resource_id))
    canonical = sd("x").rsplit("/StructureDefinition/", 1)[0]
    return json.loads(text.replace("{{canonical}}", canonical))  # type: ignore[no-any-return]

