"""EcanMessage: the MedCom-style message envelope (Bundle, MessageHeader, Provenance).

DOMAIN.md §2(a)/§2(c): Bundle ``type`` message with a new UUID per transmission and a zoned
``timestamp``; the MessageHeader first (``ecan-msg-1``), its id the letter id that stays the same
across resends; ``destination`` sliced by MedCom's destination-use extension (one ``primary``,
any ``cc``); ``source.endpoint`` where the acknowledgement goes; a Provenance per message
(``ecan-msg-2``) with a MedCom activity code and, on replies and acknowledgements, an ``entity``
with role ``revision`` naming the earlier MessageHeader as ``MessageHeader/<id>``.

A Provenance's ``target`` is its own MessageHeader (``urn:uuid:<id>``). Copied into a reply or
an acknowledgement (§2(c).3) the earlier message's MessageHeader is no longer in the Bundle, so
the copy's ``target`` becomes ``MessageHeader/<id>``, the MedCom form for earlier messages,
rather than a ``urn:uuid`` that can resolve nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .._exceptions import BuildError
from .._frozen import frozen
from ..definitions.pilot import pilot_url
from ..formats.json_copy import copy_json
from ._context import BuildContext
from ._resource import new_resource, previous_message

__all__ = ["DESTINATION_USE_EXTENSION", "MEDCOM_ACTIVITY_SYSTEM", "Activity", "Event", "Party",
           "assemble_message", "entry_reference", "message_header", "resend", "resolve_entry"]

MEDCOM_TERMINOLOGY = "http://medcomfhir.dk/ig/terminology/CodeSystem"
MEDCOM_ACTIVITY_SYSTEM = f"{MEDCOM_TERMINOLOGY}/medcom-messaging-activityCodes"
DESTINATION_USE_SYSTEM = f"{MEDCOM_TERMINOLOGY}/medcom-messaging-destinationUse"
DESTINATION_USE_EXTENSION = ("http://medcomfhir.dk/ig/messaging/StructureDefinition/"
                             "medcom-messaging-destinationUseExtension")
Event = Literal["cancer-case-referral", "tumour-board-outcome", "telemedicine-encounter",
                "acknowledgement"]
Activity = Literal["new-message", "reply-message", "forward-message", "retract-message",
                   "modified-message", "carboncopy-message", "acknowledgement"]
_EVENT_DISPLAY = {"cancer-case-referral": "Cancer case referral",
                  "tumour-board-outcome": "Tumour board outcome",
                  "telemedicine-encounter": "Telemedicine encounter",
                  "acknowledgement": "Acknowledgement"}


@frozen
class Party:
    """A sender or receiver inside a message: its Organization entry and its endpoint."""

    entry: dict[str, Any]
    endpoint: str

    @property
    def name(self) -> str:
        return str(self.entry["resource"].get("name", "organisation"))


def entry_reference(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A Reference to a Bundle entry, by its fullUrl."""
    return {"reference": str(entry["fullUrl"])}


def message_header(bundle: Mapping[str, Any], field: str = "bundle") -> dict[str, Any]:
    """The MessageHeader of a message Bundle (its first entry).

    Raises:
        BuildError: ``bundle`` is not a message Bundle starting with a MessageHeader.
    """
    entries = bundle.get("entry") if bundle.get("resourceType") == "Bundle" else None
    if bundle.get("type") != "message" or not isinstance(entries, list) or not entries:
        raise BuildError(f"{field}: not a message Bundle with entries")
    header = entries[0].get("resource") if isinstance(entries[0], Mapping) else None
    if not isinstance(header, dict) or header.get("resourceType") != "MessageHeader":
        raise BuildError(f"{field}: entry[0] is not a MessageHeader")
    return header


def resolve_entry(bundle: Mapping[str, Any], reference: str) -> dict[str, Any] | None:
    """The entry a reference names: by fullUrl, or by ``Type/id``."""
    for entry in bundle.get("entry", ()):
        if entry.get("fullUrl") == reference:
            return dict(entry)
    if "/" in reference and not reference.startswith(("urn:", "http")):
        rtype, rid = reference.split("/", 1)
        for entry in bundle.get("entry", ()):
            resource = entry.get("resource", {})
            if resource.get("resourceType") == rtype and resource.get("id") == rid:
                return dict(entry)
    return None


