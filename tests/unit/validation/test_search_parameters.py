"""SearchParameter derivedFrom and CapabilityStatement search parameter types
(ecanfhir.validation.checks.search_parameter), against small SearchParameters loaded here.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EX = "http://example.org/fhir/SearchParameter/"
MASTER = {"resourceType": "SearchParameter", "url": EX + "subject-name", "name": "subjectname",
          "status": "active", "description": "Name of the subject", "code": "subject-name",
          "base": ["Observation", "Condition"], "type": "string",
          "expression": "Observation.subject.name | Condition.subject.name"}
RULES = ("searchparameter", "capability")


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(MASTER)
    return Validator(registry)


def derived(**changes: Any) -> dict[str, Any]:
    return {**MASTER, "text": NARRATIVE, "url": EX + "obs-subject-name", "name": "obssubjectname",
            "derivedFrom": MASTER["url"], "base": ["Observation"],
            "expression": "Observation.subject.name", **changes}


def issues(validator: Validator, resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validator.validate(resource).issues if i.rule.startswith(RULES)]


def the_issue(validator: Validator, resource: dict[str, Any], expression: str) -> Issue:
    found = [i for i in issues(validator, resource) if i.expression == expression]
    assert len(found) == 1, issues(validator, resource)
    return found[0]


def test_derived_parameter_on_a_subset_with_the_same_type_and_expression_is_valid(
        validator: Validator) -> None:
    """Observation only, type string, the Observation part of the expression."""
    assert issues(validator, derived()) == []
    assert validator.validate(derived()).ok


def test_base_the_derived_from_parameter_lacks_is_an_error(validator: Validator) -> None:
    """Patient is not a base of the parameter it is derived from."""
    resource = derived(base=["Observation", "Patient"])
    issue = the_issue(validator, resource, "SearchParameter.base[1]")
    assert (issue.severity, issue.code, issue.rule) == ("error", "business-rule",
                                                          "searchparameter-derived")


def test_other_type_than_the_derived_from_parameter_is_an_error(validator: Validator) -> None:
    """A string parameter cannot be refined into a token parameter."""
    issue = the_issue(validator, derived(type="token"), "SearchParameter.type")
    assert (issue.severity, issue.code, issue.rule) == ("error", "business-rule",
                                                          "searchparameter-derived")


def test_other_expression_than_the_derived_from_parameter_is_a_warning(
        validator: Validator) -> None:
    """A different path for the same base is likely no derivation: a warning."""
    resource = derived(expression="Observation.performer.name")
    issue = the_issue(validator, resource, "SearchParameter.expression")
    assert (issue.severity, issue.rule) == ("warning", "searchparameter-derived")
    assert validator.validate(resource).ok


@pytest.mark.parametrize(("url", "severity"), [
    (EX + "missing", "warning"), ("http://hl7.org/fhir/SearchParameter/Patient-name",
                                  "information"),
])
def test_derived_from_parameter_not_loaded_cannot_be_checked(validator: Validator, url: str,
                                                            severity: str) -> None:
    """Not loaded: said once; only information for a core parameter (not shipped)."""
    issue = the_issue(validator, derived(derivedFrom=url), "SearchParameter.derivedFrom")
    assert (issue.severity, issue.rule) == (severity, "searchparameter-derived")


def test_composite_needs_two_components(validator: Validator) -> None:
    """A composite parameter combines at least two components."""
    component = {"definition": MASTER["url"], "expression": "subject"}
    ok = {**MASTER, "text": NARRATIVE, "url": EX + "c", "type": "composite",
          "component": [component, component]}
    assert issues(validator, ok) == []
    issue = the_issue(validator, {**ok, "component": [component]}, "SearchParameter")
    assert (issue.severity, issue.code, issue.rule) == ("error", "business-rule",
                                                          "searchparameter-components")


def capability(kind: str) -> dict[str, Any]:
    return {"resourceType": "CapabilityStatement", "text": NARRATIVE, "status": "active",
            "date": "2024-05-01", "kind": "instance", "fhirVersion": "4.0.1",
            "format": ["json"], "implementation": {"description": "Synthetic server"},
            "rest": [{"mode": "server", "resource": [{"type": "Observation", "searchParam": [
                {"name": "subject-name", "definition": MASTER["url"], "type": kind}]}]}]}


def test_capability_search_param_with_the_definition_type_is_valid(validator: Validator) -> None:
    """The searchParam's type is its definition's type (string)."""
    assert issues(validator, capability("string")) == []


def test_capability_search_param_with_another_type_is_an_error(validator: Validator) -> None:
    """The definition says string; the CapabilityStatement says token."""
    issue = the_issue(validator, capability("token"),
                      "CapabilityStatement.rest[0].resource[0].searchParam[0].type")
    assert (issue.severity, issue.code, issue.rule) == ("error", "business-rule",
                                                          "capability-searchparam-type")


def test_expression_that_does_not_parse_is_an_error(validator: Validator) -> None:
    """FHIRPath syntax: a dangling '(' is an error; a function this engine lacks is not."""
    fine = derived(expression="Observation.subject.name.where(use = 'official')")
    assert [i for i in issues(validator, fine) if i.rule == "searchparameter-expression"] == []
    broken = derived(expression="Observation.subject.(")
    [issue] = [i for i in issues(validator, broken) if i.rule == "searchparameter-expression"]
    assert issue.expression == "SearchParameter.expression"
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid",
                                                          "searchparameter-expression")
