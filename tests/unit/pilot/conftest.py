"""One validator with the pilot package per test module."""

from __future__ import annotations

import pytest

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(pilot_registry())
