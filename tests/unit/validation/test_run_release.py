"""A validation leaves no reference cycle behind: the resources it validated, and all they
hold, are freed with the result returned (``Run.release``), not kept until the cyclic garbage
collector finds them. All data is synthetic."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Validator, pilot_registry, pilot_url

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bundles"


@pytest.fixture()
def collector_paused() -> Iterator[None]:
    """The collector off (what a validation leaves unreachable stays to be counted), and as it
    was afterwards."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    gc.set_debug(0)
    gc.garbage.clear()
    if was:
        gc.enable()


def _left_in_cycles(validate: Any) -> list[str]:
    """The validator's objects that only the cyclic collector would free after ``validate()``
    (run twice: what the first run loads once, a snapshot generated with an empty user cache
    say, may leave garbage of its own, once)."""
    validate()
    gc.collect()
    validate()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    gc.set_debug(0)
    found = sorted({type(o).__name__ for o in gc.garbage
                    if type(o).__module__.startswith("ecanfhir")})
    gc.garbage.clear()
    return found


def test_a_bundle_leaves_no_cycle(collector_paused: None) -> None:
    """A Bundle with contained resources and references between its entries."""
    validator = Validator()
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": {
            "resourceType": "Patient", "id": "p", "contained": [
                {"resourceType": "Organization", "id": "o", "name": "Synthetic clinic"}],
            "managingOrganization": {"reference": "#o"}}},
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"text": "synthetic"},
            "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"}}}]}
    assert _left_in_cycles(lambda: validator.validate(bundle)) == []


def test_a_pilot_message_with_trials_leaves_no_cycle(collector_paused: None) -> None:
    """The pilot's referral against the message profile: its slices and its Provenance's
    target are tried against profiles in trial runs, whose frames are released too."""
    validator = Validator(pilot_registry())
    message = json.loads((EXAMPLES / "cancer-case-referral.json").read_text())
    profiles = (pilot_url("StructureDefinition", "ecan-message"),)
    assert validator.validate(message, profiles=profiles).ok
    assert _left_in_cycles(lambda: validator.validate(message, profiles=profiles)) == []
