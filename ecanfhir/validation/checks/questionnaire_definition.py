"""The Questionnaire resource itself: its enableWhen conditions and the Questionnaires it is
derived from.

R4 Questionnaire (http://hl7.org/fhir/R4/questionnaire.html): ``enableWhen.question`` is "the
linkId for the question whose answer (or lack of answer) governs whether this item is
enabled"; ``derivedFrom`` names Questionnaires this one "adheres to", and the
``questionnaire-derivationType`` extension on it says how (``extends``, ``compliesWith``,
``inspiredBy``). The StructureDefinition checks neither; the HL7 Java validator
(``QuestionnaireValidator.validateQuestionnaire``) does, and so does this module:

==============================================  =======  ======================================
rule                                             level    where
==============================================  =======  ======================================
enableWhen names a question                      error    the item
... that is not one of the item's own children   error
... that exists in the Questionnaire             error
... that is not the item itself                  error
... that comes before the item                   warning
derivedFrom resolves, with a derivationType      warning  derivedFrom[i]
extends / compliesWith: each item is the base's  error    the item (compliesWith only)
... same type; no repeats / maxLength / options  error    the item or its property
    looser than the base's; options stay options
    (and a value set a value set)
==============================================  =======  ======================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..._frozen import frozen
from ...definitions.registry import Registry
from .._issue import Issue, IssueCode
from .json_values import dicts

__all__ = ["check_questionnaire"]

_DERIVATION_EXT = "http://hl7.org/fhir/StructureDefinition/questionnaire-derivationType"
_DERIVATION_SYSTEM = "http://hl7.org/fhir/questionnaire-derivationType"
_ANSWER_VALUES = ("valueInteger", "valueDate", "valueTime", "valueString", "valueCoding",
                  "valueReference")


@frozen
class _Derivation:
    base: Mapping[str, Any]
    mode: str  # "extends" | "compliesWith"

    @property
    def url(self) -> str:
        return str(self.base.get("url", ""))


def check_questionnaire(questionnaire: Mapping[str, Any], at: str, *,
                        registry: Registry) -> Iterator[Issue]:
    """Check a Questionnaire's enableWhen targets and its derivations.

    >>> q = {"resourceType": "Questionnaire", "status": "draft", "item": [
    ...     {"linkId": "a", "type": "boolean",
    ...      "enableWhen": [{"question": "zz", "operator": "exists", "answerBoolean": True}]}]}
    >>> [(i.severity, i.expression) for i in check_questionnaire(q, "Questionnaire",
    ...                                                          registry=Registry())]
    [('error', 'Questionnaire.item[0]')]
    """
    derivations: list[_Derivation] = []
    yield from _check_derivations(questionnaire, at, registry, derivations)
    yield from _check_items(questionnaire, questionnaire, at, (questionnaire,), derivations)


def _check_items(node: Mapping[str, Any], questionnaire: Mapping[str, Any], at: str,
                 parents: tuple[Mapping[str, Any], ...],
                 derivations: Sequence[_Derivation]) -> Iterator[Issue]:
    for i, item in enumerate(_items(node)):
        where = f"{at}.item[{i}]"
        yield from _check_enable_when(item, questionnaire, where, parents)
        for derivation in derivations:
            yield from _check_derived_item(item, where, derivation)
        yield from _check_items(item, questionnaire, where, (item, *parents), derivations)


# -- enableWhen -----------------------------------------------------------------------------
def _check_enable_when(item: Mapping[str, Any], questionnaire: Mapping[str, Any], at: str,
                       parents: tuple[Mapping[str, Any], ...]) -> Iterator[Issue]:
    link_id = item.get("linkId")
    for condition in dicts(item.get("enableWhen")):
        question = condition.get("question")
        if not isinstance(question, str) or not question:
            yield Issue.error("business-rule", at, "an enableWhen must name the question it "
                              "depends on", "q-enable-when")
            continue
        if _find(item, question) is not None:
            yield Issue.error("business-rule", at, f"the enableWhen question '{question}' is "
                              "inside the item itself: an item cannot depend on its own "
                              "children", "q-enable-when")
            continue
        target = _find(questionnaire, question)
        if target is None:
            yield Issue.error("business-rule", at, f"no item has the linkId '{question}' that "
                              f"the enableWhen of '{link_id}' refers to", "q-enable-when")
        elif target is item:
            yield Issue.error("business-rule", at, "the enableWhen of an item cannot refer to "
                              "the item itself", "q-enable-when")
        elif not _before(item, target, parents):
            yield Issue.warning("business-rule", at, f"the enableWhen question '{question}' "
                                "comes after the item it enables", "q-enable-when")


def _find(node: Mapping[str, Any], link_id: str) -> Mapping[str, Any] | None:
    """The item with ``link_id`` among ``node``'s descendants, depth first."""
    for item in _items(node):
        if item.get("linkId") == link_id:
            return item
        found = _find(item, link_id)
        if found is not None:
            return found
    return None


