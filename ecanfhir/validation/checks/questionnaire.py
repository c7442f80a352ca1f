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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...definitions.registry import Registry, split_canonical
from ...terminology.comparison import compare, compare_dates, same_value
from ...terminology.value_sets import Terminology
from .._issue import Issue, Severity
from .questionnaire_values import EXT as _EXT
from .questionnaire_values import SDC as _SDC
from .questionnaire_values import check_attachment, check_limits, check_reference_type, check_unit
from .questionnaire_values import dicts as _dicts
from .questionnaire_values import extension_value as _extension_value
from .questionnaire_values import extensions as _extensions
from .questionnaire_values import int_value as _int
from .questionnaire_values import listing as _listing
from .questionnaire_values import show as _show
from .questionnaire_values import show_coding as _show_coding
from .questionnaire_values import typed_value as _typed_value

__all__ = ["check_questionnaire_response"]

Resolve = Callable[[str], Mapping[str, Any] | None]

_LENIENT_STATUS = frozenset({"in-progress", "stopped", "entered-in-error"})

# Questionnaire.item.type -> the answer types it takes. Like the HL7 validator, choice items
# also take the primitive types answerOption can list; Reference is added when options list one.
_CHOICE = ("Coding", "date", "time", "integer", "string")
_ANSWER_TYPES: Mapping[str, tuple[str, ...]] = {
    "boolean": ("boolean",), "decimal": ("decimal",), "integer": ("integer",),
    "date": ("date",), "dateTime": ("dateTime",), "time": ("time",), "string": ("string",),
    "text": ("string",), "url": ("uri",), "choice": _CHOICE, "open-choice": _CHOICE,
    "attachment": ("Attachment",), "reference": ("Reference",), "quantity": ("Quantity",),
}
_ORDERED = {">": lambda c: c > 0, "<": lambda c: c < 0, ">=": lambda c: c >= 0,
            "<=": lambda c: c <= 0}


@dataclass(slots=True)
class _Form:
    """One response being checked against one Questionnaire."""

    questionnaire: Mapping[str, Any]
    label: str  # the canonical (or #id) as the response gave it
    contained: Sequence[Mapping[str, Any]]  # where the Questionnaire's '#id' references point
    terminology: Terminology
    registry: Registry
    resolve: Resolve | None
    root: Mapping[str, Any]
    strict: bool  # missing required answers are errors (else warnings)
    index: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # linkId -> item
    parent: dict[str, str | None] = field(default_factory=dict)  # linkId -> parent linkId

    def ancestors(self, link_id: str) -> list[str]:
        """The linkIds of the items enclosing ``link_id`` in the Questionnaire, nearest first."""
        found: list[str] = []
        up = self.parent.get(link_id)
        while up is not None and up not in found:
            found.append(up)
            up = self.parent.get(up)
        return found

    def required_issue(self, at: str, message: str) -> Issue:
        severity: Severity = "error" if self.strict else "warning"
        return Issue(severity, "required", at, message, "qr-required")


# The response items enclosing the current one, outermost first, with their linkIds.
Chain = tuple[tuple[str, Mapping[str, Any]], ...]


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
    found = _find_questionnaire(qr, canonical, registry, resolve)
    if found is None:
        example = re.match(r"https?://example\.org", canonical) is not None
        where = "contained in the response" if canonical.startswith("#") else "loaded"
        yield Issue("information" if example else "warning", "not-found", f"{at}.questionnaire",
                    f"the Questionnaire '{canonical}' is not {where}, so answers were not "
                    "checked against it", "qr-questionnaire")
        return
    questionnaire, contained = found
    form = _Form(questionnaire, canonical, contained, terminology, registry, resolve, qr,
                 strict=not (isinstance(qr.get("status"), str)
                             and qr["status"] in _LENIENT_STATUS))
    _index(form, _dicts(questionnaire.get("item")), None)
    yield from _check_period(questionnaire, qr.get("authored"), at)
    yield from _check_items(form, qr.get("item"), _dicts(questionnaire.get("item")), at, (),
                            required_on=True)


