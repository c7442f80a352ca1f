"""The exact issues of bindings (checks/binding.py, R4 terminologies.html#strength and
elementdefinition-maxValueSet): maximum value sets (codes outside it, codes it cannot judge),
value sets that need code systems or value sets not loaded, versioned value set and code system
URLs, additional bindings whose purpose is advice, and the status of a versioned code system
behind a binding. Each asserts severity, code, rule, FHIRPath location and message.

All data is synthetic: a code system of tools, a value set of power tools and a maximum value
set of any tool (which also takes every code of a code system that is not loaded)."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
TOOLS = "http://example.org/fhir/CodeSystem/tools"
ABSENT = "http://example.org/fhir/CodeSystem/not-loaded"
FOREIGN = "http://example.org/fhir/CodeSystem/foreign"
VS = "http://example.org/fhir/ValueSet/"
TOOL_SYSTEM = {"resourceType": "CodeSystem", "url": TOOLS, "status": "active",
               "content": "complete",
               "concept": [{"code": c} for c in ("saw", "drill", "file", "glue")]}
MAX_VS = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet"
POWER_LABEL = f"'Power' ({VS}power)"
ANY_LABEL = f"'Anytool' ({VS}anytool)"


def value_set(name: str, *includes: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": VS + name, "name": name.title(),
            "status": "active", "compose": {"include": list(includes)}, **more}


def tools(*codes: str) -> dict[str, Any]:
    return {"system": TOOLS, "concept": [{"code": c} for c in codes]}


DEFINITIONS = (TOOL_SYSTEM, value_set("power", tools("drill")),
               value_set("anytool", tools("drill", "saw"), {"system": ABSENT}))


def bound_at(path: str, strength: str, value_set_url: str, *, maximum: str | None = None,
             additional: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """A profile of the resource ``path`` starts with, binding ``path``."""
    binding: dict[str, Any] = {"strength": strength, "valueSet": value_set_url}
    extensions: list[dict[str, Any]] = [{"url": MAX_VS, "valueCanonical": maximum}] \
        if maximum else []
    extensions += [{"url": "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
                    "extension": [{"url": "purpose", "valueCode": purpose},
                                  {"url": "valueSet", "valueCanonical": url}]}
                   for purpose, url in additional]
    if extensions:
        binding["extension"] = extensions
    base = path.split(".")[0]
    return {"resourceType": "StructureDefinition", "id": "bound", "name": "Bound",
            "url": "http://example.org/fhir/StructureDefinition/bound", "status": "draft",
            "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": base,
            "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/" + base,
            "differential": {"element": [{"id": path, "path": path, "binding": binding}]}}


def checked(profile: dict[str, Any], resource: dict[str, Any],
            *definitions: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for item in (*(definitions or DEFINITIONS), profile):
        registry.add(item)
    return Validator(registry).validate(resource, profiles=[profile["url"]])


def method(*codings: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic"}, "method": {"coding": list(codings)}}


def issues(result: ValidationResult, expression: str,
           *rules: str) -> list[tuple[str, str, str, str]]:
    return [(i.severity, i.code, i.rule, i.message) for i in result.issues
            if i.expression == expression and (i.rule in rules if rules else
                                               i.rule.startswith("binding-"))]


def tool(code: str, system: str | None = TOOLS) -> dict[str, Any]:
    return {"code": code} if system is None else {"system": system, "code": code}


# -- maximum value sets --------------------------------------------------------------------

EXTENSIBLE_MAX = bound_at("Observation.method", "extensible", VS + "power", maximum=VS + "anytool")


def test_codes_outside_the_maximum_are_named_with_their_systems() -> None:
    """Codes of a system the maximum does not take: the error names each system#code."""
    result = checked(EXTENSIBLE_MAX, method(tool("saw", FOREIGN), tool("drill", FOREIGN)))
    shown = f"{FOREIGN}#saw, {FOREIGN}#drill"
    assert issues(result, "Observation.method", "binding-max") == [(
        "error", "code-invalid", "binding-max",
        f"none of the codes ({shown}) is not in the maximum value set {ANY_LABEL}, and a code "
        "from it is required")]