def _before(item: Mapping[str, Any], target: Mapping[str, Any],
            parents: tuple[Mapping[str, Any], ...]) -> bool:
    """Does ``target`` come before ``item`` in document order (an enclosing item does)?"""
    if any(p is target for p in parents):
        return True
    for parent in parents:
        i, t = _branch(parent, item), _branch(parent, target)
        if i is not None and t is not None:
            return i > t
    return False


def _branch(parent: Mapping[str, Any], descendant: Mapping[str, Any]) -> int | None:
    """The index of the child of ``parent`` that is or holds ``descendant``."""
    for index, child in enumerate(_items(parent)):
        if child is descendant or _holds(child, descendant):
            return index
    return None


def _holds(node: Mapping[str, Any], descendant: Mapping[str, Any]) -> bool:
    return any(child is descendant or _holds(child, descendant) for child in _items(node))


# -- derivedFrom ----------------------------------------------------------------------------
def _check_derivations(questionnaire: Mapping[str, Any], at: str, registry: Registry,
                       derivations: list[_Derivation]) -> Iterator[Issue]:
    urls = questionnaire.get("derivedFrom")
    companions = questionnaire.get("_derivedFrom")
    for i, url in enumerate(urls if isinstance(urls, list) else []):
        where = f"{at}.derivedFrom[{i}]"
        if not isinstance(url, str):
            continue
        base = registry.questionnaire(url)
        if base is None:
            yield Issue.warning("business-rule", where, f"the Questionnaire '{url}' this one is "
                                "derived from is not loaded, so the derivation was not checked",
                                "q-derivation")
            continue
        companion = companions[i] if isinstance(companions, list) and i < len(companions) \
            else None
        extension = next((e for e in dicts(companion.get("extension"))
                          if e.get("url") == _DERIVATION_EXT), None) \
            if isinstance(companion, Mapping) else None
        if extension is None:
            yield Issue.warning("business-rule", where, f"the derivation from '{url}' does not "
                                "say how it derives (the questionnaire-derivationType "
                                "extension), so it was not checked", "q-derivation")
            continue
        coding = extension.get("valueCoding")
        if not isinstance(coding, Mapping):
            yield Issue.warning("business-rule", f"{where}.extension", "the derivationType "
                                "extension has no Coding value", "q-derivation")
            continue
        system, code = coding.get("system"), coding.get("code")
        if system == _DERIVATION_SYSTEM and code in ("extends", "compliesWith"):
            derivations.append(_Derivation(base, str(code)))
        elif system == _DERIVATION_SYSTEM and code == "inspiredBy":
            yield Issue.information("business-rule", f"{where}.extension", "an 'inspiredBy' "
                                    "derivation is not checked", "q-derivation")
        else:
            yield Issue.warning("business-rule", f"{where}.extension", f"the derivation type "
                                f"{system}#{code} is not known, so it was not checked",
                                "q-derivation")


def _check_derived_item(item: Mapping[str, Any], at: str,
                        derivation: _Derivation) -> Iterator[Issue]:
    link_id = item.get("linkId")
    base = _find(derivation.base, link_id) if isinstance(link_id, str) else None
    url = derivation.url
    if base is None:
        if derivation.mode == "compliesWith":
            yield Issue.error("not-found", at, f"the item '{link_id}' is not in the "
                              f"Questionnaire '{url}' this one complies with", "q-derivation")
        return
    if "type" in base and "type" in item and item["type"] != base["type"]:
        yield Issue.error("business-rule", f"{at}.type", f"the item '{link_id}' has the type "
                          f"'{item['type']}', but is '{base['type']}' in '{url}'",
                          "q-derivation")
    if base.get("repeats") is not True and item.get("repeats") is True:
        yield Issue.error("business-rule", f"{at}.repeats", f"the item '{link_id}' does not "
                          f"repeat in '{url}', so it cannot repeat here", "q-derivation")
    if base.get("required") is True and "required" in item and item["required"] is not True:
        yield Issue.error("business-rule", f"{at}.required", f"the item '{link_id}' is "
                          f"required in '{url}', so it must stay required", "q-derivation")
    yield from _check_derived_definition(item, base, at, url)
    yield from _check_derived_length(item, base, at, url)
    yield from _check_derived_answers(item, base, at, url)


