"""Bound codes whose value set needs a code system or value set that is not loaded
(ecanfhir.validation.checks.binding with checks.value_set_dependencies), and a Coding bound
without a value set. Each case asserts severity, code, rule and FHIRPath location; codes that can
be checked say nothing of the kind. Profiles and data are synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import EXAMPLE, constraint, element
from _resources import NARRATIVE

from ecanfhir import Issue, Registry, ValidationResult, Validator

LAB = "http://acme-lab.test/CodeSystem/methods"  # never loaded
VS = "http://example.org/fhir/ValueSet/"
MAX_VS = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet"
LAB_METHODS = {"resourceType": "ValueSet", "url": VS + "lab-methods", "status": "active",
               "compose": {"include": [{"system": LAB}]}}
IMPORTED = {"resourceType": "ValueSet", "url": VS + "imported-methods", "status": "active",
            "compose": {"include": [{"valueSet": [VS + "never-loaded"]}]}}
BOTH = {"resourceType": "ValueSet", "url": VS + "both-missing", "status": "active",
        "compose": {"include": [{"system": LAB}, {"valueSet": [VS + "never-loaded"]}]}}
LOCAL = "http://example.org/fhir/CodeSystem/local-methods"
LOCAL_CS = {"resourceType": "CodeSystem", "url": LOCAL, "status": "active",
            "content": "complete", "concept": [{"code": "palpation"}, {"code": "other"}]}
PALPATION = {"resourceType": "ValueSet", "url": VS + "palpation", "status": "active",
             "compose": {"include": [{"system": LOCAL, "concept": [{"code": "palpation"}]}]}}


def _check(path: str, binding: dict[str, Any], resource: dict[str, Any]) -> ValidationResult:
    profile = constraint("bound", resource["resourceType"], element(path, binding=binding))
    registry = Registry()
    registry.add_all([LAB_METHODS, IMPORTED, BOTH, LOCAL_CS, PALPATION, profile])
    return Validator(registry).validate({**resource, "meta": {"profile": [EXAMPLE + "bound"]}})


def _unchecked(result: ValidationResult) -> list[Issue]:
    return [i for i in result.issues if i.rule == "binding-unchecked"]


def _observation(**method: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "synthetic"}, "method": method}


def _encounter(**klass: Any) -> dict[str, Any]:
    return {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
            "class": klass}


@pytest.mark.parametrize(("strength", "severity"), [
    ("required", "warning"), ("extensible", "warning"), ("preferred", "information")])
def test_code_from_a_code_system_not_loaded(strength: str, severity: str) -> None:
    """A Coding whose value set draws on a code system that is not loaded: it cannot be
    checked, said at the element (a warning, or information for a preferred binding)."""
    result = _check("Encounter.class", {"strength": strength, "valueSet": VS + "lab-methods"},
                    _encounter(system=LAB, code="A1"))
    [issue] = _unchecked(result)
    assert (issue.severity, issue.code, issue.expression) == (severity, "not-found",
                                                              "Encounter.class")
    assert f"the code system '{LAB}' could not be found" in issue.message
    assert result.ok


@pytest.mark.parametrize(("value_set", "missing"), [
    ("imported-methods", f"the value set '{VS}never-loaded' could not be found"),
    ("both-missing", f"the code system '{LAB}' and the value set '{VS}never-loaded' could not"),
])
def test_concept_from_a_value_set_that_needs_one_not_loaded(value_set: str,
                                                           missing: str) -> None:
    """A CodeableConcept bound to a value set importing one that is not loaded (and drawing on
    a code system that is not loaded either)."""
    result = _check("Observation.method", {"strength": "required", "valueSet": VS + value_set},
                    _observation(coding=[{"system": LAB, "code": "A1"}]))
    [issue] = _unchecked(result)
    assert (issue.severity, issue.code, issue.expression) == ("warning", "not-found",
                                                              "Observation.method")
    assert missing in issue.message


def test_bare_code_from_a_code_system_not_loaded() -> None:
    """A code (no system) bound to such a value set cannot be validated either."""
    patient = {"resourceType": "Patient", "text": NARRATIVE, "gender": "unknown"}
    result = _check("Patient.gender", {"strength": "required", "valueSet": VS + "lab-methods"},
                    patient)
    [issue] = _unchecked(result)
    assert (issue.severity, issue.expression) == ("warning", "Patient.gender")
    assert "the value 'unknown' could not be validated" in issue.message


@pytest.mark.parametrize(("path", "resource"), [
    ("Encounter.class", _encounter(system=LAB, code="A1")),
    ("Observation.method", _observation(coding=[{"system": LAB, "code": "A1"}])),
])
def test_maximum_value_set_not_loaded(path: str, resource: dict[str, Any]) -> None:
    """Outside an extensible binding's value set, the code cannot be checked against a maximum
    value set that draws on a code system that is not loaded."""
    binding = {"strength": "extensible", "valueSet": VS + "palpation",
               "extension": [{"url": MAX_VS, "valueCanonical": VS + "lab-methods"}]}
    [issue] = _unchecked(_check(path, binding, resource))
    assert (issue.severity, issue.code, issue.expression) == ("warning", "not-found", path)
    assert "against the maximum value set" in issue.message


def test_codes_that_can_be_checked_say_nothing_of_the_kind() -> None:
    """Loaded code systems decide; SNOMED CT and the like get the tx-offline note instead."""
    binding = {"strength": "required", "valueSet": VS + "palpation"}
    result = _check("Observation.method", binding,
                    _observation(coding=[{"system": LOCAL, "code": "palpation"}]))
    assert _unchecked(result) == [] and result.ok
    condition = {"resourceType": "Condition", "text": NARRATIVE,
                 "subject": {"display": "Synthetic patient"},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "22298006"}]}}
    assert _unchecked(Validator().validate(condition)) == []


@pytest.mark.parametrize(("path", "where"), [
    ("Observation.code.coding", "Observation.code.coding[0]"),
    ("Observation.code.coding.code", "Observation.code.coding[0].code")])
def test_coding_or_code_bound_without_a_value_set_is_information(path: str, where: str) -> None:
    """A binding that names no value set, on a Coding or on a bare code: information that the
    code cannot be checked against one."""
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"coding": [{"system": LOCAL, "code": "other"}]}}
    result = _check(path, {"strength": "extensible", "description": "any local method"},
                    observation)
    [issue] = [i for i in result.issues if i.rule == "binding-no-source"]
    assert (issue.severity, issue.code, issue.expression) == ("information", "code-invalid",
                                                              where)


def test_bare_code_outside_an_extensible_bindings_maximum_is_an_error() -> None:
    """A code outside an extensible binding's value set must be in its maximum value set;
    inside the maximum it is fine."""
    languages = {"resourceType": "ValueSet", "url": VS + "languages", "status": "active",
                 "compose": {"include": [{"system": "urn:ietf:bcp:47", "concept": [
                     {"code": "da"}, {"code": "en"}, {"code": "de"}]}]}}
    danish = {"resourceType": "ValueSet", "url": VS + "danish", "status": "active",
              "compose": {"include": [{"system": "urn:ietf:bcp:47",
                                       "concept": [{"code": "da"}]}]}}
    binding = {"strength": "extensible", "valueSet": VS + "danish",
               "extension": [{"url": MAX_VS, "valueCanonical": VS + "languages"}]}
    profile = constraint("bound", "Patient", element("Patient.photo.language", binding=binding))
    registry = Registry()
    registry.add_all([languages, danish, profile])

    def photo(language: str) -> list[Issue]:
        patient = {"resourceType": "Patient", "text": NARRATIVE,
                   "meta": {"profile": [EXAMPLE + "bound"]},
                   "photo": [{"contentType": "image/png", "language": language}]}
        return [i for i in Validator(registry).validate(patient).issues
                if i.rule.startswith("binding-") and i.expression.endswith("language")]
    [issue] = photo("fr")
    assert (issue.severity, issue.code, issue.expression, issue.rule) == (
        "error", "code-invalid", "Patient.photo[0].language", "binding-max")
    assert photo("en") == []


def test_code_outside_an_expansion_from_an_unknown_system_says_so() -> None:
    """A value set given only by its expansion: a code not in it is outside the required
    binding, and its code system, not being loaded, is named as unknown."""
    expanded = {"resourceType": "ValueSet", "url": VS + "expanded", "status": "active",
                "expansion": {"timestamp": "2024-01-01T00:00:00Z",
                              "contains": [{"system": LAB, "code": "A1"}]}}
    profile = constraint("bound", "Observation", element(
        "Observation.method", binding={"strength": "required", "valueSet": VS + "expanded"}))
    registry = Registry()
    registry.add_all([expanded, profile])

    def method(code: str) -> list[Issue]:
        result = Validator(registry).validate({**_observation(coding=[{"system": LAB,
                                                                       "code": code}]),
                                               "meta": {"profile": [EXAMPLE + "bound"]}})
        return [i for i in result.issues if i.rule == "binding-required"]
    [issue] = method("B2")
    assert (issue.severity, issue.code, issue.expression) == ("error", "code-invalid",
                                                              "Observation.method")
    assert f"the code system '{LAB}' could not be found" in issue.message
    assert method("A1") == []


SNOMED_FINDINGS = {"resourceType": "ValueSet", "url": VS + "snomed-findings", "status": "active",
                   "compose": {"include": [{"system": "http://snomed.info/sct", "filter": [
                       {"property": "concept", "op": "is-a", "value": "404684003"}]}]}}


@pytest.mark.parametrize("strength", ["required", "extensible"])
def test_bare_code_a_required_binding_cannot_evaluate_leaves_conformance_unsure(
        strength: str) -> None:
    """A plain code bound (required) to a value set that cannot be evaluated offline: a
    profile with that binding cannot be confirmed, so the entry is not counted in the slice
    that asks for the profile, and the warning says which code was not checked. An
    extensible binding decides nothing, so the entry is counted."""
    unit_bound = constraint(
        f"unit-bound-{strength}", "Observation",
        element("Observation.value[x]", type=[{"code": "Quantity"}]),
        element("Observation.value[x].code", min=1, binding={
            "strength": strength, "valueSet": SNOMED_FINDINGS["url"]}))
    entries = constraint(
        f"entries-by-profile-{strength}", "Bundle",
        element("Bundle.entry", slicing={"discriminator": [
            {"type": "profile", "path": "resource"}], "rules": "open"}),
        element("Bundle.entry:finding", sliceName="finding", min=1, max="1"),
        element("Bundle.entry:finding.resource", type=[
            {"code": "Observation", "profile": [unit_bound["url"]]}]))
    registry = Registry()
    registry.add_all([SNOMED_FINDINGS, unit_bound, entries])
    finding = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
               "code": {"text": "synthetic"}, "valueQuantity": {
                   "value": 1, "system": "http://snomed.info/sct", "code": "22298006"}}
    result = Validator(registry).validate(
        {"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": finding}]},
        profiles=[entries["url"]])
    slicing = [(i.severity, i.expression, i.rule) for i in result.issues
               if i.rule.startswith("slice-")]
    if strength == "extensible":
        assert slicing == []
        return
    assert slicing == [("warning", "Bundle.entry", "slice-cardinality"),
                       ("warning", "Bundle.entry[0]", "slice-unchecked")]
    assert next(i.message for i in result.issues if i.rule == "slice-unchecked").endswith(
        f"could not be fully checked: the value set '{SNOMED_FINDINGS['url']}' cannot be "
        "evaluated offline, so 22298006 could not be checked against it")