def test_coding_outside_the_maximum_says_the_code() -> None:
    profile = bound_at("Encounter.class", "extensible", VS + "power", maximum=VS + "anytool")
    encounter = {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished",
                 "class": tool("glue")}
    assert issues(checked(profile, encounter), "Encounter.class", "binding-max") == [(
        "error", "code-invalid", "binding-max",
        f"the code ({TOOLS}#glue) is not in the maximum value set {ANY_LABEL}, and a code from "
        "it is required")]


def test_maximum_that_cannot_judge_the_codes_says_which() -> None:
    """Codes the maximum cannot judge (it takes a code system that is not loaded), a code
    without a system among them: a warning naming each, and why."""
    result = checked(EXTENSIBLE_MAX, method(tool("glue"), tool("file", None)))
    assert issues(result, "Observation.method", "binding-unchecked") == [(
        "warning", "not-found", "binding-unchecked",
        f"the code provided ({TOOLS}#glue, #file) could not be validated against the maximum "
        f"value set {ANY_LABEL}: the code system '{ABSENT}' could not be found")]


def test_a_code_in_the_maximum_needs_no_word_on_the_others() -> None:
    """One code in the maximum, another it cannot judge: nothing about the maximum."""
    result = checked(EXTENSIBLE_MAX, method(tool("saw"), tool("x", ABSENT)))
    assert issues(result, "Observation.method", "binding-max", "binding-unchecked") == []


# -- value sets that cannot be judged --------------------------------------------------------

def test_codes_a_value_set_cannot_judge_name_what_is_missing() -> None:
    """A required binding to a value set that takes two code systems and two value sets that
    are not loaded: a warning naming the codes, the strength and every missing definition (the
    imports in the order they are followed)."""
    needs = value_set("needs", {"system": ABSENT}, {"system": FOREIGN},
                      {"valueSet": [VS + "gone-1", VS + "gone-2"]})
    profile = bound_at("Observation.method", "required", VS + "needs")
    result = checked(profile, method(tool("x", ABSENT), tool("y", FOREIGN)), needs)
    assert issues(result, "Observation.method") == [(
        "warning", "not-found", "binding-unchecked",
        f"unable to check whether the code provided ({ABSENT}#x, {FOREIGN}#y) is in the value "
        f"set 'Needs' ({VS}needs), which is required: the code system '{ABSENT}', '{FOREIGN}' "
        f"and the value set '{VS}gone-2', '{VS}gone-1' could not be found")]


@pytest.mark.parametrize(("strength", "severity"), [("extensible", "warning"),
                                                    ("preferred", "information")])
def test_bare_code_a_value_set_cannot_judge(strength: str, severity: str) -> None:
    """A bound code (not a Coding) that a value set cannot judge: said with the severity of
    the binding's strength (information for a preferred one)."""
    profile = bound_at("Observation.value[x]", strength, VS + "anytool")
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "meta": {"profile": [profile["url"]]}, "code": {"text": "Synthetic"},
                   "valueString": "x"}
    registry = Registry()
    for item in (*DEFINITIONS, profile):
        registry.add(item)
    result = Validator(registry).validate(observation)
    assert issues(result, "Observation.value.ofType(string)") == [(
        severity, "not-found", "binding-unchecked",
        f"the value 'x' could not be validated against the value set {ANY_LABEL}: the code "
        f"system '{ABSENT}' could not be found")]


# -- versioned URLs ----------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.0", "2.0|draft"])
def test_a_versioned_value_set_url_finds_the_value_set(version: str) -> None:
    """valueSet 'url|version' of a loaded value set (the version is all after the first
    '|'): the code is judged against it."""
    profile = bound_at("Observation.method", "required", f"{VS}power|{version}")
    result = checked(profile, method(tool("drill")))
    assert issues(result, "Observation.method") == []
    wrong = checked(profile, method(tool("saw")))
    assert [(i[0], i[2]) for i in issues(wrong, "Observation.method")] == [
        ("error", "binding-required")]


@pytest.mark.parametrize("version", ["1.0", "1.0|draft"])
def test_a_versioned_code_system_url_as_value_set_is_named(version: str) -> None:
    profile = bound_at("Observation.method", "required", f"{TOOLS}|{version}")
    assert issues(checked(profile, method(tool("drill"))), "Observation.method") == [(
        "warning", "not-found", "binding-value-set",
        f"the binding names the CodeSystem '{TOOLS}|{version}' where a ValueSet belongs, so the "
        "code cannot be checked")]


