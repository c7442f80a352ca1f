"""EcanPROQuestionnaireResponse: the patient's answers to the pilot's PRO questionnaire.

The answers point at the Questionnaire the pilot package ships, ``ecan-pro-symptoms`` (symptom
scores 0-10 for fatigue, pain and nausea, and free text), so any validator holding the package
checks them against it (linkIds, answer types, the 0-10 limits, required items). The response
belongs to a telemedicine consultation (``encounter``) and its patient (``subject``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._exceptions import BuildError
from ..definitions.pilot import pilot_url
from ._context import BuildContext
from ._resource import new_resource, reference_to
from .datatypes import fhir_instant, require_aware

__all__ = ["PRO_QUESTIONNAIRE", "SymptomScores", "build_pro_response"]

PRO_QUESTIONNAIRE = "ecan-pro-symptoms"
_TEXTS = {"fatigue": "Fatigue in the last 7 days (0 none - 10 worst)",
          "pain": "Pain in the last 7 days (0 none - 10 worst)",
          "nausea": "Nausea in the last 7 days (0 none - 10 worst)",
          "concerns": "Anything you want to raise in the consultation?"}


@dataclass(frozen=True, slots=True)
class SymptomScores:
    """A patient's answers to ``ecan-pro-symptoms``.

    Args:
        authored: when the patient answered, zoned.
        fatigue: 0 (none) to 10 (worst).
        pain: 0 to 10.
        nausea: 0 to 10, or None when not answered (optional in the questionnaire).
        concerns: the patient's own words, or None.

    Raises:
        BuildError: a score outside 0-10, a naive datetime, empty concerns.

    >>> from datetime import UTC
    >>> SymptomScores(datetime(2026, 11, 27, 8, 50, tzinfo=UTC), fatigue=11, pain=0)
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: SymptomScores.fatigue: a score from 0 to 10, not 11
    """

    authored: datetime
    fatigue: int
    pain: int
    nausea: int | None = None
    concerns: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.authored, "SymptomScores.authored")
        for name in ("fatigue", "pain", "nausea"):
            score = getattr(self, name)
            if score is None and name == "nausea":
                continue
            if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
                raise BuildError(f"SymptomScores.{name}: a score from 0 to 10, not {score!r}")
        if self.concerns is not None and not self.concerns.strip():
            raise BuildError("SymptomScores.concerns: give text or None")


def build_pro_response(scores: SymptomScores, *, patient: dict[str, Any],
                       encounter: dict[str, Any] | None = None,
                       context: BuildContext | None = None) -> dict[str, Any]:
    """The EcanPROQuestionnaireResponse of ``scores``, answering ``ecan-pro-symptoms``.

    Args:
        scores: the answers.
        patient: the EcanPatient resource (referenced by its ``urn:uuid``, as in a Bundle).
        encounter: the teleconsultation the answers were collected for, if any.
        context: ids (default: random UUIDs).

    >>> from datetime import UTC
    >>> qr = build_pro_response(
    ...     SymptomScores(datetime(2026, 11, 27, 8, 50, tzinfo=UTC), fatigue=3, pain=1),
    ...     patient={"resourceType": "Patient", "id": "p1"})
    >>> qr["questionnaire"]
    'https://ecanfhir.example/fhir/Questionnaire/ecan-pro-symptoms'
    >>> [item["linkId"] for item in qr["item"]]
    ['fatigue', 'pain']
    """
    ctx = context or BuildContext()
    authored = fhir_instant(scores.authored, "SymptomScores.authored")
    resource = new_resource(ctx, "QuestionnaireResponse", "ecan-pro-questionnaire-response",
                            "Patient-reported symptoms, completed", f"Answered {authored}")
    resource["questionnaire"] = pilot_url("Questionnaire", PRO_QUESTIONNAIRE)
    resource["status"] = "completed"
    resource["subject"] = reference_to(patient)
    if encounter is not None:
        resource["encounter"] = reference_to(encounter)
    resource["authored"] = authored
    answers: dict[str, dict[str, Any] | None] = {
        "fatigue": {"valueInteger": scores.fatigue}, "pain": {"valueInteger": scores.pain},
        "nausea": None if scores.nausea is None else {"valueInteger": scores.nausea},
        "concerns": None if scores.concerns is None else {"valueString": scores.concerns}}
    resource["item"] = [{"linkId": link, "text": _TEXTS[link], "answer": [answer]}
                        for link, answer in answers.items() if answer is not None]
    return resource
