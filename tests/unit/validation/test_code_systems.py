"""CodeSystem resources (ecanfhir.validation.checks.code_system): content and count,
supplements, the 'all codes' value set, property definitions and values, designations.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. All code systems here are small synthetic ones.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EX = "http://example.net/fhir/"
PROPS = "http://hl7.org/fhir/concept-properties#"
BASE = {"resourceType": "CodeSystem", "url": EX + "CodeSystem/sites", "status": "draft",
        "content": "complete", "caseSensitive": True,
        "concept": [{"code": "breast", "display": "Breast"}, {"code": "lung", "display": "Lung"}]}
ALL_CODES = {"resourceType": "ValueSet", "url": EX + "ValueSet/sites", "status": "draft",
             "compose": {"include": [{"system": BASE["url"]}]}}


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    registry.add(BASE)
    registry.add(ALL_CODES)
    registry.add({**ALL_CODES, "url": EX + "ValueSet/some-sites", "compose": {"include": [
        {"system": BASE["url"], "concept": [{"code": "lung"}]}]}})
    return Validator(registry)


def code_system(**changes: Any) -> dict[str, Any]:
    return {**BASE, "text": NARRATIVE, "url": EX + "CodeSystem/other", **changes}


def issues(validator: Validator, resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validator.validate(resource).issues if i.rule.startswith("codesystem-")]


def found(validator: Validator, resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((i.severity, i.expression, i.rule) for i in issues(validator, resource))


def test_consistent_code_system_is_valid(validator: Validator) -> None:
    """Complete, counted, with its all-codes value set and a standard property."""
    resource = {**BASE, "text": NARRATIVE, "count": 2, "valueSet": ALL_CODES["url"],
                "property": [{"code": "status", "uri": PROPS + "status", "type": "code"}],
                "concept": [{"code": "breast", "display": "Breast", "property": [
                    {"code": "status", "valueCode": "active"}], "designation": [
                    {"language": "da", "value": "Bryst"}]}, {"code": "lung", "display": "Lung"}]}
    assert issues(validator, resource) == []
    assert validator.validate(resource).ok


def test_count_of_a_complete_system_must_match(validator: Validator) -> None:
    """Two concepts, count 3: a complete code system's count is its number of concepts."""
    assert found(validator, code_system(count=3)) == [
        ("error", "CodeSystem.count", "codesystem-count")]


def test_count_of_a_fragment_exceeds_its_concepts(validator: Validator) -> None:
    """A fragment shows some codes: the stated total should be larger."""
    assert found(validator, code_system(content="fragment", count=2)) == [
        ("warning", "CodeSystem.count", "codesystem-count")]


def test_not_present_content_has_no_concepts(validator: Validator) -> None:
    """content 'not-present' promises no concepts."""
    assert found(validator, code_system(content="not-present")) == [
        ("error", "CodeSystem.concept[0]", "codesystem-count")]


def test_missing_case_sensitivity_is_noted(validator: Validator) -> None:
    """caseSensitive should be stated: information, a warning for an HL7 code system."""
    resource = code_system()
    del resource["caseSensitive"]
    assert found(validator, resource) == [("information", "CodeSystem", "codesystem-meta")]
    hl7 = {**resource, "url": "http://terminology.hl7.org/CodeSystem/synthetic"}
    assert found(validator, hl7) == [("warning", "CodeSystem", "codesystem-meta")]


def supplement(**changes: Any) -> dict[str, Any]:
    resource = {"resourceType": "CodeSystem", "text": NARRATIVE, "url": EX + "CodeSystem/sup",
                "status": "draft", "content": "supplement", "supplements": BASE["url"],
                "concept": [{"code": "lung", "designation": [{"language": "da",
                                                              "value": "Lunge"}]}]}
    return {**resource, **changes}


def test_supplement_of_known_codes_is_valid(validator: Validator) -> None:
    """A supplement adding a Danish designation to a code of its base."""
    assert issues(validator, supplement()) == []


def test_supplement_rules(validator: Validator) -> None:
    """content 'supplement', no caseSensitive, and only codes of the base."""
    resource = supplement(content="complete", caseSensitive=True,
                          concept=[{"code": "kidney", "display": "Kidney"}])
    assert found(validator, resource) == [
        ("error", "CodeSystem.caseSensitive", "codesystem-supplement"),
        ("error", "CodeSystem.concept[0].code", "codesystem-supplement"),
        ("error", "CodeSystem.content", "codesystem-supplement")]


def test_supplement_without_supplements_is_an_error(validator: Validator) -> None:
    """content 'supplement' needs CodeSystem.supplements."""
    resource = supplement()
    del resource["supplements"]
    assert ("error", "CodeSystem.content", "codesystem-supplement") in found(validator, resource)