# -- finding the Questionnaire -------------------------------------------------------------
def _find_questionnaire(qr: Mapping[str, Any], canonical: str, registry: Registry,
                        resolve: Resolve | None
                        ) -> tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None:
    contained = _dicts(qr.get("contained"))
    if canonical.startswith("#"):
        for resource in contained:
            if resource.get("id") == canonical[1:] and _is_questionnaire(resource):
                return resource, contained
        return None
    found = registry.questionnaire(canonical)
    if found is not None:
        return found, _dicts(found.get("contained"))
    url, version = split_canonical(canonical)
    for resource in contained:  # a copy carried along in the response
        if (_is_questionnaire(resource) and resource.get("url") == url
                and version in (None, resource.get("version"))):
            return resource, contained
    resolved = resolve(canonical) if resolve is not None else None
    if resolved is not None and _is_questionnaire(resolved):
        return resolved, _dicts(resolved.get("contained"))
    return None


def _is_questionnaire(resource: Mapping[str, Any]) -> bool:
    return resource.get("resourceType") == "Questionnaire"


def _index(form: _Form, items: list[Mapping[str, Any]], parent: str | None) -> None:
    for item in items:
        link_id = item.get("linkId")
        if isinstance(link_id, str) and link_id not in form.index:
            form.index[link_id] = item
            form.parent[link_id] = parent
            _index(form, _dicts(item.get("item")), link_id)


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
def _check_items(form: _Form, value: object, q_items: list[Mapping[str, Any]], at: str,
                 chain: Chain, *, required_on: bool) -> Iterator[Issue]:
    """Check the response items of one level against the Questionnaire items of that level."""
    position = {q["linkId"]: n for n, q in enumerate(q_items) if isinstance(q.get("linkId"), str)}
    present: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    last = -1
    for i, item in enumerate(_list(value)):
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


def _check_q_item(form: _Form, q_item: Mapping[str, Any],
                  instances: list[tuple[str, Mapping[str, Any]]], at: str, chain: Chain, *,
                  required_on: bool) -> Iterator[Issue]:
    link_id = str(q_item["linkId"])
    enabled = _enabled(form, q_item, chain)
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


