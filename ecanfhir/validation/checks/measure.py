"""Measure and MeasureReport: the rules that tie a report to its Measure.

R4 MeasureReport (http://hl7.org/fhir/R4/measurereport.html) states the results of a Measure
(http://hl7.org/fhir/R4/measure.html): each report group is one of the Measure's groups, each
population and stratifier one of that group's, and the score is shaped by the Measure's scoring
(measure-scoring: a cohort has no score, a proportion is a number from 0 to 1). The resources'
StructureDefinitions cannot say this; the HL7 Java validator (``MeasureValidator``) checks it
when the Measure the report names is loaded (or contained). The same rules here:

=================  =====================================================================  =======
report part        rule                                                                   level
=================  =====================================================================  =======
group              one group in both: codes may be left out; if both have one they match  error
group              otherwise each group has a code naming a Measure group, once; every    error
                   Measure group is reported (``data-collection`` reports excepted)
population         a code naming a population of the group, once; every population is     error
                   reported except ``measure-observation``
population         ``subjectResults`` only in ``subject-list`` reports; a ``count``       error /
                   is expected                                                            warning
measureScore       none in ``data-collection`` reports, none for ``cohort`` scoring       error
measureScore       required for ``proportion``, ``ratio`` and ``continuous-variable``     error
                   scoring, with a value; a proportion has no unit and lies in 0..1;
                   a unit is the one the Measure fixes (``questionnaire-unit``)
stratifier         a code naming a stratifier of the group (by coding, else by text),     error
                   once; every stratifier is reported
=================  =====================================================================  =======

A Measure is checked on its own too: several groups, populations or stratifiers should have
codes to tell them apart (warnings), and a stratifier's CQL criteria must name a loaded Library
whose ELM defines the expression (errors, as the HL7 validator; its Library that cannot be
found is information). Scoring is the group's (the CQM IG's ``cqm-scoring`` extension, as R5
``Measure.group.scoring``), else the Measure's.

In a ``subject-list`` report a population's ``count`` is the number of its subjects. The HL7
validator compares it with the number of ``subjectResults``, which R4 allows only once (a
reference to a List of subjects), so that would reject valid reports; here the count is compared
with the entries of the List when the report contains it (``#id``), an error when they differ.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from ...definitions.registry import Registry
from .._issue import Issue
from .json_values import array, dicts

__all__ = ["check_measure", "check_measure_report"]

_POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
_CQM_SCORING = "http://hl7.org/fhir/uv/cqm/StructureDefinition/cqm-scoring"
_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
_ALTERNATE_SCORE = ("http://hl7.org/fhir/us/davinci-deqm/StructureDefinition/"
                    "extension-alternateScoreType")
_SCORED = ("proportion", "ratio", "continuous-variable")
_ELM_NS = "urn:hl7-org:elm:r1"


# -- MeasureReport ---------------------------------------------------------------------------
def check_measure_report(report: Mapping[str, Any], at: str, *,
                         registry: Registry) -> Iterator[Issue]:
    """Check a MeasureReport against the Measure it names (loaded, or contained as ``#id``).

    >>> measure = {"resourceType": "Measure", "url": "http://example.org/Measure/m",
    ...     "status": "active", "scoring": {"coding": [{"code": "cohort"}]},
    ...     "group": [{"population": [{"code": {"coding": [{"system":
    ...         "http://terminology.hl7.org/CodeSystem/measure-population",
    ...         "code": "initial-population"}]}}]}]}
    >>> reg = Registry(); reg.add(measure)
    >>> report = {"resourceType": "MeasureReport", "status": "complete", "type": "summary",
    ...     "measure": "http://example.org/Measure/m", "group": [{"population": [
    ...         {**measure["group"][0]["population"][0], "count": 3}],
    ...         "measureScore": {"value": 3}}]}
    >>> [(i.code, i.expression) for i in check_measure_report(report, "MeasureReport",
    ...                                                         registry=reg)]
    [('business-rule', 'MeasureReport.group[0].measureScore')]
    """
    canonical = _text(report.get("measure"))
    if canonical is None:
        yield Issue.information("required", at, "no Measure is identified, so the report was "
                                "not checked against one", "mr-measure")
        return
    measure = _find_measure(report, canonical, registry)
    if measure is None:
        yield Issue.warning("not-found", f"{at}.measure", f"the Measure '{canonical}' could not "
                            "be resolved, so the report was not checked against it",
                            "mr-measure")
        return
    scoring = _code(measure.get("scoring"))
    if scoring not in (*_SCORED, "cohort"):
        yield Issue.information("business-rule", f"{at}.measure", f"the scoring of the Measure "
                                f"'{canonical}' is {_said(scoring)}, so its scores were not "
                                "checked", "mr-scoring")
    report_type = _text(report.get("type"))
    groups = dicts(measure.get("group"))
    if not groups:
        return
    yield from _check_groups(measure, groups, report, at, scoring=scoring,
                             report_type=report_type)


def _find_measure(report: Mapping[str, Any], canonical: str,
                  registry: Registry) -> Mapping[str, Any] | None:
    if canonical.startswith("#"):
        return next((c for c in dicts(report.get("contained"))
                     if c.get("resourceType") == "Measure" and c.get("id") == canonical[1:]),
                    None)
    return registry.get(canonical, "Measure")


def _check_groups(measure: Mapping[str, Any], groups: list[Mapping[str, Any]],
                  report: Mapping[str, Any], at: str, *, scoring: str | None,
                  report_type: str | None) -> Iterator[Issue]:
    reported = array(report.get("group"))
    if len(reported) == 1 and len(groups) == 1 and isinstance(reported[0], Mapping):
        # One group on each side: it may be (and usually is) anonymous; codes, if both have
        # one, must agree.
        group, where = reported[0], f"{at}.group[0]"
        code, defined = _dict(group.get("code")), _dict(groups[0].get("code"))
        if code is not None and defined is not None:
            if not _usable(code):
                yield Issue.error("business-rule", where, "the group's code has no coding with "
                                  "both a system and a code, so it cannot be matched to the "
                                  "Measure's group", "mr-group")
            elif not _codings(code) & _codings(defined):
                yield Issue.error("business-rule", where, f"the group's code {_show(code)} does "
                                  f"not match the code of the Measure's group {_show(defined)}",
                                  "mr-group")
        yield from _check_group(groups[0], group, where, measure=measure, report=report,
                                scoring=_scoring(groups[0], scoring), report_type=report_type)
        return
    seen: list[int] = []
    for i, group in enumerate(reported):
        where = f"{at}.group[{i}]"
        if not isinstance(group, Mapping):
            continue
        code = _dict(group.get("code"))
        if code is None:
            yield Issue.error("business-rule", where, "the Measure has several groups, so each "
                              "reported group needs a code naming one of them", "mr-group")
            continue
        index = _paired(code, groups, seen, where, rule="mr-group", by_text=False,
                        unknown=f"the group's code {_show(code)} is not the code of any group "
                        "of the Measure", twice=f"the Measure's group {_show(code)} is reported "
                        "twice")
        if isinstance(index, Issue):
            yield index
            continue
        yield from _check_group(groups[index], group, where, measure=measure, report=report,
                                scoring=_scoring(groups[index], scoring), report_type=report_type)
    if report_type == "data-collection":
        return
    for index, defined in enumerate(groups):
        if index not in seen:
            yield Issue.error("business-rule", at, "the report has no group for the Measure's "
                              f"group {_describe(defined)}", "mr-group")


def _check_group(defined: Mapping[str, Any], group: Mapping[str, Any], at: str, *,
                 measure: Mapping[str, Any], report: Mapping[str, Any], scoring: str | None,
                 report_type: str | None) -> Iterator[Issue]:
    yield from _check_populations(defined, group, at, report=report, report_type=report_type)
    yield from _check_score(group, at, measure=measure, scoring=scoring,
                            report_type=report_type)
    yield from _check_stratifiers(defined, group, at)


def _check_populations(defined: Mapping[str, Any], group: Mapping[str, Any], at: str, *,
                       report: Mapping[str, Any], report_type: str | None) -> Iterator[Issue]:
    populations = dicts(defined.get("population"))
    seen: list[int] = []
    for i, population in enumerate(array(group.get("population"))):
        where = f"{at}.population[{i}]"
        if not isinstance(population, Mapping):
            continue
        code = _dict(population.get("code"))
        if code is None:
            yield Issue.error("business-rule", where, "the population needs a code naming a "
                              "population of the Measure's group", "mr-population")
            continue
        index = _paired(code, populations, seen, where, rule="mr-population", by_text=False,
                        unknown=f"the population's code {_show(code)} is not the code of any "
                        "population of the Measure's group",
                        twice=f"the population {_show(code)} is reported twice")
        if isinstance(index, Issue):
            yield index
            continue
        yield from _check_population(population, where, report=report,
                                     report_type=report_type)
    for index, population in enumerate(populations):
        if index not in seen and (_POPULATION, "measure-observation") not in _codings(
                _dict(population.get("code")) or {}):
            yield Issue.error("business-rule", at, "the report has no population for the "
                              f"Measure's population {_describe(population)}", "mr-population")


def _check_population(population: Mapping[str, Any], at: str, *, report: Mapping[str, Any],
                      report_type: str | None) -> Iterator[Issue]:
    if report_type == "subject-list":
        yield from _check_subject_count(population, at, report=report)
        return
    if "subjectResults" in population:
        yield Issue.error("business-rule", f"{at}.subjectResults", "only a 'subject-list' "
                          "report lists subject results", "mr-population")
    if "count" not in population:
        yield Issue.warning("business-rule", at, "the population has no count",
                            "mr-population")


def _check_score(group: Mapping[str, Any], at: str, *, measure: Mapping[str, Any],
                 scoring: str | None, report_type: str | None) -> Iterator[Issue]:
    score = group.get("measureScore")
    where = f"{at}.measureScore"
    if report_type == "data-collection" or scoring == "cohort":
        if score is not None:
            why = ("the report is a 'data-collection'" if report_type == "data-collection"
                   else "the Measure's scoring is 'cohort'")
            yield Issue.error("business-rule", where, f"no measureScore is allowed: {why}",
                              "mr-score")
        return
    if scoring not in _SCORED:
        return
    if score is None:
        yield Issue.error("required", at, f"a measureScore is required when the Measure's "
                          f"scoring is '{scoring}'", "mr-score")
        return
    if not isinstance(score, Mapping):
        return  # the wrong JSON shape is reported by the walker
    value = score.get("value")
    if value is None:
        alternate = next((e for e in dicts(score.get("extension"))
                          if e.get("url") == _ALTERNATE_SCORE), None)
        value = alternate.get("valueDecimal") if alternate is not None else None
    if value is None:
        yield Issue.error("required", where, f"a '{scoring}' measureScore needs a value",
                          "mr-score")
        return
    if scoring == "proportion":
        for name in ("unit", "system", "code"):
            if name in score:
                yield Issue.error("business-rule", f"{where}.{name}", "a proportion score is a "
                                  f"number without a unit, so it has no {name}", "mr-score")
        number = _decimal(value)
        if number is not None and not 0 <= number <= 1:
            yield Issue.error("value", f"{where}.value", f"a proportion score lies between 0 and "
                              f"1, not {value}", "mr-score")
        return
    yield from _check_unit(score, where, measure=measure, scoring=scoring)


def _check_unit(score: Mapping[str, Any], at: str, *, measure: Mapping[str, Any],
                scoring: str) -> Iterator[Issue]:
    unit = next((_dict(e.get("valueCoding")) for e in dicts(measure.get("extension"))
                 if e.get("url") == _UNIT), None)
    code = score.get("code")
    if code is None:
        if unit is not None:
            yield Issue.error("not-found", at, f"the score needs the unit {_show_coding(unit)} "
                              "the Measure fixes", "mr-score")
        elif scoring == "ratio":
            yield Issue.warning("not-found", at, "a 'ratio' score should have a unit",
                                "mr-score")
        return
    if unit is None:
        return
    if code != unit.get("code"):
        yield Issue.error("code-invalid", f"{at}.code", f"the score's unit is '{code}', but "
                          f"the Measure fixes '{unit.get('code')}'", "mr-score")
    if score.get("system") != unit.get("system"):
        yield Issue.error("code-invalid", at, f"the score's unit system is "
                          f"{_said(_text(score.get('system')))}, but the Measure fixes "
                          f"'{unit.get('system')}'", "mr-score")


def _check_stratifiers(defined: Mapping[str, Any], group: Mapping[str, Any],
                       at: str) -> Iterator[Issue]:
    stratifiers = dicts(defined.get("stratifier"))
    seen: list[int] = []
    for i, stratifier in enumerate(array(group.get("stratifier"))):
        where = f"{at}.stratifier[{i}]"
        if not isinstance(stratifier, Mapping):
            continue
        # R4 MeasureReport.group.stratifier.code repeats; the first names the stratifier.
        codes = stratifier.get("code")
        code = _dict(codes[0]) if isinstance(codes, list) and codes else None
        if code is None:
            yield Issue.error("business-rule", where, "the stratifier needs a code matching a "
                              "stratifier of the Measure's group", "mr-stratifier")
            continue
        index = _paired(code, stratifiers, seen, where, rule="mr-stratifier", by_text=True,
                        unknown=f"the stratifier's code {_show(code)} is not the code of any "
                        "stratifier of the Measure's group",
                        twice=f"the stratifier {_show(code)} is reported twice")
        if isinstance(index, Issue):
            yield index
    for index, stratifier in enumerate(stratifiers):
        if index not in seen:
            yield Issue.error("business-rule", at, "the report has no stratifier for the "
                              f"Measure's stratifier {_describe(stratifier)}", "mr-stratifier")


def _check_subject_count(population: Mapping[str, Any], at: str, *,
                         report: Mapping[str, Any]) -> Iterator[Issue]:
    """A subject-list population's count against the entries of its contained List."""
    count, results = population.get("count"), _dict(population.get("subjectResults"))
    target = _text((results or {}).get("reference"))
    if not isinstance(count, int) or isinstance(count, bool) or target is None \
            or not target.startswith("#"):
        return
    subjects = next((c for c in dicts(report.get("contained"))
                     if c.get("resourceType") == "List" and c.get("id") == target[1:]), None)
    if subjects is None:
        return
    listed = len(array(subjects.get("entry")))
    if listed != count:
        yield Issue.error("business-rule", f"{at}.count", f"the count {count} is not the "
                          f"number of subjects the List '{target}' holds ({listed})",
                          "mr-population")


# -- Measure ---------------------------------------------------------------------------------
def check_measure(measure: Mapping[str, Any], at: str, *, registry: Registry) -> Iterator[Issue]:
    """Check that a Measure's parts can be told apart and its CQL stratifiers resolve."""
    libraries: list[Mapping[str, Any]] = []
    for i, library in enumerate(array(measure.get("library"))):
        if not isinstance(library, str):
            continue
        found = registry.get(library, "Library")
        if found is None:
            yield Issue.information("not-found", f"{at}.library[{i}]", f"the Library '{library}' "
                                    "is not loaded, so CQL criteria were not checked against "
                                    "it", "measure-library")
        else:
            libraries.append(found)
    groups = array(measure.get("group"))
    if not groups:
        yield Issue.warning("required", at, "the Measure has no group", "measure-group")
    for g, group in enumerate(groups):
        where = f"{at}.group[{g}]"
        if not isinstance(group, Mapping):
            continue
        if len(groups) > 1 and "code" not in group:
            yield Issue.warning("required", where, "the Measure has several groups, so each "
                                "needs a code", "measure-group")
        if "population" not in group:
            yield Issue.warning("required", where, "the group has no population",
                                "measure-group")
        yield from _uncoded(array(group.get("population")), f"{where}.population",
                            "populations")
        stratifiers = array(group.get("stratifier"))
        yield from _uncoded(stratifiers, f"{where}.stratifier", "stratifiers")
        for s, stratifier in enumerate(stratifiers):
            if not isinstance(stratifier, Mapping):
                continue
            parts = [(f"{where}.stratifier[{s}]", stratifier)] + [
                (f"{where}.stratifier[{s}].component[{c}]", component)
                for c, component in enumerate(array(stratifier.get("component")))
                if isinstance(component, Mapping)]
            for part_at, part in parts:
                criteria = _dict(part.get("criteria"))
                if criteria is not None:
                    yield from _check_criteria(criteria, f"{part_at}.criteria",
                                               libraries=libraries)


def _uncoded(items: Sequence[Any], at: str, what: str) -> Iterator[Issue]:
    if len(items) < 2:
        return
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and "code" not in item:
            yield Issue.warning("required", f"{at}[{i}]", f"the group has several {what}, so "
                                "each needs a code", "measure-group")


def _check_criteria(criteria: Mapping[str, Any], at: str, *,
                    libraries: Sequence[Mapping[str, Any]]) -> Iterator[Issue]:
    language = _text(criteria.get("language"))
    if language is None:
        return
    if language not in ("text/cql", "text/cql.identifier"):
        yield Issue.warning("not-supported", at, f"criteria in '{language}' are not checked",
                            "measure-criteria")
        return
    expression = _text(criteria.get("expression")) or ""
    if not libraries:
        yield Issue.error("invalid", at, "the criteria are CQL, but the Measure names no "
                          "loaded Library", "measure-criteria")
        return
    library: Mapping[str, Any] | None
    if "." in expression:
        name, expression = expression.split(".", 1)
        named = [lib for lib in libraries if lib.get("name") == name]
        if len(named) > 1:
            yield Issue.error("invalid", at, f"several Libraries are named '{name}'",
                              "measure-criteria")
        if not named:
            yield Issue.error("invalid", at, f"no Library of the Measure is named '{name}'",
                              "measure-criteria")
            return
        library = named[0]
    elif len(libraries) == 1:
        library = libraries[0]
    else:
        yield Issue.error("invalid", at, "the Measure has several Libraries, so the CQL "
                          "expression must name one ('Library.expression')", "measure-criteria")
        return
    yield from _check_elm(library, expression, at)


def _check_elm(library: Mapping[str, Any], expression: str, at: str) -> Iterator[Issue]:
    url = library.get("url")
    content = next((c for c in dicts(library.get("content"))
                    if c.get("contentType") == "application/elm+xml"), None)
    if content is None:
        yield Issue.error("invalid", at, f"the Library '{url}' has no ELM (application/elm+xml) "
                          "to check the CQL expression against", "measure-criteria")
        return
    try:
        root = ElementTree.fromstring(base64.b64decode(str(content.get("data", "")),
                                                       validate=True))
    except (binascii.Error, ValueError, ElementTree.ParseError) as exc:
        yield Issue.error("invalid", at, f"the ELM of the Library '{url}' cannot be read: "
                          f"{exc}", "measure-criteria")
        return
    if root.tag != f"{{{_ELM_NS}}}library":
        yield Issue.error("invalid", at, f"the ELM of the Library '{url}' is not an ELM library "
                          f"({_ELM_NS})", "measure-criteria")
        return
    names = {d.get("name") for d in root.iterfind(f"{{{_ELM_NS}}}statements/{{{_ELM_NS}}}def")}
    if expression not in names:
        yield Issue.error("invalid", at, f"the ELM of the Library '{url}' defines no "
                          f"'{expression}'", "measure-criteria")


# -- codes -----------------------------------------------------------------------------------
def _scoring(group: Mapping[str, Any], measure_scoring: str | None) -> str | None:
    """The group's scoring (R5 Measure.group.scoring, carried in R4 by the CQM extension)."""
    for ext in dicts(group.get("extension")):
        if ext.get("url") == _CQM_SCORING:
            code = _code(ext.get("valueCodeableConcept"))
            if code is not None:
                return code
    return measure_scoring


def _paired(code: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], seen: list[int],
            where: str, *, rule: str, by_text: bool, unknown: str, twice: str) -> int | Issue:
    """Which of the Measure's groups, populations or stratifiers a reported one is (by code),
    noted in ``seen``; or the error when it is none of them, or one already reported."""
    index = _match(code, candidates, by_text=by_text)
    if index is None:
        return Issue.error("business-rule", where, unknown, rule)
    if index in seen:
        return Issue.error("business-rule", where, twice, rule)
    seen.append(index)
    return index


