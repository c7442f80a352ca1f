"""StructureDefinitions against their base: a specialization's own type, a differential that
walks into a choice of several types (checks/structure_definition.py, the snapshot generator).
All definitions are synthetic.
"""

from __future__ import annotations

import pytest
from _assertions import assert_issue
from test_structure_definition import CORE, DIFF, check, errors, profile


def test_specialization_with_the_base_type_is_an_error() -> None:
    """A specialization defines a new type: its type is not its base's."""
    sd = profile("again", [{"path": "Patient"}], type_="Patient")
    sd["derivation"] = "specialization"
    assert_issue(check(sd), "StructureDefinition.type", severity="error", code="invalid",
                 fragment="defines a new type")


def test_specialization_with_its_own_type_passes() -> None:
    """A logical model specializing Element names its own type."""
    sd = profile("model", [{"path": "Model"}, {"path": "Model.name", "min": 0, "max": "1",
                                               "type": [{"code": "string"}],
                                               "short": "a name", "definition": "a name"}],
                 type_="Model", base=CORE + "Element", kind="logical")
    sd["derivation"] = "specialization"
    assert [e for e in errors(check(sd)) if e[1] == "StructureDefinition.type"] == []


def test_differential_walking_into_a_choice_of_several_types() -> None:
    """Children of value[x] need value[x] narrowed to one type first."""
    sd = profile("walk", [{"path": "Observation"}, {"path": "Observation.value[x]"},
                          {"path": "Observation.value[x].system", "fixedUri": "http://x.org"}])
    issue = assert_issue(check(sd), f"{DIFF}[2]", severity="error", code="structure",
                         fragment="has no element 'system'")
    assert issue.rule == "sd-snapshot"
    narrowed = profile("walk1", [
        {"path": "Observation"}, {"path": "Observation.value[x]", "type": [{"code": "Quantity"}]},
        {"path": "Observation.value[x].system", "fixedUri": "http://unitsofmeasure.org"}])
    assert errors(check(narrowed)) == []


@pytest.mark.parametrize(("path", "type_"), [
    ("Observation.status", "string"),  # the base allows one type (code)
    ("Observation.value[x]", "Money"),  # the base allows several
])
def test_type_the_base_does_not_allow(path: str, type_: str) -> None:
    """A differential type must be one of the base element's types."""
    sd = profile("typed", [{"path": "Observation"}, {"path": path, "type": [{"code": type_}]}])
    issue = assert_issue(check(sd), f"{DIFF}[1]", severity="error", code="business-rule",
                         fragment=f"type {type_} is not allowed by the base")
    assert issue.rule == "sd-snapshot"
