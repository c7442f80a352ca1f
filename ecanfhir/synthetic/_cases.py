"""One synthetic case: clinical facts drawn from a seeded ``random.Random``, then built.

A case is drawn as builder *inputs* (:mod:`ecanfhir.builders` dataclasses), so the builders'
own checks run on every generated case, and the facts stay inspectable for tests (shares,
morphology per site, TNM per stage, date order). Dates are Danish wall-clock times with their
CET/CEST offset, in this order: diagnosis ≤ staging ≤ referral ≤ referral sent ≤ tumour board ≤
outcome sent; a teleconsultation starts after the diagnosis and ends after it starts.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from ..builders import (
    BuildContext,
    CancerDiagnosis,
    Ecog,
    Metastasis,
    Organization,
    Patient,
    PractitionerRole,
    Recommendation,
    Referral,
    SymptomScores,
    TelemedicineConsultation,
    TnmStage,
    TumourBoardOutcome,
    TumourMarker,
    build_referral_message,
    build_telemedicine_message,
    build_tumour_board_outcome_message,
)
from ._people import (
    CENTRE,
    DEPARTMENTS,
    copenhagen,
    fictitious_cpr,
    foreign_identifier,
    person_name,
    practitioner,
)
from ._sites import MORPHOLOGY_BY_CODE, SITES, CancerSite, draw_tnm

__all__ = ["KINDS", "Kind", "SyntheticCase", "draw_case"]

Kind = Literal["referral", "tumour-board-outcome", "telemedicine"]
KINDS: tuple[Kind, ...] = ("referral", "tumour-board-outcome", "telemedicine")
# Features a negative case may need in the valid case it mutates.
Feature = Literal["stage", "ecog", "cpr", "authorisation", "finished", "morphology", "pro"]

FOREIGN_SHARE = 0.12
MODALITIES = (("video", 0.5), ("phone", 0.4), ("async-message", 0.1))
ENCOUNTER_STATUSES = (("finished", 0.85), ("planned", 0.07), ("cancelled", 0.05),
                      ("in-progress", 0.03))
PRO_SHARE = 0.4     # held consultations whose patient answered ecan-pro-symptoms beforehand
_CONCERNS = ("Can I travel abroad during treatment?", "Trouble sleeping at night.",
             "When will I know the scan results?", "Is the tiredness normal?")
_FIRST_DAY, _DAYS = date(2025, 1, 1), 546  # diagnoses from 2025-01-01 to 2026-06-30
_ECOG_EARLY = (0.5, 0.3, 0.12, 0.06, 0.02)  # ECOG 0-4; 5 (dead) is never drawn for a living
_ECOG_LATE = (0.25, 0.35, 0.2, 0.12, 0.08)  # patient who is referred or consulted
# Serum tumour markers per site: LOINC code, display, UCUM unit, range drawn from.
MARKERS: dict[str, tuple[str, str, str, tuple[float, float]]] = {
    "breast": ("6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma", "U/mL", (5, 120)),
    "prostate": ("2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", "ng/mL",
                 (0.5, 80)),
    "colorectal": ("2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma", "ng/mL",
                   (1, 60)),
    "ovary": ("10334-1", "Cancer Ag 125 [Units/volume] in Serum or Plasma", "U/mL", (10, 900)),
    "pancreas": ("24108-3", "Cancer Ag 19-9 [Units/volume] in Serum or Plasma", "U/mL",
                 (5, 800)),
    "liver": ("1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma", "ng/mL",
              (2, 900)),
    "testis": ("1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma", "ng/mL",
               (2, 500)),
}
# Where metastases are found (ICD-10 secondary neoplasm codes).
METASTASIS_SITES = (("C78.7", "Secondary malignant neoplasm of liver"),
                    ("C79.5", "Secondary malignant neoplasm of bone and bone marrow"),
                    ("C78.0", "Secondary malignant neoplasm of lung"),
                    ("C79.3", "Secondary malignant neoplasm of brain and cerebral meninges"))
_CANCEL_REASONS = ("Patient declined the treatment", "Contraindicated (comorbidity)")


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """The facts of one generated case and the builder inputs they became."""

    kind: Kind
    number: int
    site: CancerSite
    country: str
    patient: Patient
    diagnosis: CancerDiagnosis
    stage: TnmStage | None
    ecog: Ecog | None
    sender: Organization
    clinician: PractitionerRole
    cc: tuple[Organization, ...]
    referral: Referral | None
    referral_sent: datetime | None
    outcome: TumourBoardOutcome | None
    outcome_sent: datetime | None
    consultation: TelemedicineConsultation | None
    consultation_sent: datetime | None
    id_seed: int
    markers: tuple[TumourMarker, ...] = ()
    metastases: tuple[Metastasis, ...] = ()
    symptoms: SymptomScores | None = None

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """The case's message Bundles, each with its role (``referral``, ``outcome``,
        ``telemedicine``): ids from ``id_seed``, clocks at the drawn send times."""
        if self.consultation is not None and self.consultation_sent is not None:
            return [("telemedicine", build_telemedicine_message(
                self.consultation, sender=self.sender, receiver=CENTRE, patient=self.patient,
                practitioner=self.clinician, diagnosis=self.diagnosis, symptoms=self.symptoms,
                context=BuildContext.seeded(self.id_seed, at=self.consultation_sent)))]
        assert self.referral is not None and self.referral_sent is not None
        referral = build_referral_message(
            self.referral, sender=self.sender, receiver=CENTRE, patient=self.patient,
            diagnosis=self.diagnosis, requester=self.clinician, stage=self.stage, ecog=self.ecog,
            cc=self.cc, markers=self.markers, metastases=self.metastases,
            context=BuildContext.seeded(self.id_seed, at=self.referral_sent))
        if self.outcome is None or self.outcome_sent is None:
            return [("referral", referral)]
        outcome = build_tumour_board_outcome_message(
            self.outcome, in_reply_to=referral,
            context=BuildContext.seeded(self.id_seed + 1, at=self.outcome_sent))
        return [("referral", referral), ("outcome", outcome)]


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _at(day: date, rng: random.Random, first: int = 8, last: int = 15) -> datetime:
    """A Danish working-hours time on ``day``."""
    return copenhagen(datetime.combine(day, time(rng.randint(first, last), rng.randrange(60))))


def _patient(rng: random.Random, site: CancerSite, diagnosed: date, *, danish: bool
             ) -> tuple[str, Patient]:
    male = site.sex == "male" if site.sex else rng.random() >= site.female_share
    age_days = int(max(22.0, min(95.0, rng.gauss(67, 11))) * 365.25) + rng.randrange(365)
    birth = diagnosed - timedelta(days=age_days)
    gender: Any = "male" if male else "female"
    if danish:
        family, given = person_name("DK", male, rng)
        return "DK", Patient(family, given, cpr=fictitious_cpr(birth, male, rng), gender=gender)
    country, ident = foreign_identifier(birth, rng)
    family, given = person_name(country, male, rng)
    return country, Patient(family, given, foreign_identifier=ident, gender=gender,
                            birth_date=birth if rng.random() < 0.8 else None)


def _diagnosis(rng: random.Random, site: CancerSite, diagnosed: date, in_situ: bool
               ) -> CancerDiagnosis:
    codes = site.codes
    icd10, topography, _ = rng.choices(codes, weights=[c[2] for c in codes])[0]
    morphology = MORPHOLOGY_BY_CODE.get(icd10) or _weighted(rng, site.morphologies)
    if in_situ:  # ductal carcinoma in situ: ICD-10 D05.1, behaviour /2
        icd10, morphology = "D05.1", "8500/2"
    laterality: Any = None
    if site.paired:
        laterality = ("bilateral" if site.bilateral and rng.random() < 0.02
                      else rng.choice(("left", "right")))
    return CancerDiagnosis(diagnosed, icd10=icd10, morphology=morphology, laterality=laterality,
                           body_site=topography)


def _recommendations(rng: random.Random, site: CancerSite, numeral: str | None
                     ) -> tuple[Recommendation, ...]:
    if numeral is None:
        therapies = ["surgery", "chemoradiotherapy"] if site.key == "brain" else [
            "systemic-therapy"]
    elif numeral in ("0", "I"):
        therapies = (["active-surveillance"] if site.key == "prostate" and rng.random() < 0.5
                     else ["surgery"])
        if site.key == "breast" and rng.random() < 0.7:
            therapies.append("radiotherapy")
    elif numeral == "II":
        therapies = ["surgery", "systemic-therapy"]
    elif numeral == "III":
        therapies = ["chemoradiotherapy"] if rng.random() < 0.5 else ["systemic-therapy",
                                                                      "surgery"]
        if rng.random() < 0.15:
            therapies.insert(0, "further-diagnostics")
    else:
        therapies = ["systemic-therapy"] + (["palliative-care"] if rng.random() < 0.4 else [])
    if rng.random() < 0.1:
        therapies.append("clinical-trial")
    out = []
    for therapy in therapies:
        status: Any = _weighted(rng, (("not-started", 0.8), ("scheduled", 0.15),
                                      ("cancelled", 0.05)))
        reason = rng.choice(_CANCEL_REASONS) if status == "cancelled" else None
        out.append(Recommendation(therapy, status=status, status_reason=reason))
    return tuple(out)


def _consultation(rng: random.Random, number: int, diagnosed: date, require: Collection[str]
                  ) -> tuple[TelemedicineConsultation, datetime]:
    modality: Any = _weighted(rng, MODALITIES)
    status: Any = "finished" if "finished" in require else _weighted(rng, ENCOUNTER_STATUSES)
    start = _at(diagnosed + timedelta(days=rng.randint(7, 200)), rng)
    minutes = rng.randint(120, 72 * 60) if modality == "async-message" else rng.randint(8, 45)
    end = copenhagen(start.replace(tzinfo=None) + timedelta(minutes=minutes))
    if status == "finished":
        sent = copenhagen(end.replace(tzinfo=None) + timedelta(minutes=rng.randint(10, 600)))
    elif status == "in-progress":
        sent = copenhagen(start.replace(tzinfo=None) + timedelta(minutes=rng.randint(1, 5)))
    else:
        sent = copenhagen(start.replace(tzinfo=None) - timedelta(days=rng.randint(1, 14)))
    consultation = TelemedicineConsultation(
        f"SYN-TC-{start.year}-{number:06d}", modality, status, start,
        end if status == "finished" else None)
    return consultation, sent


def _symptoms(consultation: TelemedicineConsultation, id_seed: int, require: Collection[str]
              ) -> SymptomScores | None:
    """The patient's PRO answers, given half a day to two days before a consultation that
    was held (finished or in progress, so they are sent after they were given), for about
    :data:`PRO_SHARE` of them. Drawn from their own ``Random`` (seeded by the case), so the
    other draws of a case do not depend on them."""
    rng = random.Random(f"pro:{id_seed}")
    if consultation.status not in ("finished", "in-progress") or (
            "pro" not in require and rng.random() >= PRO_SHARE):
        return None
    answered = copenhagen(consultation.start.replace(tzinfo=None)
                          - timedelta(minutes=rng.randint(30, 48 * 60)))
    fatigue, pain = (round(rng.triangular(0, 10, 3)) for _ in range(2))
    nausea = round(rng.triangular(0, 10, 1)) if rng.random() < 0.7 else None
    concerns = rng.choice(_CONCERNS) if rng.random() < 0.3 else None
    return SymptomScores(answered, fatigue=fatigue, pain=pain, nausea=nausea, concerns=concerns)


def draw_case(kind: Kind, number: int, rng: random.Random, *,
              require: Collection[str] = (), site: CancerSite | None = None,
              danish: bool | None = None) -> SyntheticCase:
    """Draw case ``number`` of ``kind`` from ``rng``; ``require`` forces features a negative
    case needs (TNM staging, ECOG, a CPR number, an authorisation id, a finished encounter,
    PRO answers);
    ``site`` and ``danish`` fix the cancer site and the patient's origin (``ecanfhir align``
    covers every branch this way), else they are drawn with their shares."""
    sites = [s for s in SITES if s.tnm] if "stage" in require else list(SITES)
    drawn = rng.choices(sites, weights=[s.share for s in sites])[0]
    site = drawn if site is None else site
    diagnosed = _FIRST_DAY + timedelta(days=rng.randrange(_DAYS))
    if danish is None:
        danish = "cpr" in require or rng.random() >= FOREIGN_SHARE
    country, patient = _patient(rng, site, diagnosed, danish=danish)
    in_situ = site.key == "breast" and rng.random() < 0.05
    diagnosis = _diagnosis(rng, site, diagnosed, in_situ)
    sender = rng.choice(DEPARTMENTS)
    clinician = practitioner(rng, "Consultant oncologist")
    while "authorisation" in require and clinician.authorisation_id is None:
        clinician = practitioner(rng, "Consultant oncologist")
    common: dict[str, Any] = {
        "kind": kind, "number": number, "site": site, "country": country, "patient": patient,
        "diagnosis": diagnosis, "sender": sender, "clinician": clinician,
        "id_seed": rng.getrandbits(63)}
    if kind == "telemedicine":
        consultation, sent = _consultation(rng, number, diagnosed, require)
        return SyntheticCase(**common, stage=None, ecog=None, cc=(), referral=None,
                             referral_sent=None, outcome=None, outcome_sent=None,
                             consultation=consultation, consultation_sent=sent,
                             symptoms=_symptoms(consultation, common["id_seed"], require))
    staged_on = diagnosed + timedelta(days=rng.randint(0, 14))
    stage = None
    if site.tnm:
        t, n, m, group = draw_tnm(rng, site, in_situ=in_situ)
        pathological = rng.random() < 0.4
        stage = TnmStage(group, staged_on, t=t, n=n, m=m, pathological=pathological,
                         y_prefix=pathological and rng.random() < 0.1)
    authored = _at(staged_on + timedelta(days=rng.randint(1, 21)), rng)
    ecog = None
    if "ecog" in require or rng.random() < 0.9:
        late = stage is None or stage.stage_group.startswith(("III", "IV"))
        score = rng.choices(range(5), weights=_ECOG_LATE if late else _ECOG_EARLY)[0]
        ecog = Ecog(score, diagnosed + timedelta(days=rng.randint(0, (authored.date()
                                                                       - diagnosed).days)))
    board_day = authored.date() + timedelta(days=rng.randint(3, 21))
    others = [d for d in DEPARTMENTS if d.sor != sender.sor]
    referral = Referral(
        f"SYN-{authored.year}-{number:06d}",
        rng.choices(("tumour-board-review", "second-opinion", "treatment-transfer"),
                    weights=(0.75, 0.2, 0.05))[0],
        "National tumour board assessment", authored,
        priority=rng.choices(("routine", "urgent", "asap"), weights=(0.7, 0.25, 0.05))[0],
        requested_date=board_day if rng.random() < 0.5 else None)
    referral_sent = copenhagen(authored.replace(tzinfo=None)
                               + timedelta(minutes=rng.randint(5, 120)))
    outcome = outcome_sent = None
    if kind == "tumour-board-outcome":
        held = _at(board_day, rng, 13, 15)
        numeral = stage.stage_group.rstrip("ABC") if stage else None
        board: Any = _weighted(rng, (("pre-therapeutic", 0.7), ("post-operative", 0.2),
                                     ("post-therapeutic", 0.1)))
        outcome = TumourBoardOutcome(board, held, _recommendations(rng, site, numeral),
                                     note="Synthetic case: recommendation of the national "
                                          "tumour board")
        outcome_sent = copenhagen(held.replace(tzinfo=None)
                                  + timedelta(minutes=rng.randint(60, 48 * 60)))
    markers, metastases = _findings(site, stage, diagnosed, authored.date(), common["id_seed"])
    return SyntheticCase(**common, stage=stage, ecog=ecog,
                         cc=(rng.choice(others),) if rng.random() < 0.08 else (),
                         referral=referral, referral_sent=referral_sent, outcome=outcome,
                         outcome_sent=outcome_sent, consultation=None, consultation_sent=None,
                         markers=markers, metastases=metastases)


def _findings(site: CancerSite, stage: TnmStage | None, diagnosed: date, authored: date,
              id_seed: int) -> tuple[tuple[TumourMarker, ...], tuple[Metastasis, ...]]:
    """A tumour marker for about half the cases of a site that has one; metastases when the
    cancer is M1. Drawn from their own ``Random`` (seeded by the case), so the other draws of
    a case do not depend on them."""
    rng = random.Random(f"findings:{id_seed}")
    days = (authored - diagnosed).days  # both found between the diagnosis and the referral
    markers: tuple[TumourMarker, ...] = ()
    if site.key in MARKERS and rng.random() < 0.5:
        loinc, display, unit, (low, high) = MARKERS[site.key]
        value = round(rng.uniform(low, high), 1)
        markers = (TumourMarker(loinc, display, value, unit,
                                diagnosed + timedelta(days=rng.randint(0, days))),)
    metastases: tuple[Metastasis, ...] = ()
    if stage is not None and stage.m is not None and stage.m.startswith("M1"):
        count = rng.choice((1, 1, 2))
        metastases = tuple(Metastasis(code, text, diagnosed + timedelta(days=rng.randint(0, days)))
                           for code, text in rng.sample(METASTASIS_SITES, count))
    return markers, metastases