def _match(code: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], *,
           by_text: bool) -> int | None:
    """The first candidate whose code shares a system and code with ``code`` (or, ``by_text``,
    has no coding and the same text when neither has codings)."""
    wanted = _codings(code)
    for index, candidate in enumerate(candidates):
        other = _dict(candidate.get("code"))
        if other is None:
            continue
        if wanted & _codings(other):
            return index
        if (by_text and not dicts(code.get("coding")) and not dicts(other.get("coding"))
                and _text(code.get("text")) is not None
                and code.get("text") == other.get("text")):
            return index
    return None


def _codings(concept: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in dicts(concept.get("coding"))
            if isinstance(c.get("system"), str) and isinstance(c.get("code"), str)}


def _usable(concept: Mapping[str, Any]) -> bool:
    return bool(_codings(concept))


def _code(concept: Any) -> str | None:
    codings = dicts(concept.get("coding")) if isinstance(concept, Mapping) else []
    return _text(codings[0].get("code")) if codings else None


def _describe(part: Mapping[str, Any]) -> str:
    code = _dict(part.get("code"))
    shown = _show(code) if code is not None else "without a code"
    return f"{shown} (id '{part['id']}')" if isinstance(part.get("id"), str) else shown


def _show(concept: Mapping[str, Any]) -> str:
    codings = [_show_coding(c) for c in dicts(concept.get("coding"))]
    if codings:
        return ", ".join(codings)
    return f"'{concept['text']}'" if isinstance(concept.get("text"), str) else "''"


def _show_coding(coding: Mapping[str, Any]) -> str:
    return f"{coding.get('system', '')}#{coding.get('code', '')}"


def _said(value: str | None) -> str:
    return "missing" if value is None else f"'{value}'"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


