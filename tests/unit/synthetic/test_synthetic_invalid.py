"""Every negative case fails with exactly the rule it is labelled with, at its location.

Besides the labelled issue (and its declared twin, ``also``), the only errors allowed are the
reference consequences of the one resource touched: references *to* it failing their target
profile, or references *in* it failing type or resolution.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry
from ecanfhir.synthetic import KINDS, MUTATIONS, GeneratedFile, Kind, generate

CONSEQUENCES = {"reference-profile", "reference-type", "reference-bundle"}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(pilot_registry())


def _at(bundle: dict[str, Any], expression: str) -> Any:
    """The value at a simple FHIRPath such as ``Bundle.entry[3].resource.subject.reference``."""
    value: Any = bundle
    for step in expression.split(".")[1:]:
        match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", step)
        assert match, expression
        value = value.get(match.group(1)) if isinstance(value, dict) else None
        if match.group(2) is not None and isinstance(value, list):
            value = value[int(match.group(2))]
    return value


def _unexplained(generated: GeneratedFile, errors: set[tuple[str, str]]) -> set[tuple[str, str]]:
    expected = generated.expected
    assert expected is not None
    touched = expected.resource
    url = (_at(generated.bundle, touched.removesuffix(".resource") + ".fullUrl")
           if touched.startswith("Bundle.entry[") else None)
    rest = errors - {(expected.rule, expected.expression)} - set(expected.also)
    return {(rule, at) for rule, at in rest
            if not (rule in CONSEQUENCES and (at == touched or at.startswith(touched + ".")
                                              or (url and _at(generated.bundle, at) == url)))}


def test_enough_distinct_rules() -> None:
    """At least 12 distinct rules across the three kinds, each kind with several."""
    assert len({m.label for m in MUTATIONS}) == len(MUTATIONS) >= 12
    for kind in KINDS:
        assert len([m for m in MUTATIONS if kind in m.kinds]) >= 8


@pytest.mark.parametrize("kind", KINDS)
def test_every_negative_case_fails_with_its_label(validator: Validator, kind: Kind) -> None:
    """Two rounds over the kind's mutations (other seeds, other base cases)."""
    rounds = 2 * len([m for m in MUTATIONS if kind in m.kinds])
    seen = set()
    for generated in generate(kind, count=rounds, seed=11, invalid=True):
        expected = generated.expected
        assert expected is not None
        seen.add(expected.label)
        errors = {(i.rule, i.expression) for i in validator.validate(generated.bundle).errors}
        assert (expected.rule, expected.expression) in errors, (expected, sorted(errors))
        assert set(expected.also) <= errors
        assert _unexplained(generated, errors) == set(), expected.label
    assert seen == {m.label for m in MUTATIONS if kind in m.kinds}


def test_labels_name_rule_and_element() -> None:
    """Invariant labels are the key; structural labels are rule@Type.element."""
    for mutation in MUTATIONS:
        assert re.fullmatch(r"[a-z0-9-]+(@[A-Z][A-Za-z]+(\.[a-zA-Z]+)+)?", mutation.label)


@pytest.mark.parametrize("invalid", [False, True])
def test_unknown_kind_is_a_clear_error(invalid: bool) -> None:
    """A kind that is none of KINDS ('cancer-case-referral' for 'referral') is named in a
    ValueError, valid or invalid, rather than failing deep inside the generator."""
    with pytest.raises(ValueError, match="kind: one of referral, tumour-board-outcome, "
                                         "telemedicine, not 'cancer-case-referral'"):
        next(generate("cancer-case-referral", count=1, seed=1,  # type: ignore[arg-type]
                      invalid=invalid))
