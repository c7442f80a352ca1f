"""Referral, tumour-board reply and telemedicine messages validate against the pilot package."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from _builders_support import (
    AT,
    CENTRE,
    CONSULTATION,
    DIAGNOSIS,
    DOCTOR,
    GP,
    HOSPITAL,
    OUTCOME,
    PATIENT,
    REFERRAL,
    STAGE,
    assert_no_errors,
    assert_well_formed,
    context,
    resources,
)

from ecanfhir import Validator
from ecanfhir.builders import (
    BuildContext,
    BuildError,
    CancerDiagnosis,
    Identifier,
    Patient,
    TnmStage,
    build_acknowledgement,
    build_referral_message,
    build_telemedicine_message,
    build_tumour_board_outcome_message,
)
from ecanfhir.definitions.pilot import pilot_url

DESTINATION_USE = ("http://medcomfhir.dk/ig/messaging/StructureDefinition/"
                   "medcom-messaging-destinationUseExtension")


def _header(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["entry"][0]["resource"]  # type: ignore[no-any-return]


def test_referral_validates(validator: Validator, referral_message: dict[str, Any]) -> None:
    """A full referral (requester, TNM, ECOG, cc) has no validation errors."""
    assert_no_errors(validator.validate(referral_message))
    assert_well_formed(referral_message)


def test_minimal_referral_validates(validator: Validator) -> None:
    """Only the required inputs: the sender organisation is the requester."""
    bundle = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                    diagnosis=DIAGNOSIS, context=context(5))
    assert_no_errors(validator.validate(bundle))
    assert_well_formed(bundle)
    request = resources(bundle, "ServiceRequest")[0]
    sender_id = resources(bundle, "Organization")[0]["id"]
    assert request["requester"]["reference"] == f"urn:uuid:{sender_id}"


def test_referral_content(referral_message: dict[str, Any]) -> None:
    """The header routes primary + cc, the focus is the ServiceRequest carrying the case id."""
    header = _header(referral_message)
    assert header["eventCoding"]["code"] == "cancer-case-referral"
    assert header["definition"] == pilot_url("MessageDefinition", "ecan-cancer-case-referral")
    uses = [d["extension"][0]["valueCoding"]["code"] for d in header["destination"]]
    assert uses == ["primary", "cc"]
    assert all(d["extension"][0]["url"] == DESTINATION_USE for d in header["destination"])
    assert header["destination"][0]["endpoint"] == CENTRE.endpoint
    assert header["destination"][1]["endpoint"] == f"https://sor2.sum.dsdn.dk/#id={GP.sor}"
    assert header["source"]["endpoint"] == f"https://sor2.sum.dsdn.dk/#id={HOSPITAL.sor}"
    request = resources(referral_message, "ServiceRequest")[0]
    assert header["focus"] == [{"reference": f"urn:uuid:{request['id']}"}]
    assert request["identifier"][0]["value"] == "CASE-2026-0042"
    assert request["category"][0]["coding"][0]["code"] == "tumour-board-review"
    assert len(request["supportingInfo"]) == 2
    condition = resources(referral_message, "Condition")[0]
    codes = {c["system"]: c["code"] for c in condition["code"]["coding"]}
    assert codes == {"http://hl7.org/fhir/sid/icd-10": "C50.4",
                     "urn:oid:1.2.208.176.2.4.12": "DC504"}
    assert len(resources(referral_message, "Patient")) == 1
    assert resources(referral_message, "Patient")[0]["birthDate"] == "1948-12-25"
    provenance = resources(referral_message, "Provenance")
    assert [p["activity"]["coding"][0]["code"] for p in provenance] == ["new-message"]
    assert provenance[0]["target"] == [{"reference": f"urn:uuid:{header['id']}"}]


def test_builders_are_deterministic_with_a_seeded_context() -> None:
    """The same seed and clock build the same message; another seed other ids."""
    def build(seed: int) -> dict[str, Any]:
        return build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE,
                                      patient=PATIENT, diagnosis=DIAGNOSIS, context=context(seed))
    assert build(3) == build(3)
    assert build(3)["id"] != build(4)["id"]


def test_default_context_uses_random_uuids_and_the_clock() -> None:
    """Without a context: fresh UUID v4 ids and a zoned 'now'."""
    a = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                               diagnosis=DIAGNOSIS)
    b = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                               diagnosis=DIAGNOSIS)
    assert a["id"] != b["id"]
    assert_well_formed(a)


def test_gln_system_is_configurable(validator: Validator) -> None:
    """DK-core >= 3.5.0 spells the GLN system with http (DOMAIN.md §4.1)."""
    ctx = BuildContext.seeded(1, at=context().now(), gln_system="http://www.gs1.org/gln")
    bundle = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                    diagnosis=DIAGNOSIS, context=ctx)
    systems = {i["system"] for o in resources(bundle, "Organization") for i in o["identifier"]}
    assert "http://www.gs1.org/gln" in systems
    assert_no_errors(validator.validate(bundle))


def test_cc_must_not_repeat_a_party() -> None:
    """The receiver cannot also be a cc."""
    with pytest.raises(BuildError, match="cc: an organisation appears twice"):
        build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                               diagnosis=DIAGNOSIS, cc=[CENTRE])


def test_tumour_board_outcome_validates(validator: Validator,
                                        outcome_message: dict[str, Any]) -> None:
    """The reply validates."""
    assert_no_errors(validator.validate(outcome_message))
    assert_well_formed(outcome_message)


def test_reply_chain(referral_message: dict[str, Any], outcome_message: dict[str, Any]) -> None:
    """Reply: back to the referral's sender, same case, Provenance revision → referral header."""
    referral_header, reply_header = _header(referral_message), _header(outcome_message)
    assert reply_header["eventCoding"]["code"] == "tumour-board-outcome"
    assert reply_header["sender"] == referral_header["destination"][0]["receiver"]
    assert reply_header["destination"][0]["receiver"] == referral_header["sender"]
    assert reply_header["destination"][0]["endpoint"] == referral_header["source"]["endpoint"]
    assert reply_header["source"]["endpoint"] == CENTRE.endpoint
    request = resources(referral_message, "ServiceRequest")[0]
    assert resources(outcome_message, "ServiceRequest") == [request]
    assert resources(outcome_message, "Patient") == resources(referral_message, "Patient")
    plan = resources(outcome_message, "CarePlan")[0]
    assert reply_header["focus"] == [{"reference": f"urn:uuid:{plan['id']}"}]
    assert plan["extension"][0] == {
        "url": pilot_url("StructureDefinition", "ecan-based-on-referral"),
        "valueReference": {"reference": f"urn:uuid:{request['id']}"}}
    assert plan["addresses"] == request["reasonReference"]
    assert [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]] == [
        "surgery", "radiotherapy"]
    old, new = resources(outcome_message, "Provenance")
    assert old["id"] == resources(referral_message, "Provenance")[0]["id"]
    assert old["target"] == [{"reference": f"MessageHeader/{referral_header['id']}"}]
    assert new["activity"]["coding"][0]["code"] == "reply-message"
    assert new["entity"] == [{"role": "revision",
                              "what": {"reference": f"MessageHeader/{referral_header['id']}"}}]
    assert new["agent"][0]["who"] == reply_header["sender"]


