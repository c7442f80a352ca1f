"""MeasureReport against its Measure, and a Measure on its own (checks/measure.py).

All data is synthetic: a Measure of outpatient visits with two groups, populations and
stratifiers, and reports on it.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.org/fhir/Measure/visits"
POP = "http://terminology.hl7.org/CodeSystem/measure-population"
GROUPS = "http://example.org/fhir/CodeSystem/visit-groups"
CQL_LIB = "http://example.org/fhir/Library/visits"


def concept(code: str, system: str = GROUPS) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def population(code: str, **extra: Any) -> dict[str, Any]:
    return {"code": concept(code, POP), **extra}


def criterion(code: str) -> dict[str, Any]:
    """A population of the Measure (R4 requires its criteria)."""
    return population(code, criteria={"language": "text/fhirpath", "expression": "true"})


def measure(scoring: str = "proportion", *groups: dict[str, Any], **extra: Any) -> dict[str, Any]:
    groups = groups or (
        {"code": concept("adults"), "population": [criterion("numerator"),
                                                   criterion("denominator")],
         "stratifier": [{"code": {"text": "sex"}}, {"code": {"text": "age"}}]},
        {"code": concept("children"), "population": [criterion("numerator"),
                                                     criterion("denominator")]},
    )
    return {"resourceType": "Measure", "text": NARRATIVE, "url": URL, "status": "active",
            "scoring": concept(scoring, "http://terminology.hl7.org/CodeSystem/measure-scoring"),
            "group": list(groups), **extra}


def group(code: str | None, score: dict[str, Any] | None = None, *,
          strata: tuple[str, ...] = (), pops: tuple[str, ...] = ("numerator", "denominator"),
          **extra: Any) -> dict[str, Any]:
    g: dict[str, Any] = {"population": [population(p, count=3) for p in pops], **extra}
    if code is not None:
        g["code"] = concept(code)
    if score is not None:
        g["measureScore"] = score
    if strata:
        g["stratifier"] = [{"code": [{"text": s}], "stratum": [
            {"value": {"text": "any"}, "measureScore": {"value": 0.5}}]} for s in strata]
    return g


def report(*groups: dict[str, Any], type_: str = "summary", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "MeasureReport", "text": NARRATIVE, "status": "complete",
            "type": type_, "measure": URL, "period": {"start": "2025-01-01", "end": "2025-12-31"},
            "group": list(groups), **extra}


def check(resource: dict[str, Any], *loaded: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for item in loaded:
        registry.add(item)
    return Validator(registry).validate(resource)


def errors(result: ValidationResult) -> list[tuple[str, str]]:
    return sorted((i.code, i.expression) for i in result.issues if i.is_error)


SCORE = {"value": 0.25}
BOTH = (group("adults", SCORE, strata=("sex", "age")), group("children", SCORE))


def test_matching_report_is_valid() -> None:
    """Each group, population and stratifier of the Measure reported once: no error."""
    assert errors(check(report(*BOTH), measure())) == []


def test_cohort_report_has_no_score() -> None:
    """A cohort Measure's report group with a measureScore is a business-rule error there."""
    cohort = measure("cohort", {"population": [criterion("initial-population")]})
    result = check(report({"population": [population("initial-population", count=9)],
                           "measureScore": {"value": 9}}), cohort)
    assert_issue(result, "MeasureReport.group[0].measureScore", severity="error",
                 code="business-rule", fragment="cohort")


def test_data_collection_report_has_no_score() -> None:
    """A data-collection report has no measureScore (mrp-1 forbids its groups as well)."""
    result = check(report(group("adults", SCORE, strata=("sex", "age")),
                          type_="data-collection"), measure())
    assert errors(result) == [("business-rule", "MeasureReport.group[0].measureScore"),
                              ("invariant", "MeasureReport")]


def test_proportion_score_is_required_unitless_and_at_most_one() -> None:
    """Proportion: a missing score is required; a unit and a value above 1 are errors."""
    result = check(report(group("adults", None, strata=("sex", "age")),
                          group("children", {"value": 1.5, "unit": "%"})), measure())
    assert errors(result) == [
        ("business-rule", "MeasureReport.group[1].measureScore.unit"),
        ("required", "MeasureReport.group[0]"),
        ("value", "MeasureReport.group[1].measureScore.value")]


