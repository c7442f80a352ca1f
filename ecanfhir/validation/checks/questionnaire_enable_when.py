"""enableWhen: whether a Questionnaire item is enabled in a QuestionnaireResponse.

R4 Questionnaire.item.enableWhen (http://hl7.org/fhir/R4/questionnaire.html): an item is enabled
when its conditions hold, all or any of them as ``enableBehavior`` says (que-12: required with
more than one condition). Each condition compares the answers to ``question`` with ``answer[x]``
by ``operator`` (``exists``, ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``). The answers are looked
for as the HL7 Java validator does: in the response instance of the nearest item enclosing both
the item and the question, so that each repetition of a group decides for itself. An
``sdc-questionnaire-enableWhenExpression`` (FHIRPath over the response) is not evaluated here,
and neither is anything undecidable: the verdict is then None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...terminology.comparison import compare
from .questionnaire_form import Chain, Form
from .questionnaire_values import SDC as _SDC
from .questionnaire_values import dicts as _dicts
from .questionnaire_values import extensions as _extensions
from .questionnaire_values import typed_value as _typed_value

__all__ = ["is_enabled"]

_ORDERED = {">": lambda c: c > 0, "<": lambda c: c < 0, ">=": lambda c: c >= 0,
            "<=": lambda c: c <= 0}


def is_enabled(form: Form, q_item: Mapping[str, Any], chain: Chain) -> bool | None:
    """Whether the item is enabled here: True, False, or None when that cannot be decided."""
    if _extensions(q_item, (_SDC + "sdc-questionnaire-enableWhenExpression",)):
        return None  # FHIRPath over the response: not evaluated here
    conditions = _dicts(q_item.get("enableWhen"))
    if not conditions:
        return True
    results = [_condition(form, str(q_item.get("linkId")), c, chain) for c in conditions]
    behaviour = q_item.get("enableBehavior")
    if len(results) == 1 or behaviour == "any":
        return True if True in results else (None if None in results else False)
    if behaviour == "all":
        return False if False in results else (None if None in results else True)
    return None  # several conditions without enableBehavior (que-12): undecidable


def _condition(form: Form, source: str, condition: Mapping[str, Any],
               chain: Chain) -> bool | None:
    question, operator = condition.get("question"), condition.get("operator")
    if not isinstance(question, str) or question not in form.index:
        return None
    given = [typed for a in _answers_for(form, source, question, chain)
             if (typed := _typed_value(a)) is not None]
    expected = _typed_value(condition, "answer")
    if expected is None:
        return None
    if operator == "exists":
        return expected[1] == bool(given) if isinstance(expected[1], bool) else None
    results = [compare(t, v, expected[0], expected[1]) for t, v in given]
    if operator == "=":
        return 0 in results
    if operator == "!=":
        return 0 not in results  # R4: "true if no answer has a value equal to" the answer
    test = _ORDERED.get(operator) if isinstance(operator, str) else None
    if test is None:
        return None
    return any(r is not None and test(r) for r in results)


def _answers_for(form: Form, source: str, question: str,
                 chain: Chain) -> list[Mapping[str, Any]]:
    # As the HL7 validator does (after chat.fhir.org "enable-when"): look for the answers in the
    # response instance of the nearest item that encloses both the item and the question, so
    # that repeated groups each decide for themselves.
    around = {question, *form.ancestors(question)}
    common = next((a for a in form.ancestors(source) if a in around), None)
    scope: Mapping[str, Any] = form.root
    if common is not None:
        scope = next((node for link, node in reversed(chain) if link == common), form.root)
    return list(_find_answers(scope, question))


def _find_answers(node: Mapping[str, Any], question: str) -> Iterator[Mapping[str, Any]]:
    answers = _dicts(node.get("answer"))
    if node.get("linkId") == question:
        yield from answers
    for child in _dicts(node.get("item")) + [c for a in answers for c in _dicts(a.get("item"))]:
        yield from _find_answers(child, question)
