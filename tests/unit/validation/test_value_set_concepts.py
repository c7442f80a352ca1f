"""More ValueSet rules (ecanfhir.validation.checks.value_set and checks.value_set_concepts): a
version of a code system that is not loaded, a filter property no loaded definition explains, a
Coding filter value that is no code, SNOMED CT displays mixing semantic tags, supplements that are
required but not loaded. Each asserts severity, code, rule and FHIRPath location; the valid value
set says nothing of the kind. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _resources import NARRATIVE

from ecanfhir import Issue, Registry, Validator

ORGANS = "http://example.org/fhir/CodeSystem/organs"
ORGANS_CS = {"resourceType": "CodeSystem", "url": ORGANS, "version": "2", "status": "active",
             "content": "complete", "property": [{"code": "twin", "type": "Coding"}],
             "concept": [{"code": "kidney"}, {"code": "liver"}]}
AT = "ValueSet.compose.include[0]"
SUPPLEMENT_EXT = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"


@pytest.fixture(scope="module")
def checker() -> Validator:
    registry = Registry()
    registry.add(ORGANS_CS)
    registry.add({"resourceType": "CodeSystem", "url": ORGANS + "-da", "status": "active",
                  "content": "supplement", "supplements": ORGANS})
    return Validator(registry)


def _value_set(include: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "text": NARRATIVE, "status": "draft",
            "url": "http://example.org/fhir/ValueSet/organs", **elements,
            "compose": {"include": [include]}}


def _ours(checker: Validator, vs: dict[str, Any], rule: str) -> list[Issue]:
    return [i for i in checker.validate(vs).issues if i.rule == rule]


def test_version_not_loaded_is_a_warning(checker: Validator) -> None:
    """Concepts of a version of the code system that is not loaded cannot be checked."""
    vs = _value_set({"system": ORGANS, "version": "1", "concept": [{"code": "spleen"}]})
    [issue] = _ours(checker, vs, "valueset-concept")
    assert (issue.severity, issue.code, issue.expression) == ("warning", "not-found",
                                                              AT + ".version")
    assert "version '1' is not loaded" in issue.message


def test_filter_property_without_definition_is_noted(checker: Validator) -> None:
    """A filter on a property that no loaded definition explains, for a system not loaded."""
    vs = _value_set({"system": "http://acme-lab.test/cs", "filter": [
        {"property": "laterality", "op": "=", "value": "left"}]})
    [issue] = _ours(checker, vs, "valueset-filter")
    assert (issue.severity, issue.code, issue.expression) == (
        "information", "invalid", AT + ".filter[0].property")


def test_coding_filter_value_that_is_no_code_is_an_error(checker: Validator) -> None:
    """A Coding property's filter value system#code must be a code of that system."""
    vs = _value_set({"system": ORGANS, "filter": [
        {"property": "twin", "op": "=", "value": f"{ORGANS}#spleen"}]})
    [issue] = _ours(checker, vs, "valueset-filter")
    assert (issue.severity, issue.code, issue.expression) == ("error", "invalid",
                                                              AT + ".filter[0].value")
    assert "is not a valid code" in issue.message


def test_snomed_displays_mixing_semantic_tags_are_noted(checker: Validator) -> None:
    """Fully specified names next to preferred terms in one SNOMED CT include."""
    vs = _value_set({"system": "http://snomed.info/sct", "concept": [
        {"code": "195967001", "display": "Asthma (disorder)"},
        {"code": "38341003", "display": "Hypertensive disorder"}]})
    [issue] = [i for i in _ours(checker, vs, "valueset-concept") if "semantic" in i.message]
    assert (issue.severity, issue.code, issue.expression) == ("information", "business-rule", AT)


@pytest.mark.parametrize(("supplements", "noun"), [
    (["http://example.org/fhir/CodeSystem/organs-de"], "supplement not found"),
    (["http://example.org/fhir/CodeSystem/organs-de",
      "http://example.org/fhir/CodeSystem/organs-fr"], "supplements not found")])
def test_required_supplement_not_loaded_is_a_warning(checker: Validator, supplements: list[str],
                                                     noun: str) -> None:
    """Supplements a value set requires (valueset-supplement) must be loaded."""
    vs = _value_set({"system": ORGANS}, extension=[
        {"url": SUPPLEMENT_EXT, "valueCanonical": url} for url in supplements])
    [issue] = _ours(checker, vs, "valueset-supplement")
    assert (issue.severity, issue.code, issue.expression) == ("warning", "not-found",
                                                              "ValueSet")
    assert noun in issue.message


def test_value_set_within_these_rules_says_nothing(checker: Validator) -> None:
    """The loaded version, a known filter value, a loaded supplement, consistent displays."""
    vs = _value_set({"system": ORGANS, "version": "2", "filter": [
        {"property": "twin", "op": "=", "value": f"{ORGANS}|2#kidney"}]},
        extension=[{"url": SUPPLEMENT_EXT, "valueCanonical": ORGANS + "-da"}])
    found = [i for i in checker.validate(vs).issues if i.rule.startswith("valueset-")]
    assert found == []
    snomed = _value_set({"system": "http://snomed.info/sct", "concept": [
        {"code": "195967001", "display": "Asthma"},
        {"code": "38341003", "display": "Hypertensive disorder"}]})
    assert [i for i in _ours(checker, snomed, "valueset-concept") if "semantic" in i.message] \
        == []


def test_include_of_a_code_system_loaded_in_several_versions_is_a_warning() -> None:
    """Without include.version, which of several loaded versions is meant is unclear; with it,
    or with one version loaded, nothing is said."""
    registry = Registry()
    registry.add_all([ORGANS_CS, {**ORGANS_CS, "version": "3"}])
    checker = Validator(registry)
    [issue] = _ours(checker, _value_set({"system": ORGANS}), "valueset-system")
    assert (issue.severity, issue.code, issue.expression) == ("warning", "invalid", AT)
    assert "several versions" in issue.message
    assert _ours(checker, _value_set({"system": ORGANS, "version": "3"}), "valueset-system") \
        == []
    single = Registry()
    single.add(ORGANS_CS)
    assert _ours(Validator(single), _value_set({"system": ORGANS}), "valueset-system") == []
