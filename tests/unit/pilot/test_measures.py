"""The pilot KPI Measures K1 (cancer cases exchanged) and K2 (telemedicine consultations).

The Measures carry their criteria as FHIRPath (no CQL, DOMAIN.md §2(d)); these tests evaluate
every criterion with fhirpathpy over synthetic message logs, the way the mock national cancer
centre does: once per received message, with %ack, %periodStart / %periodEnd (and %outcomes,
%seenBefore for two stratifiers) in the environment, counting distinct keys.
"""

from __future__ import annotations

import json
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_canonical, pilot_registry, pilot_source, pilot_url

from ._clinical_data import (
    ICD10,
    SKS,
    Resource,
    primary_condition,
    referral,
    telemedicine_encounter,
    tumour_board_outcome,
)

MEASURE_POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
EVENTS = pilot_url("CodeSystem", "ecan-message-events")
SOR = "urn:oid:1.2.208.176.1.1"
ACTIVITIES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"
BASE = "https://hospital.example/fhir/"
PERIOD = {"periodStart": "2025-01-01T00:00:00+01:00", "periodEnd": "2026-01-01T00:00:00+01:00"}
K1, K2 = "ecan-kpi-cancer-cases", "ecan-kpi-telemedicine-consultations"


def load(measure_id: str) -> dict[str, Any]:
    """The Measure as loaded (``{{canonical}}`` substituted)."""
    text = (pilot_source() / "Measure" / f"{measure_id}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("{{canonical}}", pilot_canonical()))  # type: ignore[no-any-return]


def population(measure: dict[str, Any], group: str, code: str) -> str:
    grp = next(g for g in measure["group"] if g["id"] == group)
    found = [p for p in grp["population"] if p["code"]["coding"][0]["code"] == code]
    assert len(found) == 1
    return str(found[0]["criteria"]["expression"])


def stratifier(measure: dict[str, Any], code: str) -> str:
    for group in measure["group"]:
        for strat in group.get("stratifier", []):
            if strat["code"]["text"] == code:
                return str(strat["criteria"]["expression"])
    raise KeyError(code)


def evaluate(expression: str, message: Resource, **env: Any) -> list[Any]:
    context = {**PERIOD, "ack": ack("ok"), "outcomes": [], "seenBefore": False, **env}
    return list(fhirpathpy.evaluate(message, expression, context, models["r4"]))


def count(expression: str, log: list[tuple[Resource, Resource]]) -> int:
    """Distinct keys over a message log of (message, acknowledgement) pairs."""
    return len({key for message, answer in log for key in evaluate(expression, message,
                                                                     ack=answer)})


# -- synthetic messages ----------------------------------------------------------------------

def organisation(org_id: str, sor: str) -> Resource:
    return {"resourceType": "Organization", "id": org_id,
            "identifier": [{"system": SOR, "value": sor}], "name": f"Synthetic {org_id}"}


def message(event: str, header_id: str, *resources: Resource,
            timestamp: str = "2025-05-02T10:00:00+02:00", retract: bool = False) -> Resource:
    header = {"resourceType": "MessageHeader", "id": header_id,
              "eventCoding": {"system": EVENTS, "code": event},
              "sender": {"reference": "Organization/sender"},
              "source": {"endpoint": "https://sor2.sum.dsdn.dk/#id=123456789012"}}
    provenance = {"resourceType": "Provenance", "id": f"prov-{header_id}",
                  "target": [{"reference": f"MessageHeader/{header_id}"}],
                  "recorded": timestamp,
                  "activity": {"coding": [{"system": ACTIVITIES, "code": "retract-message"
                                           if retract else "new-message"}]},
                  "agent": [{"who": {"reference": "Organization/sender"}}]}
    entries = [header, organisation("sender", "123456789012"), *resources, provenance]
    return {"resourceType": "Bundle", "id": f"bundle-{header_id}", "type": "message",
            "timestamp": timestamp, "entry": [
                {"fullUrl": f"{BASE}{r['resourceType']}/{r['id']}", "resource": r}
                for r in entries]}


def ack(code: str) -> Resource:
    header = {"resourceType": "MessageHeader", "id": "ack-header",
              "response": {"identifier": "any", "code": code}}
    return {"resourceType": "Bundle", "type": "message",
            "entry": [{"fullUrl": f"{BASE}MessageHeader/ack-header", "resource": header}]}


def case_message(header_id: str = "mh-1", case: str = "CASE-0001", **kw: Any) -> Resource:
    request = referral()
    request["identifier"][0]["value"] = case
    return message("cancer-case-referral", header_id, request, primary_condition(), **kw)


def encounter_message(header_id: str = "mh-t1", **changes: Any) -> Resource:
    encounter = telemedicine_encounter()
    encounter["serviceProvider"] = {"reference": "Organization/sender"}
    encounter.update(changes)
    patient = {"resourceType": "Patient", "id": "patient-1", "birthDate": "1962-07-14"}
    return message("telemedicine-encounter", header_id, encounter, patient)


CASE_KEY = "https://hospital.example/case-id|CASE-0001"
ENCOUNTER_KEY = "https://hospital.example/encounter-id|TEL-0001"


# -- the Measure resources -------------------------------------------------------------------

@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(pilot_registry())


@pytest.mark.parametrize("measure_id", [K1, K2])
def test_measure_is_valid_r4(validator: Validator, measure_id: str) -> None:
    """The Measure validates against R4 core without errors and is registered by its url."""
    measure = load(measure_id)
    assert validator.validate(measure).errors == ()
    assert measure["url"] == pilot_url("Measure", measure_id)


@pytest.mark.parametrize("measure_id", [K1, K2])
def test_measure_is_a_fhirpath_cohort(measure_id: str) -> None:
    """Scoring cohort; populations coded from measure-population; FHIRPath criteria, no CQL."""
    measure = load(measure_id)
    assert measure["scoring"]["coding"][0]["code"] == "cohort"
    assert (measure["status"], measure["publisher"]) == ("draft", "ecanfhir")
    assert "library" not in measure
    for group in measure["group"]:
        for pop in group["population"]:
            assert pop["code"]["coding"][0]["system"] == MEASURE_POPULATION
            assert pop["criteria"]["language"] == "text/fhirpath"
        for strat in group.get("stratifier", []):
            assert strat["criteria"]["language"] == "text/fhirpath"


def test_k1_has_cases_and_messages_groups() -> None:
    """K1: cases (initial, measure population, exclusion) and messages (process indicator)."""
    measure = load(K1)
    codes = {g["id"]: [p["code"]["coding"][0]["code"] for p in g["population"]]
             for g in measure["group"]}
    assert codes == {"cases": ["initial-population", "measure-population",
                               "measure-population-exclusion"],
                     "messages": ["initial-population"]}
    assert [s["code"]["text"] for s in measure["group"][0]["stratifier"]] == [
        "sender-sor", "cancer-site", "referral-reason", "outcome-present"]


def test_k2_lists_its_stratifiers() -> None:
    measure = load(K2)
    assert [s["code"]["text"] for s in measure["group"][0]["stratifier"]] == [
        "modality", "service-provider-sor", "age-band", "visit", "cancer-related"]


# -- K1 criteria -----------------------------------------------------------------------------

def test_k1_initial_population_is_referral_messages_in_the_period() -> None:
    """Referral messages in the period give their MessageHeader.id; others give nothing."""
    expression = population(load(K1), "cases", "initial-population")
    assert evaluate(expression, case_message()) == ["mh-1"]
    # 00:30 at +02:00 is still 2024 at the period's +01:00: instants compare, not strings.
    assert evaluate(expression, case_message(timestamp="2025-01-01T00:30:00+02:00")) == []
    assert evaluate(expression, case_message(timestamp="2025-12-31T23:30:00+00:00")) == []
    assert evaluate(expression, encounter_message()) == []


def test_k1_counts_distinct_cases_acknowledged_ok() -> None:
    """Resends of one case count once; a fatal-error acknowledgement is not counted."""
    expression = population(load(K1), "cases", "measure-population")
    log = [(case_message("mh-1"), ack("ok")), (case_message("mh-1"), ack("ok")),
           (case_message("mh-2"), ack("ok")),  # the same case, re-sent as a new letter
           (case_message("mh-3", case="CASE-0002"), ack("fatal-error")),
           (case_message("mh-4", case="CASE-0003"), ack("ok"))]
    assert count(expression, log) == 2
    assert evaluate(expression, case_message()) == [CASE_KEY]


def test_k1_excludes_retracted_cases() -> None:
    expression = population(load(K1), "cases", "measure-population-exclusion")
    assert evaluate(expression, case_message(retract=True)) == [CASE_KEY]
    assert evaluate(expression, case_message()) == []


def test_k1_messages_population_counts_letters_once() -> None:
    """The process indicator counts distinct MessageHeader.id, whatever the acknowledgement."""
    expression = population(load(K1), "messages", "initial-population")
    log = [(case_message("mh-1"), ack("ok")), (case_message("mh-1"), ack("ok")),
           (case_message("mh-2"), ack("fatal-error"))]
    assert count(expression, log) == 2


def test_k1_stratifiers() -> None:
    """Sender SOR, ICD-10 3-character site (or from SKS-D), referral reason, outcome present."""
    measure = load(K1)
    msg = case_message()
    assert evaluate(stratifier(measure, "sender-sor"), msg) == ["123456789012"]
    assert evaluate(stratifier(measure, "cancer-site"), msg) == ["C50"]
    condition = primary_condition()
    condition["code"] = {"coding": [{"system": SKS, "code": "DC187"}]}
    sks_only = message("cancer-case-referral", "mh-9", referral(), condition)
    assert evaluate(stratifier(measure, "cancer-site"), sks_only) == ["C18"]
    assert evaluate(stratifier(measure, "referral-reason"), msg) == ["tumour-board-review"]
    outcome = tumour_board_outcome()
    outcome["extension"][0]["valueReference"] = {"reference": "ServiceRequest/referral-1"}
    outcomes = [message("tumour-board-outcome", "mh-o1", outcome)]
    assert evaluate(stratifier(measure, "outcome-present"), msg, outcomes=outcomes) == ["yes"]
    assert evaluate(stratifier(measure, "outcome-present"), msg) == ["no"]


def test_k1_site_prefers_icd10() -> None:
    condition = primary_condition()
    condition["code"] = {"coding": [{"system": ICD10, "code": "C34.1"},
                                    {"system": SKS, "code": "DC341"}]}
    msg = message("cancer-case-referral", "mh-8", referral(), condition)
    assert evaluate(stratifier(load(K1), "cancer-site"), msg) == ["C34"]


# -- K2 criteria -----------------------------------------------------------------------------

def test_k2_initial_population_needs_an_ok_acknowledgement() -> None:
    expression = population(load(K2), "consultations", "initial-population")
    assert evaluate(expression, encounter_message()) == ["mh-t1"]
    assert evaluate(expression, encounter_message(), ack=ack("transient-error")) == []
    assert evaluate(expression, case_message()) == []


@pytest.mark.parametrize(("changes", "counted"), [
    pytest.param({}, True, id="finished-VR-in-period"),
    pytest.param({"status": "cancelled"}, False, id="cancelled"),
    pytest.param({"status": "planned"}, False, id="planned"),
    pytest.param({"class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "AMB"}}, False, id="not-virtual"),
    pytest.param({"period": {"start": "2024-12-31T10:00:00+01:00",
                             "end": "2024-12-31T10:20:00+01:00"}}, False, id="before-period"),
])
def test_k2_measure_population(changes: dict[str, Any], counted: bool) -> None:
    """Only finished VR encounters starting in the period are counted, by identifier."""
    expression = population(load(K2), "consultations", "measure-population")
    expected = [ENCOUNTER_KEY] if counted else []
    assert evaluate(expression, encounter_message(**changes)) == expected


def test_k2_counts_duplicates_once() -> None:
    expression = population(load(K2), "consultations", "measure-population")
    log = [(encounter_message("mh-t1"), ack("ok")), (encounter_message("mh-t2"), ack("ok"))]
    assert count(expression, log) == 1


def test_k2_stratifiers() -> None:
    """Modality, provider SOR, age band (by year), new vs follow-up, cancer-related."""
    measure = load(K2)
    msg = encounter_message()
    assert evaluate(stratifier(measure, "modality"), msg) == ["video"]
    assert evaluate(stratifier(measure, "service-provider-sor"), msg) == ["123456789012"]
    assert evaluate(stratifier(measure, "age-band"), msg) == ["40-64"]
    assert evaluate(stratifier(measure, "visit"), msg) == ["new"]
    assert evaluate(stratifier(measure, "visit"), msg, seenBefore=True) == ["follow-up"]
    assert evaluate(stratifier(measure, "cancer-related"), msg) == ["no"]
    related = encounter_message(reasonReference=[{"reference": "Condition/primary-1"}])
    assert evaluate(stratifier(measure, "cancer-related"), related) == ["yes"]
