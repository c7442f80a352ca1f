"""Best-practice advice on Observations: who, about whom, and when.

Nothing in R4 requires an Observation to name its subject, its performer or its time, but the
HL7 Java validator (``ObservationValidator.validateObservation``) recommends all three on every
Observation, at its best-practice level (a warning by default): "Best Practice
Recommendation: In general, all observations should have a subject / a performer / an
effectiveDateTime or an effectivePeriod" (effectiveTiming and effectiveInstant count too).
ecanfhir gives the same advice, as warnings at the Observation; they never make it invalid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._issue import Issue

__all__ = ["check_observation_practice"]

_RULE = "observation-best-practice"
_EFFECTIVE = ("effectiveDateTime", "effectivePeriod", "effectiveTiming", "effectiveInstant")


def check_observation_practice(observation: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """Warnings for an Observation without subject, performer or effective time.

    >>> [i.message[:40] for i in check_observation_practice(
    ...     {"resourceType": "Observation", "subject": {"reference": "Patient/1"},
    ...      "effectiveDateTime": "2024-01-01"}, "Observation")]
    ['best practice: in general, all observati']
    """
    if not _present(observation, "subject"):
        yield _advice(at, "a subject")
    if not _present(observation, "performer"):
        yield _advice(at, "a performer")
    if not any(_present(observation, name) for name in _EFFECTIVE):
        yield _advice(at, "an effectiveDateTime or an effectivePeriod (or effectiveTiming, "
                      "effectiveInstant)")


def _present(observation: Mapping[str, Any], name: str) -> bool:
    # an element given only through its "_name" companion (extensions) is present too
    return observation.get(name) not in (None, []) or f"_{name}" in observation


def _advice(at: str, what: str) -> Issue:
    return Issue.warning("invalid", at, f"best practice: in general, all observations should "
                         f"have {what}", _RULE)
