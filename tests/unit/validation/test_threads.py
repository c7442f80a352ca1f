"""One Validator shared by many threads (the mock centre validates from a pool) gives each
message the verdict it gets alone: compiled definitions are built once, never mixed."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from ecanfhir import ValidationResult, Validator, pilot_registry
from ecanfhir.synthetic import generate


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """Make threads switch every microsecond, so that races show up in a short test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_switches")
def test_a_fresh_validator_shared_by_threads_reports_no_false_error() -> None:
    """16 valid messages validated at once by a new Validator: no error in any."""
    messages = [f.bundle for kind in ("referral", "telemedicine")
                for f in generate(kind, count=8, seed=3)]
    for _ in range(3):
        validator = Validator(pilot_registry())
        results: list[ValidationResult | None] = [None] * len(messages)

        def work(i: int, validator: Validator = validator,
                 results: list[ValidationResult | None] = results) -> None:
            results[i] = validator.validate(messages[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(messages))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.errors for r in results if r is None or r.errors] == []
