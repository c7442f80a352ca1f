"""Generate ``examples/``: valid and invalid examples of every eCAN+ pilot profile and bundle kind.

Run ``python3 scripts/make_examples.py [--out DIR]`` (default: the repository's ``examples/``).
The output is deterministic (seeded :class:`BuildContext`, fixed clock), so a rerun writes
byte-identical files; ``tests/e2e/test_examples.py`` checks that.

Layout::

    examples/bundles/<event>.json                 the three messages, as the builders make them
    examples/<profile-id>/valid-*.json            zero errors expected
    examples/<profile-id>/invalid-*.json          breaks ONE rule
    examples/<profile-id>/invalid-*.expected.json an OperationOutcome: the issues it MUST
                                                   produce (severity, code, expression, rule)
    examples/tumour-board-outcome-document/       the document form (no pilot profile: R4 rules)

Messages and acknowledgements come from the typed builders; the clinical resources of the
builders are also written standalone (``urn:uuid`` references rewritten to ``Type/id``);
profiles the builders do not cover (CareTeam, DiagnosticReport, Appointment, ...) are written
here by hand. The expected outcomes are written by hand from the profiles' rules, never copied
from the validator's output. All data is synthetic: fictitious organisations (invented SOR
numbers, GLNs with computed check digits), synthetic patients, fictitious CPR numbers.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ecanfhir.builders import (
    AckIssue,
    BuildContext,
    CancerDiagnosis,
    Ecog,
    Identifier,
    Organization,
    Patient,
    PractitionerRole,
    Recommendation,
    Referral,
    TelemedicineConsultation,
    TnmStage,
    TumourBoardOutcome,
    build_acknowledgement,
    build_referral_message,
    build_telemedicine_message,
    build_tumour_board_outcome_message,
    to_document,
)
from ecanfhir.builders.datatypes import GLN_SYSTEM_HTTP
from ecanfhir.definitions.pilot import pilot_url

Resource = dict[str, Any]
Change = Callable[[Resource], None]

ROOT = Path(__file__).resolve().parent.parent
CET = timezone(timedelta(hours=1))
AT = datetime(2026, 11, 27, 9, 15, tzinfo=CET)

# Fictitious CPR numbers: MedCom's published test-patient numbers, synthetic, never a real person.
FICTITIOUS_CPR = "2512489996"
FICTITIOUS_CPR_2 = "0101709995"
# A fictitious D-eCPR (DOMAIN.md §1 example form DDMMYY NN [0|5|6] AA N): synthetic.
FICTITIOUS_D_ECPR = "1206550VK9"
# A fictitious foreign national id (synthetic, Swedish personnummer form with an invented value).
FICTITIOUS_FOREIGN_ID = Identifier("urn:oid:1.2.752.129.2.1.3.1", "194512249993")

# Fictitious organisations: SOR numbers invented; GLNs with valid GS1 check digits.
HOSPITAL = Organization("Synthetic Regional Hospital, Department of Oncology",
                        sor="123456789012", gln="5790000121526")
CENTRE = Organization("Synthetic National Cancer Centre, Tumour Board", sor="987654321098",
                      gln="5790001382445", endpoint="https://centre.example/fhir/$process-message")
GP = Organization("Synthetic General Practice", sor="112233445566", gln="5790001340056")
PATIENT = Patient("Testpatient", ("Bruno",), cpr=FICTITIOUS_CPR, gender="male")
FOREIGN_PATIENT = Patient("Testpatient", ("Astrid",), foreign_identifier=FICTITIOUS_FOREIGN_ID,
                          birth_date=date(1945, 12, 24), gender="female")
DOCTOR = PractitionerRole("Hansen", ("Ida",), role="Consultant oncologist")
DIAGNOSIS = CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3",
                            laterality="left", body_site="C50.4",
                            text="Breast cancer, upper-outer quadrant")
LUNG = CancerDiagnosis(date(2026, 10, 2), sks="DC341", morphology="8140/3",
                       text="Lung cancer, upper lobe")
STAGE = TnmStage("IIA", date(2026, 11, 20), t="T2", n="N0", m="M0")
ECOG = Ecog(1, date(2026, 11, 21))
REFERRAL = Referral("CASE-2026-0042", "tumour-board-review", "National tumour board assessment",
                    AT, priority="urgent", note="Please assess before surgery",
                    requested_date=date(2026, 12, 3))
OUTCOME = TumourBoardOutcome("pre-therapeutic", AT + timedelta(days=6), (
    Recommendation("surgery", "Breast-conserving surgery"),
    Recommendation("radiotherapy", "Adjuvant radiotherapy", "scheduled")),
    note="Consensus recommendation")
CONSULTATION = TelemedicineConsultation("TC-981", "video", "finished", AT,
                                        AT + timedelta(minutes=25))

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
NARRATIVE_NS = '<div xmlns="http://www.w3.org/1999/xhtml">'


def ctx(seed: int, at: datetime = AT, gln_system: str | None = None) -> BuildContext:
    if gln_system is None:
        return BuildContext.seeded(seed, at=at)
    return BuildContext.seeded(seed, at=at, gln_system=gln_system)


# --- bundles ----------------------------------------------------------------------------------

def messages() -> dict[str, Resource]:
    """Every bundle kind, built by the typed builders."""
    referral = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                      diagnosis=DIAGNOSIS, requester=DOCTOR, stage=STAGE,
                                      ecog=ECOG, cc=[GP], context=ctx(1))
    outcome = build_tumour_board_outcome_message(OUTCOME, in_reply_to=referral,
                                                 context=ctx(2, AT + timedelta(days=6)))
    telemedicine = build_telemedicine_message(CONSULTATION, sender=HOSPITAL, receiver=CENTRE,
                                              patient=PATIENT, practitioner=DOCTOR,
                                              diagnosis=DIAGNOSIS, context=ctx(3))
    foreign = build_referral_message(
        Referral("CASE-2026-0077", "second-opinion", "Second opinion, lung cancer",
                 AT - timedelta(days=3)),
        sender=HOSPITAL, receiver=CENTRE, patient=FOREIGN_PATIENT, diagnosis=LUNG,
        context=ctx(4, AT - timedelta(days=3), GLN_SYSTEM_HTTP))
    phone = build_telemedicine_message(
        TelemedicineConsultation("TC-982", "phone", "planned", AT + timedelta(days=14)),
        sender=HOSPITAL, receiver=CENTRE, patient=PATIENT, practitioner=DOCTOR, context=ctx(5))
    later = AT + timedelta(minutes=2)
    return {
        "cancer-case-referral": referral,
        "tumour-board-outcome": outcome,
        "telemedicine-encounter": telemedicine,
        "cancer-case-referral-foreign-patient": foreign,
        "telemedicine-encounter-planned-phone": phone,
        "ack-ok": build_acknowledgement(referral, "ok", context=ctx(11, later)),
        "ack-transient-error": build_acknowledgement(
            referral, "transient-error",
            issues=[AckIssue("MSG_Mailbox_Out_Of_Operation", "Receiving mailbox is paused",
                             code="transient")],
            context=ctx(12, later)),
        "ack-fatal-error": build_acknowledgement(
            telemedicine, "fatal-error",
            issues=[AckIssue("MSG_Datatype_Wrong", "Encounter.period.start is not a dateTime")],
            context=ctx(13, later)),
        "document": to_document(outcome),
    }


# --- standalone resources -----------------------------------------------------------------------

def standalone(bundle: Resource, profile: str) -> Resource:
    """The first resource of ``bundle`` claiming ``profile``, with its ``urn:uuid`` references
    rewritten to relative ``Type/id`` (a urn:uuid only resolves inside a Bundle)."""
    types = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
             for e in bundle["entry"]}
    url = pilot_url("StructureDefinition", profile)
    resource = next(e["resource"] for e in bundle["entry"]
                    if url in e["resource"].get("meta", {}).get("profile", ()))

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (types.get(v, v) if k == "reference" and isinstance(v, str)
                        else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    return rewrite(copy.deepcopy(resource))


def _ids(bundle: Resource) -> dict[str, str]:
    """``Type/id`` of the referral's patient, condition, organisations and practitioner role."""
    out: dict[str, str] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        out.setdefault(resource["resourceType"], f"{resource['resourceType']}/{resource['id']}")
    return out


