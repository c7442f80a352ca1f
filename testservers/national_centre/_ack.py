"""The one place the server depends on the acknowledgement builder.

MedCom acknowledgements (DOMAIN.md §2(c) points 2–3) are built by
``ecanfhir.builders.build_acknowledgement``, the builder integrators use. A message too broken
for it (no resolvable sender or receiver) gets its acknowledgement from a minimal local
builder of the same shape:
MessageHeader (event ``acknowledgement``, ``response.identifier`` = the original
MessageHeader.id, ``response.details`` → OperationOutcome when there are issues), the
acknowledging and the original sending Organization, the original Provenance(s) copied and a
new Provenance (activity ``acknowledgement``, entity ``revision`` → the original MessageHeader).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from ecanfhir.builders.acknowledgement import AckErrorCode
from ecanfhir.definitions.pilot import pilot_url

from .settings import CentreIdentity

if TYPE_CHECKING:
    from ecanfhir.builders import Organization

__all__ = ["AckCode", "acknowledge"]

log = logging.getLogger("testservers.national_centre")

AckCode = Literal["ok", "transient-error", "fatal-error"]
MEDCOM_ERRORS = ("http://medcomfhir.dk/ig/terminology/CodeSystem/"
                 "medcom-acknowledgement-error-codes")
MEDCOM_ACTIVITY = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"
MEDCOM_USE_EXT = ("http://medcomfhir.dk/ig/messaging/StructureDefinition/"
                  "medcom-messaging-destinationUseExtension")
MEDCOM_USE = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"
# AckIssue needs a MedCom code; issues none fits are built with this one, which is then taken
# out again (the OperationOutcome keeps the issue type, text and FHIRPath location).
_STAND_IN = "MSG_Datatype_Wrong"


def acknowledge(original: Mapping[str, Any], *, code: AckCode,
                issues: Sequence[Mapping[str, Any]], sender: CentreIdentity,
                source_endpoint: str) -> dict[str, Any]:
    """The acknowledgement message of ``original``.

    Args:
        original: the received message Bundle (MessageHeader first).
        code: the response code.
        issues: OperationOutcome ``issue`` elements (MedCom error codes in ``details``); they
            end up in the acknowledgement's OperationOutcome as they are.
        sender: the acknowledging organisation.
        source_endpoint: where this server receives messages (the ack's ``source.endpoint``).
    """
    from ecanfhir.builders import AckIssue, BuildError, build_acknowledgement

    org = _acknowledging(sender, source_endpoint)
    try:
        ack_issues = [AckIssue(cast(AckErrorCode, _medcom_code(i) or _STAND_IN),
                               str(i.get("diagnostics") or ""),
                               severity=i.get("severity", "error"), code=str(i.get("code")))
                      for i in issues]
        ack = build_acknowledgement(original, code, issues=ack_issues, sender=org)
    except (BuildError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # A message broken enough that the builder refuses it (its sender does not resolve…)
        # still gets its fatal-error acknowledgement, from the local builder.
        log.info("acknowledgement built locally: %s", type(exc).__name__)
        return _local_acknowledgement(original, code=code, issues=issues,
                                      sender=_organization(sender), source_endpoint=source_endpoint)
    if issues:
        _put_issues(ack, issues)
    return ack


@functools.lru_cache(maxsize=16)
def _acknowledging(sender: CentreIdentity, endpoint: str) -> Organization:
    """The centre as the builder's Organization, checked once (SOR, GLN check digit) rather
    than for every acknowledgement: it is frozen, and the same for every message."""
    from ecanfhir.builders import Organization

    return Organization(name=sender.name, sor=sender.sor, gln=sender.gln, endpoint=endpoint)


def _medcom_code(issue: Mapping[str, Any]) -> str | None:
    for coding in (issue.get("details") or {}).get("coding") or []:
        if coding.get("system") == MEDCOM_ERRORS:
            return str(coding.get("code"))
    return None


def _put_issues(ack: dict[str, Any], issues: Sequence[Mapping[str, Any]]) -> None:
    """Replace the built OperationOutcome's issues by the server's (with their locations)."""
    for entry in ack.get("entry", ()):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "OperationOutcome":
            resource["issue"] = [dict(i) for i in issues]
            resource["text"] = _narrative("; ".join(
                f"{i.get('severity')}: {_medcom_code(i) or i.get('code')} - "
                f"{i.get('diagnostics', '')}" for i in issues[:20]))


def _organization(centre: CentreIdentity) -> dict[str, Any]:
    return {
        "resourceType": "Organization", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, centre.sor)),
        "text": _narrative(centre.name),
        "identifier": [{"use": "official", "system": "urn:oid:1.2.208.176.1.1",
                        "value": centre.sor},
                       {"system": "https://www.gs1.org/gln", "value": centre.gln}],
        "name": centre.name,
    }


def _local_acknowledgement(original: Mapping[str, Any], *, code: AckCode,
                           issues: Sequence[Mapping[str, Any]], sender: Mapping[str, Any],
                           source_endpoint: str) -> dict[str, Any]:
    entries = [e.get("resource") for e in original.get("entry") or [] if isinstance(e, dict)]
    resources = [r for r in entries if isinstance(r, dict)]
    header = resources[0]
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    ids = {name: str(uuid.uuid4()) for name in ("bundle", "header", "provenance", "outcome")}
    sender_org = {**sender, "id": str(sender.get("id") or uuid.uuid4())}
    original_sender = _resolve(original, _get(header.get("sender"), "reference"))
    message_header: dict[str, Any] = {
        "resourceType": "MessageHeader", "id": ids["header"],
        "text": _narrative(f"Acknowledgement ({code}) of message {header.get('id')}"),
        "eventCoding": {"system": pilot_url("CodeSystem", "ecan-message-events"),
                        "code": "acknowledgement"},
        "sender": {"reference": f"urn:uuid:{sender_org['id']}"},
        "source": {"endpoint": source_endpoint},
        "response": {"identifier": str(header.get("id")), "code": code},
    }
    destination: dict[str, Any] = {
        "extension": [{"url": MEDCOM_USE_EXT,
                       "valueCoding": {"system": MEDCOM_USE, "code": "primary"}}],
        "endpoint": str(_get(header.get("source"), "endpoint") or "urn:unknown"),
    }
    out: list[dict[str, Any]] = [message_header, sender_org]
    if original_sender is not None:
        original_sender["id"] = str(original_sender.get("id") or uuid.uuid4())
        destination["receiver"] = {"reference": f"urn:uuid:{original_sender['id']}"}
        if original_sender.get("id") != sender_org["id"]:
            out.append(dict(original_sender))
    message_header["destination"] = [destination]
    out.extend(dict(r) for r in resources if r.get("resourceType") == "Provenance")
    out.append({
        "resourceType": "Provenance", "id": ids["provenance"],
        "text": _narrative("Acknowledged by the national cancer centre"),
        "target": [{"reference": f"urn:uuid:{ids['header']}"}],
        "occurredDateTime": stamp, "recorded": stamp,
        "activity": {"coding": [{"system": MEDCOM_ACTIVITY, "code": "acknowledgement"}]},
        "agent": [{"who": {"reference": f"urn:uuid:{sender_org['id']}"}}],
        "entity": [{"role": "revision",
                    "what": {"reference": f"MessageHeader/{header.get('id')}"}}],
    })
    if issues or code != "ok":
        body = list(issues) or [{"severity": "error", "code": "processing",
                                 "diagnostics": "the message was not accepted"}]
        out.append({"resourceType": "OperationOutcome", "id": ids["outcome"], "issue": body})
        message_header["response"]["details"] = {"reference": f"urn:uuid:{ids['outcome']}"}
    return {
        "resourceType": "Bundle", "id": ids["bundle"], "type": "message", "timestamp": stamp,
        "entry": [{"fullUrl": f"urn:uuid:{r.get('id')}", "resource": r} for r in out],
    }


def _get(element: Any, name: str) -> Any:
    """``element.name`` of a complex element, ``None`` when the element has the wrong JSON
    type (a MessageHeader.sender sent as a string or an array: the validator reports it)."""
    return element.get(name) if isinstance(element, dict) else None


def _resolve(bundle: Mapping[str, Any], reference: Any) -> dict[str, Any] | None:
    if not isinstance(reference, str):
        return None
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        resource = entry["resource"]
        own = f"{resource.get('resourceType')}/{resource.get('id')}"
        if entry.get("fullUrl") == reference or own == reference or (
                reference.endswith("/" + own)):
            return dict(resource)
    return None


def _narrative(text: str) -> dict[str, str]:
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{safe}</p></div>'}