def test_ratio_score_unit_is_the_measures() -> None:
    """Ratio: the score's unit is the one the Measure fixes with questionnaire-unit."""
    unit = {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
            "valueCoding": {"system": "http://unitsofmeasure.org", "code": "/d"}}
    ratio = measure("ratio", extension=[unit])
    wrong = {"value": 2, "system": "http://unitsofmeasure.org", "code": "/wk"}
    right = {"value": 2, "system": "http://unitsofmeasure.org", "code": "/d"}
    result = check(report(group("adults", wrong, strata=("sex", "age")),
                          group("children", right)), ratio)
    assert errors(result) == [("code-invalid", "MeasureReport.group[0].measureScore.code")]


def test_groups_must_name_measure_groups() -> None:
    """Several groups: an unknown code, a repeated one and an unreported group are errors."""
    result = check(report(group("adults", SCORE, strata=("sex", "age")),
                          group("adults", SCORE), group("elderly", SCORE), group(None, SCORE)),
                   measure())
    assert errors(result) == [
        ("business-rule", "MeasureReport"),  # no group for 'children'
        ("business-rule", "MeasureReport.group[1]"),
        ("business-rule", "MeasureReport.group[2]"),
        ("business-rule", "MeasureReport.group[3]")]


def test_single_group_code_must_match() -> None:
    """One group on each side: the report's group may omit its code, but not contradict it."""
    single = measure("proportion", {"code": concept("adults"),
                                    "population": [criterion("numerator")]})
    assert errors(check(report(group(None, SCORE, pops=("numerator",))), single)) == []
    result = check(report(group("children", SCORE, pops=("numerator",))), single)
    assert_issue(result, "MeasureReport.group[0]", severity="error", code="business-rule",
                 fragment="does not match")


def test_populations_must_match() -> None:
    """A population the group lacks, a repeated one and a missing one are errors."""
    result = check(report(group("adults", SCORE, strata=("sex", "age"),
                                pops=("numerator", "numerator", "denominator-exclusion")),
                          group("children", SCORE)), measure())
    assert errors(result) == [
        ("business-rule", "MeasureReport.group[0]"),  # no 'denominator'
        ("business-rule", "MeasureReport.group[0].population[1]"),
        ("business-rule", "MeasureReport.group[0].population[2]")]


def test_measure_observation_population_may_be_left_out() -> None:
    """measure-observation populations need not be reported."""
    cv = measure("continuous-variable", {"population": [
        criterion("measure-population"), criterion("measure-observation")]})
    result = check(report({"population": [population("measure-population", count=4)],
                           "measureScore": {"value": 12, "unit": "min"}}), cv)
    assert errors(result) == []


def test_subject_results_only_in_subject_lists() -> None:
    """A summary report population with subjectResults is an error there."""
    listed = group("children", SCORE)
    listed["population"][0]["subjectResults"] = {"reference": "List/one"}
    result = check(report(group("adults", SCORE, strata=("sex", "age")), listed), measure())
    assert errors(result) == [
        ("business-rule", "MeasureReport.group[1].population[0].subjectResults")]


def test_stratifiers_must_match_by_code_or_text() -> None:
    """Stratifiers match by text; an uncoded, unknown or missing stratifier is an error."""
    uncoded = group("adults", SCORE, strata=("sex", "region"))
    uncoded["stratifier"].append({"stratum": [{"value": {"text": "x"}}]})
    result = check(report(uncoded, group("children", SCORE)), measure())
    assert errors(result) == [
        ("business-rule", "MeasureReport.group[0]"),  # no 'age'
        ("business-rule", "MeasureReport.group[0].stratifier[1]"),
        ("business-rule", "MeasureReport.group[0].stratifier[2]")]


def test_unknown_measure_is_a_warning_only() -> None:
    """A Measure that is not loaded: one not-found warning, no error."""
    result = check(report(group("whatever", {"value": 7})))
    assert_issue(result, "MeasureReport.measure", severity="warning", code="not-found",
                 fragment="could not be resolved")
    assert errors(result) == []


def test_contained_measure_is_used() -> None:
    """measure '#id' points to a contained Measure."""
    inner = {**measure("cohort", {"population": [criterion("initial-population")]}),
             "id": "m1"}
    del inner["text"]
    result = check(report({"population": [population("initial-population", count=1)],
                           "measureScore": {"value": 1}}, measure="#m1", contained=[inner]))
    assert ("business-rule", "MeasureReport.group[0].measureScore") in errors(result)