def _check_derived_definition(item: Mapping[str, Any], base: Mapping[str, Any], at: str,
                              url: str) -> Iterator[Issue]:
    """An item's definition (the element it maps to) should stay what the base says."""
    defined = base.get("definition")
    if not isinstance(defined, str):
        return
    yield from _check_derived_value(
        item, at, "definition", Issue.information,
        missing=f"the item '{item.get('linkId')}' has the definition '{defined}' in '{url}', "
                "and none here",
        wrong=lambda mine: None if mine == defined
        else f"the definition '{mine}' is not the '{defined}' of '{url}'")


def _check_derived_length(item: Mapping[str, Any], base: Mapping[str, Any], at: str,
                          url: str) -> Iterator[Issue]:
    limit = base.get("maxLength")
    if not isinstance(limit, int) or isinstance(limit, bool):
        return
    yield from _check_derived_value(
        item, at, "maxLength", Issue.error,
        missing=f"the item '{item.get('linkId')}' has a maxLength of {limit} in '{url}', "
                "so it needs one here too",
        wrong=lambda mine: f"the maxLength {mine} is longer than the {limit} of '{url}'"
        if isinstance(mine, int) and mine > limit else None)


def _check_derived_value(item: Mapping[str, Any], at: str, key: str,
                         make: Callable[[IssueCode, str, str, str], Issue], *, missing: str,
                         wrong: Callable[[Any], str | None]) -> Iterator[Issue]:
    """The item's ``key`` that the base constrains: ``missing`` (reported at the item) when
    absent, else the ``wrong(value)`` message (at the element) if the value breaks the base."""
    mine = item.get(key)
    if mine is None:
        yield make("business-rule", at, missing, "q-derivation")
        return
    message = wrong(mine)
    if message is not None:
        yield make("business-rule", f"{at}.{key}", message, "q-derivation")


def _check_derived_answers(item: Mapping[str, Any], base: Mapping[str, Any], at: str,
                           url: str) -> Iterator[Issue]:
    link_id = item.get("linkId")
    options = dicts(base.get("answerOption"))
    if options:
        mine = dicts(item.get("answerOption"))
        if "answerValueSet" in item:
            yield Issue.error("business-rule", at, f"the item '{link_id}' lists its answers in "
                              f"'{url}', so it cannot take them from a value set",
                              "q-derivation")
        elif not mine:
            yield Issue.error("business-rule", at, f"the item '{link_id}' lists "
                              f"{len(options)} answers in '{url}', so it must list answers "
                              "from them", "q-derivation")
        for i, option in enumerate(mine):
            if _option_value(option) is not None and not any(
                    _same_option(option, o) for o in options):
                yield Issue.error("business-rule", f"{at}.answerOption[{i}]", "this answer is "
                                  f"not one of those of the item '{link_id}' in '{url}'",
                                  "q-derivation")
    if "answerValueSet" in base and "answerOption" in item:
        yield Issue.error("business-rule", at, f"the item '{link_id}' takes its answers from a "
                          f"value set in '{url}', so it cannot list them", "q-derivation")


def _option_value(option: Mapping[str, Any]) -> tuple[str, Any] | None:
    return next(((k, option[k]) for k in _ANSWER_VALUES if k in option), None)


def _same_option(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    a, b = _option_value(mine), _option_value(theirs)
    if a is None or b is None or a[0] != b[0]:
        return False
    kind, value = a
    other = b[1]
    if kind == "valueCoding":
        return (isinstance(value, Mapping) and isinstance(other, Mapping)
                and value.get("system") is not None and value.get("code") is not None
                and (value.get("system"), value.get("code")) == (other.get("system"),
                                                                 other.get("code")))
    if kind == "valueReference":
        return (isinstance(value, Mapping) and isinstance(other, Mapping)
                and value.get("reference") is not None
                and value.get("reference") == other.get("reference"))
    return bool(value == other)


# -- helpers --------------------------------------------------------------------------------
def _items(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return dicts(node.get("item"))


