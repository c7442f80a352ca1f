"""EcanCancerReferral: the ServiceRequest a hospital sends to the national cancer centre.

It is the focus of the ``cancer-case-referral`` message (DOMAIN.md §2(a)): ``identifier`` is the
sender's case id (the KPI K1 de-duplication key), ``category`` the reason from
``ecan-referral-reason``, ``reasonReference`` the primary cancer condition, ``supportingInfo``
the staging and performance-status observations, ``performer`` the receiving centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from .._exceptions import BuildError
from ..definitions.pilot import pilot_canonical, pilot_url
from ._context import BuildContext
from ._resource import entry_for, new_resource, reference_to
from .condition import CancerDiagnosis, build_condition
from .datatypes import fhir_date_time, fhir_instant, require_aware
from .message import Party, assemble_message
from .metastasis import Metastasis, build_secondary_condition
from .observation import Ecog, TnmStage, build_ecog, build_tnm
from .organization import Organization, build_organization
from .patient import Patient, build_patient
from .practitioner import PractitionerRole, build_practitioner_role
from .tumour_marker import TumourMarker, build_tumour_marker

__all__ = ["Priority", "Referral", "ReferralReason", "build_referral_message",
           "build_service_request", "case_id_system"]

ReferralReason = Literal["tumour-board-review", "second-opinion", "treatment-transfer"]
Priority = Literal["routine", "urgent", "asap", "stat"]
_REASONS = ("tumour-board-review", "second-opinion", "treatment-transfer")
_REASON_DISPLAY = {"tumour-board-review": "Tumour board review",
                   "second-opinion": "Second opinion", "treatment-transfer": "Treatment transfer"}


def case_id_system() -> str:
    """The default identifier system for case ids assigned by a sender (under the pilot canonical).

    >>> case_id_system()
    'https://ecanfhir.example/fhir/sid/case-id'
    """
    return f"{pilot_canonical()}/sid/case-id"


@dataclass(frozen=True, slots=True)
class Referral:
    """A cancer-case referral (the clinical request itself).

    Args:
        case_id: the sender's case id, stable across messages about the case.
        reason: why the case is referred (``ecan-referral-reason``).
        requested_service: the service asked for, in words.
        authored: when the referral was written (zoned datetime).
        priority: routine, urgent, asap or stat.
        note: free text for the receiving team.
        requested_date: the wanted board/assessment date.
        case_id_system: the identifier system of ``case_id``.

    Raises:
        BuildError: empty case id or service, unknown reason or priority, naive datetimes.

    >>> from datetime import UTC
    >>> Referral("K-1", "second-opinion", "MDT", datetime(2026, 1, 1, 9, tzinfo=UTC)).priority
    'routine'
    """

    case_id: str
    reason: ReferralReason
    requested_service: str
    authored: datetime
    priority: Priority = "routine"
    note: str | None = None
    requested_date: date | datetime | None = None
    case_id_system: str | None = None

    def __post_init__(self) -> None:
        if not self.case_id.strip():
            raise BuildError("Referral.case_id: must not be empty (it is the KPI dedup key)")
        if self.reason not in _REASONS:
            raise BuildError(f"Referral.reason: one of {', '.join(_REASONS)}, not "
                             f"{self.reason!r}")
        if not self.requested_service.strip():
            raise BuildError("Referral.requested_service: must not be empty")
        require_aware(self.authored, "Referral.authored")
        if self.priority not in ("routine", "urgent", "asap", "stat"):
            raise BuildError(f"Referral.priority: routine, urgent, asap or stat, not "
                             f"{self.priority!r}")
        if isinstance(self.requested_date, datetime):
            require_aware(self.requested_date, "Referral.requested_date")
        if self.requested_date is not None:
            wanted = (self.requested_date.date() if isinstance(self.requested_date, datetime)
                      else self.requested_date)
            if wanted < self.authored.date():
                raise BuildError(f"Referral.requested_date: {wanted} is before the referral "
                                 f"was authored ({self.authored.date()})")


def build_service_request(referral: Referral, *, patient: dict[str, Any],
                          requester: dict[str, Any], performer: dict[str, Any],
                          conditions: list[dict[str, Any]], supporting: list[dict[str, Any]],
                          ctx: BuildContext) -> dict[str, Any]:
    """The EcanCancerReferral ServiceRequest of ``referral``."""
    resource = new_resource(ctx, "ServiceRequest", "ecan-cancer-referral",
                            f"Referral ({_REASON_DISPLAY[referral.reason]}): "
                            f"{referral.requested_service}", f"Case {referral.case_id}")
    resource["identifier"] = [{"system": referral.case_id_system or case_id_system(),
                               "value": referral.case_id}]
    resource["status"] = "active"
    resource["intent"] = "order"
    resource["category"] = [{"coding": [{
        "system": pilot_url("CodeSystem", "ecan-referral-reason"), "code": referral.reason,
        "display": _REASON_DISPLAY[referral.reason]}]}]
    resource["priority"] = referral.priority
    resource["code"] = {"text": referral.requested_service}
    resource["subject"] = reference_to(patient)
    if referral.requested_date is not None:
        resource["occurrenceDateTime"] = fhir_date_time(referral.requested_date,
                                                        "Referral.requested_date")
    resource["authoredOn"] = fhir_instant(referral.authored, "Referral.authored")
    resource["requester"] = reference_to(requester)
    resource["performer"] = [reference_to(performer)]
    resource["reasonReference"] = [reference_to(c) for c in conditions]
    if supporting:
        resource["supportingInfo"] = [reference_to(s) for s in supporting]
    if referral.note:
        resource["note"] = [{"text": referral.note}]
    return resource


def build_referral_message(referral: Referral, *, sender: Organization, receiver: Organization,
                           patient: Patient, diagnosis: CancerDiagnosis,
                           requester: PractitionerRole | None = None,
                           stage: TnmStage | None = None, ecog: Ecog | None = None,
                           cc: Sequence[Organization] = (),
                           markers: Sequence[TumourMarker] = (),
                           metastases: Sequence[Metastasis] = (),
                           context: BuildContext | None = None) -> dict[str, Any]:
    """A ``cancer-case-referral`` EcanMessage: hospital department → national cancer centre.

    Args:
        referral: the request (case id, reason, service, date).
        sender: the referring department (also the requester when ``requester`` is None).
        receiver: the national cancer centre (primary destination, the performer).
        patient: the patient.
        diagnosis: the primary cancer.
        requester: the referring clinician, acting for ``sender``.
        stage: TNM staging, as supporting information.
        ecog: performance status, as supporting information.
        cc: organisations receiving a carbon copy.
        markers: tumour marker results, as supporting information.
        metastases: known secondary cancers, as supporting information.
        context: ids and clock (default: random UUIDs, the system clock).

    Returns:
        The message Bundle as R4 JSON.

    Raises:
        BuildError: ``cc`` repeats the sender or receiver.

    >>> from datetime import UTC, date, datetime
    >>> at = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
    >>> bundle = build_referral_message(
    ...     Referral("CASE-1", "tumour-board-review", "Tumour board assessment", at),
    ...     sender=Organization("Hospital oncology", sor="123456789012", gln="5790000121526"),
    ...     receiver=Organization("National cancer centre", sor="987654321098",
    ...                           gln="5790001382445"),
    ...     patient=Patient("Testpatient", ("Bruno",), cpr="2512489996"),
    ...     diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4"),
    ...     context=BuildContext.seeded(1, at=at))
    >>> [e["resource"]["resourceType"] for e in bundle["entry"]][:2]
    ['MessageHeader', 'ServiceRequest']
    """
    ctx = context or BuildContext()
    sors = [sender.sor, receiver.sor, *(c.sor for c in cc)]
    if len(set(sors)) != len(sors):
        raise BuildError("cc: an organisation appears twice among sender, receiver and cc")
    sender_org, receiver_org = build_organization(sender, ctx), build_organization(receiver, ctx)
    cc_orgs = [build_organization(c, ctx) for c in cc]
    patient_res = build_patient(patient, ctx)
    people = build_practitioner_role(requester, sender_org, ctx) if requester else []
    condition = build_condition(diagnosis, patient_res, ctx)
    assessor = people[-1] if people else sender_org
    observations = (build_tnm(stage, patient_res, condition, ctx, performer=assessor)
                    if stage else [])
    if observations:
        condition["stage"] = [{"assessment": [reference_to(observations[0])]}]
    if ecog:
        observations.append(build_ecog(ecog, patient_res, ctx, performer=assessor))
    findings = [*(build_tumour_marker(m, patient_res, condition, ctx, performer=assessor)
                  for m in markers),
                *(build_secondary_condition(m, patient_res, condition, ctx) for m in metastases)]
    supporting = ([observations[0]] if stage else []) + ([observations[-1]] if ecog else []) \
        + findings
    request = build_service_request(
        referral, patient=patient_res, requester=assessor,
        performer=receiver_org, conditions=[condition], supporting=supporting, ctx=ctx)
    resources = [request, sender_org, receiver_org, *cc_orgs, patient_res, *people, condition,
                 *observations, *findings]
    entries = [entry_for(r) for r in resources]
    by_id = {e["resource"]["id"]: e for e in entries}
    return assemble_message(
        event="cancer-case-referral", ctx=ctx, focus=entries[0], entries=entries,
        sender=Party(by_id[sender_org["id"]], sender.address),
        receiver=Party(by_id[receiver_org["id"]], receiver.address),
        cc=[Party(by_id[o["id"]], c.address) for o, c in zip(cc_orgs, cc, strict=True)])