# -- the Measure itself ----------------------------------------------------------------------
ELM = ('<library xmlns="urn:hl7-org:elm:r1"><statements>'
       '<def name="Sex"/><def name="Age"/></statements></library>')


def library(elm: str | None = ELM) -> dict[str, Any]:
    content = [{"contentType": "text/cql", "data": base64.b64encode(b"library Visits").decode()}]
    if elm is not None:
        content.append({"contentType": "application/elm+xml",
                        "data": base64.b64encode(elm.encode()).decode()})
    return {"resourceType": "Library", "url": CQL_LIB, "name": "Visits", "status": "active",
            "type": concept("logic-library", "http://terminology.hl7.org/CodeSystem/library-type"),
            "content": content}


def cql_measure(expression: str, *, libraries: tuple[str, ...] = (CQL_LIB,)) -> dict[str, Any]:
    stratifier = {"code": {"text": "sex"},
                  "criteria": {"language": "text/cql.identifier", "expression": expression}}
    return measure("cohort", {"population": [criterion("initial-population")],
                              "stratifier": [stratifier]}, library=list(libraries))


AT = "Measure.group[0].stratifier[0].criteria"


@pytest.mark.parametrize("expression", ["Sex", "Visits.Age"])
def test_cql_stratifier_found_in_elm(expression: str) -> None:
    """A CQL stratifier naming a definition of the Library's ELM is fine."""
    assert errors(check(cql_measure(expression), library())) == []


@pytest.mark.parametrize("expression, lib, fragment", [
    ("Height", library(), "defines no 'Height'"),
    ("Other.Sex", library(), "named 'Other'"),
    ("Sex", library(elm=None), "has no ELM"),
    ("Sex", library(elm="<library/>"), "not an ELM library"),
])
def test_cql_stratifier_errors(expression: str, lib: dict[str, Any], fragment: str) -> None:
    """Unknown definitions and libraries, and missing or foreign ELM, are errors."""
    assert_issue(check(cql_measure(expression), lib), AT, severity="error", code="invalid",
                 fragment=fragment)


def test_cql_stratifier_without_library() -> None:
    """CQL criteria with no loaded Library: an error, and the unknown Library is information."""
    result = check(cql_measure("Sex"))
    assert_issue(result, AT, severity="error", code="invalid", fragment="no loaded Library")
    assert_issue(result, "Measure.library[0]", severity="information", code="not-found",
                 fragment=CQL_LIB)


def test_several_groups_without_codes_are_warned() -> None:
    """Several groups need codes to tell them apart (a warning, not an error)."""
    result = check(measure("cohort", {"population": [criterion("initial-population")]},
                           {"population": [criterion("initial-population")]}))
    assert_issue(result, "Measure.group[1]", severity="warning", code="required",
                 fragment="several groups")
    assert errors(result) == []


# -- more of the HL7 validator's Measure rules, one case each ----------------------------------
def test_report_without_measure_is_information() -> None:
    """A report that names no Measure: information, nothing checked."""
    bare = report(group("adults", SCORE))
    del bare["measure"]
    result = check(bare, measure())
    assert_issue(result, "MeasureReport", severity="information", code="required",
                 fragment="no Measure is identified")


def test_unknown_scoring_is_information() -> None:
    """A Measure whose scoring is not one of the four: information at the report's measure."""
    result = check(report(group("adults", SCORE, strata=("sex", "age")), group("children", SCORE)),
                   measure("composite"))
    assert_issue(result, "MeasureReport.measure", severity="information", code="business-rule",
                 fragment="'composite'")


def test_single_group_code_without_system_is_not_usable() -> None:
    """A group code with no system cannot be matched (one group on each side)."""
    single = measure("proportion", {"code": concept("adults"),
                                    "population": [criterion("numerator")]})
    g = {**group(None, SCORE, pops=("numerator",)), "code": {"coding": [{"code": "adults"}]}}
    assert_issue(check(report(g), single), "MeasureReport.group[0]", severity="error",
                 code="business-rule", fragment="no coding with both a system and a code")


def test_population_without_code_or_count() -> None:
    """A reported population needs a code (error) and should have a count (warning)."""
    g = group("children", SCORE)
    del g["population"][0]["code"]
    del g["population"][1]["count"]
    result = check(report(group("adults", SCORE, strata=("sex", "age")), g), measure())
    assert_issue(result, "MeasureReport.group[1].population[0]", severity="error",
                 code="business-rule", fragment="needs a code")
    assert_issue(result, "MeasureReport.group[1].population[1]", severity="warning",
                 code="business-rule", fragment="no count")


