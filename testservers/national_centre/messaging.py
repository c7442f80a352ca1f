"""``$process-message``: the reliable-messaging receiver of the mock national cancer centre.

One message goes through: envelope (Bundle.id, MessageHeader.id) → duplicate cache
(DOMAIN.md §2(c) point 5, MedCom's 043 table) → fault injection → validation against the pilot
profiles → acknowledgement (``ok`` or ``fatal-error`` with MedCom error codes) → one atomic
store of the message, its resources and the acknowledgement bytes.

The four cases of point 5, and what this server answers:

=====================  ======================  ==============================================
Bundle.id              MessageHeader.id        answer
=====================  ======================  ==============================================
new                    new                     process; 200 + new acknowledgement
seen (same message)    seen                    resend: 200 + the stored acknowledgement bytes
new                    seen                    duplicate: logged, 200 + the stored bytes
seen (other message)   new                     error: 200 + a ``fatal-error`` acknowledgement
=====================  ======================  ==============================================

The last case is a processable message that breaks an envelope rule, and KR1 says every
message is acknowledged, so it gets a ``fatal-error`` ack (issue code ``duplicate``) rather
than a 4xx. That ack is not cached and the MessageHeader.id is not remembered: the letter
itself was never processed, so the sender may send it again in a new envelope.
Resends and duplicates change no count (the KPIs read first receipts only).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecanfhir import Issue, Validator
from ecanfhir.definitions.pilot import pilot_url

from . import _ack
from ._ack import MEDCOM_ERRORS
from ._fhirio import FhirError, dumps
from ._kpifacts import kpi_facts, resolve, sor_of
from .settings import FaultRule, Settings
from .storage import (
    SERVER_WRITTEN,
    Envelope,
    Processed,
    Receipt,
    Serialised,
    Store,
    compact_json,
    composed_json,
    texts_rewritten,
)
from .validation_pool import ValidationPool

__all__ = ["MEDCOM_ERRORS", "MessageService", "Reply", "envelope_of", "medcom_issues"]

log = logging.getLogger("testservers.national_centre")

ACCEPTED_EVENTS = frozenset({"cancer-case-referral", "tumour-board-outcome",
                             "telemedicine-encounter"})
MAX_ACK_ISSUES = 100


@dataclass(frozen=True, slots=True)
class Reply:
    """What ``$process-message`` answers: always 200 with the acknowledgement bytes."""

    body: bytes
    kind: str          # processed | resend | duplicate | bundle-id-reused | fault
    ack_code: str


class MessageService:
    """Receives messages: built once per app, shared by every request thread."""

    def __init__(self, settings: Settings, store: Store,
                 validator: Validator | ValidationPool) -> None:
        self.settings = settings
        self.store = store
        self.validator = validator
        profile = settings.message_profile or pilot_url("StructureDefinition", "ecan-message")
        self.profiles: tuple[str, ...] = (
            (profile,) if validator.registry.structure_definition(profile) is not None else ())
        self.endpoint = settings.base_url.rstrip("/") + "/$process-message"

    def receive(self, bundle: Any, format_issues: Sequence[Issue] = ()) -> Reply:
        """Process (or recognise) one message in the FHIR JSON form; ``format_issues`` are the
        problems its XML had that the JSON form does not show (they fail it like any
        validation error)."""
        envelope = envelope_of(bundle)
        receipt = self.store.prior(envelope)
        if receipt is None:
            fault = self._fault(envelope)
            if fault is not None:
                return self._inject(fault, bundle, envelope, format_issues)
            receipt = self.store.commit(envelope, self._process(bundle, envelope,
                                                                format_issues))
        return self._reply(bundle, envelope, receipt)

    def _reply(self, bundle: Mapping[str, Any], envelope: Envelope, receipt: Receipt) -> Reply:
        log.info("message %s (bundle %s, event %s): %s, ack %s", envelope.header_id,
                 envelope.bundle_id, envelope.event, receipt.kind, receipt.ack_code)
        if receipt.ack is not None and receipt.ack_code is not None:
            return Reply(receipt.ack, receipt.kind, receipt.ack_code)
        issue = {"severity": "error", "code": "duplicate",
                 "diagnostics": f"Bundle.id {envelope.bundle_id} was already used for another "
                                "message: every transmission needs a new Bundle.id"}
        ack = self._ack(bundle, "fatal-error", [issue])
        return Reply(dumps(ack), receipt.kind, "fatal-error")

    def _process(self, bundle: Mapping[str, Any], envelope: Envelope,
                 format_issues: Sequence[Issue]) -> Processed:
        issues = self._check(bundle, envelope, format_issues)
        if issues:
            ack = self._ack(bundle, "fatal-error", issues)
            reasons = tuple(f"{i.get('expression', [''])[0]}: {i['diagnostics']}"[:300]
                            for i in issues[:10])
            stored = Serialised(ack, compact_json(ack))   # its text is what dumps() sends
            return Processed(stored.text.encode(), "fatal-error", (stored,), reasons=reasons)
        ack = self._ack(bundle, "ok", [])
        stored = Serialised(ack, compact_json(ack))
        resources = (*_serialised_message(bundle), stored)
        return Processed(stored.text.encode(), "ok", resources,
                         kpi_facts(bundle, envelope.event))

    def _check(self, bundle: Mapping[str, Any], envelope: Envelope,
               format_issues: Sequence[Issue]) -> list[dict[str, Any]]:
        header = bundle["entry"][0]["resource"]
        coding = header.get("eventCoding")
        system = coding.get("system") if isinstance(coding, dict) else None
        if envelope.event not in ACCEPTED_EVENTS or system != pilot_url(
                "CodeSystem", "ecan-message-events"):
            return [_medcom_issue("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", "not-supported",
                                  f"this receiver does not accept messages of event "
                                  f"{system}#{envelope.event}", "MessageHeader.eventCoding")]
        forged = next((i for i, e in enumerate(bundle.get("entry") or []) if isinstance(e, dict)
                       and isinstance(e.get("resource"), dict)
                       and str(e["resource"].get("resourceType")) in SERVER_WRITTEN), None)
        if forged is not None:    # the audit trail is the centre's own, append-only
            return [{"severity": "error", "code": "business-rule", "diagnostics": "a message "
                     "may not carry an AuditEvent: they are written by the centre only",
                     "expression": [f"Bundle.entry[{forged}].resource"]}]
        result = self.validator.validate(bundle, profiles=self.profiles)
        errors = [i for i in format_issues if i.severity in ("error", "fatal")]
        return medcom_issues([*errors, *result.errors])[:MAX_ACK_ISSUES]

    def _ack(self, bundle: Mapping[str, Any], code: _ack.AckCode,
             issues: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return _ack.acknowledge(bundle, code=code, issues=issues, sender=self.settings.centre,
                                source_endpoint=self.endpoint)

    def _fault(self, envelope: Envelope) -> FaultRule | None:
        return next((f for f in self.settings.faults
                     if f.matches(envelope.event, envelope.sender)), None)

    def _inject(self, fault: FaultRule, bundle: Mapping[str, Any], envelope: Envelope,
                format_issues: Sequence[Issue]) -> Reply:
        log.info("message %s: injected fault %s", envelope.header_id, fault.action)
        if fault.action == "http-503":
            raise FhirError(503, "transient", "the service is unavailable (injected fault)",
                            headers={"Retry-After": str(fault.retry_after)})
        if fault.action == "latency":
            time.sleep(fault.seconds)
            receipt = self.store.prior(envelope) or self.store.commit(
                envelope, self._process(bundle, envelope, format_issues))
            return self._reply(bundle, envelope, receipt)
        code: _ack.AckCode = "transient-error" if fault.action == "transient-error" else (
            "fatal-error")
        issue = {"severity": "error", "code": "transient" if code == "transient-error" else
                 "processing", "diagnostics": f"{code} forced by fault injection"}
        return Reply(dumps(self._ack(bundle, code, [issue])), "fault", code)


def envelope_of(bundle: Any) -> Envelope:
    """The reliable-messaging keys of a message; 400 when the body is not a message at all."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise FhirError(400, "invalid", f"expected a message Bundle, found {kind!s:.60}")
    if bundle.get("type") != "message":
        raise FhirError(400, "invalid", f"Bundle.type must be 'message', found "
                        f"{bundle.get('type')!s:.40}")
    entries = bundle.get("entry")
    first = entries[0] if isinstance(entries, list) and entries else None
    header = first.get("resource") if isinstance(first, dict) else None
    if not isinstance(header, dict) or header.get("resourceType") != "MessageHeader":
        raise FhirError(400, "structure", "the first entry of a message must be its "
                        "MessageHeader", )
    bundle_id, header_id = bundle.get("id"), header.get("id")
    if not isinstance(bundle_id, str) or not bundle_id.strip():
        raise FhirError(400, "required", "Bundle.id is required: it identifies the "
                        "transmission for duplicate detection")
    if not isinstance(header_id, str) or not header_id.strip():
        raise FhirError(400, "required", "MessageHeader.id is required: it identifies the "
                        "message for duplicate detection")
    coding = header.get("eventCoding")
    event = coding.get("code") if isinstance(coding, dict) else None
    if event == "acknowledgement":
        raise FhirError(422, "business-rule", "this server sends no messages, so it takes no "
                        "acknowledgements (and an acknowledgement is never acknowledged)")
    sender = sor_of(resolve(bundle, header.get("sender")))
    timestamp = bundle.get("timestamp")
    return Envelope(bundle_id[:200], header_id[:200], event if isinstance(event, str) else None,
                    sender, timestamp if isinstance(timestamp, str) else None)