def test_reply_needs_a_referral(outcome_message: dict[str, Any]) -> None:
    """Only a cancer-case-referral message can be answered with an outcome."""
    with pytest.raises(BuildError, match="in_reply_to: not a cancer-case-referral"):
        build_tumour_board_outcome_message(OUTCOME, in_reply_to=outcome_message)
    with pytest.raises(BuildError, match="in_reply_to: not a message Bundle"):
        build_tumour_board_outcome_message(OUTCOME, in_reply_to={"resourceType": "Patient"})


def test_telemedicine_validates(validator: Validator) -> None:
    """A finished video consultation, with and without a diagnosis."""
    for diagnosis in (None, DIAGNOSIS):
        bundle = build_telemedicine_message(CONSULTATION, sender=HOSPITAL, receiver=CENTRE,
                                            patient=PATIENT, practitioner=DOCTOR,
                                            diagnosis=diagnosis, context=context(7))
        assert_no_errors(validator.validate(bundle))
        assert_well_formed(bundle)
        encounter = resources(bundle, "Encounter")[0]
        assert encounter["class"]["code"] == "VR"
        assert encounter["period"] == {"start": "2026-11-27T09:15:00+01:00",
                                       "end": "2026-11-27T09:40:00+01:00"}
        assert _header(bundle)["focus"] == [{"reference": f"urn:uuid:{encounter['id']}"}]
        assert ("reasonReference" in encounter) == (diagnosis is not None)


