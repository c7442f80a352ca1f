"""build_pro_response: the PRO answers point at the shipped Questionnaire and validate
against it and against EcanPROQuestionnaireResponse."""

from __future__ import annotations

from typing import Any

import pytest
from _builders_support import AT, CENTRE, DOCTOR, HOSPITAL, PATIENT, context

from ecanfhir import Validator
from ecanfhir.builders import (
    BuildError,
    SymptomScores,
    TelemedicineConsultation,
    build_pro_response,
    build_telemedicine_message,
)
from ecanfhir.definitions.pilot import pilot_url

PROFILE = pilot_url("StructureDefinition", "ecan-pro-questionnaire-response")


def _answers(scores: SymptomScores) -> dict[str, Any]:
    """The answers of the patient of a built teleconsultation, for its encounter."""
    message = build_telemedicine_message(
        TelemedicineConsultation("TC-1", "video", "finished", AT, AT.replace(hour=10)),
        sender=HOSPITAL, receiver=CENTRE, patient=PATIENT, practitioner=DOCTOR,
        context=context(7))
    found = {e["resource"]["resourceType"]: e for e in message["entry"]}
    return build_pro_response(scores, patient=found["Patient"]["resource"],
                              encounter=found["Encounter"]["resource"], context=context(8))


def test_the_answers_validate_against_the_shipped_questionnaire(validator: Validator) -> None:
    """Scores and free text answer ecan-pro-symptoms: no error, the canonical is the pilot's."""
    answers = _answers(SymptomScores(AT, fatigue=4, pain=0, nausea=2, concerns="Travel?"))
    assert answers["questionnaire"] == pilot_url("Questionnaire", "ecan-pro-symptoms")
    assert validator.registry.questionnaire(answers["questionnaire"]) is not None
    result = validator.validate(answers, profiles=[PROFILE])
    assert [str(i) for i in result.issues] == []


def test_a_score_the_questionnaire_refuses_is_reported(validator: Validator) -> None:
    """The Questionnaire's maxValue 10 is checked on the answers (qr-max-value)."""
    answers = _answers(SymptomScores(AT, fatigue=4, pain=0))
    answers["item"][1]["answer"][0]["valueInteger"] = 12
    result = validator.validate(answers, profiles=[PROFILE])
    assert [(i.rule, i.expression) for i in result.errors] == [
        ("qr-max-value", "QuestionnaireResponse.item[1].answer[0].value.ofType(integer)")]


@pytest.mark.parametrize("field", ["fatigue", "pain", "nausea"])
def test_scores_outside_0_to_10_are_refused(field: str) -> None:
    scores: dict[str, Any] = {"fatigue": 1, "pain": 1, field: -1}
    with pytest.raises(BuildError, match=f"SymptomScores.{field}"):
        SymptomScores(AT, **scores)