def _narrative(*lines: str) -> dict[str, str]:
    body = "".join(f"<p>{line}</p>" for line in lines)
    return {"status": "generated", "div": f"{NARRATIVE_NS}{body}</div>"}


def _resource(resource_type: str, rid: str, profile: str, *text: str) -> Resource:
    return {"resourceType": resource_type, "id": rid,
            "meta": {"profile": [pilot_url("StructureDefinition", profile)]},
            "text": _narrative(*text)}


def hand_written(referral: Resource, telemedicine: Resource) -> dict[str, Resource]:
    """Resources of the profiles the builders do not make, about the referral's patient."""
    ref = _ids(referral)
    encounter = next(e["resource"] for e in telemedicine["entry"]
                     if e["resource"]["resourceType"] == "Encounter")
    patient, condition = {"reference": ref["Patient"]}, {"reference": ref["Condition"]}
    role = {"reference": ref["PractitionerRole"]}
    org = {"reference": next(f"Organization/{e['resource']['id']}" for e in referral["entry"]
                             if e["resource"].get("name") == CENTRE.name)}
    secondary = _resource("Condition", "0b8e6f0a-4c1d-4e2b-9a3f-5d6c7e8f9a01",
                          "ecan-secondary-cancer-condition", "Liver metastasis of breast cancer")
    secondary |= {
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/condition-related",
             "valueReference": condition},
            {"url": pilot_url("StructureDefinition", "ecan-histology-morphology-behavior"),
             "valueCodeableConcept": {"coding": [{"system": ICDO3, "code": "8500/6"}]}}],
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "code": {"coding": [{"system": ICD10, "code": "C78.7"},
                            {"system": "urn:oid:1.2.208.176.2.4.12", "code": "DC787"}],
                 "text": "Secondary malignant neoplasm of liver"},
        "subject": patient,
        "recordedDate": "2026-11-22",
    }
    marker = _resource("Observation", "1c9f7a1b-5d2e-4f3c-8b4a-6e7d8f9a0b12",
                       "ecan-tumor-marker-test", "CA 15-3: 28 U/mL")
    marker |= {
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "6875-9",
                             "display": "Cancer Ag 15-3 [Units/volume] in Serum or Plasma"}]},
        "subject": patient,
        "effectiveDateTime": "2026-11-19T08:30:00+01:00",
        "performer": [org],  # MedCom's medcom-core-observation and IPS results require it
        "valueQuantity": {"value": 28, "unit": "U/mL", "system": UCUM, "code": "U/mL"},
    }
    pathology = _resource("DiagnosticReport", "2da08b2c-6e3f-4a4d-9c5b-7f8e9a0b1c23",
                          "ecan-pathology-report", "Pathology report: invasive ductal carcinoma")
    pathology |= {
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "60568-3",
                             "display": "Pathology Synoptic report"}]},
        "subject": patient,
        "issued": "2026-11-19T14:00:00+01:00",
        "conclusion": "Invasive ductal carcinoma (8500/3), grade 2, left breast.",
    }
    care_team = _resource("CareTeam", "3eb19c3d-7f4a-4b5e-8d6c-8a9b0c1d2e34", "ecan-care-team",
                          "Breast cancer multidisciplinary team")
    care_team |= {
        "status": "active",
        "name": "Breast cancer MDT (synthetic)",
        "subject": patient,
        "participant": [{"role": [{"text": "Consultant oncologist"}], "member": role},
                        {"role": [{"text": "Tumour board"}], "member": org}],
        "managingOrganization": [org],
    }
    appointment = _resource("Appointment", "4fc2ad4e-8a5b-4c6f-9e7d-9b0c1d2e3f45",
                            "ecan-teleconsult-appointment", "Video consultation, oncology")
    appointment |= {
        "status": "booked",
        "serviceType": [{"text": "Oncology video consultation"}],
        "start": "2026-11-27T09:15:00+01:00",
        "end": "2026-11-27T09:40:00+01:00",
        "comment": "Video link sent by secure mail (synthetic).",
        "participant": [{"actor": patient, "status": "accepted"},
                        {"actor": role, "status": "accepted"}],
    }
    pro = _resource("QuestionnaireResponse", "5ad3be5f-9b6c-4d7a-8f8e-0c1d2e3f4a56",
                    "ecan-pro-questionnaire-response", "Symptom questionnaire, completed")
    pro |= {
        "questionnaire": pilot_url("Questionnaire", "ecan-pro-symptoms"),
        "status": "completed",
        "subject": patient,
        "encounter": {"reference": f"Encounter/{encounter['id']}"},
        "authored": "2026-11-27T08:50:00+01:00",
        "item": [{"linkId": "fatigue", "text": "Fatigue in the last 7 days (0 none - 10 worst)",
                  "answer": [{"valueInteger": 3}]},
                 {"linkId": "pain", "text": "Pain in the last 7 days (0 none - 10 worst)",
                  "answer": [{"valueInteger": 1}]},
                 {"linkId": "concerns",
                  "text": "Anything you want to raise in the consultation?",
                  "answer": [{"valueString": "Whether I can travel in January."}]}],
    }
    home = _resource("Observation", "6be4cf6a-0c7d-4e8b-9a9f-1d2e3f4a5b67",
                     "ecan-home-measurement", "Body weight 71.5 kg, measured at home")
    home |= {
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
        "subject": patient,
        "effectiveDateTime": "2026-11-26T07:45:00+01:00",
        "valueQuantity": {"value": 71.5, "unit": "kg", "system": UCUM, "code": "kg"},
    }
    d_ecpr = _resource("Patient", "7cf5d07b-1d8e-4f9c-8bab-2e3f4a5b6c78", "ecan-patient",
                       "Synthetic patient with a fictitious D-eCPR")
    d_ecpr |= {
        "identifier": [{"use": "temp", "system": "urn:oid:1.2.208.176.1.6.1.3.177",
                        "value": FICTITIOUS_D_ECPR}],
        "name": [{"use": "official", "family": "Testpatient", "given": ["Carl"]}],
        "gender": "male",
        "birthDate": "1955-06-12",
    }
    return {"ecan-secondary-cancer-condition": secondary, "ecan-tumor-marker-test": marker,
            "ecan-pathology-report": pathology, "ecan-care-team": care_team,
            "ecan-teleconsult-appointment": appointment,
            "ecan-pro-questionnaire-response": pro, "ecan-home-measurement": home,
            "ecan-patient/d-ecpr": d_ecpr}