def test_telemedicine_refuses_self_addressed() -> None:
    """Sender and receiver must differ."""
    with pytest.raises(BuildError, match="receiver: the same organisation"):
        build_telemedicine_message(CONSULTATION, sender=HOSPITAL, receiver=HOSPITAL,
                                   patient=PATIENT, practitioner=DOCTOR)


def test_reply_can_be_acknowledged(validator: Validator,
                                   outcome_message: dict[str, Any]) -> None:
    """The ack of a reply copies the reply's own Provenance only."""
    ack = build_acknowledgement(outcome_message, context=context(9))
    assert_no_errors(validator.validate(ack))
    copied = [p for p in resources(ack, "Provenance")
              if p["activity"]["coding"][0]["code"] != "acknowledgement"]
    assert [p["id"] for p in copied] == [resources(outcome_message, "Provenance")[-1]["id"]]


@pytest.mark.parametrize("diagnosis", [
    CancerDiagnosis(date(2026, 11, 20), sks="DC509A"),
    CancerDiagnosis(date(2026, 11, 20), snomed="254837009", text="Malignant neoplasm of breast"),
    CancerDiagnosis(date(2026, 11, 20), icd10="D05.1", laterality="bilateral"),
    CancerDiagnosis(AT, icd10="C18", snomed="363406005", clinical_status="recurrence"),
], ids=["sks-subcode", "snomed-only", "in-situ", "datetime-icd10-3char"])
def test_diagnosis_variants_validate(validator: Validator, diagnosis: CancerDiagnosis) -> None:
    """SKS sub-codes, SNOMED-only, in-situ and zoned-datetime diagnoses validate."""
    bundle = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                    diagnosis=diagnosis, stage=STAGE, context=context(31))
    assert_no_errors(validator.validate(bundle))


def test_foreign_patient_validates(validator: Validator) -> None:
    """A patient with a foreign national id and no CPR (no birthDate derivable)."""
    patient = Patient("Virtanen", ("Aino",), foreign_identifier=Identifier(
        "urn:oid:1.2.246.21", "010190-123A"), birth_date=date(1990, 1, 1), gender="female")
    bundle = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=patient,
                                    diagnosis=DIAGNOSIS, context=context(32))
    assert_no_errors(validator.validate(bundle))
    assert resources(bundle, "Patient")[0]["identifier"] == [
        {"system": "urn:oid:1.2.246.21", "value": "010190-123A"}]


def test_y_prefixed_pathological_stage_validates(validator: Validator) -> None:
    """ypTNM: pathological LOINC codes and the ecan-tnm-prefix extension."""
    stage = TnmStage("IB", date(2026, 11, 20), t="T1c", n="N0", m="M0", pathological=True,
                     y_prefix=True)
    bundle = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                    diagnosis=DIAGNOSIS, stage=stage, context=context(33))
    assert_no_errors(validator.validate(bundle))
    group = resources(bundle, "Observation")[0]
    assert group["code"]["coding"][0]["code"] == "21902-2"
    assert len(group["hasMember"]) == 3