def medcom_issues(issues: Sequence[Issue]) -> list[dict[str, Any]]:
    """Validation issues as OperationOutcome issues with MedCom acknowledgement error codes
    where one fits (the FHIRPath location stays in ``expression``)."""
    out = []
    for issue in issues:
        body = issue.to_fhir()
        code = _medcom_code(issue)
        if code is not None:
            details = body.setdefault("details", {"text": issue.message})
            details["coding"] = [{"system": MEDCOM_ERRORS, "code": code},
                                 *details.get("coding", [])]
        out.append(body)
    return out


def _medcom_code(issue: Issue) -> str | None:
    if issue.rule.startswith("type-") or issue.rule in ("json-form", "choice-type"):
        return "MSG_Datatype_Wrong"
    if issue.code == "too-long" or issue.rule == "max-length":
        return "MSG_Element_To_Long"
    if issue.rule == "code-unknown":
        return "MSG_CodeSystem_VALUE_UNKNOWN"
    if issue.code == "code-invalid" or issue.rule.startswith("binding"):
        return "MSG_VALUESET_VALUE_UNKNOWN"
    return None


def _medcom_issue(code: str, issue_code: str, text: str, expression: str) -> dict[str, Any]:
    return {"severity": "error", "code": issue_code, "diagnostics": text,
            "details": {"coding": [{"system": MEDCOM_ERRORS, "code": code}], "text": text},
            "expression": [expression]}


