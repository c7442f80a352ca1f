"""EcanTumourBoardOutcome: the tumour board's recommendation, a CarePlan answering the referral.

The focus of the ``tumour-board-outcome`` message (DOMAIN.md §2(a), §3; cf. MII
``mii-pr-onko-tumorkonferenz``): ``intent`` plan, ``category`` from ``ecan-tumour-board-type``,
``created`` the board date, the ``ecan-based-on-referral`` extension naming the EcanCancerReferral
(ties the outcome to the case; R4 ``CarePlan.basedOn`` allows only CarePlan, R5 widened it),
``addresses`` the primary cancer, one ``activity.detail`` per recommendation, coded from
``ecan-tumour-board-recommendation`` when it is one of its codes. A recommendation
``cancelled`` or ``stopped`` needs a ``statusReason`` (inv ``ecan-tb-1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .._exceptions import BuildError
from ..definitions.pilot import pilot_url
from ..formats.json_copy import copy_json
from ._context import BuildContext
from ._resource import entry_for, new_resource
from .datatypes import Coding, fhir_instant, require_aware
from .message import Party, assemble_message, entry_reference, message_header, resolve_entry

__all__ = ["BoardType", "Recommendation", "TumourBoardOutcome", "build_care_plan",
           "build_tumour_board_outcome_message"]

BoardType = Literal["pre-therapeutic", "post-operative", "post-therapeutic"]
ActivityStatus = Literal["not-started", "scheduled", "in-progress", "on-hold", "completed",
                         "cancelled", "stopped", "unknown"]
_BOARD_DISPLAY = {"pre-therapeutic": "Pre-therapeutic tumour board",
                  "post-operative": "Post-operative tumour board",
                  "post-therapeutic": "Post-therapeutic tumour board"}
_RECOMMENDATIONS = {"surgery": "Surgery", "radiotherapy": "Radiotherapy",
                    "systemic-therapy": "Systemic therapy",
                    "chemoradiotherapy": "Chemoradiotherapy",
                    "active-surveillance": "Active surveillance",
                    "palliative-care": "Best supportive / palliative care",
                    "further-diagnostics": "Further diagnostics",
                    "clinical-trial": "Clinical trial"}
_ACTIVITY_STATUSES = ("not-started", "scheduled", "in-progress", "on-hold", "completed",
                      "cancelled", "stopped", "unknown")


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended therapy (``CarePlan.activity.detail``).

    Args:
        therapy: the therapy type: a code of ``ecan-tumour-board-recommendation`` (surgery,
            radiotherapy, systemic-therapy, chemoradiotherapy, active-surveillance,
            palliative-care, further-diagnostics, clinical-trial), other text, or a Coding.
        text: the recommendation in words (e.g. "Breast-conserving surgery").
        status: the activity status.
        status_reason: why it was cancelled or stopped (required then).

    Raises:
        BuildError: empty therapy, unknown status, cancelled/stopped without a reason.

    >>> Recommendation("systemic-therapy", "Adjuvant chemotherapy", "stopped")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Recommendation.status_reason: required when ... (ecan-tb-1)
    """

    therapy: str | Coding
    text: str | None = None
    status: ActivityStatus = "not-started"
    status_reason: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.therapy, str) and not self.therapy.strip():
            raise BuildError("Recommendation.therapy: must not be empty")
        if self.status not in _ACTIVITY_STATUSES:
            raise BuildError(f"Recommendation.status: not a CarePlan activity status: "
                             f"{self.status!r}")
        if self.status in ("cancelled", "stopped") and not self.status_reason:
            raise BuildError(f"Recommendation.status_reason: required when the status is "
                             f"{self.status} (ecan-tb-1)")

    def code(self) -> dict[str, Any]:
        """The recommendation as a CodeableConcept."""
        text = self.text or (self.therapy.display if isinstance(self.therapy, Coding) else None)
        if isinstance(self.therapy, Coding):
            coding = [self.therapy.to_fhir()]
        elif self.therapy in _RECOMMENDATIONS:
            coding = [{"system": pilot_url("CodeSystem", "ecan-tumour-board-recommendation"),
                       "code": self.therapy, "display": _RECOMMENDATIONS[self.therapy]}]
        else:
            return {"text": self.text or self.therapy}
        return {"coding": coding, **({"text": text} if text else {})}


@dataclass(frozen=True, slots=True)
class TumourBoardOutcome:
    """The outcome of a tumour board conference.

    Args:
        board_type: pre-therapeutic, post-operative or post-therapeutic.
        held: when the board met (zoned datetime; ``CarePlan.created``).
        recommendations: at least one recommendation.
        status: CarePlan status.
        note: the board's summary in words.

    Raises:
        BuildError: unknown board type or status, no recommendation, naive datetime.
    """

    board_type: BoardType
    held: datetime
    recommendations: tuple[Recommendation, ...]
    status: Literal["draft", "active", "on-hold", "revoked", "completed"] = "active"
    note: str | None = None

    def __post_init__(self) -> None:
        if self.board_type not in _BOARD_DISPLAY:
            raise BuildError(f"TumourBoardOutcome.board_type: one of "
                             f"{', '.join(_BOARD_DISPLAY)}, not {self.board_type!r}")
        require_aware(self.held, "TumourBoardOutcome.held")
        if not self.recommendations or not all(isinstance(r, Recommendation)
                                               for r in self.recommendations):
            raise BuildError("TumourBoardOutcome.recommendations: a non-empty tuple of "
                             "Recommendation")
        if self.status not in ("draft", "active", "on-hold", "revoked", "completed"):
            raise BuildError(f"TumourBoardOutcome.status: not a CarePlan status for an outcome: "
                             f"{self.status!r}")


