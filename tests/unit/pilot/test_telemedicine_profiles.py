"""The pilot's telemedicine profiles: encounter (VR), appointment, PRO response, home measurement.

Each profile: a minimal valid instance validates without errors; each mandatory element,
binding and invariant has an invalid instance whose issue is asserted by severity, code, rule
and FHIRPath location. All data is synthetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecanfhir import Validator

from ._clinical_data import (
    LOINC,
    Resource,
    append,
    appointment,
    assert_only,
    both,
    changed,
    check,
    concept,
    drop,
    home_measurement,
    pro_response,
    put,
    replace_choice,
    telemedicine_encounter,
)

Factory = Callable[[], Resource]
OTHER_CS = "http://example.org/fhir/CodeSystem/other"
NPU = "urn:oid:1.2.208.176.2.1"
ENCOUNTER = "ecan-telemedicine-encounter"
APPOINTMENT = "ecan-teleconsult-appointment"
PRO = "ecan-pro-questionnaire-response"
HOME = "ecan-home-measurement"
MIN, MAX, INV = "cardinality-min", "cardinality-max", "invariant"


VALID: list[tuple[str, Factory]] = [
    (ENCOUNTER, telemedicine_encounter), (APPOINTMENT, appointment), (PRO, pro_response),
    (HOME, home_measurement),
]


@pytest.mark.parametrize(("profile", "factory"), VALID, ids=[p for p, _ in VALID])
def test_minimal_instance_is_valid(validator: Validator, profile: str, factory: Factory) -> None:
    """The minimal synthetic instance of each telemedicine profile has no errors."""
    result = check(validator, factory(), profile)
    assert result.errors == (), result.errors


def _case(profile: str, factory: Factory, change: Callable[[Resource], None], expression: str,
          rule: str, severity: str = "error", code: str = "required", *, id: str) -> Any:
    return pytest.param(profile, factory, change, expression, rule, severity, code, id=id)


enc = telemedicine_encounter
INVALID = [
    # -- EcanTelemedicineEncounter
    _case(ENCOUNTER, enc, drop("identifier"), "Encounter.identifier", MIN,
          id="encounter-identifier-1..*"),
    _case(ENCOUNTER, enc, put("status", "arrived"), "Encounter.status", "binding-required",
          "error", "code-invalid", id="encounter-status-binding"),
    _case(ENCOUNTER, enc, put("class.code", "AMB"), "Encounter.class", "pattern", "error",
          "value", id="encounter-class-pattern-VR"),
    _case(ENCOUNTER, enc, put("class.code", "AMB"), "Encounter", "ecan-enc-1", "error", INV,
          id="encounter-ecan-enc-1"),
    _case(ENCOUNTER, enc, drop("type"), "Encounter.type", MIN, id="encounter-type-1..1"),
    _case(ENCOUNTER, enc, append("type", {"text": "Oncology follow-up"}), "Encounter.type", MAX,
          "error", "structure", id="encounter-type-max-1"),
    _case(ENCOUNTER, enc, put("type", [concept(OTHER_CS, "x")]), "Encounter.type[0]",
          "binding-extensible", "warning", "code-invalid", id="encounter-type-extensible"),
    _case(ENCOUNTER, enc, drop("subject"), "Encounter.subject", MIN, id="encounter-subject-1..1"),
    _case(ENCOUNTER, enc, drop("participant"), "Encounter.participant", MIN,
          id="encounter-participant-1..*"),
    _case(ENCOUNTER, enc, put("participant", [{"type": [{"text": "Oncologist"}]}]),
          "Encounter.participant[0].individual", MIN, id="encounter-individual-1..1"),
    _case(ENCOUNTER, enc, drop("period"), "Encounter.period", MIN, id="encounter-period-1..1"),
    _case(ENCOUNTER, enc, drop("period.start"), "Encounter.period.start", MIN,
          id="encounter-period.start-1..1"),
    _case(ENCOUNTER, enc, drop("period.end"), "Encounter", "ecan-enc-2", "error", INV,
          id="encounter-ecan-enc-2"),
    _case(ENCOUNTER, enc, drop("serviceProvider"), "Encounter.serviceProvider", MIN,
          id="encounter-serviceProvider-1..1"),
    _case(ENCOUNTER, enc, put("appointment", [{"reference": "Appointment/a1"},
                                              {"reference": "Appointment/a2"}]),
          "Encounter.appointment", MAX, "error", "structure", id="encounter-appointment-0..1"),
    # -- EcanTeleconsultAppointment
    _case(APPOINTMENT, appointment, drop("serviceType"), "Appointment.serviceType", MIN,
          id="appointment-serviceType-1..*"),
    _case(APPOINTMENT, appointment, drop("participant"), "Appointment.participant", MIN,
          id="appointment-participant-1..*"),
    _case(APPOINTMENT, appointment, drop("participant.0.actor"),
          "Appointment.participant[0].actor", MIN, id="appointment-actor-1..1"),
    _case(APPOINTMENT, appointment, drop("end"), "Appointment", "ecan-appt-1", "error", INV,
          id="appointment-ecan-appt-1"),
    _case(APPOINTMENT, appointment, drop("participant.0"), "Appointment", "ecan-appt-2",
          "warning", INV, id="appointment-ecan-appt-2"),
    # -- EcanPROQuestionnaireResponse
    _case(PRO, pro_response, drop("questionnaire"), "QuestionnaireResponse.questionnaire", MIN,
          id="pro-questionnaire-1..1"),
    _case(PRO, pro_response, drop("subject"), "QuestionnaireResponse.subject", MIN,
          id="pro-subject-1..1"),
    _case(PRO, pro_response, drop("authored"), "QuestionnaireResponse.authored", MIN,
          id="pro-authored-1..1"),
    # -- EcanHomeMeasurement
    _case(HOME, home_measurement, put("code", {"text": "Weight"}), "Observation", "ecan-home-1",
          "error", INV, id="home-ecan-home-1"),
    _case(HOME, home_measurement, put("valueQuantity", {"value": 71.5, "unit": "kg"}),
          "Observation", "ecan-home-2", "error", INV, id="home-ecan-home-2"),
    _case(HOME, home_measurement, drop("valueQuantity"), "Observation.value", MIN,
          id="home-value-1..1"),
    _case(HOME, home_measurement, replace_choice("valueQuantity", "valueString", "71.5"),
          "Observation.valueString", "unknown-element", "error", "structure",
          id="home-value-Quantity-only"),
    _case(HOME, home_measurement, drop("effectiveDateTime"), "Observation.effective", MIN,
          id="home-effective-1..1"),
    _case(HOME, home_measurement, drop("subject"), "Observation.subject", MIN,
          id="home-subject-1..1"),
]


@pytest.mark.parametrize(("profile", "factory", "change", "expression", "rule", "severity",
                          "code"), INVALID)
def test_invalid_instance_reports_the_rule(validator: Validator, profile: str, factory: Factory,
                                           change: Callable[[Resource], None], expression: str,
                                           rule: str, severity: str, code: str) -> None:
    """Breaking one element, binding or invariant yields that rule's issue, there."""
    result = check(validator, changed(factory(), change), profile)
    assert_only(result, expression, rule, severity=severity, code=code)


