"""ConceptMap resources (ecanfhir.validation.checks.concept_map): mapped codes checked against
the group's source and target code systems when they are loaded.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. The maps are synthetic, between two core code systems.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
GENDER = "http://hl7.org/fhir/administrative-gender"
V3_GENDER = "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
AT = "ConceptMap.group[0]"


def concept_map(group: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ConceptMap", "text": NARRATIVE, "status": "draft",
            "url": "http://example.net/ConceptMap/gender", "group": [group]}


def found(group: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((i.severity, i.code, i.expression) for i in validate(concept_map(group)).issues
                  if i.rule.startswith("conceptmap-"))


def element(code: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, **extra, "target": [{"code": target, "equivalence": "equal"}]}


def test_map_between_known_codes_is_valid() -> None:
    """male -> M and female -> F exist in their code systems."""
    group = {"source": GENDER, "target": V3_GENDER,
             "element": [element("male", "M", display="Male"), element("female", "F")]}
    assert found(group) == []


def test_codes_not_in_their_code_systems_are_errors() -> None:
    """'mael' is no administrative-gender code, 'X' no v3 gender code."""
    group = {"source": GENDER, "target": V3_GENDER, "element": [element("mael", "X")]}
    assert found(group) == [("error", "code-invalid", f"{AT}.element[0].code"),
                            ("error", "code-invalid", f"{AT}.element[0].target[0].code")]


def test_wrong_display_is_a_warning() -> None:
    """The display of a mapped code is the code system's."""
    group = {"source": GENDER, "target": V3_GENDER,
             "element": [element("male", "M", display="Gentleman")]}
    group["element"][0]["target"][0]["display"] = "Gentleman"
    assert found(group) == [("warning", "invalid", f"{AT}.element[0].display"),
                            ("warning", "invalid", f"{AT}.element[0].target[0].display")]


@pytest.mark.parametrize(("group", "expected"), [
    ({"element": [element("male", "M")]}, [("warning", "required", AT)] * 2),
    ({"source": "http://example.net/cs/missing", "target": V3_GENDER,
      "element": [element("anything", "M")]},
     [("warning", "not-found", f"{AT}.source")]),
    ({"source": GENDER, "target": "http://example.net/cs/missing",
      "element": [element("male", "anything")]},
     [("warning", "not-found", f"{AT}.target")]),
])
def test_systems_that_cannot_be_checked_are_warnings(group: dict[str, Any],
                                                     expected: list[tuple[str, str, str]]) -> None:
    """No system, or one not loaded: the codes are not checked, which is said."""
    assert found(group) == expected
