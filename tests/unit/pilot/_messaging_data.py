"""Synthetic eCAN+ messaging instances for the pilot profile tests.

Every builder returns a fresh dict, so a test can break one element without touching the
others. All data is synthetic: fictitious organisations (SOR and GLN numbers chosen for the
tests, GLN check digits computed), fictitious CPR numbers, made-up UUIDs.
"""

from __future__ import annotations

from typing import Any

from ecanfhir.definitions.pilot import pilot_url

EVENTS = pilot_url("CodeSystem", "ecan-message-events")
MEDCOM_TERMINOLOGY = "http://medcomfhir.dk/ig/terminology/CodeSystem/"
ACTIVITIES = MEDCOM_TERMINOLOGY + "medcom-messaging-activityCodes"
DESTINATION_USE = MEDCOM_TERMINOLOGY + "medcom-messaging-destinationUse"
ACK_ERRORS = MEDCOM_TERMINOLOGY + "medcom-acknowledgement-error-codes"
DESTINATION_USE_EXT = ("http://medcomfhir.dk/ig/messaging/StructureDefinition/"
                       "medcom-messaging-destinationUseExtension")
SOR = "urn:oid:1.2.208.176.1.1"
GLN_HTTPS = "https://www.gs1.org/gln"
GLN_HTTP = "http://www.gs1.org/gln"
CPR = "urn:oid:1.2.208.176.1.2"
X_ECPR = "urn:oid:1.2.208.176.1.6.1.1"
D_ECPR = "urn:oid:1.2.208.176.1.6.1.3.177"
AUTHORISATION = "https://autregweb.sst.dk"
RESPONSE_CODE = "http://hl7.org/fhir/response-code"

BASE = "https://sender.example.org/fhir/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}

# Fictitious organisations: SOR numbers invented for the tests; GLNs with valid check digits.
SENDER_ID = "3a1f5a52-3b0e-4d0e-9a43-6f0a0c6f7d11"
SENDER_SOR = "123456000016009"
SENDER_GLN = "5790000123452"
RECEIVER_ID = "8d5b2c1e-2a5f-4c93-bb8e-0e9f43a9c022"
RECEIVER_SOR = "654321000016001"
RECEIVER_GLN = "5790000167081"
PATIENT_ID = "0c3b1d8e-6f0a-4f57-8d7e-3a9d5c1b2e33"
FICTITIOUS_CPR = "0101709995"  # fictitious CPR: synthetic, never a real person
FICTITIOUS_CPR_2 = "2512489996"  # fictitious CPR: synthetic, never a real person
HEADER_ID = "5d6a1f0e-9c2b-4b7e-a1d3-2f8e4c6b7a44"
PROVENANCE_ID = "9e2c4a6b-1d3f-4e5a-8b7c-6d9e0f1a2b55"
FOCUS_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d66"
ACK_HEADER_ID = "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e77"
ACK_PROVENANCE_ID = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c88"
OUTCOME_ID = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e99"


def endpoint(sor: str) -> str:
    """The DK endpoint form of a SOR-addressed organisation."""
    return f"https://sor2.sum.dsdn.dk/#id={sor}"


def organization(org_id: str = SENDER_ID, *, sor: str = SENDER_SOR, gln: str = SENDER_GLN,
                 gln_system: str = GLN_HTTPS, name: str = "Synthetic Hospital Oncology Dept"
                 ) -> dict[str, Any]:
    return {
        "resourceType": "Organization", "id": org_id, "text": NARRATIVE,
        "identifier": [
            {"use": "official", "system": SOR, "value": sor},
            {"use": "official", "system": gln_system, "value": gln},
        ],
        "name": name,
    }


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient", "id": PATIENT_ID, "text": NARRATIVE,
        "identifier": [{"use": "official", "system": CPR, "value": FICTITIOUS_CPR}],
        "name": [{"use": "official", "family": "Testpatient", "given": ["Synne"]}],
        "gender": "female",
    }


def practitioner() -> dict[str, Any]:
    return {
        "resourceType": "Practitioner", "id": "practitioner-1",
        "identifier": [{"system": AUTHORISATION, "value": "0C4G7"}],
        "name": [{"family": "Testlæge", "given": ["Anna"]}],
    }


def practitioner_role() -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole", "id": "role-1",
        "practitioner": {"reference": "Practitioner/practitioner-1"},
        "organization": {"reference": f"Organization/{SENDER_ID}"},
    }


def destination(use: str = "primary", receiver: str = RECEIVER_ID,
                sor: str = RECEIVER_SOR) -> dict[str, Any]:
    return {
        "extension": [{"url": DESTINATION_USE_EXT,
                       "valueCoding": {"system": DESTINATION_USE, "code": use}}],
        "endpoint": endpoint(sor),
        "receiver": {"reference": f"Organization/{receiver}"},
    }


