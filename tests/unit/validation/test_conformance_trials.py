"""Conformance trials (ecanfhir.validation._conformance.conformance): a value is walked into a
trial run to learn whether it meets a profile. Only whether the trial meets an error counts, so
the first error ends it; a trial without one keeps what it could not check. All data is
synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, Validator
from ecanfhir.validation._conformance import conformance
from ecanfhir.validation._context import Frame, Run
from ecanfhir.validation._issue import Issue

PATIENT = {"resourceType": "Patient", "id": "p1"}
PROFILE = constraint("trial-patient", "Patient", element("Patient.active", min=1))


def _run() -> tuple[Run, Frame]:
    registry = Registry()
    registry.add(PROFILE)
    validator = Validator(registry)
    return (Run(validator.schema, validator.terminology, validator.options),
            Frame(PATIENT, "Patient", "Patient"))


def test_a_trial_ends_at_its_first_error() -> None:
    steps: list[str] = []

    def walk(trial: Run, *_: Any) -> None:
        trial.issues.append(Issue.warning("informational", "Patient", "a note"))
        steps.append("warning kept")
        trial.issues.extend([Issue.error("required", "Patient.active", "missing")])
        steps.append("walked on after an error")

    run, frame = _run()
    assert conformance(run, frame, PATIENT, EXAMPLE + "trial-patient", walk=walk) == (False, ())
    assert steps == ["warning kept"]


def test_an_error_added_as_to_a_plain_list_still_fails_the_trial() -> None:
    """Compiled code appends to a list[Issue] as to a list, past the trial's own append: the
    error does not end the walk, and still decides the verdict."""
    steps: list[str] = []

    def walk(trial: Run, *_: Any) -> None:
        list.append(trial.issues, Issue.error("required", "Patient.active", "missing"))
        list.extend(trial.issues, [Issue.warning("informational", "Patient", "a note")])
        steps.append("walked on")

    run, frame = _run()
    assert conformance(run, frame, PATIENT, EXAMPLE + "trial-patient", walk=walk) == (False, ())
    assert steps == ["walked on"]


def test_a_trial_without_an_error_keeps_what_it_could_not_check() -> None:
    def walk(trial: Run, *_: Any) -> None:
        trial.issues.append(Issue.warning("informational", "Patient", "a note"))
        trial.unchecked.extend(["value set A", "value set A", "value set B"])

    run, frame = _run()
    verdict = conformance(run, frame, PATIENT, EXAMPLE + "trial-patient", walk=walk)
    assert verdict == (True, ("value set A", "value set B"))


def test_the_verdict_of_a_failed_trial_is_kept_for_the_run() -> None:
    calls: list[int] = []

    def walk(trial: Run, *_: Any) -> None:
        calls.append(1)
        trial.issues.append(Issue.error("required", "Patient.active", "missing"))

    run, frame = _run()
    for _ in range(2):
        assert conformance(run, frame, PATIENT, EXAMPLE + "trial-patient", walk=walk)[0] is False
    assert calls == [1]


def test_a_slice_by_profile_still_finds_the_value_that_conforms() -> None:
    """Through the walker: a reference to a Patient without ``active`` fails the profile's
    trial at its first error, and the referring element reports the profile it misses."""
    registry = Registry()
    registry.add(PROFILE)
    registry.add(constraint("trial-observation", "Observation", element(
        "Observation.subject", type=[{"code": "Reference",
                                      "targetProfile": [EXAMPLE + "trial-patient"]}])))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Observation", "status": "final",
                      "meta": {"profile": [EXAMPLE + "trial-observation"]},
                      "code": {"text": "synthetic"},
                      "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000002"}}},
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002",
         "resource": {"resourceType": "Patient"}}]}
    result = Validator(registry).validate(bundle)
    issue = next(i for i in result.errors if i.rule == "reference-profile")
    assert issue.expression == "Bundle.entry[0].resource.subject.reference"
    bundle["entry"][1]["resource"]["active"] = True  # type: ignore[index]
    assert not [i for i in Validator(registry).validate(bundle).errors
                if i.rule == "reference-profile"]


CODED = constraint("trial-coded-observation", "Observation", element(
    "Observation.code", patternCodeableConcept={"coding": [{"system": "http://example.org/codes",
                                                            "code": "a"}]}),
                   element("Observation.status", fixedCode="final"))


def _observation(code: str, status: str = "final") -> dict[str, Any]:
    return {"resourceType": "Observation", "status": status,
            "text": {"status": "generated",
                     "div": '<div xmlns="http://www.w3.org/1999/xhtml">synthetic</div>'},
            "code": {"coding": [{"system": "http://example.org/codes", "code": code}]}}


def _trial(value: dict[str, Any], monkeypatch: Any) -> tuple[bool, list[str]]:
    """conformance() of ``value`` to CODED through the walker's trial walk; the paths of the
    objects the trial walked."""
    from ecanfhir.validation import _walk

    registry = Registry()
    registry.add(CODED)
    validator = Validator(registry)
    run = Run(validator.schema, validator.terminology, validator.options)
    walked: list[str] = []
    walk_object = _walk._walk_object

    def spy(run: Run, obj: Any, node: Any, type_code: Any, path: str, *args: Any,
            **kwargs: Any) -> None:
        walked.append(path)
        walk_object(run, obj, node, type_code, path, *args, **kwargs)

    monkeypatch.setattr(_walk, "_walk_object", spy)
    verdict = _walk.conforms(run, Frame(value, "Observation", "Observation"), value,
                             EXAMPLE + "trial-coded-observation")
    return verdict, walked


@pytest.mark.interpreted_only("ecanfhir.validation._walk")
def test_a_trial_compares_top_level_fixed_and_pattern_values_first(monkeypatch: Any) -> None:
    """Another code (a pattern) or status (a fixed value) ends the trial before the walk."""
    assert _trial(_observation("b"), monkeypatch) == (False, [])
    assert _trial(_observation("a", status="amended"), monkeypatch) == (False, [])
    verdict, walked = _trial(_observation("a"), monkeypatch)
    assert verdict is True and "Observation.text" in walked


def test_the_first_comparison_changes_no_verdict() -> None:
    """Through validate(): the slice-free profile's verdicts as the walk proper decides them."""
    registry = Registry()
    registry.add(CODED)
    validator = Validator(registry)
    url = EXAMPLE + "trial-coded-observation"
    wrong = validator.validate(_observation("b"), profiles=[url])
    assert [(i.rule, i.expression) for i in wrong.errors] == [("pattern", "Observation.code")]
    assert validator.validate(_observation("a"), profiles=[url]).ok
