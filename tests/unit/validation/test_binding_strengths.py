"""Binding strengths beyond required (checks/binding.py): the Coding, code and CodeableConcept
messages of each strength, preferred bindings' hints, codes missing from extensible bindings
and maximum value sets (R4 terminologies.html#strength, elementdefinition-maxValueSet).

All data is synthetic: a small code system of examination methods, two value sets and
differential-only profiles of Observation that bind its elements.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Issue, Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
SYSTEM = "http://example.org/fhir/CodeSystem/exam-method"
METHODS: dict[str, Any] = {
    "resourceType": "CodeSystem", "url": SYSTEM, "status": "draft", "content": "complete",
    "concept": [{"code": c, "display": c.title()}
                for c in ("palpation", "ultrasound", "guesswork", "xray")]}
IMAGING = "http://example.org/fhir/ValueSet/imaging"
WIDER = "http://example.org/fhir/ValueSet/imaging-or-palpation"
VALUE_SETS = [
    {"resourceType": "ValueSet", "url": IMAGING, "status": "draft", "compose": {"include": [
        {"system": SYSTEM, "concept": [{"code": "ultrasound"}, {"code": "xray"}]}]}},
    {"resourceType": "ValueSet", "url": WIDER, "status": "draft", "compose": {"include": [
        {"system": SYSTEM, "concept": [{"code": "ultrasound"}, {"code": "xray"},
                                       {"code": "palpation"}]}]}},
]
MAX_VS = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet"


def profile(name: str, path: str, strength: str, *, maximum: str | None = None,
            type_: str | None = None) -> dict[str, Any]:
    """A profile binding ``path`` (of Observation, or of Encounter for Encounter.class)."""
    binding: dict[str, Any] = {"strength": strength, "valueSet": IMAGING}
    if maximum is not None:
        binding["extension"] = [{"url": MAX_VS, "valueCanonical": maximum}]
    element: dict[str, Any] = {"id": path, "path": path, "binding": binding}
    if type_ is not None:
        element["type"] = [{"code": type_}]
    return {"resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name,
            "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": path.split(".")[0], "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/" + path.split(".")[0],
            "differential": {"element": [element]}}


def observation(url: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "meta": {"profile": [url]}, "code": {"text": "Synthetic examination"}, **elements}


def check(sd: dict[str, Any], resource: dict[str, Any], *,
          asked: bool = False) -> ValidationResult:
    """Validate with the profile declared in meta.profile, or also asked for (``asked``)."""
    registry = Registry()
    for item in (METHODS, *VALUE_SETS, sd):
        registry.add(item)
    return Validator(registry).validate(resource, profiles=[sd["url"]] if asked else ())


def encounter(url: str, code: str) -> dict[str, Any]:
    return {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
            "meta": {"profile": [url]}, "class": coding(code)}


def coding(code: str) -> dict[str, Any]:
    return {"system": SYSTEM, "code": code}


def bound(result: ValidationResult, expression: str) -> list[Issue]:
    return [i for i in result.issues
            if i.expression == expression and (i.rule or "").startswith("binding-")]


def ours(result: ValidationResult, expression: str) -> list[Issue]:
    """Binding issues from the profile's value sets (Encounter.class has a core binding too)."""
    return [i for i in bound(result, expression) if IMAGING in i.message or WIDER in i.message]


# -- a Coding, a code and a CodeableConcept outside the value set, by strength ----------------
@pytest.mark.parametrize(("strength", "severity"), [
    ("required", "error"), ("extensible", "warning"), ("preferred", "information")])
def test_coding_outside_the_value_set_by_strength(strength: str, severity: str) -> None:
    """A Coding (Encounter.class) not in the value set: "the Coding provided", with the
    strength's severity; a CodeableConcept (Observation.method): "none of the codes"."""
    sd = profile(f"method-{strength}", "Observation.method", strength)
    wrong = observation(sd["url"], method={"coding": [coding("palpation")]})
    sd_class = profile(f"class-{strength}", "Encounter.class", strength)
    result = check(sd_class, encounter(sd_class["url"], "palpation"))
    assert [(i.severity, i.code, i.rule) for i in ours(result, "Encounter.class")] == [
        (severity, "code-invalid", f"binding-{strength}")]
    assert ours(result, "Encounter.class")[0].message.startswith("the Coding provided")
    assert ours(check(sd_class, encounter(sd_class["url"], "xray")), "Encounter.class") == []
    cc = assert_issue(check(sd, wrong), "Observation.method", severity=severity,
                      code="code-invalid", fragment="none of the codes")
    assert "palpation" in cc.message


@pytest.mark.parametrize(("strength", "severity"), [
    ("extensible", "warning"), ("preferred", "information")])
def test_code_outside_the_value_set_by_strength(strength: str, severity: str) -> None:
    """A bound string (Observation.valueString) not in an extensible or preferred value set."""
    sd = profile(f"string-{strength}", "Observation.value[x]", strength, type_="string")
    result = check(sd, observation(sd["url"], valueString="guesswork"))
    issue = assert_issue(result, "Observation.value.ofType(string)", severity=severity,
                         code="code-invalid", fragment="'guesswork'")
    assert issue.rule == f"binding-{strength}"