def _label(concept: Mapping[str, Any]) -> str:
    coding = (concept.get("coding") or [{}])[0]
    return str(concept.get("text") or coding.get("display") or coding.get("code"))


def build_care_plan(outcome: TumourBoardOutcome, *, subject: dict[str, Any],
                    based_on: dict[str, Any], addresses: list[dict[str, Any]],
                    author: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
    """The EcanTumourBoardOutcome CarePlan; the keyword arguments are References
    (``based_on`` → the EcanCancerReferral)."""
    lines = [f"{_BOARD_DISPLAY[outcome.board_type]}, "
             f"{fhir_instant(outcome.held, 'TumourBoardOutcome.held')}"]
    lines += [f"Recommendation: {_label(r.code())} ({r.status})" for r in outcome.recommendations]
    resource = new_resource(ctx, "CarePlan", "ecan-tumour-board-outcome", *lines,
                            outcome.note or "")
    resource["extension"] = [{"url": pilot_url("StructureDefinition", "ecan-based-on-referral"),
                              "valueReference": based_on}]
    resource["status"] = outcome.status
    resource["intent"] = "plan"
    resource["category"] = [{"coding": [{
        "system": pilot_url("CodeSystem", "ecan-tumour-board-type"), "code": outcome.board_type,
        "display": _BOARD_DISPLAY[outcome.board_type]}]}]
    resource["title"] = _BOARD_DISPLAY[outcome.board_type]
    resource["subject"] = subject
    resource["created"] = fhir_instant(outcome.held, "TumourBoardOutcome.held")
    resource["author"] = author
    resource["addresses"] = addresses
    activities = []
    for rec in outcome.recommendations:
        detail: dict[str, Any] = {"code": rec.code(), "status": rec.status}
        if rec.status_reason:
            detail["statusReason"] = {"text": rec.status_reason}
        activities.append({"detail": detail})
    resource["activity"] = activities
    if outcome.note:
        resource["note"] = [{"text": outcome.note}]
    return resource


def _referral_parts(bundle: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                        dict[str, Any], dict[str, Any]]:
    """The referral message's header, its ServiceRequest focus, sender and receiver entries."""
    header = message_header(bundle, "in_reply_to")
    if header.get("eventCoding", {}).get("code") != "cancer-case-referral":
        raise BuildError("in_reply_to: not a cancer-case-referral message")
    focus = [resolve_entry(bundle, f.get("reference", "")) for f in header.get("focus", ())]
    request = next((e for e in focus if e and e["resource"].get("resourceType")
                    == "ServiceRequest"), None)
    sender = resolve_entry(bundle, header.get("sender", {}).get("reference", ""))
    primary = [d for d in header.get("destination", ())
               if any(x.get("valueCoding", {}).get("code") == "primary"
                      for x in d.get("extension", ()))] or header.get("destination", [])[:1]
    receiver = (resolve_entry(bundle, primary[0].get("receiver", {}).get("reference", ""))
                if primary else None)
    if request is None or sender is None or receiver is None:
        raise BuildError("in_reply_to: the referral's focus ServiceRequest, sender or primary "
                         "receiver does not resolve inside the message")
    return header, request, sender, receiver


def build_tumour_board_outcome_message(outcome: TumourBoardOutcome, *,
                                       in_reply_to: Mapping[str, Any],
                                       context: BuildContext | None = None) -> dict[str, Any]:
    """A ``tumour-board-outcome`` EcanMessage answering a referral message.

    The reply goes from the referral's primary receiver back to its sender (to the referral's
    ``source.endpoint``), carries the referral's clinical resources unchanged (same ids: same
    case, same patient, same conditions), the CarePlan ``basedOn`` the referral ServiceRequest,
    the referral's Provenance and a new one (activity ``reply-message``, entity ``revision`` →
    the referral's MessageHeader).

    Args:
        outcome: the board's outcome.
        in_reply_to: the referral message Bundle.
        context: ids and clock (default: random UUIDs, the system clock).

    Returns:
        The message Bundle as R4 JSON.

    Raises:
        BuildError: ``in_reply_to`` is not a referral message this can answer.
    """
    ctx = context or BuildContext()
    header, request, sender, receiver = _referral_parts(in_reply_to)
    header_entry = in_reply_to["entry"][0]
    carried = [copy_json(dict(e)) for e in in_reply_to["entry"][1:]
               if e.get("resource", {}).get("resourceType") not in ("MessageHeader", "Provenance")]
    service_request = request["resource"]
    care_plan = build_care_plan(
        outcome, subject=dict(service_request["subject"]), based_on=entry_reference(request),
        addresses=[dict(r) for r in service_request.get("reasonReference", ())],
        author=entry_reference(receiver), ctx=ctx)
    plan_entry = entry_for(care_plan)
    provenance = [e for e in in_reply_to["entry"]
                  if e.get("resource", {}).get("resourceType") == "Provenance"]
    destination = header.get("destination", [{}])[0]
    return assemble_message(
        event="tumour-board-outcome", ctx=ctx, focus=plan_entry, entries=[plan_entry, *carried],
        sender=Party(receiver, str(destination.get("endpoint", ""))),
        receiver=Party(sender, str(header.get("source", {}).get("endpoint", ""))),
        activity="reply-message", previous=header_entry, copied_provenance=provenance)