@pytest.mark.parametrize(("profile", "factory", "change"), [
    pytest.param(ENCOUNTER, enc, both(put("status", "planned"), drop("period.end")),
                 id="encounter-planned-without-end"),
    pytest.param(ENCOUNTER, enc, both(put("status", "in-progress"), drop("period.end")),
                 id="encounter-in-progress-without-end"),
    pytest.param(ENCOUNTER, enc, put("reasonReference", [{"reference": "Condition/primary-1"}]),
                 id="encounter-cancer-related"),
    pytest.param(APPOINTMENT, appointment, both(put("status", "proposed"), drop("start"),
                                                drop("end")), id="appointment-proposed-no-times"),
    pytest.param(HOME, home_measurement, put("code", concept(NPU, "NPU03804")),
                 id="home-npu-code"),
    pytest.param(HOME, home_measurement, both(
        put("code", concept(LOINC, "8310-5")),
        put("valueQuantity", {"value": 37.2, "unit": "°C", "system": "http://unitsofmeasure.org",
                              "code": "Cel"})), id="home-body-temperature"),
])
def test_variants_are_valid(validator: Validator, profile: str, factory: Factory,
                            change: Callable[[Resource], None]) -> None:
    """Alternatives the profiles allow pass without errors."""
    result = check(validator, changed(factory(), change), profile)
    assert result.errors == (), result.errors


def test_a_finished_encounter_without_period_fails_both_rules(validator: Validator) -> None:
    """No period at all: period 1..1 and ecan-enc-2 (finished ⇒ period.end) both report."""
    result = check(validator, changed(enc(), drop("period")), ENCOUNTER)
    assert {i.rule for i in result.errors} == {MIN, "ecan-enc-2"}