def message_header(event: str = "cancer-case-referral",
                   focus: str = f"ServiceRequest/{FOCUS_ID}") -> dict[str, Any]:
    return {
        "resourceType": "MessageHeader", "id": HEADER_ID, "text": NARRATIVE,
        "eventCoding": {"system": EVENTS, "code": event},
        "destination": [destination()],
        "sender": {"reference": f"Organization/{SENDER_ID}"},
        "source": {"endpoint": endpoint(SENDER_SOR)},
        "focus": [{"reference": focus}],
        "definition": pilot_url("MessageDefinition", "ecan-" + event),
    }


def provenance(prov_id: str = PROVENANCE_ID, *, target: str = HEADER_ID,
               activity: str = "new-message", agent: str = SENDER_ID) -> dict[str, Any]:
    return {
        "resourceType": "Provenance", "id": prov_id, "text": NARRATIVE,
        "target": [{"reference": f"MessageHeader/{target}"}],
        "occurredDateTime": "2025-06-02T10:15:00+02:00",
        "recorded": "2025-06-02T10:15:00+02:00",
        "activity": {"coding": [{"system": ACTIVITIES, "code": activity}]},
        "agent": [{"who": {"reference": f"Organization/{agent}"}}],
    }


def service_request() -> dict[str, Any]:
    """A plain ServiceRequest as the focus (it does not claim the clinical referral profile)."""
    return {
        "resourceType": "ServiceRequest", "id": FOCUS_ID, "status": "active", "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def claiming(resource: dict[str, Any], profile_id: str) -> dict[str, Any]:
    """The resource with ``meta.profile`` naming an eCAN+ profile (ecan-msg-1, ecan-msg-5)."""
    return {**resource, "meta": {"profile": [pilot_url("StructureDefinition", profile_id)]}}


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{BASE}{resource['resourceType']}/{resource['id']}", "resource": resource}


def message() -> dict[str, Any]:
    """A whole minimal EcanMessage: header first, Provenance, two organisations, patient, focus."""
    return {
        "resourceType": "Bundle", "id": "e0f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b",
        "type": "message", "timestamp": "2025-06-02T10:15:00+02:00",
        "entry": [entry(r) for r in (
            claiming(message_header(), "ecan-message-header"),
            claiming(provenance(), "ecan-provenance"), organization(),
            organization(RECEIVER_ID, sor=RECEIVER_SOR, gln=RECEIVER_GLN,
                         name="Synthetic National Cancer Centre"),
            claiming(patient(), "ecan-patient"), service_request())],
    }


def acknowledgement_header(code: str = "ok", *, details: bool = False) -> dict[str, Any]:
    header: dict[str, Any] = {
        "resourceType": "MessageHeader", "id": ACK_HEADER_ID, "text": NARRATIVE,
        "eventCoding": {"system": EVENTS, "code": "acknowledgement"},
        "destination": [destination(receiver=SENDER_ID, sor=SENDER_SOR)],
        "sender": {"reference": f"Organization/{RECEIVER_ID}"},
        "source": {"endpoint": endpoint(RECEIVER_SOR)},
        "response": {"identifier": HEADER_ID, "code": code},
    }
    if details:
        header["response"]["details"] = {"reference": f"OperationOutcome/{OUTCOME_ID}"}
    return header


def acknowledgement_outcome(code: str = "MSG_Receiver_Identifier_UNKNOWN") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome", "id": OUTCOME_ID, "text": NARRATIVE,
        "issue": [{"severity": "error", "code": "processing",
                   "details": {"coding": [{"system": ACK_ERRORS, "code": code}]}}],
    }


def acknowledgement(code: str = "ok") -> dict[str, Any]:
    """An acknowledgement of :func:`message`: the original Provenance and the ack's own."""
    ack_provenance = provenance(ACK_PROVENANCE_ID, target=ACK_HEADER_ID,
                                activity="acknowledgement", agent=RECEIVER_ID)
    ack_provenance["entity"] = [{"role": "revision",
                                 "what": {"reference": f"MessageHeader/{HEADER_ID}"}}]
    resources = [claiming(acknowledgement_header(code, details=code != "ok"),
                          "ecan-acknowledgement-header"),
                 claiming(ack_provenance, "ecan-provenance"),
                 organization(),
                 organization(RECEIVER_ID, sor=RECEIVER_SOR, gln=RECEIVER_GLN,
                              name="Synthetic National Cancer Centre")]
    if code != "ok":
        resources.append(acknowledgement_outcome())
    return {
        "resourceType": "Bundle", "id": "f1a2b3c4-d5e6-4f7a-9b8c-1d2e3f4a5b6c",
        "type": "message", "timestamp": "2025-06-02T10:16:00+02:00",
        "entry": [entry(r) for r in resources],
    }
