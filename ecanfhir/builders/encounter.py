"""EcanTelemedicineEncounter: a virtual consultation between a cancer department and a patient.

The focus of the ``telemedicine-encounter`` message (DOMAIN.md §2(a)) and the unit KPI K2 counts:
``class`` is v3-ActCode ``VR`` (inv ``ecan-enc-1``), ``type`` the modality from
``ecan-teleconsult-modality``, ``period.end`` required once ``finished`` (inv ``ecan-enc-2``),
``serviceProvider`` the hospital department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .._exceptions import BuildError
from ..definitions.pilot import pilot_canonical, pilot_url
from ._context import BuildContext
from ._resource import entry_for, new_resource, reference_to
from .condition import CancerDiagnosis, build_condition
from .datatypes import fhir_instant, require_aware
from .message import Party, assemble_message
from .organization import Organization, build_organization
from .patient import Patient, build_patient
from .practitioner import PractitionerRole, build_practitioner_role
from .questionnaire import SymptomScores, build_pro_response

__all__ = ["EncounterStatus", "Modality", "TelemedicineConsultation", "build_encounter",
           "build_telemedicine_message"]

Modality = Literal["video", "phone", "async-message"]
EncounterStatus = Literal["planned", "in-progress", "finished", "cancelled"]
_MODALITY_DISPLAY = {"video": "Video consultation", "phone": "Telephone consultation",
                     "async-message": "Asynchronous message consultation"}


@dataclass(frozen=True, slots=True)
class TelemedicineConsultation:
    """A teleconsultation.

    Args:
        identifier: the department's id for the consultation (KPI K2 de-duplication key).
        modality: video, phone or async-message.
        status: planned, in-progress, finished or cancelled.
        start: when it started (or is planned to), zoned.
        end: when it ended, zoned; required when finished.
        identifier_system: the system of ``identifier``.

    Raises:
        BuildError: empty identifier, unknown modality/status, naive datetimes, end before
            start, finished without end.

    >>> from datetime import UTC
    >>> TelemedicineConsultation("T-1", "video", "finished", datetime(2026, 1, 1, 9, tzinfo=UTC))
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: TelemedicineConsultation.end: required when ... finished ...
    """

    identifier: str
    modality: Modality
    status: EncounterStatus
    start: datetime
    end: datetime | None = None
    identifier_system: str | None = None

    def __post_init__(self) -> None:
        if not self.identifier.strip():
            raise BuildError("TelemedicineConsultation.identifier: must not be empty")
        if self.modality not in _MODALITY_DISPLAY:
            raise BuildError(f"TelemedicineConsultation.modality: video, phone or "
                             f"async-message, not {self.modality!r}")
        if self.status not in ("planned", "in-progress", "finished", "cancelled"):
            raise BuildError(f"TelemedicineConsultation.status: planned, in-progress, finished "
                             f"or cancelled, not {self.status!r}")
        require_aware(self.start, "TelemedicineConsultation.start")
        if self.end is not None:
            require_aware(self.end, "TelemedicineConsultation.end")
            if self.end < self.start:
                raise BuildError(f"TelemedicineConsultation.end: {self.end.isoformat()} is "
                                 f"before start {self.start.isoformat()}")
        elif self.status == "finished":
            raise BuildError("TelemedicineConsultation.end: required when the status is "
                             "finished (ecan-enc-2)")


def build_encounter(consultation: TelemedicineConsultation, *, patient: dict[str, Any],
                    practitioner_role: dict[str, Any], provider: dict[str, Any],
                    conditions: list[dict[str, Any]], ctx: BuildContext) -> dict[str, Any]:
    """The EcanTelemedicineEncounter of ``consultation``."""
    resource = new_resource(ctx, "Encounter", "ecan-telemedicine-encounter",
                            f"{_MODALITY_DISPLAY[consultation.modality]} ({consultation.status})",
                            f"Start {fhir_instant(consultation.start, 'start')}")
    resource["identifier"] = [{
        "system": consultation.identifier_system or f"{pilot_canonical()}/sid/encounter-id",
        "value": consultation.identifier}]
    resource["status"] = consultation.status
    resource["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                         "code": "VR", "display": "virtual"}
    resource["type"] = [{"coding": [{
        "system": pilot_url("CodeSystem", "ecan-teleconsult-modality"),
        "code": consultation.modality, "display": _MODALITY_DISPLAY[consultation.modality]}]}]
    resource["subject"] = reference_to(patient)
    resource["participant"] = [{"individual": reference_to(practitioner_role)}]
    period = {"start": fhir_instant(consultation.start, "TelemedicineConsultation.start")}
    if consultation.end is not None:
        period["end"] = fhir_instant(consultation.end, "TelemedicineConsultation.end")
    resource["period"] = period
    if conditions:
        resource["reasonReference"] = [reference_to(c) for c in conditions]
    resource["serviceProvider"] = reference_to(provider)
    return resource


def build_telemedicine_message(consultation: TelemedicineConsultation, *, sender: Organization,
                               receiver: Organization, patient: Patient,
                               practitioner: PractitionerRole,
                               diagnosis: CancerDiagnosis | None = None,
                               symptoms: SymptomScores | None = None,
                               context: BuildContext | None = None) -> dict[str, Any]:
    """A ``telemedicine-encounter`` EcanMessage: the department reports a teleconsultation.

    Args:
        consultation: the consultation (the message focus, an Encounter of class VR).
        sender: the hospital cancer department (``serviceProvider``).
        receiver: the organisation collecting the reports (e.g. the national cancer centre).
        patient: the patient.
        practitioner: the clinician who held the consultation, acting for ``sender``.
        diagnosis: the cancer the consultation is about (``reasonReference``).
        symptoms: the patient's PRO answers for the consultation, sent as an
            EcanPROQuestionnaireResponse of ``ecan-pro-symptoms`` (the last resource entry).
        context: ids and clock (default: random UUIDs, the system clock).

    Returns:
        The message Bundle as R4 JSON.

    Raises:
        BuildError: sender and receiver are the same organisation.
    """
    ctx = context or BuildContext()
    if sender.sor == receiver.sor:
        raise BuildError("receiver: the same organisation (SOR) as the sender")
    sender_org, receiver_org = build_organization(sender, ctx), build_organization(receiver, ctx)
    patient_res = build_patient(patient, ctx)
    people = build_practitioner_role(practitioner, sender_org, ctx)
    conditions = [build_condition(diagnosis, patient_res, ctx)] if diagnosis else []
    encounter = build_encounter(consultation, patient=patient_res, practitioner_role=people[-1],
                                provider=sender_org, conditions=conditions, ctx=ctx)
    answers = [] if symptoms is None else [build_pro_response(
        symptoms, patient=patient_res, encounter=encounter, context=ctx)]
    entries = [entry_for(r) for r in (encounter, sender_org, receiver_org, patient_res, *people,
                                      *conditions, *answers)]
    return assemble_message(event="telemedicine-encounter", ctx=ctx, focus=entries[0],
                            entries=entries, sender=Party(entries[1], sender.address),
                            receiver=Party(entries[2], receiver.address))