# -- additional bindings -----------------------------------------------------------------------

def test_an_additional_preferred_binding_is_skipped_not_the_ones_after_it() -> None:
    """Additional bindings: one whose purpose is 'preferred' is advice and never checked; a
    required one after it still is."""
    profile = bound_at("Observation.method", "extensible", VS + "anytool",
                       additional=(("preferred", VS + "power"), ("required", VS + "power")))
    result = checked(profile, method(tool("saw")))
    assert issues(result, "Observation.method") == [(
        "error", "code-invalid", "binding-required",
        f"none of the codes ({TOOLS}#saw) is in the value set {POWER_LABEL}, which is required "
        "(an additional binding)")]


# -- the status of the code system behind a binding --------------------------------------------

def test_status_of_a_versioned_code_system_names_its_version() -> None:
    retired = {**TOOL_SYSTEM, "status": "retired", "version": "2.0"}
    profile = bound_at("Observation.method", "required", VS + "power")
    result = checked(profile, method(tool("drill")), retired, value_set("power", tools("drill")))
    assert [(i.severity, i.code, i.rule, i.expression, i.message) for i in result.issues] == [(
        "information", "expired", "code-system-status", "Observation.method",
        f"Reference to retired item {TOOLS}|2.0 (the code system of the code, in the value set "
        f"'{VS}power')")]


# -- what a CodeableConcept's codings leave undecided ------------------------------------------

def test_codes_outside_and_one_that_cannot_be_judged_is_no_error() -> None:
    """A required binding: one coding surely outside, another the value set cannot judge
    (it may be the one in it): a warning about that one, no error."""
    profile = bound_at("Observation.method", "required", VS + "anytool")
    result = checked(profile, method(tool("glue"), tool("x", ABSENT), tool("z", None)))
    assert issues(result, "Observation.method") == [(
        "warning", "not-found", "binding-unchecked",
        f"unable to check whether the code provided ({ABSENT}#x, #z) is in the value set "
        f"{ANY_LABEL}, which is required: the code system '{ABSENT}' could not be found")]


@pytest.mark.parametrize(("strength", "expected"), [
    ("required", [("error", "code-invalid", "binding-required",
                   f"no code provided, and a code is required from the value set {POWER_LABEL}")]),
    ("extensible", [])])
def test_codings_without_a_code(strength: str, expected: list[tuple[str, str, str, str]]) -> None:
    """Codings that have no code: a required binding wants one; an extensible binding says
    nothing (there are codings, only text-only concepts are warned about)."""
    profile = bound_at("Observation.method", strength, VS + "power")
    result = checked(profile, method({"system": TOOLS, "display": "Saw"}))
    assert issues(result, "Observation.method") == expected


def test_text_only_under_a_maximum_must_have_a_code_from_it() -> None:
    result = checked(EXTENSIBLE_MAX, {**method(), "method": {"text": "by hand"}})
    assert issues(result, "Observation.method") == [(
        "error", "code-invalid", "binding-max",
        f"no code provided, and a code must be provided from the value set {POWER_LABEL} "
        f"(maximum value set {ANY_LABEL})")]


def test_codes_outside_an_extensible_binding_are_named_with_or_without_system() -> None:
    result = checked(EXTENSIBLE_MAX, method(tool("glue"), tool("file", None)))
    assert issues(result, "Observation.method", "binding-extensible") == [(
        "warning", "code-invalid", "binding-extensible",
        f"none of the codes ({TOOLS}#glue, #file) is in the value set {POWER_LABEL}, which is "
        "extensible")]


def test_abstract_codes_are_named_with_their_system() -> None:
    """Grouping (notSelectable) concepts of the value set are no codes to record: one error
    naming them all."""
    grouped = {**TOOL_SYSTEM, "property": [{"code": "notSelectable", "type": "boolean"}],
               "concept": [{"code": c, "property": [{"code": "notSelectable",
                                                    "valueBoolean": True}]}
                           for c in ("powered", "manual")]}
    groups = value_set("power", {"system": TOOLS, "concept": [{"code": "powered"},
                                                                 {"code": "manual"}]})
    profile = bound_at("Observation.method", "required", VS + "power")
    result = checked(profile, method(tool("powered"), tool("manual")), grouped, groups)
    assert issues(result, "Observation.method") == [(
        "error", "code-invalid", "binding-required",
        f"the code {TOOLS}#powered, {TOOLS}#manual is abstract, and not allowed in this context "
        f"(the value set {POWER_LABEL}, which is required)")]