# --- invalid examples -------------------------------------------------------------------------

@dataclass(frozen=True)
class Invalid:
    """An example breaking one rule, and the issues it must produce."""

    folder: str
    name: str
    base: Resource
    change: Change
    description: str
    issues: tuple[tuple[str, str, str, str], ...]   # (severity, code, expression, rule)


def put(path: str, value: Any) -> Change:
    """Set the element at a dotted JSON path (``entry.0.resource.text``); an index one past the
    end of an array appends."""
    def change(resource: Resource) -> None:
        node, key = _parent(resource, path)
        if isinstance(node, list) and key == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[key] = copy.deepcopy(value)
    return change


def drop(path: str) -> Change:
    """Remove the element at a dotted JSON path."""
    def change(resource: Resource) -> None:
        node, key = _parent(resource, path)
        del node[key]
    return change


def both(*changes: Change) -> Change:
    def change(resource: Resource) -> None:
        for one in changes:
            one(resource)
    return change


def _parent(resource: Resource, path: str) -> tuple[Any, Any]:
    *head, last = path.split(".")
    node: Any = resource
    for step in head:
        node = node[int(step)] if step.isdigit() else node[step]
    return node, int(last) if last.isdigit() else last


def _err(code: str, expression: str, rule: str) -> tuple[str, str, str, str]:
    return ("error", code, expression, rule)