def test_score_without_value_and_ratio_without_unit() -> None:
    """A proportion score needs a value (error); a ratio score should have a unit (warning)."""
    result = check(report(group("adults", {"unit": "1"}, strata=("sex", "age")),
                          group("children", SCORE)), measure())
    assert ("required", "MeasureReport.group[0].measureScore") in errors(result)
    ratio = check(report(group("adults", {"value": 3}, strata=("sex", "age")),
                         group("children", {"value": 2})), measure("ratio"))
    assert_issue(ratio, "MeasureReport.group[1].measureScore", severity="warning",
                 code="not-found", fragment="should have a unit")


def test_measure_without_groups_or_populations_is_warned() -> None:
    """A Measure with no group, or a group with no population: warnings."""
    empty = measure("cohort")
    del empty["group"]
    assert_issue(check(empty), "Measure", severity="warning", code="required",
                 fragment="no group")
    hollow = measure("cohort", {"description": "nothing yet"})
    assert_issue(check(hollow), "Measure.group[0]", severity="warning", code="required",
                 fragment="no population")


def test_several_uncoded_populations_or_stratifiers_are_warned() -> None:
    """Several populations (or stratifiers) of a group need codes to tell them apart."""
    m = measure("cohort", {"population": [criterion("initial-population"),
                                          {"criteria": {"language": "text/fhirpath",
                                                        "expression": "true"}}],
                           "stratifier": [{"criteria": {"language": "text/fhirpath",
                                                        "expression": "gender"}},
                                          {"code": {"text": "age"}}]})
    result = check(m)
    assert_issue(result, "Measure.group[0].population[1]", severity="warning", code="required",
                 fragment="several populations")
    assert_issue(result, "Measure.group[0].stratifier[0]", severity="warning", code="required",
                 fragment="several stratifiers")


def test_non_cql_stratifier_criteria_are_not_checked() -> None:
    """Stratifier criteria in another language are said not to be checked (a warning)."""
    m = measure("cohort", {"population": [criterion("initial-population")], "stratifier": [
        {"code": {"text": "sex"}, "criteria": {"language": "text/fhirpath",
                                               "expression": "gender"}}]})
    assert_issue(check(m), AT, severity="warning", code="not-supported",
                 fragment="are not checked")


def test_cql_library_choice_errors() -> None:
    """Two Libraries: an unprefixed expression cannot choose; two of one name are ambiguous;
    ELM that is not XML cannot be read."""
    other = {**library(), "url": CQL_LIB + "-2", "name": "Other"}
    both = cql_measure("Sex", libraries=(CQL_LIB, CQL_LIB + "-2"))
    assert_issue(check(both, library(), other), AT, severity="error", code="invalid",
                 fragment="several Libraries")
    twin = {**library(), "url": CQL_LIB + "-3"}
    result = check(cql_measure("Visits.Sex", libraries=(CQL_LIB, CQL_LIB + "-3")), library(),
                   twin)
    assert_issue(result, AT, severity="error", code="invalid", fragment="several Libraries are "
                 "named 'Visits'")
    assert_issue(check(cql_measure("Sex"), library(elm="<library")), AT, severity="error",
                 code="invalid", fragment="cannot be read")


def test_subject_list_count_is_the_number_of_listed_subjects() -> None:
    """In a subject-list report, a count that differs from its contained List's entries is an
    error at the count; the same count is fine."""
    subjects = {"resourceType": "List", "id": "adults-num", "status": "current",
                "mode": "snapshot", "entry": [{"item": {"reference": f"Patient/p{i}"}}
                                              for i in range(3)]}
    listed = group("adults", SCORE, strata=("sex", "age"))
    listed["population"][0]["subjectResults"] = {"reference": "#adults-num"}
    right = report(listed, group("children", SCORE), type_="subject-list", contained=[subjects])
    assert errors(check(right, measure())) == []
    listed["population"][0]["count"] = 4
    wrong = report(listed, group("children", SCORE), type_="subject-list", contained=[subjects])
    assert_issue(check(wrong, measure()), "MeasureReport.group[0].population[0].count",
                 severity="error", code="business-rule", fragment="count 4")