def test_status_of_each_code_system_the_codes_were_drawn_from() -> None:
    """Codings of three systems in the value set: one not loaded, one active, one retired
    (its standards-status extension comes after another extension): only the retired one is
    noted, without a version it does not have."""
    other = {**TOOL_SYSTEM, "url": FOREIGN, "extension": [
        {"url": "http://example.org/fhir/StructureDefinition/note", "valueCode": "withdrawn"}]}
    retired = {**TOOL_SYSTEM, "status": "retired"}
    mixed = value_set("power", {"system": ABSENT, "concept": [{"code": "x"}]},
                      {"system": FOREIGN, "concept": [{"code": "saw"}]}, tools("drill"))
    profile = bound_at("Observation.method", "required", VS + "power")
    result = checked(profile, method(tool("x", ABSENT), tool("saw", FOREIGN), tool("drill")),
                     other, retired, mixed)
    assert [(i.severity, i.code, i.rule, i.message) for i in result.issues
            if i.expression == "Observation.method"] == [(
        "information", "expired", "code-system-status",
        f"Reference to retired item {TOOLS} (the code system of the code, in the value set "
        f"'{VS}power')")]


WIDE = value_set("wide", tools("drill", "saw"))


def test_bare_code_outside_the_maximum_and_status_of_its_system() -> None:
    """A bound code (not a Coding) outside an extensible binding and its maximum: an error
    at the code; one inside, from a retired code system: information at the code."""
    profile = bound_at("Observation.value[x]", "extensible", VS + "power", maximum=VS + "wide")
    retired = {**TOOL_SYSTEM, "status": "retired"}
    where = "Observation.value.ofType(string)"

    def value(code: str) -> ValidationResult:
        return checked(profile, {**method(), "valueString": code}, retired, WIDE,
                       value_set("power", tools("drill")))

    assert issues(value("glue"), where, "binding-max") == [(
        "error", "code-invalid", "binding-max",
        f"the value 'glue' is not in the maximum value set 'Wide' ({VS}wide), and a code from "
        "it is required")]
    assert issues(value("drill"), where, "code-system-status") == [(
        "information", "expired", "code-system-status",
        f"Reference to retired item {TOOLS} (the code system of the code, in the value set "
        f"'{VS}power')")]


def test_codes_outside_a_maximum_with_and_without_system() -> None:
    profile = bound_at("Observation.method", "extensible", VS + "power", maximum=VS + "wide")
    result = checked(profile, method(tool("saw", FOREIGN), tool("glue", None)), *DEFINITIONS,
                     WIDE)
    assert issues(result, "Observation.method", "binding-max") == [(
        "error", "code-invalid", "binding-max",
        f"none of the codes ({FOREIGN}#saw, #glue) is not in the maximum value set 'Wide' "
        f"({VS}wide), and a code from it is required")]


def test_codes_outside_a_value_set_name_each_unknown_system() -> None:
    profile = bound_at("Observation.method", "required", VS + "power")
    result = checked(profile, method(tool("a", FOREIGN), tool("b", ABSENT)))
    assert issues(result, "Observation.method") == [(
        "error", "code-invalid", "binding-required",
        f"none of the codes ({FOREIGN}#a, {ABSENT}#b) is in the value set {POWER_LABEL}, which "
        f"is required; the code system '{FOREIGN}' could not be found; the code system "
        f"'{ABSENT}' could not be found")]


def test_unit_outside_the_value_set_of_a_quantity() -> None:
    ucum = "http://unitsofmeasure.org"
    units = value_set("units", {"system": ucum, "concept": [{"code": "mg"}]})
    profile = bound_at("Observation.value[x]", "required", VS + "units")
    result = checked(profile, {**method(), "valueQuantity": {
        "value": 1, "system": ucum, "code": "kg", "unit": "kg"}}, units)
    assert issues(result, "Observation.value.ofType(Quantity)") == [(
        "warning", "code-invalid", "binding-required",
        f"the unit provided ({ucum}#kg) is not in the value set 'Units' ({VS}units), which is "
        "required")]
