"""Rules on the Questionnaire resource itself (R4 questionnaire.html, invariants que-*).

All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import validate

from _assertions import assert_issue

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CONDITION = {"question": "smoker", "operator": "=", "answerBoolean": True}


def questionnaire(*conditions: dict[str, Any], **item: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft", "item": [
        {"linkId": "smoker", "type": "boolean", "text": "Do you smoke?"},
        {"linkId": "packs", "type": "integer", "text": "Packs a day",
         "enableWhen": list(conditions), **item},
    ]}


def test_que_12_two_conditions_need_enable_behavior() -> None:
    """Two enableWhen without enableBehavior break que-12 (R4 published '> 2', fixed to '> 1')."""
    second = {**CONDITION, "operator": "exists", "answerBoolean": True}
    result = validate(questionnaire(CONDITION, second))
    assert_issue(result, "Questionnaire.item[1]", severity="error", code="invariant",
                 fragment="que-12")


@pytest.mark.parametrize("conditions, behavior", [
    ((CONDITION,), None),
    ((CONDITION, CONDITION), "any"),
    ((CONDITION, CONDITION, CONDITION), "all"),
])
def test_que_12_holds(conditions: tuple[dict[str, Any], ...], behavior: str | None) -> None:
    """One enableWhen, or several with enableBehavior, satisfy que-12."""
    extra = {"enableBehavior": behavior} if behavior else {}
    result = validate(questionnaire(*conditions, **extra))
    assert [i for i in result.issues if i.rule == "que-12"] == []

