"""QuestionnaireResponse answers checked against their Questionnaire (R4 "Validation" rules).

R4 QuestionnaireResponse (http://hl7.org/fhir/R4/questionnaireresponse.html, "Validation")
says a response must follow the Questionnaire it claims: its linkIds are the Questionnaire's,
nested and ordered as there (the children of a question go under ``answer.item``), and each
answer has the type the item's ``type`` asks for. The Questionnaire
(http://hl7.org/fhir/R4/questionnaire.html) adds the rest: ``required`` (only while the item is
enabled), ``repeats``, ``answerOption`` and ``answerValueSet``, ``enableWhen`` with
``enableBehavior``, ``maxLength``, ``effectivePeriod``, and the value constraints of the core
and SDC extensions (minValue/maxValue, maxDecimalPlaces, minLength, regex, min/maxOccurs,
unitOption/unitValueSet, referenceResource, mimeType/maxSize; checked in
``questionnaire_values``).

The response's own structure (JSON form, cardinality, qrs-1) is checked elsewhere. Rules and
severities follow the HL7 Java validator's ``QuestionnaireValidator``: a Questionnaire that
cannot be found is a warning (information for example.org) and stops the check; missing
required answers are warnings while the response is ``in-progress`` (here also ``stopped`` and
``entered-in-error``); a code the offline terminology cannot judge is not an error; item text
that differs from the Questionnaire's is an error.

This module checks the items (linkIds, order, place, repeats, required, min/maxOccurs, text,
effectivePeriod); the Questionnaire is found and indexed in ``questionnaire_form``, enableWhen is
decided in ``questionnaire_enable_when``, and each answer is checked in ``questionnaire_answers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import Registry
from ...terminology.comparison import compare_dates
from ...terminology.value_sets import Terminology
from .._issue import Issue
from .json_values import array
from .questionnaire_answers import check_answer
from .questionnaire_enable_when import is_enabled
from .questionnaire_form import Chain, Form, Resolve, find_questionnaire, index_items
from .questionnaire_values import EXT as _EXT
from .questionnaire_values import dicts as _dicts
from .questionnaire_values import extension_value as _extension_value
from .questionnaire_values import int_value as _int

__all__ = ["check_questionnaire_response"]

_LENIENT_STATUS = frozenset({"in-progress", "stopped", "entered-in-error"})


def check_questionnaire_response(
    qr: Mapping[str, Any], at: str, *, registry: Registry, terminology: Terminology,
    resolve: Resolve | None = None,
) -> Iterator[Issue]:
    """Check a QuestionnaireResponse's items and answers against its Questionnaire.

    Args:
        qr: the QuestionnaireResponse (JSON).
        at: its FHIRPath location, e.g. ``QuestionnaireResponse`` or
            ``Bundle.entry[2].resource``; issue expressions start with it.
        registry: where ``qr.questionnaire`` (a canonical, maybe ``|version``) is looked up.
        terminology: checks answers against ``answerValueSet`` and unit value sets.
        resolve: optional fallback for canonicals the registry lacks (e.g. Bundle entries).

    Returns:
        The issues found; nothing but a warning when the Questionnaire cannot be found.

    >>> q = {"resourceType": "Questionnaire", "url": "http://example.com/q", "status": "active",
    ...      "item": [{"linkId": "age", "type": "integer", "required": True}]}
    >>> reg = Registry(); reg.add(q)
    >>> qr = {"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.com/q",
    ...       "status": "completed", "item": [{"linkId": "age", "answer": [{"valueString": "9"}]}]}
    >>> [i.expression for i in check_questionnaire_response(
    ...     qr, "QuestionnaireResponse", registry=reg, terminology=Terminology(reg))]
    ['QuestionnaireResponse.item[0].answer[0].value.ofType(string)']
    """
    canonical = qr.get("questionnaire")
    if not isinstance(canonical, str) or not canonical:
        yield Issue.information("informational", at, "the response names no Questionnaire, so its "
                                "answers were not checked against one", "qr-questionnaire")
        return
    found = find_questionnaire(qr, canonical, registry, resolve)
    if found is None:
        example = re.match(r"https?://example\.org", canonical) is not None
        where = "contained in the response" if canonical.startswith("#") else "loaded"
        yield Issue("information" if example else "warning", "not-found", f"{at}.questionnaire",
                    f"the Questionnaire '{canonical}' is not {where}, so answers were not "
                    "checked against it", "qr-questionnaire")
        return
    questionnaire, contained = found
    form = Form(questionnaire, canonical, contained, terminology, registry, resolve, qr,
                 strict=not (isinstance(qr.get("status"), str)
                             and qr["status"] in _LENIENT_STATUS))
    index_items(form, _dicts(questionnaire.get("item")), None)
    yield from _check_period(questionnaire, qr.get("authored"), at)
    yield from _check_items(form, qr.get("item"), _dicts(questionnaire.get("item")), at, (),
                            required_on=True)


def _check_period(questionnaire: Mapping[str, Any], authored: object, at: str) -> Iterator[Issue]:
    period = questionnaire.get("effectivePeriod")
    if not isinstance(authored, str) or not isinstance(period, Mapping):
        return
    for bound, word, sign in (("start", "before the start", -1), ("end", "after the end", 1)):
        limit = period.get(bound)
        if isinstance(limit, str) and compare_dates(authored, limit) == sign:
            yield Issue.warning("business-rule", f"{at}.authored", f"the response was authored "
                                f"on '{authored}', {word} of the Questionnaire's effective period "
                                f"('{limit}')", "qr-effective-period")


# -- items ---------------------------------------------------------------------------------
def _check_items(form: Form, value: object, q_items: list[Mapping[str, Any]], at: str,
                 chain: Chain, *, required_on: bool) -> Iterator[Issue]:
    """Check the response items of one level against the Questionnaire items of that level."""
    position = {q["linkId"]: n for n, q in enumerate(q_items) if isinstance(q.get("linkId"), str)}
    present: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    last = -1
    for i, item in enumerate(array(value)):
        link_id = item.get("linkId") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not isinstance(link_id, str):
            continue  # a missing linkId is a cardinality error, reported elsewhere
        path = f"{at}.item[{i}]"
        if link_id in position:
            if position[link_id] < last:
                yield Issue.error("structure", path, f"the item '{link_id}' is out of order: items "
                                  "must follow the order of the Questionnaire", "qr-item-order")
            last = max(last, position[link_id])
            present.setdefault(link_id, []).append((path, item))
        elif link_id in form.index:
            where = form.parent.get(link_id)
            yield Issue.error("structure", path, f"the item '{link_id}' is in the wrong place: in "
                              "the Questionnaire it is " + (f"inside item '{where}'" if where
                                                            else "a top-level item"),
                              "qr-item-place")
            yield from _check_instance(form, form.index[link_id], item, path, chain,
                                       required=False, enabled=None)
        else:
            yield Issue.error("not-found", f"{path}.linkId", f"the linkId '{link_id}' is not "
                              f"defined in the Questionnaire '{form.label}'", "qr-item-unknown")
    for q_item in q_items:
        link_id = q_item.get("linkId")
        if isinstance(link_id, str):
            yield from _check_q_item(form, q_item, present.get(link_id, []), at, chain,
                                     required_on=required_on)


def _check_q_item(form: Form, q_item: Mapping[str, Any],
                  instances: list[tuple[str, Mapping[str, Any]]], at: str, chain: Chain, *,
                  required_on: bool) -> Iterator[Issue]:
    link_id = str(q_item["linkId"])
    enabled = is_enabled(form, q_item, chain)
    required = required_on and enabled is True and q_item.get("required") is True
    if not instances:
        if required:
            yield form.required_issue(at, f"the required item '{link_id}' is missing")
        return
    group = q_item.get("type") == "group"
    if len(instances) > 1 and q_item.get("repeats") is not True:
        yield Issue.error("structure", instances[1][0], f"the item '{link_id}' appears "
                          f"{len(instances)} times, but it does not repeat in the Questionnaire",
                          "qr-item-repeats")
    if group:
        yield from _check_occurs(form, q_item, len(instances), instances[0][0], "repetitions",
                                 check_min=enabled is True and required_on)
    for path, item in instances:
        if enabled is False and _has_answers(item):
            yield Issue.error("business-rule", path, f"the item '{link_id}' has answers, but "
                              "its enableWhen conditions are not met, so it is disabled and must "
                              "not be answered", "qr-enable-when")
        yield from _check_instance(form, q_item, item, path, chain, required=required,
                                   enabled=enabled)


def _check_instance(form: Form, q_item: Mapping[str, Any], item: Mapping[str, Any], at: str,
                    chain: Chain, *, required: bool, enabled: bool | None) -> Iterator[Issue]:
    link_id = str(q_item.get("linkId"))
    kind = q_item.get("type")
    text = item.get("text")
    if isinstance(text, str) and text != q_item.get("text"):
        expected = q_item.get("text")
        yield Issue.error("invalid", f"{at}.text", f"the text '{text}' differs from the text of "
                          f"item '{link_id}' in the Questionnaire (" + (
                              f"'{expected}'" if isinstance(expected, str) else "none") + ")",
                          "qr-item-text")
    answers, children = array(item.get("answer")), array(item.get("item"))
    inner: Chain = (*chain, (link_id, item))
    child_required = enabled is not False
    if not isinstance(kind, str):
        # Questionnaire.item.type is 1..1; without it no answer can be judged (HL7 validator:
        # Questionnaire_QR_Item_NoType, an error).
        yield Issue.error("required", at, f"the item '{link_id}' of the Questionnaire has no "
                          "type, so its answers cannot be checked", "qr-item-no-type")
        return
    if kind in ("group", "display"):
        if answers:
            yield Issue.error("structure", at, f"the item '{link_id}' is a {kind}, so it cannot "
                              f"have answers (found {len(answers)})", f"qr-{kind}-answer")
        if kind == "display" and children:
            yield Issue.error("structure", at, f"the item '{link_id}' is a display item, so it "
                              "cannot contain items", "qr-display-items")
        if kind == "group":
            if required and not children:
                yield form.required_issue(at, f"the required group '{link_id}' has no items: a "
                                          "required group must contain at least one item")
            yield from _check_items(form, children, _dicts(q_item.get("item")), at, inner,
                                    required_on=child_required)
        return
    if required and not answers:
        yield form.required_issue(at, f"the required item '{link_id}' has no answer")
    if len(answers) > 1 and q_item.get("repeats") is not True:
        yield Issue.error("structure", at, f"the item '{link_id}' has {len(answers)} answers, but "
                          "it does not repeat in the Questionnaire, so only one is allowed",
                          "qr-answer-repeats")
    if answers:
        yield from _check_occurs(form, q_item, len(answers), at, "answers", check_min=True)
    q_children = _dicts(q_item.get("item"))
    for j, answer in enumerate(answers):
        if not isinstance(answer, Mapping):
            continue
        path = f"{at}.answer[{j}]"
        yield from check_answer(form, q_item, answer, path)
        if q_children or answer.get("item"):
            yield from _check_items(form, answer.get("item"), q_children, path, inner,
                                    required_on=child_required)
    if children:
        yield Issue.error("structure", at, f"the item '{link_id}' is a question: items nested in "
                          "it belong under its answers (answer.item), not under item.item",
                          "qr-question-items")
        yield from _check_items(form, children, q_children, at, inner, required_on=False)


def _check_occurs(form: Form, q_item: Mapping[str, Any], count: int, at: str, what: str, *,
                  check_min: bool) -> Iterator[Issue]:
    link_id = q_item.get("linkId")
    most = _int(_extension_value(q_item, (_EXT + "questionnaire-maxOccurs",), "valueInteger"))
    if most is not None and count > most:
        yield Issue.error("structure", at, f"the item '{link_id}' allows at most {most} {what}, "
                          f"found {count}", "qr-max-occurs")
    least = _int(_extension_value(q_item, (_EXT + "questionnaire-minOccurs",), "valueInteger"))
    if check_min and least is not None and count < least:
        yield form.required_issue(at, f"the item '{link_id}' needs at least {least} {what}, "
                                  f"found {count}")


def _has_answers(item: Mapping[str, Any]) -> bool:
    answers = item.get("answer")
    if isinstance(answers, list) and answers:
        return True
    return any(_has_answers(child) for child in _dicts(item.get("item")))


# -- small helpers -------------------------------------------------------------------------
