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

import copy
import hashlib
import html
import re
import uuid
from collections.abc import Mapping
from typing import Any

from .._exceptions import BuildError
from ._narrative import narrative
from .message import entry_reference, message_header, resolve_entry

__all__ = ["to_document"]

_ENVELOPE = ("MessageHeader", "Provenance", "OperationOutcome", "Bundle")
# LOINC document types: 57133-1 Referral note, 11488-4 Consult note.
_DOCUMENT_TYPE = {
    "cancer-case-referral": ("57133-1", "Referral note", "Cancer case referral"),
    "tumour-board-outcome": ("11488-4", "Consult note", "Tumour board outcome"),
    "telemedicine-encounter": ("11488-4", "Consult note", "Telemedicine consultation"),
}
# Section per resource type, in document order.
_SECTIONS = (
    ("CarePlan", "Tumour board outcome"),
    ("ServiceRequest", "Referral"),
    ("Encounter", "Consultation"),
    ("Condition", "Cancer diagnosis"),
    ("Observation", "Staging and performance status"),
    ("DiagnosticReport", "Reports"),
)


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
    clinical = [copy.deepcopy(dict(e)) for e in message_bundle["entry"]
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
    sections = []
    for resource_type, section_title in _SECTIONS:
        members = [e for e in clinical if e["resource"]["resourceType"] == resource_type]
        if members:
            sections.append({
                "title": section_title,
                "text": narrative(*(_summary(e["resource"]) for e in members)),
                "entry": [entry_reference(e) for e in members]})
    timestamp = _sent(message_bundle)
    composition = {
        "resourceType": "Composition",
        "id": composition_id,
        "text": narrative(title, f"Converted from message {seed}"),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{composition_id}"},
        "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "subject": entry_reference(patients[0]),
        "date": timestamp,
        "author": [entry_reference(author)],
        "title": title,
        "section": sections,
    }
    return {
        "resourceType": "Bundle",
        "id": _derived_uuid(seed, "Bundle"),
        "identifier": {"system": "urn:ietf:rfc:3986",
                       "value": f"urn:uuid:{_derived_uuid(seed, 'document')}"},
        "type": "document",
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"urn:uuid:{composition_id}", "resource": composition},
                  *clinical],
    }


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
