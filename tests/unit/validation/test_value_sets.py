"""ValueSet resources (ecanfhir.validation.checks.value_set): includes checked against the code
systems and value sets that are loaded — systems, concepts, filters and imports.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. The code system here is a small synthetic one loaded into the registry.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SITES = "http://example.org/fhir/CodeSystem/tumour-sites"
CODE_SYSTEM = {
    "resourceType": "CodeSystem", "url": SITES, "status": "draft", "content": "complete",
    "hierarchyMeaning": "is-a",
    "property": [{"code": "grade", "type": "integer"}, {"code": "weight", "type": "decimal"},
                 {"code": "since", "type": "dateTime"}, {"code": "paired", "type": "boolean"},
                 {"code": "mapsTo", "type": "Coding"}],
    "concept": [{"code": "breast", "display": "Breast", "concept": [
        {"code": "breast-left", "display": "Left breast"}]},
                {"code": "lung", "display": "Lung"}],
}
EXAMPLE_CS = {**CODE_SYSTEM, "url": "http://example.net/cs/sample", "content": "example"}
SUPPLEMENT = {"resourceType": "CodeSystem", "url": "http://example.net/cs/sites-da",
              "status": "draft", "content": "supplement", "supplements": SITES}
AT = "ValueSet.compose.include[0]"


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    for resource in (CODE_SYSTEM, EXAMPLE_CS, SUPPLEMENT):
        registry.add(resource)
    return Validator(registry)


def value_set(*includes: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "text": NARRATIVE, "status": "draft",
            "url": "http://example.net/ValueSet/sites", "compose": {"include": list(includes)},
            **elements}


def issues(validator: Validator, resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validator.validate(resource).issues if i.rule.startswith("valueset-")]


def the_issue(validator: Validator, resource: dict[str, Any], expression: str) -> Issue:
    found = [i for i in issues(validator, resource) if i.expression == expression]
    assert len(found) == 1, issues(validator, resource)
    return found[0]


def test_value_set_within_the_rules_is_valid(validator: Validator) -> None:
    """Known codes with displays, filters of the right types, imports of loaded value sets."""
    resource = value_set(
        {"system": SITES, "concept": [{"code": "breast", "display": "Breast"},
                                      {"code": "lung", "display": "Lung"}]},
        {"system": SITES, "filter": [{"property": "concept", "op": "is-a", "value": "breast"},
                                     {"property": "grade", "op": "in", "value": "1,2"},
                                     {"property": "weight", "op": "=", "value": "0.5"},
                                     {"property": "since", "op": "=", "value": "2024-05"},
                                     {"property": "paired", "op": "exists", "value": "true"},
                                     {"property": "mapsTo", "op": "=", "value": "http://x.org#a"},
                                     {"property": "code", "op": "regex", "value": "b.*"}]},
        {"valueSet": ["http://hl7.org/fhir/ValueSet/administrative-gender"]})
    assert issues(validator, resource) == []
    assert validator.validate(resource).ok


@pytest.mark.parametrize(("system", "words"), [
    ("tumour-sites", "must be an absolute URI"), ("#cs", "no contained CodeSystem matches"),
])
def test_relative_system_is_an_error(validator: Validator, system: str, words: str) -> None:
    """An include's system is a canonical URL; '#cs' names no contained CodeSystem here."""
    found = [(i.severity, i.code, i.expression) for i in issues(validator, value_set(
        {"system": system, "concept": [{"code": "a"}]})) if words in i.message]
    assert found == [("error", "invalid", f"{AT}.system")]


def test_contained_resource_that_is_not_a_code_system_is_an_error(validator: Validator) -> None:
    """'#vs2' names a contained ValueSet, which cannot be a system."""
    resource = value_set({"system": "#vs2", "concept": [{"code": "a"}]},
                         contained=[{"resourceType": "ValueSet", "id": "vs2", "status": "draft"}])
    found = [i for i in issues(validator, resource) if "not a CodeSystem" in i.message]
    assert [(i.severity, i.rule) for i in found] == [("error", "valueset-system")]