def _copied(entry: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an earlier Provenance entry, its target rewritten when it was a bundle-local
    reference to the earlier MessageHeader (``previous``, that message's header entry)."""
    out: dict[str, Any] = copy_json(dict(entry))
    header_id = previous["resource"]["id"]
    local = {previous.get("fullUrl"), f"MessageHeader/{header_id}"}
    out["resource"]["target"] = [previous_message(header_id) if t.get("reference") in local else t
                                 for t in out["resource"].get("target", ())]
    return out


def _destination(party: Party, use: str) -> dict[str, Any]:
    return {"extension": [{"url": DESTINATION_USE_EXTENSION,
                           "valueCoding": {"system": DESTINATION_USE_SYSTEM, "code": use}}],
            "endpoint": party.endpoint, "receiver": entry_reference(party.entry)}


def assemble_message(*, event: Event, sender: Party, receiver: Party,
                     entries: Sequence[dict[str, Any]], ctx: BuildContext,
                     focus: Mapping[str, Any] | None = None, cc: Sequence[Party] = (),
                     activity: Activity = "new-message",
                     previous: Mapping[str, Any] | None = None,
                     copied_provenance: Sequence[Mapping[str, Any]] = (),
                     response: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message Bundle: MessageHeader, ``entries``, copied Provenance, then the new Provenance.

    Args:
        event: the ``ecan-message-events`` code.
        sender: the sending organisation (its entry must be among ``entries``).
        receiver: the primary receiver (its entry must be among ``entries``).
        entries: the Bundle entries after the MessageHeader.
        ctx: ids and clock.
        focus: the entry of the message's focus resource.
        cc: carbon-copy receivers.
        activity: the MedCom activity of the new Provenance.
        previous: the MessageHeader entry of the message this one revises (reply, ack).
        copied_provenance: Provenance entries of ``previous``'s message, copied.
        response: ``MessageHeader.response`` (acknowledgements).

    Returns:
        The Bundle as R4 JSON.
    """
    timestamp = ctx.timestamp()
    ack = event == "acknowledgement"
    header = new_resource(ctx, "MessageHeader",
                          "ecan-acknowledgement-header" if ack else "ecan-message-header",
                          f"{_EVENT_DISPLAY[event]} from {sender.name} to {receiver.name}",
                          f"Sent {timestamp}")
    header["eventCoding"] = {"system": pilot_url("CodeSystem", "ecan-message-events"),
                             "code": event, "display": _EVENT_DISPLAY[event]}
    header["destination"] = [_destination(receiver, "primary"),
                             *(_destination(c, "cc") for c in cc)]
    header["sender"] = entry_reference(sender.entry)
    header["source"] = {"endpoint": sender.endpoint}
    if response is not None:
        header["response"] = response
    if focus is not None:
        header["focus"] = [entry_reference(focus)]
    header["definition"] = pilot_url("MessageDefinition", f"ecan-{event}")
    provenance = new_resource(ctx, "Provenance", "ecan-provenance",
                              f"{activity} sent by {sender.name}", f"Recorded {timestamp}")
    provenance["target"] = [{"reference": f"urn:uuid:{header['id']}"}]
    provenance["occurredDateTime"] = timestamp
    provenance["recorded"] = timestamp
    provenance["activity"] = {"coding": [{"system": MEDCOM_ACTIVITY_SYSTEM, "code": activity}]}
    provenance["agent"] = [{"who": entry_reference(sender.entry)}]
    if previous is not None:
        provenance["entity"] = [{"role": "revision",
                                 "what": previous_message(previous["resource"]["id"])}]
    bundle_profile = "ecan-acknowledgement" if ack else "ecan-message"
    return {
        "resourceType": "Bundle",
        "id": ctx.new_id(),
        "meta": {"profile": [pilot_url("StructureDefinition", bundle_profile)]},
        "type": "message",
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"urn:uuid:{header['id']}", "resource": header}, *entries,
                  *(_copied(p, previous) for p in copied_provenance if previous is not None),
                  {"fullUrl": f"urn:uuid:{provenance['id']}", "resource": provenance}],
    }


def resend(bundle: Mapping[str, Any], *, context: BuildContext | None = None) -> dict[str, Any]:
    """The same message for another transmission: new Bundle.id and timestamp, same letter.

    MedCom reliable messaging (DOMAIN.md §2(c).4, §2(c).6): a resend keeps MessageHeader.id (the
    receiver recognises the duplicate) and gets a new Bundle.id (never reused).

    Args:
        bundle: a message Bundle.
        context: ids and clock (default: random UUIDs, the system clock).

    Returns:
        A deep copy with a new ``id`` and ``timestamp``.

    Raises:
        BuildError: ``bundle`` is not a message Bundle.
    """
    message_header(bundle)
    ctx = context or BuildContext()
    out: dict[str, Any] = copy_json(dict(bundle))
    out["id"] = ctx.new_id()
    out["timestamp"] = ctx.timestamp()
    return out
