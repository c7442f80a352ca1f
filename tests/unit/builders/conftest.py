"""Fixtures of the builder tests: one validator with the pilot package, built messages."""

from __future__ import annotations

from typing import Any

import pytest
from _builders_support import (
    CENTRE,
    DIAGNOSIS,
    DOCTOR,
    ECOG,
    GP,
    HOSPITAL,
    OUTCOME,
    PATIENT,
    REFERRAL,
    STAGE,
    context,
)

from ecanfhir import Validator
from ecanfhir.builders import build_referral_message, build_tumour_board_outcome_message
from ecanfhir.definitions.pilot import pilot_registry


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator(pilot_registry())


@pytest.fixture
def referral_message() -> dict[str, Any]:
    return build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE, patient=PATIENT,
                                  diagnosis=DIAGNOSIS, requester=DOCTOR, stage=STAGE, ecog=ECOG,
                                  cc=[GP], context=context(1))


@pytest.fixture
def outcome_message(referral_message: dict[str, Any]) -> dict[str, Any]:
    return build_tumour_board_outcome_message(OUTCOME, in_reply_to=referral_message,
                                              context=context(2))
