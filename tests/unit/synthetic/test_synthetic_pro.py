"""Telemedicine cases with the patient's PRO answers: an EcanPROQuestionnaireResponse of the
shipped ``ecan-pro-symptoms`` in some messages, valid against it, drawn apart from the case."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry, pilot_url
from ecanfhir.synthetic import generate
from ecanfhir.synthetic._cases import draw_case


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(pilot_registry())


def _entries(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def test_some_consultations_carry_valid_pro_answers(validator: Validator) -> None:
    """Of 30 cases some, not all, send answers; each answers ecan-pro-symptoms for the
    message's encounter and patient, before the consultation began, and validates."""
    with_answers = 0
    for generated in generate("telemedicine", count=30, seed=5):
        answers = _entries(generated.bundle, "QuestionnaireResponse")
        assert len(answers) <= 1
        if not answers:
            continue
        with_answers += 1
        response = answers[0]["resource"]
        encounter = _entries(generated.bundle, "Encounter")[0]
        patient = _entries(generated.bundle, "Patient")[0]
        assert response["questionnaire"] == pilot_url("Questionnaire", "ecan-pro-symptoms")
        assert response["encounter"]["reference"] == encounter["fullUrl"]
        assert response["subject"]["reference"] == patient["fullUrl"]
        assert encounter["resource"]["status"] in ("finished", "in-progress")
        symptoms, consultation = generated.case.symptoms, generated.case.consultation
        assert symptoms is not None and consultation is not None
        assert symptoms.authored < consultation.start
        result = validator.validate(generated.bundle)
        assert [str(i) for i in result.errors] == [], generated.name
    assert 3 <= with_answers <= 25


def test_pro_answers_do_not_change_the_other_draws() -> None:
    """The answers come from their own Random: forcing them leaves the case's Random where it
    was and every other fact of the case as drawn without them."""
    plain_rng, pro_rng = random.Random(42), random.Random(42)
    plain = draw_case("telemedicine", 1, plain_rng, require={"finished"})
    with_pro = draw_case("telemedicine", 1, pro_rng, require={"finished", "pro"})
    assert with_pro.symptoms is not None
    assert dataclasses.replace(with_pro, symptoms=plain.symptoms) == plain
    assert plain_rng.getrandbits(64) == pro_rng.getrandbits(64)


def test_planned_consultations_have_no_answers_yet() -> None:
    """A consultation not held (planned, cancelled) sends no answers, even when asked for."""
    for number in range(1, 200):
        case = draw_case("telemedicine", number, random.Random(number), require={"pro"})
        assert case.consultation is not None
        if case.consultation.status not in ("finished", "in-progress"):
            assert case.symptoms is None
            return
    pytest.fail("no planned or cancelled consultation in 200 draws")