def test_supplement_of_a_system_not_loaded_cannot_be_checked(validator: Validator) -> None:
    """The base is not loaded: a warning that its concepts were not checked."""
    assert found(validator, supplement(supplements=EX + "CodeSystem/missing")) == [
        ("warning", "CodeSystem", "codesystem-supplement")]


def test_all_codes_value_set_that_selects_codes_is_an_error(validator: Validator) -> None:
    """CodeSystem.valueSet is the value set of all its codes, not a selection."""
    resource = {**BASE, "text": NARRATIVE, "valueSet": EX + "ValueSet/some-sites"}
    assert found(validator, resource) == [
        ("error", "CodeSystem.valueSet", "codesystem-valueset")]


def test_all_codes_value_set_without_a_single_include_is_an_error(validator: Validator) -> None:
    """The all-codes value set has exactly one include: this code system, whole."""
    registry = Registry()
    registry.add({**ALL_CODES, "compose": {"include": [{"system": BASE["url"]},
                                                       {"system": EX + "CodeSystem/x"}]}})
    resource = {**BASE, "text": NARRATIVE, "valueSet": ALL_CODES["url"]}
    assert found(Validator(registry), resource) == [
        ("error", "CodeSystem.valueSet", "codesystem-valueset")]


def test_all_codes_value_set_of_an_incomplete_system_is_noted(validator: Validator) -> None:
    """A fragment rarely has a value set of all its codes: information."""
    resource = {**BASE, "text": NARRATIVE, "content": "fragment", "valueSet": ALL_CODES["url"]}
    assert found(validator, resource) == [
        ("information", "CodeSystem.valueSet", "codesystem-valueset")]


def test_all_codes_value_set_of_another_system_is_an_error(validator: Validator) -> None:
    """Another code system's all-codes value set does not include this one."""
    assert found(validator, code_system(valueSet=ALL_CODES["url"])) == [
        ("error", "CodeSystem.valueSet", "codesystem-valueset")]


@pytest.mark.parametrize(("properties", "expected"), [
    ([{"code": "flag", "uri": "http://hl7.org/fhir/my-flag", "type": "boolean"}],
     [("error", "CodeSystem.property[0]")]),
    ([{"code": "a", "type": "code"}, {"code": "a", "type": "string"}],
     [("error", "CodeSystem.property[1]"), ("information", "CodeSystem.property[0]"),
      ("information", "CodeSystem.property[1]")]),
    ([{"code": "inactive", "uri": PROPS + "deprecationDate", "type": "dateTime"}],
     [("error", "CodeSystem.property[0]")]),
    ([{"code": "retired", "uri": PROPS + "deprecationDate", "type": "dateTime"}], []),
    ([{"code": "inactive", "uri": PROPS + "inactive", "type": "string"}],
     [("error", "CodeSystem.property[0]")]),
    ([{"code": "inactive", "type": "boolean"}], [("warning", "CodeSystem.property[0]")]),
    ([{"code": "inactive", "type": "string"}], [("warning", "CodeSystem.property[0]")] * 2),
])
def test_property_definitions(validator: Validator, properties: list[dict[str, Any]],
                              expected: list[tuple[str, str]]) -> None:
    """HL7 uris name HL7's properties with their codes and types; codes and uris once."""
    resource = code_system(property=properties)
    assert [(s, e) for s, e, _ in found(validator, resource)] == expected


def test_concept_property_values(validator: Validator) -> None:
    """A concept's properties are declared, have a value, and of the declared type."""
    resource = code_system(
        property=[{"code": "grade", "uri": EX + "grade", "type": "integer"}],
        concept=[{"code": "lung", "display": "Lung", "property": [
            {"code": "grade", "valueInteger": 2}, {"code": "stage", "valueInteger": 1},
            {"code": "grade", "valueString": "two"}, {"code": "grade"}]}])
    assert found(validator, resource) == [
        ("error", "CodeSystem.concept[0].property[2]", "codesystem-property"),
        ("error", "CodeSystem.concept[0].property[3]", "codesystem-property"),
        ("warning", "CodeSystem.concept[0].property[1]", "codesystem-property")]


def test_designation_without_use_in_the_same_language_is_a_warning(validator: Validator) -> None:
    """No use, no other language: a designation that differs from the display says nothing."""
    resource = code_system(concept=[{"code": "lung", "display": "Lung", "designation": [
        {"value": "Lungs"}, {"language": "da", "value": "Lunge"},
        {"use": {"code": "900000000000013009", "system": "http://snomed.info/sct"},
         "value": "Pulmo"}]}])
    assert found(validator, resource) == [
        ("warning", "CodeSystem.concept[0].designation[0]", "codesystem-designation")]