def test_supplement_as_system_is_an_error(validator: Validator) -> None:
    """A supplement adds to a code system; the value set includes the code system itself."""
    issue = the_issue(validator, value_set({"system": SUPPLEMENT["url"]}), f"{AT}.system")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "valueset-system")


def test_example_code_system_is_a_warning(validator: Validator) -> None:
    """A CodeSystem with content 'example' may lack codes the value set relies on."""
    issue = the_issue(validator, value_set({"system": EXAMPLE_CS["url"]}), f"{AT}.system")
    assert (issue.severity, issue.rule) == ("warning", "valueset-system")


def test_unknown_concept_code_is_a_warning_at_the_code(validator: Validator) -> None:
    """'kidney' is not a code of the loaded, complete code system."""
    resource = value_set({"system": SITES, "concept": [{"code": "lung"}, {"code": "kidney"}]})
    issue = the_issue(validator, resource, f"{AT}.concept[1].code")
    assert (issue.severity, issue.code, issue.rule) == ("warning", "business-rule",
                                                          "valueset-concept")


def test_some_displays_missing_is_noted(validator: Validator) -> None:
    """Concepts with and without displays in one include: information to check it."""
    resource = value_set({"system": SITES, "concept": [{"code": "lung", "display": "Lung"},
                                                       {"code": "breast"}]})
    issue = the_issue(validator, resource, AT)
    assert (issue.severity, issue.rule) == ("information", "valueset-concept")


@pytest.mark.parametrize(("system", "severity"), [
    ("http://registry.example.net/cs/unknown", "warning"),
    ("http://example.org/cs/x", "information"),
])
def test_system_not_loaded_cannot_be_checked(validator: Validator, system: str,
                                             severity: str) -> None:
    """Concepts of a system that is not loaded: a warning (information for example.org)."""
    found = [(i.severity, i.rule) for i in issues(validator, value_set(
        {"system": system, "concept": [{"code": "a"}]}))]
    assert found == [(severity, "valueset-concept")]


def test_concepts_without_system_are_a_warning(validator: Validator) -> None:
    """Concepts with no system cannot be checked (vsd-2 makes it an error as well)."""
    issue = the_issue(validator, value_set({"concept": [{"code": "a"}]}), AT)
    assert (issue.severity, issue.rule) == ("warning", "valueset-system")


@pytest.mark.parametrize(("flt", "where", "severity", "words"), [
    ({"property": "colour", "op": "=", "value": "red"}, "property", "warning", "'colour'"),
    ({"property": "concept", "op": "generalizes", "value": "breast"}, "op", "error",
     "'generalizes' is not allowed"),
    ({"property": "concept", "op": "regex", "value": "b.*"}, "op", "error", "not to 'concept'"),
    ({"property": "concept", "op": "is-a", "value": "kidney"}, "value", "error",
     "not a code of"),
    ({"property": "paired", "op": "=", "value": "yes"}, "value", "error", "'true' or 'false'"),
    ({"property": "inactive", "op": "exists", "value": "1"}, "value", "error",
     "'true' or 'false'"),
    ({"property": "grade", "op": "in", "value": "1,two"}, "value", "error", "an integer"),
    ({"property": "weight", "op": "=", "value": "heavy"}, "value", "error", "a decimal"),
    ({"property": "since", "op": "=", "value": "May 2024"}, "value", "error", "a date"),
    ({"property": "mapsTo", "op": "=", "value": "just-a-code"}, "value", "error",
     "system(|version)#code"),
    ({"property": "synonym", "op": "=", "value": "a,b"}, "value", "information", "has a comma"),
    ({"property": "synonym", "op": "=", "value": " a"}, "value", "error", "no leading"),
    ({"property": "code", "op": "regex", "value": "br[east"}, "value", "warning",
     "valid regular expression"),
])
def test_filter_breaking_a_rule(validator: Validator, flt: dict[str, Any], where: str,
                                severity: str, words: str) -> None:
    """Unknown properties, operators and values that do not fit the property are reported."""
    resource = value_set({"system": SITES, "filter": [flt]})
    found = [(i.severity, i.rule) for i in issues(validator, resource)
             if i.expression == f"{AT}.filter[0].{where}" and words in i.message]
    assert found == [(severity, "valueset-filter")]


