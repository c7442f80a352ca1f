"""The answers of a QuestionnaireResponse item: their type, answerOption and answerValueSet.

R4 Questionnaire.item.type says which answer types an item takes (like the HL7 Java validator,
choice items also take the primitive types answerOption can list, and Reference when an option
lists one); a coded answer must be one of the item's ``answerOption`` Codings, or in its
``answerValueSet`` (with a correct display); other typed answers must equal one of the options
of their type. A value set the registry lacks is read from the Questionnaire's contained
resources or resolved, and judged from its expansion or simple compose; one that cannot be
judged offline is a warning, not an error. The value constraints of the core and SDC extensions
are checked in ``questionnaire_values``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import split_canonical
from ...terminology.comparison import same_value
from ...terminology.value_sets import EXTERNAL_SYSTEMS
from .._issue import Issue
from .questionnaire_form import Form
from .questionnaire_values import check_attachment, check_limits, check_reference_type, check_unit
from .questionnaire_values import dicts as _dicts
from .questionnaire_values import listing as _listing
from .questionnaire_values import show as _show
from .questionnaire_values import show_coding as _show_coding
from .questionnaire_values import typed_value as _typed_value

__all__ = ["check_answer"]

# Questionnaire.item.type -> the answer types it takes. Like the HL7 validator, choice items
# also take the primitive types answerOption can list; Reference is added when options list one.
_CHOICE = ("Coding", "date", "time", "integer", "string")
_ANSWER_TYPES: Mapping[str, tuple[str, ...]] = {
    "boolean": ("boolean",), "decimal": ("decimal",), "integer": ("integer",),
    "date": ("date",), "dateTime": ("dateTime",), "time": ("time",), "string": ("string",),
    "text": ("string",), "url": ("uri",), "choice": _CHOICE, "open-choice": _CHOICE,
    "attachment": ("Attachment",), "reference": ("Reference",), "quantity": ("Quantity",),
}


def check_answer(form: Form, q_item: Mapping[str, Any], answer: Mapping[str, Any],
                 at: str) -> Iterator[Issue]:
    """One answer (at ``at``) of an item: its type, options or value set, and value limits."""
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


def _check_coding(form: Form, q_item: Mapping[str, Any], coding: Any, *,
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


def _check_value_set(form: Form, value_set: str, system: str | None, code: str, *,
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
    elif result.outcome == "unknown" and system is not None and system not in EXTERNAL_SYSTEMS \
            and form.registry.code_system(system) is None:
        # the HL7 validator's QUESTIONNAIRE_QR_ITEM_BADOPTION_CS
        yield Issue.warning("not-found", where, f"the answer {shown} cannot be validated "
                            f"against the answer value set '{value_set}' because the code system "
                            f"'{system}' could not be found", "qr-answer-value-set")
    elif result.outcome == "member" and result.message:
        # As the HL7 validator: a wrong display makes the answer fail the options value set.
        yield Issue.error("code-invalid", where, f"the answer {shown} is in the answer value "
                          f"set but its display is wrong: {result.message}",
                          "qr-answer-value-set")


def _check_option(form: Form, q_item: Mapping[str, Any], typed: tuple[str, Any], *,
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


def _local_value_set(form: Form, value_set: str) -> Mapping[str, Any] | None:
    """A value set the registry lacks: contained with the Questionnaire, or resolved."""
    url = split_canonical(value_set)[0]
    for resource in form.contained:
        if resource.get("resourceType") == "ValueSet" and (
                resource.get("id") == value_set[1:] if value_set.startswith("#")
                else resource.get("url") == url):
            return resource
    resolved = form.resolve(value_set) if form.resolve and not value_set.startswith("#") else None
    return resolved if resolved is not None and resolved.get("resourceType") == "ValueSet" else None


def _in_local_value_set(form: Form, value_set: Mapping[str, Any], system: str | None,
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