def stored_entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The entry resources of a message as stored: ``urn:uuid:`` references rewritten to
    ``Type/id`` (so ``subject=Patient/…`` searches work), a missing id given a new UUID."""
    return [item.resource for item in serialised_entries(bundle)]


def serialised_entries(bundle: Mapping[str, Any]) -> list[Serialised]:
    """:func:`stored_entries` with their texts, each resource serialised once."""
    return texts_rewritten(*_entries(bundle))


def _entries(bundle: Mapping[str, Any]) -> tuple[list[Serialised], dict[str, str]]:
    """The entry resources with their texts (as received, but for a missing id) and the
    ``Type/id`` each fullUrl names."""
    targets: dict[str, str] = {}
    resources: list[Serialised] = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        if not isinstance(resource.get("id"), str):
            resource = {**resource, "id": str(uuid.uuid4())}
        if isinstance(entry.get("fullUrl"), str):
            targets[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
        resources.append(Serialised(resource, compact_json(resource)))
    return resources, targets


def _serialised_message(bundle: Mapping[str, Any]) -> list[Serialised]:
    """The message Bundle as received and its entries as stored, with their texts: the
    Bundle's text is made from its entries' (an entry given an id is not the Bundle's)."""
    entries, targets = _entries(bundle)
    text = composed_json(bundle, {id(e.resource): e.text for e in entries})
    return [Serialised(bundle, text), *texts_rewritten(entries, targets)]
