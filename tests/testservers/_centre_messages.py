"""Valid pilot messages for the server tests, made with ecanfhir.builders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ecanfhir.builders import (
    BuildContext,
    CancerDiagnosis,
    Organization,
    Patient,
    PractitionerRole,
    Referral,
    TelemedicineConsultation,
    build_referral_message,
    build_telemedicine_message,
)

CENTRE = Organization("National cancer centre", sor="987654321098", gln="5790000000005")
HOSPITALS = {
    "A": Organization("Hospital A oncology", sor="123456789012", gln="5790000121526"),
    "B": Organization("Hospital B oncology", sor="223456789012", gln="5790001382445"),
}
AT = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)


def referral(case_id: str, *, seed: int, hospital: str = "A", icd10: str = "C50.4",
             at: datetime = AT, sender: Organization | None = None) -> dict[str, Any]:
    """A cancer-case-referral message for case ``case_id`` (from ``sender`` when given, else
    from ``hospital``)."""
    return build_referral_message(
        Referral(case_id, "tumour-board-review", "National tumour board assessment", at),
        sender=sender or HOSPITALS[hospital], receiver=CENTRE,
        patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10=icd10, morphology="8500/3"),
        context=BuildContext.seeded(seed, at=at))


def consultation(identifier: str, *, seed: int, status: str = "finished",
                 modality: str = "video", at: datetime = AT) -> dict[str, Any]:
    """A telemedicine-encounter message for consultation ``identifier``."""
    end = at.replace(hour=at.hour + 1) if status == "finished" else None
    return build_telemedicine_message(
        TelemedicineConsultation(identifier, modality, status, at, end),  # type: ignore[arg-type]
        sender=HOSPITALS["A"], receiver=CENTRE,
        patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
        practitioner=PractitionerRole("Onkolog", ("Olga",)),
        context=BuildContext.seeded(seed, at=at))
