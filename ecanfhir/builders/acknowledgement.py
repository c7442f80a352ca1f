"""The acknowledgement message (DOMAIN.md §2(c), MedCom Acknowledgement 2.0.3 rules 1:1).

An EcanAcknowledgement answers exactly one EcanMessage: ``MessageHeader.response.identifier`` is
the original MessageHeader.id, ``response.code`` ``ok`` (AA) | ``transient-error`` (AE: the
sender MAY resend) | ``fatal-error`` (AR: do not resend unchanged); when not ``ok`` an
OperationOutcome with MedCom acknowledgement error codes explains why (``response.details``,
MedCom ``medcom-acknowledgement-1``). It goes back to the original sender (at its
``source.endpoint``), never to a cc, and carries the original message's Provenance plus a new
one (activity ``acknowledgement``, entity ``revision`` → the original MessageHeader). An
acknowledgement is never acknowledged (KR2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import entry_for, new_resource, reference_to
from .message import Party, assemble_message, message_header, resolve_entry
from .organization import Organization, build_organization

__all__ = ["ACK_ERROR_SYSTEM", "AckErrorCode", "AckIssue", "ResponseCode",
           "build_acknowledgement"]

ACK_ERROR_SYSTEM = ("http://medcomfhir.dk/ig/terminology/CodeSystem/"
                    "medcom-acknowledgement-error-codes")
ResponseCode = Literal["ok", "transient-error", "fatal-error"]
AckErrorCode = Literal["MSG_Receiver_Identifier_UNKNOWN", "MSG_Receiver_Identifier_MISSING",
                       "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", "MSG_VALUESET_VALUE_UNKNOWN",
                       "MSG_CodeSystem_VALUE_UNKNOWN", "MSG_Element_To_Long",
                       "MSG_Datatype_Wrong", "MSG_Mailbox_Out_Of_Operation",
                       "MSG_Damaged_durin_transport"]
_ERROR_CODES = ("MSG_Receiver_Identifier_UNKNOWN", "MSG_Receiver_Identifier_MISSING",
                "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", "MSG_VALUESET_VALUE_UNKNOWN",
                "MSG_CodeSystem_VALUE_UNKNOWN", "MSG_Element_To_Long", "MSG_Datatype_Wrong",
                "MSG_Mailbox_Out_Of_Operation", "MSG_Damaged_durin_transport")
_SEVERITIES = ("fatal", "error", "warning", "information")


@dataclass(frozen=True, slots=True)
class AckIssue:
    """One reason in a negative (or annotated) acknowledgement.

    Args:
        error_code: a MedCom acknowledgement error code (the MedCom spelling, typos included).
        diagnostics: free text for the sender's support staff.
        severity: OperationOutcome issue severity.
        code: OperationOutcome issue type (``invalid``, ``transient``, …).

    Raises:
        BuildError: unknown error code or severity.

    >>> AckIssue("MSG_Datatype_Wrong", "Bundle.timestamp lacks a time zone").severity
    'error'
    """

    error_code: AckErrorCode
    diagnostics: str | None = None
    severity: Literal["fatal", "error", "warning", "information"] = "error"
    code: str = "invalid"

    def __post_init__(self) -> None:
        if self.error_code not in _ERROR_CODES:
            raise BuildError(f"AckIssue.error_code: not a MedCom acknowledgement error code: "
                             f"{self.error_code!r}")
        if self.severity not in _SEVERITIES:
            raise BuildError(f"AckIssue.severity: not an issue severity: {self.severity!r}")

    def to_fhir(self) -> dict[str, Any]:
        """The OperationOutcome.issue of this reason."""
        issue: dict[str, Any] = {"severity": self.severity, "code": self.code,
                                 "details": {"coding": [{"system": ACK_ERROR_SYSTEM,
                                                         "code": self.error_code}]}}
        if self.diagnostics:
            issue["diagnostics"] = self.diagnostics
        return issue


def _primary_destination(header: Mapping[str, Any]) -> Mapping[str, Any]:
    destination: Mapping[str, Any]
    for destination in header.get("destination", ()):
        uses = [x.get("valueCoding", {}).get("code") for x in destination.get("extension", ())]
        if "primary" in uses:
            return destination
    destinations: list[Mapping[str, Any]] = header.get("destination") or [{}]
    return destinations[0]


def build_acknowledgement(original_bundle: Mapping[str, Any], code: ResponseCode = "ok", *,
                          issues: Sequence[AckIssue] = (), sender: Organization | None = None,
                          context: BuildContext | None = None) -> dict[str, Any]:
    """The acknowledgement of ``original_bundle``.

    Args:
        original_bundle: the EcanMessage being acknowledged.
        code: ``ok``, ``transient-error`` or ``fatal-error``.
        issues: why (required unless ``ok``; allowed with ``ok``, e.g. a valid duplicate).
        sender: the acknowledging organisation; default the original primary receiver (its
            Organization resource is reused).
        context: ids and clock (default: random UUIDs, the system clock).

    Returns:
        The acknowledgement message Bundle as R4 JSON.

    Raises:
        BuildError: the original is not a message, is itself an acknowledgement, its sender or
            primary receiver does not resolve, a non-ok code without issues, unknown code.
    """
    ctx = context or BuildContext()
    header = message_header(original_bundle, "original_bundle")
    if code not in ("ok", "transient-error", "fatal-error"):
        raise BuildError(f"code: ok, transient-error or fatal-error, not {code!r}")
    if code != "ok" and not issues:
        raise BuildError(f"issues: a {code} acknowledgement needs at least one AckIssue "
                         "(MedCom medcom-acknowledgement-1)")
    if header.get("response") is not None or \
            header.get("eventCoding", {}).get("code") == "acknowledgement":
        raise BuildError("original_bundle: an acknowledgement SHALL NOT be acknowledged (KR2)")
    original_sender = resolve_entry(original_bundle, header.get("sender", {}).get("reference", ""))
    destination = _primary_destination(header)
    receiver_entry = resolve_entry(original_bundle,
                                   destination.get("receiver", {}).get("reference", ""))
    if original_sender is None or receiver_entry is None:
        raise BuildError("original_bundle: MessageHeader.sender or the primary receiver does not "
                         "resolve inside the message")
    if sender is not None:
        ack_sender = Party(entry_for(build_organization(sender, ctx)), sender.address)
    else:
        ack_sender = Party(receiver_entry, str(destination.get("endpoint", "")))
    ack_receiver = Party(original_sender, str(header.get("source", {}).get("endpoint", "")))
    provenance = [e for e in original_bundle["entry"]
                  if e.get("resource", {}).get("resourceType") == "Provenance"
                  and any(t.get("reference") in (original_bundle["entry"][0].get("fullUrl"),
                                                 f"MessageHeader/{header['id']}")
                          for t in e["resource"].get("target", ()))]
    entries = [ack_sender.entry, ack_receiver.entry]
    entries += _organizations_of(original_bundle, provenance, {e["fullUrl"] for e in entries})
    response: dict[str, Any] = {"identifier": header["id"], "code": code}
    if issues:
        outcome = new_resource(ctx, "OperationOutcome", "ecan-acknowledgement-outcome",
                               *(f"{i.severity}: {i.error_code}"
                                 f"{' - ' + i.diagnostics if i.diagnostics else ''}"
                                 for i in issues))
        outcome["issue"] = [i.to_fhir() for i in issues]
        entries.append(entry_for(outcome))
        response["details"] = reference_to(outcome)
    return assemble_message(event="acknowledgement", ctx=ctx, sender=ack_sender,
                            receiver=ack_receiver, entries=entries, activity="acknowledgement",
                            previous=original_bundle["entry"][0], copied_provenance=provenance,
                            response=response)


def _organizations_of(bundle: Mapping[str, Any], provenance: Sequence[Mapping[str, Any]],
                      present: set[str]) -> list[dict[str, Any]]:
    """The entries the copied Provenance's agents name that are not already in the ack."""
    out = []
    for entry in provenance:
        for agent in entry["resource"].get("agent", ()):
            ref = agent.get("who", {}).get("reference", "")
            target = resolve_entry(bundle, ref)
            if target is not None and target["fullUrl"] not in present:
                present.add(target["fullUrl"])
                out.append(target)
    return out