def test_contained_code_system_is_noted(validator: Validator) -> None:
    """Outside a Questionnaire, a code system is better published than contained."""
    inner = {**BASE, "id": "cs", "url": EX + "CodeSystem/inner"}
    del inner["resourceType"]
    resource = {"resourceType": "ValueSet", "text": NARRATIVE, "status": "draft",
                "contained": [{"resourceType": "CodeSystem", **inner}],
                "compose": {"include": [{"system": EX + "CodeSystem/inner"}]}}
    assert found(validator, resource) == [
        ("information", "ValueSet.contained[0]", "codesystem-contained")]


def test_supplement_display_differing_from_the_base_is_noted(validator: Validator) -> None:
    """Two displays claiming the same language for one code: information."""
    resource = supplement(concept=[{"code": "lung", "display": "Lungs"}])
    assert found(validator, resource) == [
        ("information", "CodeSystem.concept[0].display", "codesystem-supplement")]


def test_designation_in_the_code_system_language_without_use_is_a_warning(
        validator: Validator) -> None:
    """The code system is in English; an English designation without use clashes."""
    resource = code_system(language="en", concept=[{"code": "lung", "display": "Lung",
                                                    "designation": [{"language": "en",
                                                                     "value": "Lungs"}]}])
    assert found(validator, resource) == [
        ("warning", "CodeSystem.concept[0].designation[0]", "codesystem-designation")]


def test_not_present_content_with_a_count_of_zero_is_a_warning(validator: Validator) -> None:
    """'not-present' with count 0: complete and empty, or a count that should not be 0?"""
    resource = code_system(content="not-present", count=0)
    del resource["concept"]
    assert found(validator, resource) == [("warning", "CodeSystem.count", "codesystem-count")]


def _with_base(**base_changes: Any) -> Validator:
    registry = Registry()
    registry.add({**BASE, **base_changes})
    registry.add(ALL_CODES)
    return Validator(registry)


def test_supplement_count_differing_from_its_base_is_a_warning() -> None:
    """The base states 2 concepts; a supplement stating 5 contradicts it."""
    assert found(_with_base(count=2), supplement(count=5)) == [
        ("warning", "CodeSystem.count", "codesystem-count")]
    assert found(_with_base(count=2), supplement(count=2)) == []


@pytest.mark.parametrize(("base_value_set", "words"), [
    (ALL_CODES["url"], "should not name"),
    (None, "not the base code system's"),
])
def test_supplement_naming_an_all_codes_value_set_is_a_warning(base_value_set: str | None,
                                                               words: str) -> None:
    """A supplement should not have CodeSystem.valueSet; if it does, it is the base's."""
    validator = _with_base(valueSet=base_value_set) if base_value_set else _with_base()
    result = issues(validator, supplement(valueSet=ALL_CODES["url"]))
    assert [(i.severity, i.expression, i.rule) for i in result if words in i.message] == [
        ("warning", "CodeSystem.valueSet", "codesystem-valueset")]


def test_all_codes_expansion_of_the_wrong_size_is_an_error() -> None:
    """The all-codes value set's expansion holds 1 code; the code system has 2."""
    registry = Registry()
    registry.add({**ALL_CODES, "expansion": {"timestamp": "2024-05-01", "contains": [
        {"system": BASE["url"], "code": "lung"}]}})
    resource = {**BASE, "text": NARRATIVE, "valueSet": ALL_CODES["url"]}
    assert found(Validator(registry), resource) == [
        ("error", "CodeSystem.valueSet", "codesystem-valueset")]


def test_index_reads_concept_property_values() -> None:
    """A concept's property values as the index keeps them: several values of one property
    in order, whatever their shape (a bare valueCode, one with an extension beside it, a
    boolean, a Coding's code), and the flags and hierarchy read from them."""
    from ecanfhir.terminology.code_systems import index_code_system

    resource = code_system(concept=[
        {"code": "a", "property": [{"code": "status", "valueCode": "retired"}]},
        {"code": "b", "property": [
            {"code": "parent", "valueCode": "a"},
            {"code": "parent", "valueCode": "c",
             "extension": [{"url": EX + "x", "valueString": "y"}]},
            {"code": "notSelectable", "valueBoolean": True},
            {"code": "grade", "valueCoding": {"system": EX, "code": "g1"}},
            {"code": "grade", "valueInteger": 2}]},
        {"code": "c"}])
    index = index_code_system(EX, resource)
    assert index.properties["b"] == {"parent": ("a", "c"), "notSelectable": ("true",),
                                     "grade": ("g1", "2")}
    assert index.concepts["a"].inactive and index.concepts["b"].abstract
    assert index.parents["b"] == ["a", "c"]
