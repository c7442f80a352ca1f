"""ConceptMap groups whose source or target code system is loaded without all its codes
(ecanfhir.validation.checks.concept_map): an example or a fragment is a warning at the group's
source / target that its codes cannot be checked (the HL7 validator's
CONCEPTMAP_GROUP_SOURCE_INCOMPLETE / _TARGET_INCOMPLETE); a complete one is checked. Data is
synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _resources import NARRATIVE

from ecanfhir import Registry, Validator

CS = "http://example.org/fhir/CodeSystem/"
AT = "ConceptMap.group[0]"


def _code_system(name: str, content: str) -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "url": CS + name, "status": "active",
            "content": content, "concept": [{"code": "a"}, {"code": "b"}]}


def _found(source: str, target: str) -> list[tuple[str, str, str]]:
    registry = Registry()
    registry.add_all([_code_system("complete", "complete"), _code_system("sample", "example"),
                      _code_system("part", "fragment")])
    cm = {"resourceType": "ConceptMap", "text": NARRATIVE, "status": "draft",
          "url": "http://example.org/fhir/ConceptMap/m", "group": [{
              "source": CS + source, "target": CS + target,
              "element": [{"code": "a", "target": [{"code": "b", "equivalence": "equal"}]}]}]}
    return [(i.severity, i.code, i.expression) for i in Validator(registry).validate(cm).issues
            if i.rule.startswith("conceptmap-")]


@pytest.mark.parametrize(("source", "target", "where"), [
    ("sample", "complete", f"{AT}.source"), ("part", "complete", f"{AT}.source"),
    ("complete", "sample", f"{AT}.target"), ("complete", "part", f"{AT}.target")])
def test_incomplete_code_system_is_a_warning(source: str, target: str, where: str) -> None:
    """An example or a fragment does not hold all the codes: they cannot be checked."""
    assert _found(source, target) == [("warning", "not-found", where)]


def test_complete_code_systems_say_nothing() -> None:
    """Both sides complete: the mapped codes are checked, and here they are fine."""
    assert _found("complete", "complete") == []
