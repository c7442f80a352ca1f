"""EcanTNMStageGroup, EcanTNMCategory and EcanECOGPerformanceStatus (DOMAIN.md §2(a), §4.4, §5.4).

TNM: clinical vs pathological through the LOINC category codes mCODE uses (21905-5/21899-0 T,
21906-3/21900-6 N, 21907-1/21901-4 M, 21908-9/21902-2 stage group); values are UICC codes (no
AJCC content, §4.7); ``method`` names the staging system and edition; every TNM observation has
``focus`` → the primary cancer condition, and the stage group lists T, N and M in ``hasMember``.
ECOG: LOINC 89247-1 with ``valueInteger`` 0–5 and the LOINC answer (LL529-9) as interpretation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .._exceptions import BuildError
from ..definitions.pilot import pilot_url
from ._context import BuildContext
from ._resource import new_resource, reference_to
from .datatypes import fhir_date_time, require_aware

__all__ = ["LOINC_SYSTEM", "UICC_SYSTEM", "Ecog", "TnmStage", "build_ecog", "build_tnm"]

LOINC_SYSTEM = "http://loinc.org"
UICC_SYSTEM = "https://www.uicc.org/resources/tnm"
# (clinical, pathological) LOINC codes per TNM part.
_TNM_LOINC = {"T": ("21905-5", "21899-0"), "N": ("21906-3", "21900-6"),
              "M": ("21907-1", "21901-4"), "stage": ("21908-9", "21902-2")}
_TNM_VALUE = {"T": re.compile(r"^T(X|0|is|[1-4][a-d]?)$"), "N": re.compile(r"^N(X|[0-3][a-c]?)$"),
              "M": re.compile(r"^M(X|0|1[a-d]?)$")}
_STAGE = re.compile(r"^(0|0is|0a|I{1,3}V?[ABC]?[1-3]?|IV[ABC]?|occult)$")
# LOINC answer list LL529-9 (ECOG performance status), index = score.
_ECOG_ANSWERS = (
    ("LA9622-7", "Fully active, able to carry on all pre-disease performance without restriction"),
    ("LA9623-5", "Restricted in physically strenuous activity but ambulatory and able to carry "
                 "out work of a light or sedentary nature, e.g., light house work, office work"),
    ("LA9624-3", "Ambulatory and capable of all selfcare but unable to carry out any work "
                 "activities. Up and about more than 50% of waking hours"),
    ("LA9625-0", "Capable of only limited selfcare, confined to bed or chair more than 50% of "
                 "waking hours"),
    ("LA9626-8", "Completely disabled. Cannot carry on any selfcare. Totally confined to bed or "
                 "chair"),
    ("LA9627-6", "Dead"),
)


def _effective(value: date | datetime, field: str) -> str:
    if isinstance(value, datetime):
        require_aware(value, field)
    return fhir_date_time(value, field)


@dataclass(frozen=True, slots=True)
class TnmStage:
    """A TNM classification (UICC) of the primary cancer.

    Args:
        stage_group: UICC stage, e.g. ``IIA``.
        assessed: when staged (date or zoned datetime).
        t: T category (``T2``), n: N category (``N1a``), m: M category (``M0``); each optional.
        pathological: pTNM (True) or cTNM (False).
        y_prefix: staged after neoadjuvant therapy (ypTNM / ycTNM).
        edition: UICC edition number.

    Raises:
        BuildError: malformed stage or category, naive datetime.

    >>> TnmStage("IIA", date(2026, 11, 20), t="T2", n="N0", m="M0").stage_group
    'IIA'
    """

    stage_group: str
    assessed: date | datetime
    t: str | None = None
    n: str | None = None
    m: str | None = None
    pathological: bool = False
    y_prefix: bool = False
    edition: int = 8

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage_group):
            raise BuildError(f"TnmStage.stage_group: not a UICC stage (0, I..IV with A-C): "
                             f"{self.stage_group!r}")
        for part, value in (("T", self.t), ("N", self.n), ("M", self.m)):
            if value is not None and not _TNM_VALUE[part].match(value):
                raise BuildError(f"TnmStage.{part.lower()}: not a UICC {part} category: "
                                 f"{value!r}")
        if isinstance(self.assessed, datetime):
            require_aware(self.assessed, "TnmStage.assessed")
        if not 1 <= self.edition <= 20:
            raise BuildError(f"TnmStage.edition: not a UICC edition: {self.edition}")


def _tnm_observation(stage: TnmStage, part: str, value: str, patient: dict[str, Any],
                     condition: dict[str, Any], ctx: BuildContext, *,
                     performer: dict[str, Any] | None) -> dict[str, Any]:
    kind = "pathological" if stage.pathological else "clinical"
    prefix = ("y" if stage.y_prefix else "") + ("p" if stage.pathological else "c")
    loinc = _TNM_LOINC[part][1 if stage.pathological else 0]
    profile = "ecan-tnm-stage-group" if part == "stage" else "ecan-tnm-category"
    label = (f"{kind} stage group" if part == "stage" else f"{kind} {part} category")
    resource = new_resource(ctx, "Observation", profile, f"{label}: {prefix}{value}")
    if stage.y_prefix:
        resource["extension"] = [{"url": pilot_url("StructureDefinition", "ecan-tnm-prefix"),
                                  "valueCode": "y"}]
    # A category, as a result listed in a patient summary's Results section needs one (the EU
    # patient summary holds every Observation there to medicalTestResult-eu-core, category
    # 1..1): pathological staging is a pathology result (IPS: laboratory), clinical staging
    # the clinician's examination of the findings.
    set_final_category(resource, "laboratory" if stage.pathological else "exam")
    resource["code"] = {"coding": [{"system": LOINC_SYSTEM, "code": loinc}], "text": label}
    resource["subject"] = reference_to(patient)
    resource["focus"] = [reference_to(condition)]
    resource["effectiveDateTime"] = _effective(stage.assessed, "TnmStage.assessed")
    _add_performer(resource, performer)
    resource["valueCodeableConcept"] = {"coding": [{"system": UICC_SYSTEM, "code": value}]}
    resource["method"] = {"text": f"UICC TNM Classification of Malignant Tumours, "
                                  f"{stage.edition}th edition"}
    return resource


def build_tnm(stage: TnmStage, patient: dict[str, Any], condition: dict[str, Any],
              ctx: BuildContext, *, performer: dict[str, Any] | None = None
              ) -> list[dict[str, Any]]:
    """The stage-group Observation first, then its T, N and M category Observations;
    ``performer`` (who staged) is referenced from each."""
    group = _tnm_observation(stage, "stage", stage.stage_group, patient, condition, ctx,
                             performer=performer)
    members = [_tnm_observation(stage, part, value, patient, condition, ctx, performer=performer)
               for part, value in (("T", stage.t), ("N", stage.n), ("M", stage.m)) if value]
    if members:
        group["hasMember"] = [reference_to(m) for m in members]
    return [group, *members]


@dataclass(frozen=True, slots=True)
class Ecog:
    """An ECOG performance status.

    Args:
        score: 0 (fully active) to 5 (dead).
        assessed: when assessed (date or zoned datetime).

    Raises:
        BuildError: score outside 0–5, naive datetime.

    >>> Ecog(7, date(2026, 11, 20))
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Ecog.score: ECOG is 0-5, not 7
    """

    score: int
    assessed: date | datetime

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int) \
                or not 0 <= self.score <= 5:
            raise BuildError(f"Ecog.score: ECOG is 0-5, not {self.score!r}")
        if isinstance(self.assessed, datetime):
            require_aware(self.assessed, "Ecog.assessed")


def build_ecog(ecog: Ecog, patient: dict[str, Any], ctx: BuildContext, *,
               performer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The EcanECOGPerformanceStatus Observation of ``ecog`` (assessed by ``performer``)."""
    answer, display = _ECOG_ANSWERS[ecog.score]
    resource = new_resource(ctx, "Observation", "ecan-ecog-performance-status",
                            f"ECOG performance status {ecog.score}: {display}")
    set_final_category(resource, "survey")
    resource["code"] = {"coding": [{"system": LOINC_SYSTEM, "code": "89247-1",
                                    "display": "ECOG Performance Status score"}]}
    resource["subject"] = reference_to(patient)
    resource["effectiveDateTime"] = _effective(ecog.assessed, "Ecog.assessed")
    _add_performer(resource, performer)
    resource["valueInteger"] = ecog.score
    resource["interpretation"] = [{"coding": [{"system": LOINC_SYSTEM, "code": answer,
                                               "display": display}]}]
    return resource


def set_final_category(observation: dict[str, Any], category: str) -> None:
    """A final Observation of the observation-category code ``category``."""
    observation["status"] = "final"
    observation["category"] = [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
        "code": category}]}]


def _add_performer(observation: dict[str, Any], performer: dict[str, Any] | None) -> None:
    """Who made the observation: MedCom's medcom-core-observation requires ``performer``
    (1..*), so an observation sent in a MedCom message names the staging department or
    clinician."""
    if performer is not None:
        observation["performer"] = [reference_to(performer)]