def _entry_index(bundle: Resource, resource_type: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"])
                if e["resource"]["resourceType"] == resource_type)


def _remove_entries(resource_type: str) -> Change:
    def change(bundle: Resource) -> None:
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"]["resourceType"] != resource_type]
    return change


def _duplicate_patient(bundle: Resource) -> None:
    patient = copy.deepcopy(bundle["entry"][_entry_index(bundle, "Patient")])
    new_id = "8d06e18c-2e9f-4a0d-9cbc-3f4a5b6c7d89"
    patient["fullUrl"] = f"urn:uuid:{new_id}"
    patient["resource"]["id"] = new_id
    patient["resource"]["identifier"][0]["value"] = FICTITIOUS_CPR_2
    patient["resource"]["birthDate"] = "1970-01-01"
    bundle["entry"].insert(_entry_index(bundle, "Patient") + 1, patient)


def _target_no_longer_conforms(bundle: Resource) -> tuple[str, str, str, str]:
    """The new Provenance (last entry) targets the broken MessageHeader, which then no longer
    conforms to the target profile of Provenance.target."""
    last = len(bundle["entry"]) - 1
    return _err("structure", f"Bundle.entry[{last}].resource.target[0].reference",
                "reference-profile")


def invalid_examples(res: dict[str, Resource], msgs: dict[str, Resource]
                     ) -> list[Invalid]:
    """One rule broken per example; expectations written from the profiles' rules."""
    ref, tbo, tel = (msgs["cancer-case-referral"], msgs["tumour-board-outcome"],
                     msgs["telemedicine-encounter"])
    tel_focus = _entry_index(tel, "Encounter")
    tbo_prov = len(tbo["entry"]) - 1
    ack_ok, ack_transient, ack_fatal = (msgs["ack-ok"], msgs["ack-transient-error"],
                                        msgs["ack-fatal-error"])
    return [
        # bundles
        Invalid("ecan-message", "invalid-cancer-case-referral-two-patients", ref,
                _duplicate_patient,
                "A referral message about two patients (ecan-msg-4, cf. MedCom "
                "medcom-careCommunication-2: exactly one Patient).",
                (_err("invariant", "Bundle", "ecan-msg-4"),)),
        Invalid("ecan-message", "invalid-tumour-board-outcome-without-provenance", tbo,
                _remove_entries("Provenance"),
                "A tumour-board-outcome message without any Provenance (ecan-msg-2 = MedCom "
                "medcom-messaging-2).",
                (_err("invariant", "Bundle", "ecan-msg-2"),)),
        Invalid("ecan-message", "invalid-tumour-board-outcome-provenance-date-only", tbo,
                put(f"entry.{tbo_prov}.resource.occurredDateTime", "2026-12-03"),
                "The reply's Provenance.occurredDateTime is a date without time and zone "
                "(ecan-prov-1: MedCom timestamps carry a time zone).",
                (_err("invariant", f"Bundle.entry[{tbo_prov}].resource", "ecan-prov-1"),)),
        Invalid("ecan-message", "invalid-telemedicine-encounter-unresolved-reference", tel,
                put(f"entry.{tel_focus}.resource.subject.reference",
                    "urn:uuid:9e17f29d-3fa0-4b1e-8dcd-4a5b6c7d8e90"),
                "The Encounter's subject names a Patient that is not in the message (ecan-msg-3: "
                "every reference resolves inside the bundle, MedCom aggregation=bundled).",
                (_err("invariant", "Bundle", "ecan-msg-3"),
                 _err("not-found", f"Bundle.entry[{tel_focus}].resource.subject.reference",
                      "reference-bundle"))),
        Invalid("ecan-message", "invalid-telemedicine-encounter-focus-not-encounter", tel,
                put("entry.0.resource.focus.0.reference",
                    tel["entry"][_entry_index(tel, "Patient")]["fullUrl"]),
                "The telemedicine-encounter header's focus is the Patient instead of the "
                "Encounter (ecan-mh-1; focus allows ServiceRequest, CarePlan, Encounter only). "
                "The new Provenance's target, this header, then no longer conforms.",
                (_err("invariant", "Bundle.entry[0].resource", "ecan-mh-1"),
                 _err("structure", "Bundle.entry[0].resource.focus[0].reference",
                      "reference-type"),
                 _target_no_longer_conforms(tel))),
        Invalid("ecan-acknowledgement", "invalid-ok-without-acknowledgement-provenance", ack_ok,
                drop(f"entry.{len(ack_ok['entry']) - 1}"),
                "An ok acknowledgement without the new Provenance of activity acknowledgement "
                "(ecan-ack-3, DOMAIN.md §2(c)3).",
                (_err("invariant", "Bundle", "ecan-ack-3"),)),
        Invalid("ecan-acknowledgement", "invalid-transient-error-without-details", ack_transient,
                drop("entry.0.resource.response.details"),
                "A transient-error acknowledgement whose response does not reference its "
                "OperationOutcome (ecan-ack-1 = MedCom medcom-acknowledgement-1).",
                (_err("invariant", "Bundle.entry[0].resource", "ecan-ack-1"),
                 _target_no_longer_conforms(ack_transient))),
        Invalid("ecan-acknowledgement", "invalid-fatal-error-with-cc", ack_fatal,
                put("entry.0.resource.destination.1", {
                    **copy.deepcopy(ack_fatal["entry"][0]["resource"]["destination"][0]),
                    "extension": [{
                        "url": "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
                               "medcom-messaging-destinationUseExtension",
                        "valueCoding": {"system": "http://medcomfhir.dk/ig/terminology/"
                                                  "CodeSystem/medcom-messaging-destinationUse",
                                        "code": "cc"}}]}),
                "A fatal-error acknowledgement sent with a cc destination (acknowledgements go "
                "to the original sender only: destination:cc 0..0).",
                (_err("structure", "Bundle.entry[0].resource.destination", "slice-cardinality"),
                 _target_no_longer_conforms(ack_fatal))),
        Invalid("tumour-board-outcome-document", "invalid-without-identifier", msgs["document"],
                drop("identifier"),
                "The document Bundle has no identifier (R4 bdl-9).",
                (_err("invariant", "Bundle", "bdl-9"),)),
        Invalid("tumour-board-outcome-document", "invalid-composition-not-first",
                msgs["document"],
                lambda b: b["entry"].append(b["entry"].pop(0)),
                "The Composition is not the first entry of the document (R4 bdl-11).",
                (_err("invariant", "Bundle", "bdl-11"),)),
        # resources
        Invalid("ecan-message-header", "invalid-without-narrative", res["ecan-message-header"],
                drop("text"),
                "MessageHeader without narrative (MedCom: text SHALL be present; text 1..1).",
                (_err("required", "MessageHeader.text", "cardinality-min"),)),
        Invalid("ecan-acknowledgement-header", "invalid-fatal-error-without-details",
                res["ecan-acknowledgement-header"], drop("response.details"),
                "A fatal-error response without details (ecan-ack-1 = MedCom "
                "medcom-acknowledgement-1).",
                (_err("invariant", "MessageHeader", "ecan-ack-1"),)),
        Invalid("ecan-acknowledgement-outcome", "invalid-issue-without-details",
                res["ecan-acknowledgement-outcome"], drop("issue.0.details"),
                "An acknowledgement issue without a MedCom acknowledgement error code "
                "(issue.details 1..1).",
                (_err("required", "OperationOutcome.issue[0].details", "cardinality-min"),)),
        Invalid("ecan-provenance", "invalid-entity-role-derivation", res["ecan-provenance"],
                put("entity", [{"role": "derivation",
                                "what": {"reference": "MessageHeader/"
                                         "5b0f9a6e-2c4d-4e8f-9a1b-3c5d7e9f1a2b"}}]),
                "A Provenance entity with role derivation (ecan-prov-2: MedCom uses source or "
                "revision only).",
                (_err("invariant", "Provenance.entity[0]", "ecan-prov-2"),)),
        Invalid("ecan-organization", "invalid-gln-check-digit", res["ecan-organization"],
                put("identifier.1.value", "5790000121527"),
                "GLN whose GS1 mod-10 check digit is wrong (DK-core gln-modulus-10).",
                (_err("invariant", "Organization.identifier[1]", "gln-modulus-10"),)),
        Invalid("ecan-organization", "invalid-sor-too-short", res["ecan-organization"],
                put("identifier.0.value", "1234567890"),
                "SOR code of 10 digits (DK-core min-digits-sor: at least 11).",
                (_err("invariant", "Organization.identifier[0]", "min-digits-sor"),)),
        Invalid("ecan-organization", "invalid-sor-without-gln", res["ecan-organization"],
                drop("identifier.1"),
                "A SOR identifier without GLN (ecan-org-2, MedComMessagingOrganization: SOR and "
                "EAN/GLN for message participants).",
                (_err("invariant", "Organization", "ecan-org-2"),)),
        Invalid("ecan-patient", "invalid-cpr-date", res["ecan-patient"],
                put("identifier.0.value", "3102489996"),
                "CPR number whose date part 31 February does not exist (DK-core cpr).",
                (_err("invariant", "Patient.identifier[0]", "cpr"),)),
        Invalid("ecan-patient", "invalid-name-without-parts", res["ecan-patient"],
                put("name", [{"use": "usual"}]),
                "A name with neither family, given, text nor data-absent-reason (EU core "
                "eu-pat-1).",
                (_err("invariant", "Patient.name[0]", "eu-pat-1"),)),
        Invalid("ecan-practitioner", "invalid-name-family-only", res["ecan-practitioner"],
                put("name", [{"family": "Hansen"}]),
                "A practitioner name with a family name only (ecan-prac-1: given and family, or "
                "text).",
                (_err("invariant", "Practitioner.name[0]", "ecan-prac-1"),)),
        Invalid("ecan-practitioner-role", "invalid-without-practitioner",
                res["ecan-practitioner-role"], drop("practitioner"),
                "A PractitionerRole without its practitioner (practitioner 1..1).",
                (_err("required", "PractitionerRole.practitioner", "cardinality-min"),)),
        Invalid("ecan-cancer-referral", "invalid-without-authored-on",
                res["ecan-cancer-referral"], drop("authoredOn"),
                "A referral without authoredOn (authoredOn 1..1).",
                (_err("required", "ServiceRequest.authoredOn", "cardinality-min"),)),
        Invalid("ecan-primary-cancer-condition", "invalid-icd10-not-cancer",
                res["ecan-primary-cancer-condition"],
                put("code", {"coding": [{"system": ICD10, "code": "I10"}],
                             "text": "Essential hypertension"}),
                "A primary cancer condition coded I10 (ecan-cond-1: ICD-10 in C00-C97 or "
                "D00-D09).",
                (_err("invariant", "Condition.code", "ecan-cond-1"),)),
        Invalid("ecan-primary-cancer-condition", "invalid-metastatic-morphology",
                res["ecan-primary-cancer-condition"],
                put("extension.0.valueCodeableConcept.coding.0.code", "8500/6"),
                "A primary cancer with ICD-O-3 behaviour /6 (metastatic) (ecan-cond-2).",
                (_err("invariant", "Condition", "ecan-cond-2"),)),
        Invalid("ecan-secondary-cancer-condition", "invalid-primary-code",
                res["ecan-secondary-cancer-condition"],
                put("code", {"coding": [{"system": ICD10, "code": "C50.4"}],
                             "text": "Breast cancer"}),
                "A secondary cancer condition coded with a primary site (ecan-sec-1: C77-C79).",
                (_err("invariant", "Condition.code", "ecan-sec-1"),)),
        Invalid("ecan-tnm-stage-group", "invalid-without-method", res["ecan-tnm-stage-group"],
                drop("method"),
                "A TNM stage group without the staging method (mCODE: method 1..1).",
                (_err("required", "Observation.method", "cardinality-min"),)),
        Invalid("ecan-tnm-category", "invalid-pathological-prefix-on-clinical-code",
                res["ecan-tnm-category"],
                put("extension", [{"url": pilot_url("StructureDefinition", "ecan-tnm-prefix"),
                                   "valueCode": "p"}]),
                "Prefix p on a clinical T category code 21905-5 (ecan-tnm-1).",
                (_err("invariant", "Observation", "ecan-tnm-1"),)),
        Invalid("ecan-ecog-performance-status", "invalid-score-7",
                res["ecan-ecog-performance-status"],
                both(put("valueInteger", 7), drop("interpretation")),
                "ECOG score 7 (ecan-ecog-1 = mCODE: integer 0-5).",
                (_err("invariant", "Observation", "ecan-ecog-1"),)),
        Invalid("ecan-tumor-marker-test", "invalid-quantity-not-ucum",
                res["ecan-tumor-marker-test"],
                put("valueQuantity", {"value": 28, "unit": "U/mL"}),
                "A tumour-marker quantity without a UCUM system and code (ecan-tmt-2).",
                (_err("invariant", "Observation", "ecan-tmt-2"),)),
        Invalid("ecan-pathology-report", "invalid-code-not-loinc", res["ecan-pathology-report"],
                put("code", {"text": "Pathology report"}),
                "A pathology report whose code has no LOINC coding (ecan-path-1).",
                (_err("invariant", "DiagnosticReport", "ecan-path-1"),)),
        Invalid("ecan-tumour-board-outcome", "invalid-stopped-without-reason",
                res["ecan-tumour-board-outcome"],
                put("activity.0.detail.status", "stopped"),
                "A stopped recommendation without statusReason (ecan-tb-1 = MII "
                "tumorkonferenz-empfehlung-entscheidung-patient).",
                (_err("invariant", "CarePlan.activity[0].detail", "ecan-tb-1"),)),
        Invalid("ecan-care-team", "invalid-participant-without-role", res["ecan-care-team"],
                drop("participant.0.role"),
                "An MDT participant without a role (participant.role 1..*).",
                (_err("required", "CareTeam.participant[0].role", "cardinality-min"),)),
        Invalid("ecan-telemedicine-encounter", "invalid-finished-without-end",
                res["ecan-telemedicine-encounter"], drop("period.end"),
                "A finished teleconsultation without period.end (ecan-enc-2).",
                (_err("invariant", "Encounter", "ecan-enc-2"),)),
        Invalid("ecan-teleconsult-appointment", "invalid-booked-without-end",
                res["ecan-teleconsult-appointment"], drop("end"),
                "A booked appointment without end (ecan-appt-1; R4 core app-2 and app-3 say the "
                "same).",
                (_err("invariant", "Appointment", "ecan-appt-1"),
                 _err("invariant", "Appointment", "app-2"),
                 _err("invariant", "Appointment", "app-3"))),
        Invalid("ecan-pro-questionnaire-response", "invalid-without-authored",
                res["ecan-pro-questionnaire-response"], drop("authored"),
                "A PRO response without authored (authored 1..1).",
                (_err("required", "QuestionnaireResponse.authored", "cardinality-min"),)),
        Invalid("ecan-pro-questionnaire-response", "invalid-score-above-10",
                res["ecan-pro-questionnaire-response"], put("item.0.answer.0.valueInteger", 12),
                "A symptom score above the questionnaire's maxValue 10 (ecan-pro-symptoms).",
                (_err("value", "QuestionnaireResponse.item[0].answer[0].value.ofType(integer)",
                      "qr-max-value"),)),
        Invalid("ecan-home-measurement", "invalid-code-not-loinc-or-npu",
                res["ecan-home-measurement"],
                put("code", {"text": "Body weight, home scale"}),
                "A home measurement coded neither in LOINC nor NPU (ecan-home-1).",
                (_err("invariant", "Observation", "ecan-home-1"),)),
    ]