def test_preferred_binding_hints_only_when_no_profile_is_asked_for() -> None:
    """A profile asked for by the caller: no hint for a preferred binding (the HL7 validator's
    base-only hints); the same profile met through meta.profile: information."""
    sd = profile("method-preferred", "Observation.method", "preferred")
    wrong = observation(sd["url"], method={"coding": [coding("palpation")]})
    assert bound(check(sd, wrong, asked=True), "Observation.method") == []
    assert [i.severity for i in bound(check(sd, wrong), "Observation.method")] == ["information"]


# -- no code at all --------------------------------------------------------------------------
def test_text_only_concept_under_an_extensible_binding_is_a_warning() -> None:
    """A CodeableConcept with text but no coding: bound extensibly, a warning that a code should
    be provided (the HL7 validator's Terminology_TX_Code_ValueSet_Ext; the maximum value set
    below makes it an error); bound as preferred, no issue."""
    sd = profile("method-text-extensible", "Observation.method", "extensible")
    [issue] = bound(check(sd, observation(sd["url"], method={"text": "by hand"})),
                    "Observation.method")
    assert (issue.severity, issue.code, issue.rule) == ("warning", "code-invalid",
                                                        "binding-extensible")
    assert "a code should be provided" in issue.message
    sd = profile("method-text-preferred", "Observation.method", "preferred")
    assert bound(check(sd, observation(sd["url"], method={"text": "by hand"})),
                 "Observation.method") == []


# -- maximum value sets ----------------------------------------------------------------------
def test_maximum_value_set_of_an_extensible_binding() -> None:
    """Outside the bound value set but inside the maximum: the extensible warning only;
    outside the maximum too: an error (binding-max); no code at all: an error naming the
    maximum."""
    sd = profile("method-max", "Observation.method", "extensible", maximum=WIDER)
    inside = check(sd, observation(sd["url"], method={"coding": [coding("palpation")]}))
    assert [(i.severity, i.rule) for i in bound(inside, "Observation.method")] == [
        ("warning", "binding-extensible")]
    outside = check(sd, observation(sd["url"], method={"coding": [coding("guesswork")]}))
    assert sorted((i.severity, i.rule) for i in bound(outside, "Observation.method")) == [
        ("error", "binding-max"), ("warning", "binding-extensible")]
    assert any("maximum value set" in i.message for i in outside.errors)
    empty = check(sd, observation(sd["url"], method={"text": "by hand"}))
    issue = assert_issue(empty, "Observation.method", severity="error", code="code-invalid",
                         fragment="must be provided")
    assert issue.rule == "binding-max" and WIDER in issue.message


def test_maximum_value_set_of_a_coding() -> None:
    """A Coding outside the maximum is an error; inside it, no warning (HL7 validator)."""
    sd = profile("class-max", "Encounter.class", "extensible", maximum=WIDER)
    assert ours(check(sd, encounter(sd["url"], "palpation")), "Encounter.class") == []
    result = check(sd, encounter(sd["url"], "guesswork"))
    assert [(i.severity, i.code, i.rule) for i in ours(result, "Encounter.class")] == [
        ("error", "code-invalid", "binding-max")]


def test_maximum_is_ignored_on_required_bindings() -> None:
    """A maximum value set means nothing on a required binding: the required error only."""
    sd = profile("method-req-max", "Observation.method", "required", maximum=WIDER)
    result = check(sd, observation(sd["url"], method={"coding": [coding("guesswork")]}))
    assert [i.rule for i in bound(result, "Observation.method")] == ["binding-required"]


# -- a value set that is not loaded ------------------------------------------------------------
@pytest.mark.parametrize(("value_set", "fragment"), [
    ("http://example.org/fhir/ValueSet/not-loaded", "is not loaded"),
    (SYSTEM, "names the CodeSystem"),
])
def test_binding_to_a_value_set_that_is_not_here(value_set: str, fragment: str) -> None:
    """A required binding whose value set is not loaded, or is a CodeSystem's URL: a warning
    at the element (the code cannot be checked), not an error."""
    sd = profile("method-missing", "Observation.method", "required")
    sd["differential"]["element"][0]["binding"]["valueSet"] = value_set
    result = check(sd, observation(sd["url"], method={"coding": [coding("palpation")]}))
    issue = assert_issue(result, "Observation.method", severity="warning", code="not-found",
                         fragment=fragment)
    assert issue.rule == "binding-value-set" and result.ok



def test_binding_without_a_value_set_is_information() -> None:
    """A binding that names no value set (R4 binding.valueSet 0..1, as the core's Group.code):
    information at the coded element that it cannot be checked; never an error."""
    group = {"resourceType": "Group", "text": NARRATIVE, "type": "person", "actual": False,
             "code": {"coding": [coding("palpation")]}}
    result = Validator(Registry()).validate(group)
    issue = assert_issue(result, "Group.code", severity="information", code="code-invalid",
                         fragment="names no value set")
    assert issue.rule == "binding-no-source" and result.ok
