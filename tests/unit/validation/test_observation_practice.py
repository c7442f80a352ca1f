"""The HL7 validator's best-practice advice on Observations, given with ``advice``
(checks/observation_practice.py). All resources are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, ValidationOptions, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
RULE = "observation-best-practice"


def observation(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "body weight"}, **extra}


def advice(resource: dict[str, Any], *, on: bool = True) -> list[tuple[str, str, str, str]]:
    result = Validator(Registry(), options=ValidationOptions(advice=on)).validate(resource)
    assert result.ok, result.issues  # advice never makes a resource invalid
    return [(i.severity, i.code, i.expression, i.message.rsplit(" have ", 1)[1])
            for i in result.issues if i.rule == RULE]


COMPLETE = {"subject": {"reference": "Patient/p1"}, "performer": [{"display": "a nurse"}],
            "effectiveDateTime": "2024-05-01"}


def test_observation_with_subject_performer_and_time_gets_no_advice() -> None:
    """Subject, performer and an effective time: nothing to say."""
    assert advice(observation(**COMPLETE)) == []


@pytest.mark.parametrize(("missing", "said"), [
    ("subject", "a subject"),
    ("performer", "a performer"),
    ("effectiveDateTime", "an effectiveDateTime or an effectivePeriod"),
])
def test_observation_missing_one_gets_a_warning(missing: str, said: str) -> None:
    """Each missing part is one warning at the Observation."""
    given = {k: v for k, v in COMPLETE.items() if k != missing}
    [(severity, code, where, message)] = advice(observation(**given))
    assert (severity, code, where) == ("warning", "invalid", "Observation")
    assert message.startswith(said)


def test_effective_period_or_instant_counts_as_a_time() -> None:
    """effectivePeriod (or effectiveTiming, effectiveInstant) is a time as well."""
    given = {k: v for k, v in COMPLETE.items() if k != "effectiveDateTime"}
    assert advice(observation(**given, effectiveInstant="2024-05-01T10:00:00Z")) == []


def test_no_advice_unless_asked() -> None:
    """Off by default: the specification does not ask for any of the three."""
    assert advice(observation(), on=False) == []