# --- assembling the tree ------------------------------------------------------------------------

def examples() -> dict[str, Any]:
    """Every file of ``examples/``: relative path → JSON value."""
    msgs = messages()
    ref, tel = msgs["cancer-case-referral"], msgs["telemedicine-encounter"]
    files: dict[str, Any] = {}
    for event in ("cancer-case-referral", "tumour-board-outcome", "telemedicine-encounter"):
        files[f"bundles/{event}.json"] = msgs[event]
    for name in ("cancer-case-referral-foreign-patient", "telemedicine-encounter-planned-phone"):
        files[f"ecan-message/valid-{name}.json"] = msgs[name]
    for code in ("ok", "transient-error", "fatal-error"):
        files[f"ecan-acknowledgement/valid-{code}.json"] = msgs[f"ack-{code}"]
    files["tumour-board-outcome-document/valid-tumour-board-outcome.json"] = msgs["document"]

    res: dict[str, Resource] = {}
    for profile in ("ecan-message-header", "ecan-provenance", "ecan-organization",
                    "ecan-patient", "ecan-practitioner", "ecan-practitioner-role",
                    "ecan-cancer-referral", "ecan-primary-cancer-condition",
                    "ecan-tnm-stage-group", "ecan-tnm-category",
                    "ecan-ecog-performance-status"):
        res[profile] = standalone(ref, profile)
    res["ecan-tumour-board-outcome"] = standalone(msgs["tumour-board-outcome"],
                                                  "ecan-tumour-board-outcome")
    res["ecan-telemedicine-encounter"] = standalone(tel, "ecan-telemedicine-encounter")
    res["ecan-acknowledgement-header"] = standalone(msgs["ack-fatal-error"],
                                                    "ecan-acknowledgement-header")
    res["ecan-acknowledgement-outcome"] = standalone(msgs["ack-fatal-error"],
                                                     "ecan-acknowledgement-outcome")
    extra = hand_written(ref, tel)
    res |= {k: v for k, v in extra.items() if "/" not in k}
    for profile, resource in res.items():
        files[f"{profile}/valid-{profile.removeprefix('ecan-')}.json"] = resource
    files["ecan-patient/valid-d-ecpr.json"] = extra["ecan-patient/d-ecpr"]
    files["ecan-patient/valid-foreign-national-id.json"] = standalone(
        msgs["cancer-case-referral-foreign-patient"], "ecan-patient")
    files["ecan-organization/valid-gln-http-system.json"] = standalone(
        msgs["cancer-case-referral-foreign-patient"], "ecan-organization")
    files["ecan-primary-cancer-condition/valid-sks-only.json"] = standalone(
        msgs["cancer-case-referral-foreign-patient"], "ecan-primary-cancer-condition")

    for case in invalid_examples(res, msgs):
        broken = copy.deepcopy(case.base)
        case.change(broken)
        files[f"{case.folder}/{case.name}.json"] = broken
        files[f"{case.folder}/{case.name}.expected.json"] = expected_outcome(case)
    return files


RULE_SYSTEM = "https://ecanfhir.example/fhir/CodeSystem/ecanfhir-validation-rule"


def expected_outcome(case: Any) -> dict[str, Any]:
    """The issues an invalid example MUST produce, as an R4 OperationOutcome.

    The same shape ``ecanfhir validate --format json`` reports (the rule as a coding of
    ``issue.details``), so the file is valid FHIR itself and a reader can diff the two.
    """
    text = html.escape(case.description)
    return {
        "resourceType": "OperationOutcome",
        "id": f"expected-{case.name}",
        "text": {"status": "generated",
                 "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{text}</p></div>'},
        "issue": [{"severity": s, "code": c, "expression": [e],
                   "details": {"coding": [{"system": RULE_SYSTEM, "code": r}]}}
                  for s, c, e, r in case.issues]}


def write(out: Path) -> list[Path]:
    """Write every example under ``out`` (its generated sub-folders are replaced)."""
    files = examples()
    for folder in sorted({rel.split("/")[0] for rel in files}):
        if (out / folder).is_dir():
            shutil.rmtree(out / folder)
    written = []
    for rel, value in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples",
                        help="the folder to write (default: the repository's examples/)")
    args = parser.parse_args(argv)
    written = write(args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
