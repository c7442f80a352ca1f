"""Message → document: the same clinical content as a FHIR document Bundle (DOMAIN.md §2(b)).

EHDS/EEHRxF share documents (IPS, HDR): a ``document`` Bundle with a Composition first (bdl-11),
an ``identifier`` (bdl-9) and a ``timestamp`` (bdl-10). The converter keeps every clinical
resource of the message unchanged (same fullUrls, ids and references) and drops the envelope
(MessageHeader, Provenance, OperationOutcome). It is deterministic: the document's ids derive
from the message's letter id (MessageHeader.id) and its date is when the letter was sent (its
Provenance ``recorded``, unchanged by a resend), so a resent message converts to the same
document.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import Mapping
from typing import Any

from .._exceptions import BuildError
from .._frozen import frozen
from ..formats.json_copy import copy_json
from ._claims import claimed_profiles
from ._narrative import narrative
from .message import entry_reference, message_header, resolve_entry

__all__ = ["to_document"]

_ENVELOPE = ("MessageHeader", "Provenance", "OperationOutcome", "Bundle")
# The document is an International Patient Summary (hl7.fhir.uv.ips#2.0.0, Composition-uv-ips:
# type LOINC 60591-5); what the message was is kept as the Composition's category (LOINC
# 57133-1 Referral note, 11488-4 Consult note).
_IPS_TYPE = {"system": "http://loinc.org", "code": "60591-5", "display": "Patient summary Document"}
_DOCUMENT_TYPE = {
    "cancer-case-referral": ("57133-1", "Referral note", "Cancer case referral"),
    "tumour-board-outcome": ("11488-4", "Consult note", "Tumour board outcome"),
    "telemedicine-encounter": ("11488-4", "Consult note", "Telemedicine consultation"),
}


@frozen
class _Section:
    """A Composition section: the resource types it lists, its LOINC code, its title, and
    whether IPS requires it (then, without entries, it says why: emptyReason, ips-comp-1)."""

    types: tuple[str, ...]
    code: str
    display: str
    title: str
    required: bool = False


# In document order. Problems, allergies and medications are IPS's required sections, and
# procedures and medical devices too in the EU patient summary (composition-eu-eps); the
# cancer is a problem, TNM and ECOG are results (IPS 2.0.0 §Results: observations and reports);
# the referral and the consultation get sections of their own, outside IPS's slices.
_SECTIONS = (
    _Section(("CarePlan",), "18776-5", "Plan of care note", "Tumour board outcome"),
    _Section(("ServiceRequest",), "42349-1", "Reason for referral (narrative)", "Referral"),
    _Section(("Encounter",), "46240-8", "History of Hospitalizations+Outpatient visits Narrative",
             "Consultation"),
    _Section(("Condition",), "11450-4", "Problem list - Reported", "Cancer diagnosis",
             required=True),
    _Section(("Observation", "DiagnosticReport"), "30954-2",
             "Relevant diagnostic tests/laboratory data Narrative",
             "Staging, performance status and reports"),
    _Section((), "48765-2", "Allergies and adverse reactions Document", "Allergies and "
             "intolerances", required=True),
    _Section((), "10160-0", "History of Medication use Narrative", "Medication summary",
             required=True),
    _Section((), "47519-4", "History of Procedures Document", "History of procedures",
             required=True),
    _Section((), "46264-8", "History of medical device use", "Medical devices", required=True),
)
_UNAVAILABLE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                            "code": "unavailable", "display": "Unavailable"}]}


def _derived_uuid(seed: str, label: str) -> str:
    """A UUID v4-formatted id derived from ``seed`` (deterministic, distinct per label)."""
    digest = hashlib.sha256(f"{seed}/{label}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def to_document(message_bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The clinical content of an EcanMessage as a FHIR document Bundle.

    Args:
        message_bundle: a referral, tumour-board-outcome or telemedicine EcanMessage.

    Returns:
        A ``document`` Bundle: a Composition (subject the patient, author the message sender,
        one section per kind of clinical resource) followed by the clinical resources.

    Raises:
        BuildError: not a message Bundle, an acknowledgement, or without exactly one Patient.
    """
    header = message_header(message_bundle, "message_bundle")
    event = header.get("eventCoding", {}).get("code")
    if event not in _DOCUMENT_TYPE:
        raise BuildError(f"message_bundle: a {event!r} message has no clinical content to "
                         "turn into a document")
    clinical = [copy_json(dict(e)) for e in message_bundle["entry"]
                if e.get("resource", {}).get("resourceType") not in _ENVELOPE]
    patients = [e for e in clinical if e["resource"]["resourceType"] == "Patient"]
    if len(patients) != 1:
        raise BuildError(f"message_bundle: needs exactly one Patient, found {len(patients)}")
    author = resolve_entry(message_bundle, header.get("sender", {}).get("reference", ""))
    if author is None:
        raise BuildError("message_bundle: MessageHeader.sender does not resolve")
    code, display, title = _DOCUMENT_TYPE[event]
    seed = str(header["id"])
    composition_id = _derived_uuid(seed, "Composition")
    sections = [s for s in (_section(spec, clinical) for spec in _SECTIONS) if s is not None]
    timestamp = _sent(message_bundle)
    composition = {
        "resourceType": "Composition",
        "id": composition_id,
        "meta": {"profile": list(claimed_profiles("document-composition"))},
        "text": narrative(title, f"Converted from message {seed}"),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{composition_id}"},
        "status": "final",
        "type": {"coding": [dict(_IPS_TYPE)]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": code,
                                  "display": display}]}],
        "subject": entry_reference(patients[0]),
        "date": timestamp,
        "author": [entry_reference(author)],
        "title": title,
        "section": sections,
    }
    return {
        "resourceType": "Bundle",
        "id": _derived_uuid(seed, "Bundle"),
        "meta": {"profile": list(claimed_profiles("document"))},
        "identifier": {"system": "urn:ietf:rfc:3986",
                       "value": f"urn:uuid:{_derived_uuid(seed, 'document')}"},
        "type": "document",
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"urn:uuid:{composition_id}", "resource": composition},
                  *clinical],
    }