def _check_instance(form: _Form, q_item: Mapping[str, Any], item: Mapping[str, Any], at: str,
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
    answers, children = _list(item.get("answer")), _list(item.get("item"))
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
        yield from _check_answer(form, q_item, answer, path)
        if q_children or answer.get("item"):
            yield from _check_items(form, answer.get("item"), q_children, path, inner,
                                    required_on=child_required)
    if children:
        yield Issue.error("structure", at, f"the item '{link_id}' is a question: items nested in "
                          "it belong under its answers (answer.item), not under item.item",
                          "qr-question-items")
        yield from _check_items(form, children, q_children, at, inner, required_on=False)


def _check_occurs(form: _Form, q_item: Mapping[str, Any], count: int, at: str, what: str, *,
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


# -- answers -------------------------------------------------------------------------------
def _check_answer(form: _Form, q_item: Mapping[str, Any], answer: Mapping[str, Any],
                  at: str) -> Iterator[Issue]:
    typed = _typed_value(answer)
    kind = q_item.get("type")
    if typed is None or not isinstance(kind, str) or kind not in _ANSWER_TYPES:
        return
    fhir_type, value = typed
    where = f"{at}.value.ofType({fhir_type})"
    allowed = _ANSWER_TYPES[kind]
    options = _options(q_item)
    if kind in ("choice", "open-choice") and any(t == "Reference" for t, _ in options):
        allowed = (*allowed, "Reference")
    if fhir_type not in allowed:
        shown = " or ".join(allowed)
        yield Issue.error("structure", where, f"the answer is {_a(fhir_type)}, but item "
                          f"'{q_item.get('linkId')}' is of type '{kind}', which takes {shown}",
                          "qr-answer-type")
        return
    if fhir_type == "Coding":
        yield from _check_coding(form, q_item, value, options=options, where=where, at=at)
    else:
        yield from _check_option(form, q_item, (fhir_type, value), options=options, where=where)
    yield from check_limits(q_item, fhir_type, value, where)
    if fhir_type == "Quantity":
        yield from check_unit(q_item, value, where, terminology=form.terminology,
                              registry=form.registry)
    elif fhir_type == "Reference":
        yield from check_reference_type(q_item, value, where)
    elif fhir_type == "Attachment":
        yield from check_attachment(q_item, value, where)


def _options(q_item: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [typed for option in _dicts(q_item.get("answerOption"))
            if (typed := _typed_value(option)) is not None]


def _check_coding(form: _Form, q_item: Mapping[str, Any], coding: Any, *,
                  options: list[tuple[str, Any]], where: str, at: str) -> Iterator[Issue]:
    if not isinstance(coding, Mapping):
        return
    link_id = q_item.get("linkId")
    system, code = coding.get("system"), coding.get("code")
    if options:
        listed = [v for t, v in options if t == "Coding" and isinstance(v, Mapping)]
        if not any(v.get("system") == system and v.get("code") == code for v in listed):
            yield Issue.error("code-invalid", where, f"the answer {_show_coding(coding)} is not "
                              f"one of the answerOptions of item '{link_id}'" + (
                                  f": expected {_listing([_show_coding(v) for v in listed])}"
                                  if listed else ", which lists no Codings"), "qr-answer-option")
        return
    value_set = q_item.get("answerValueSet")
    if not isinstance(value_set, str):
        yield Issue.information("informational", at, f"the item '{link_id}' has neither "
                                "answerOption nor answerValueSet, so the answer's code was not "
                                "checked", "qr-answer-option")
        return
    if not isinstance(code, str):
        if q_item.get("type") != "open-choice" or system is not None:
            yield Issue.error("code-invalid", where, "the answer has no code, so it cannot be "
                              f"one of the value set '{value_set}'", "qr-answer-value-set")
        return
    display = coding.get("display")
    yield from _check_value_set(form, value_set, system if isinstance(system, str) else None,
                                code, display=display if isinstance(display, str) else None,
                                where=where, at=at)


def _check_value_set(form: _Form, value_set: str, system: str | None, code: str, *,
                     display: str | None, where: str, at: str) -> Iterator[Issue]:
    shown = f"'{code}'" if system is None else f"{system}#{code}"
    if value_set.startswith("#") or form.registry.value_set(value_set) is None:
        local = _local_value_set(form, value_set)
        if local is None:
            yield Issue.warning("not-found", at, f"the value set '{value_set}' of the "
                                "Questionnaire is not loaded, so the answer was not checked "
                                "against it", "qr-answer-value-set")
        elif _in_local_value_set(form, local, system, code) is False:
            yield Issue.error("code-invalid", where, f"the answer {shown} is not in the value "
                              f"set '{value_set}' of the Questionnaire", "qr-answer-value-set")
        return
    result = form.terminology.check_code(value_set, system=system, code=code, display=display)
    if result.outcome == "not-member":
        yield Issue.error("code-invalid", where, f"the answer {shown} is not in the answer "
                          f"value set: {result.message}", "qr-answer-value-set")
    elif result.outcome == "member" and result.message:
        # As the HL7 validator: a wrong display makes the answer fail the options value set.
        yield Issue.error("code-invalid", where, f"the answer {shown} is in the answer value "
                          f"set but its display is wrong: {result.message}",
                          "qr-answer-value-set")


def _check_option(form: _Form, q_item: Mapping[str, Any], typed: tuple[str, Any], *,
                  options: list[tuple[str, Any]], where: str) -> Iterator[Issue]:
    fhir_type, value = typed
    link_id = q_item.get("linkId")
    open_choice = q_item.get("type") == "open-choice"
    if options and fhir_type in ("integer", "date", "time", "string", "Reference"):
        same = [v for t, v in options if t == fhir_type]
        if open_choice and fhir_type == "string":
            if isinstance(value, str) and any(
                    isinstance(v, Mapping) and value.lower() in (
                        str(v.get("display", "")).lower(), str(v.get("code", "")).lower())
                    for t, v in options if t == "Coding"):
                yield Issue.warning("business-rule", where, f"the free-text answer '{value}' "
                                    "matches one of the coded answerOptions of item "
                                    f"'{link_id}': the Coding should probably be used",
                                    "qr-answer-option")
            return
        if not same:
            yield Issue.error("value", where, f"the item '{link_id}' has no answerOption of "
                              f"type {fhir_type}, so {_a(fhir_type)} answer cannot be one of them",
                              "qr-answer-option")
        elif not any(same_value(fhir_type, value, v) for v in same):
            yield Issue.error("value", where, f"the {fhir_type} {_show(value)} is not one of the "
                              f"answerOptions of item '{link_id}': expected "
                              f"{_listing([_show(v) for v in same])}", "qr-answer-option")
        return
    value_set = q_item.get("answerValueSet")
    if not options and value_set is None and q_item.get("type") == "choice" \
            and fhir_type in ("integer", "date", "time", "string"):
        # HL7 validator: Questionnaire_QR_Item_{Int,Date,Time,String}NoOptions, a hint.
        yield Issue.information("informational", where, f"the item '{link_id}' lists no "
                                f"answerOption, so the {fhir_type} answer was not checked "
                                "against one", "qr-answer-option")
        return
    if (isinstance(value_set, str) and isinstance(value, str)
            and q_item.get("type") in ("string", "text")):
        # A string item drawing on a value set (allowed by R4 que-5): the text is a code.
        yield from _check_value_set(form, value_set, None, value, display=None, where=where,
                                    at=where)


# -- enableWhen ----------------------------------------------------------------------------
def _enabled(form: _Form, q_item: Mapping[str, Any], chain: Chain) -> bool | None:
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


def _condition(form: _Form, source: str, condition: Mapping[str, Any],
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


def _answers_for(form: _Form, source: str, question: str,
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


# -- small helpers -------------------------------------------------------------------------
def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _local_value_set(form: _Form, value_set: str) -> Mapping[str, Any] | None:
    """A value set the registry lacks: contained with the Questionnaire, or resolved."""
    url = split_canonical(value_set)[0]
    for resource in form.contained:
        if resource.get("resourceType") == "ValueSet" and (
                resource.get("id") == value_set[1:] if value_set.startswith("#")
                else resource.get("url") == url):
            return resource
    resolved = form.resolve(value_set) if form.resolve and not value_set.startswith("#") else None
    return resolved if resolved is not None and resolved.get("resourceType") == "ValueSet" else None


def _in_local_value_set(form: _Form, value_set: Mapping[str, Any], system: str | None,
                        code: str) -> bool | None:
    """Membership in a value set outside the registry, from its expansion or simple compose."""
    def matches(entry: Mapping[str, Any], entry_system: object) -> bool:
        return entry.get("code") == code and system in (None, entry_system)

    expansion = value_set.get("expansion")
    if isinstance(expansion, Mapping):
        todo, complete = _dicts(expansion.get("contains")), "offset" not in expansion
        while todo:
            entry = todo.pop()
            if matches(entry, entry.get("system")):
                return True
            todo.extend(_dicts(entry.get("contains")))
        return False if complete and not value_set.get("compose") else None
    compose = value_set.get("compose")
    if not isinstance(compose, Mapping):
        return None if value_set else False
    for exclude in _dicts(compose.get("exclude")):
        if any(matches(c, exclude.get("system")) for c in _dicts(exclude.get("concept"))):
            return False
    verdict: bool | None = False
    for include in _dicts(compose.get("include")):
        inc_system = include.get("system")
        if include.get("valueSet") or include.get("filter"):
            verdict = None
        elif include.get("concept"):
            if any(matches(c, inc_system) for c in _dicts(include.get("concept"))):
                return True
        elif isinstance(inc_system, str) and system in (None, inc_system):
            if not form.terminology.is_known_system(inc_system):
                verdict = None
            elif form.terminology.lookup(inc_system, code) is not None:
                return True
    return verdict


def _a(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"