def test_hierarchy_properties_need_a_hierarchy(validator: Validator) -> None:
    """'parent' is not a property of a code system without hierarchyMeaning: a warning only."""
    flat = {**CODE_SYSTEM, "url": "http://example.net/cs/flat"}
    del flat["hierarchyMeaning"]
    registry = Registry()
    registry.add(flat)
    resource = value_set({"system": flat["url"], "filter": [
        {"property": "parent", "op": "=", "value": "nothing"}]})
    found = [(i.severity, i.expression) for i in Validator(registry).validate(resource).issues
             if i.rule == "valueset-filter"]
    assert found == [("warning", f"{AT}.filter[0].property")]


def test_imports_that_cannot_be_used(validator: Validator) -> None:
    """An import not loaded, one that is no ValueSet, and two in one include: warnings."""
    resource = value_set({"valueSet": ["http://example.net/ValueSet/missing",
                                       "http://hl7.org/fhir/StructureDefinition/Patient"]})
    found = sorted((i.severity, i.expression) for i in issues(validator, resource))
    assert found == [("warning", AT), ("warning", f"{AT}.valueSet[0]"),
                     ("warning", f"{AT}.valueSet[1]")]
    assert all(i.rule == "valueset-import" for i in issues(validator, resource))


def test_contained_code_system_of_another_version_is_an_error(validator: Validator) -> None:
    """'#cs' version 2 is asked for; the contained CodeSystem is version 1."""
    contained = {"resourceType": "CodeSystem", "id": "cs", "url": "http://example.net/cs/c",
                 "version": "1", "status": "draft", "content": "complete"}
    resource = value_set({"system": "#cs", "version": "2", "concept": [{"code": "a"}]},
                         contained=[contained])
    found = [i for i in issues(validator, resource) if "version '2'" in i.message]
    assert [(i.severity, i.expression, i.rule) for i in found] == [
        ("error", f"{AT}.system", "valueset-system")]


@pytest.mark.parametrize("version", [None, "1"])
def test_several_contained_code_systems_matching_is_an_error(validator: Validator,
                                                              version: str | None) -> None:
    """Two contained CodeSystems with id 'cs' (and version 1): which one is meant?"""
    contained = [{"resourceType": "CodeSystem", "id": "cs", "url": "http://example.net/cs/c",
                  "version": "1", "status": "draft", "content": "complete"}] * 2
    include: dict[str, Any] = {"system": "#cs", "concept": [{"code": "a"}]}
    if version:
        include["version"] = version
    found = [i for i in issues(validator, value_set(include, contained=contained))
             if "several contained" in i.message]
    assert [(i.severity, i.expression, i.rule) for i in found] == [
        ("error", f"{AT}.system", "valueset-system")]


def test_versioned_include_of_a_supplement_or_unknown_code(validator: Validator) -> None:
    """With include.version given, a supplement as system is still an error, an example code
    system still a warning and an unknown code still a warning at the code."""
    supplement = the_issue(validator, value_set({"system": SUPPLEMENT["url"], "version": "1"}),
                           f"{AT}.system")
    assert (supplement.severity, supplement.rule) == ("error", "valueset-system")
    example = the_issue(validator, value_set({"system": EXAMPLE_CS["url"], "version": "1"}),
                        f"{AT}.system")
    assert (example.severity, example.rule) == ("warning", "valueset-system")
    resource = value_set({"system": SITES, "version": "1", "concept": [{"code": "kidney"}]})
    unknown = the_issue(validator, resource, f"{AT}.concept[0].code")
    assert (unknown.severity, unknown.code, unknown.rule) == ("warning", "business-rule",
                                                              "valueset-concept")