def _section(spec: _Section, clinical: list[dict[str, Any]]) -> dict[str, Any] | None:
    members = [e for e in clinical if e["resource"]["resourceType"] in spec.types]
    if not members and not spec.required:
        return None
    section: dict[str, Any] = {
        "title": spec.title,
        "code": {"coding": [{"system": "http://loinc.org", "code": spec.code,
                             "display": spec.display}]}}
    if members:
        section["text"] = narrative(*(_summary(e["resource"]) for e in members))
        section["entry"] = [entry_reference(e) for e in members]
    else:
        section["text"] = narrative(f"{spec.title}: no information in the message")
        section["emptyReason"] = copy_json(_UNAVAILABLE)
    return section


def _sent(bundle: Mapping[str, Any]) -> str:
    """When the letter was sent: its own Provenance's ``recorded``, else Bundle.timestamp."""
    first = bundle["entry"][0]
    own = {first.get("fullUrl"), f"MessageHeader/{first['resource'].get('id')}"}
    for entry in bundle["entry"]:
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Provenance" and resource.get("recorded") and any(
                t.get("reference") in own for t in resource.get("target", ())):
            return str(resource["recorded"])
    return str(bundle.get("timestamp"))


def _summary(resource: Mapping[str, Any]) -> str:
    """One line for a section's narrative: the resource's own narrative text, flattened."""
    div = str(resource.get("text", {}).get("div", ""))

    text = re.sub(r"<[^>]+>", " ", div)
    text = re.sub(r"\s+", " ", text).strip()
    return html.unescape(text) or str(resource.get("resourceType"))
