"""A validator works out the terminology checks of a Coding, CodeableConcept or Quantity once
per value it has not met before (checks/binding.py, check_coded_value): what it remembers must
never answer for another binding, system, version, language, option or place. Each case
validates twice or more with one validator (or one terminology), the second time with one of
those changed, and asserts the issue code and location. All data is synthetic."""

from __future__ import annotations

import dataclasses
from typing import Any

from _profiles import EXAMPLE, constraint, element
from _resources import NARRATIVE, SNOMED

from ecanfhir import Issue, Registry, ValidationOptions, ValidationResult, Validator
from ecanfhir.validation._context import Run
from ecanfhir.validation.checks.binding import check_coded_value

SYSTEM = "http://example.org/fhir/CodeSystem/exam-method"
OTHER = "http://example.org/fhir/CodeSystem/other-method"
IMAGING = "http://example.org/fhir/ValueSet/imaging"
MANUAL = "http://example.org/fhir/ValueSet/manual"
METHODS = {"resourceType": "CodeSystem", "url": SYSTEM, "version": "1.0.0", "status": "draft",
           "content": "complete", "language": "en", "concept": [
               {"code": "palpation", "display": "Palpation"},
               {"code": "xray", "display": "X-ray"},
               {"code": "ultrasound", "display": "Ultrasound",
                "designation": [{"language": "da", "value": "Ultralyd"}]}]}
OTHER_METHODS = {"resourceType": "CodeSystem", "url": OTHER, "status": "draft",
                 "content": "complete", "concept": [{"code": "xray"}]}


def _value_set(url: str, *codes: str) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": url, "status": "draft", "compose": {"include": [
        {"system": SYSTEM, "concept": [{"code": c} for c in codes]}]}}


def _bound(name: str, strength: str, value_set: str, path: str = "Observation.method",
           **more: Any) -> dict[str, Any]:
    return constraint(name, "Observation", element(
        path, binding={"strength": strength, "valueSet": value_set}, **more))


PROFILES = [_bound("imaging", "required", IMAGING), _bound("manual", "required", MANUAL),
            _bound("hinted", "preferred", IMAGING),
            _bound("units", "required", IMAGING, "Observation.value[x]"),
            _bound("rebound", "required", MANUAL, "Observation.category"),
            *(_bound(f"text-{name}", strength, value_set, "Observation.value[x]",
                     type=[{"code": "string"}]) for name, strength, value_set in (
                ("imaging", "extensible", IMAGING), ("manual", "extensible", MANUAL),
                ("hinted", "preferred", IMAGING)))]


def _validator(**options: Any) -> Validator:
    registry = Registry()
    registry.add_all([METHODS, OTHER_METHODS, _value_set(IMAGING, "ultrasound", "xray"),
                      _value_set(MANUAL, "palpation"), *PROFILES])
    return Validator(registry, options=ValidationOptions(**options))


def _observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "synthetic examination"}, **elements}


def _method(code: str, system: str = SYSTEM, **coding: Any) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, **coding}]}


def _at(result: ValidationResult, rule: str) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in result.issues if i.rule == rule]


def test_a_coding_is_judged_against_each_binding_it_meets() -> None:
    """palpation: outside the imaging profile's required value set, inside the manual one's,
    and outside the imaging one's again, in whatever order one validator meets them."""
    validator = _validator()
    resource = _observation(method=_method("palpation"))
    outside = [("error", "code-invalid", "Observation.method")]
    for profile, expected in (("imaging", outside), ("manual", []), ("imaging", outside),
                              ("manual", [])):
        result = validator.validate(resource, profiles=[EXAMPLE + profile])
        assert _at(result, "binding-required") == expected, profile


def test_the_same_code_in_another_system_is_another_coding() -> None:
    """xray is in the imaging value set from its own code system, not from another one that
    also defines xray."""
    validator = _validator()
    for system, expected in ((SYSTEM, []), (OTHER, ["Observation.method"]), (SYSTEM, [])):
        result = validator.validate(_observation(method=_method("xray", system)),
                                    profiles=[EXAMPLE + "imaging"])
        assert [at for _, _, at in _at(result, "binding-required")] == expected, system


def test_a_coding_version_is_part_of_the_coding() -> None:
    """A version no loaded code system has is a warning at Coding.version; the same coding
    with the loaded version, or none, is not."""
    validator = _validator()
    at = "Observation.method.coding[0].version"
    for version, expected in (("1.0.0", []), ("2.0.0", [("warning", "not-found", at)]),
                              (None, []), ("2.0.0", [("warning", "not-found", at)])):
        coding = {} if version is None else {"version": version}
        result = validator.validate(_observation(method=_method("xray", **coding)))
        assert _at(result, "code-system-version") == expected, version


def test_a_display_is_judged_in_the_language_of_its_resource() -> None:
    """A wrong display: in a German resource, no display in German exists (the HL7
    validator's NO_VALID_DISPLAY_FOUND); in a Danish one or one without a language, the usual
    wrong display. Each message at Coding.display."""
    validator = _validator()
    method = _method("ultrasound", display="Sonar")

    def display(**language: str) -> str:
        result = validator.validate(_observation(method=method, **language))
        [issue] = [i for i in result.issues if i.rule == "display"]
        assert (issue.code, issue.expression) == ("invalid", "Observation.method.coding[0].display")
        return issue.message
    assert display().startswith("Wrong display 'Sonar'")
    assert display(language="de").startswith("No valid display names found")
    assert display(language="da").startswith("Wrong display 'Sonar'")
    assert display().startswith("Wrong display 'Sonar'")


def test_a_display_is_part_of_the_coding() -> None:
    """The same code with its code system's display, then another, then its own again: a
    warning at Coding.display for the other one only."""
    validator = _validator()
    wrong = [("warning", "invalid", "Observation.method.coding[0].display")]
    for display, expected in (("X-ray", []), ("Sonar", wrong), ("X-ray", []), (None, [])):
        coding = {} if display is None else {"display": display}
        result = validator.validate(_observation(method=_method("xray", **coding)))
        assert _at(result, "display") == expected, display


def test_bound_text_is_judged_against_each_binding_it_meets() -> None:
    """A bound string (Observation.valueString): 'palpation' is outside the imaging value set
    (a warning at the value), inside the manual one, and outside imaging again; 'xray' is
    inside imaging."""
    validator = _validator()
    outside = [("warning", "code-invalid", "Observation.value.ofType(string)")]
    for name, text, expected in (("imaging", "palpation", outside), ("manual", "palpation", []),
                                 ("imaging", "xray", []), ("imaging", "palpation", outside)):
        result = validator.validate(_observation(valueString=text),
                                    profiles=[EXAMPLE + f"text-{name}"])
        assert _at(result, "binding-extensible") == expected, (name, text)


def test_the_same_finding_is_placed_at_each_value() -> None:
    """An unknown code met at three places of one resource and at another place of the next:
    one error at each Coding.code."""
    validator = _validator()
    unknown = {"system": SYSTEM, "code": "guesswork"}
    first = validator.validate(_observation(
        method={"coding": [unknown]}, bodySite={"coding": [{"system": OTHER, "code": "xray"},
                                                           unknown]},
        category=[{"text": "none"}, {"coding": [unknown]}]))
    assert sorted(at for _, _, at in _at(first, "code-unknown")) == [
        "Observation.bodySite.coding[1].code", "Observation.category[1].coding[0].code",
        "Observation.method.coding[0].code"]
    second = validator.validate(_observation(code={"coding": [unknown]}))
    assert _at(second, "code-unknown") == [
        ("error", "code-invalid", "Observation.code.coding[0].code")]


def test_a_preferred_binding_hints_only_where_no_profile_was_asked_for() -> None:
    """The hint of a preferred binding (information), on a CodeableConcept and on a bound
    string, comes and goes with the profile being met through meta.profile or asked for, with
    one validator."""
    validator = _validator()
    for profile, resource, at in (
            ("hinted", _observation(method=_method("palpation")), "Observation.method"),
            ("text-hinted", _observation(valueString="palpation"),
             "Observation.value.ofType(string)")):
        claiming = {**resource, "meta": {"profile": [EXAMPLE + profile]}}
        hint = [("information", "code-invalid", at)]
        assert _at(validator.validate(claiming), "binding-preferred") == hint
        assert _at(validator.validate(claiming, profiles=[EXAMPLE + profile]),
                   "binding-preferred") == []
        assert _at(validator.validate(claiming), "binding-preferred") == hint


def test_codes_checked_for_syntax_only_are_noted_in_each_result() -> None:
    """A SNOMED CT code, met again by the same validator: each result says it was checked
    for syntax only (the tx-offline note)."""
    validator = _validator()
    resource = _observation(method=_method("22298006", SNOMED))
    for _ in range(2):
        assert _at(validator.validate(resource), "tx-offline") == [
            ("information", "informational", "")]


# -- what the walker passes besides the value: one terminology, one binding object --------

def _run(validator: Validator, **options: Any) -> Run:
    return Run(validator.schema, validator.terminology, ValidationOptions(**options))


def _child(validator: Validator, url: str, name: str) -> Any:
    structure = validator.schema.find(url)
    assert structure is not None
    return structure.root.children[name]


def _rules(issues: list[Issue]) -> list[tuple[str, str, str]]:
    return [(i.severity, i.expression, i.rule) for i in issues]


def test_the_display_option_of_each_run_counts() -> None:
    """Two runs on one terminology, display checks on and off: the wrong display is a
    warning in the first only."""
    validator = _validator()
    method = _child(validator, EXAMPLE + "imaging", "method")
    value = {"coding": [{"system": SYSTEM, "code": "xray", "display": "Sonar"}]}
    wrong = [("warning", "Observation.method.coding[0].display", "display")]
    for check_display, expected in ((True, wrong), (False, []), (True, wrong)):
        run = _run(validator, check_display=check_display)
        issues = check_coded_value(run, method, "CodeableConcept", value, "Observation.method")
        assert _rules(issues) == expected, check_display


def test_a_quantity_unit_under_a_choice_binding_is_a_warning_of_the_choice_alone() -> None:
    """The same binding object on value[x] with all its types and with Quantity alone: a unit
    outside the required value set is a warning on the choice, an error otherwise."""
    validator = _validator()
    choice = _child(validator, EXAMPLE + "units", "value")
    alone = dataclasses.replace(choice, types=tuple(t for t in choice.types
                                                   if t.code == "Quantity"))
    assert len(choice.types) > 1 and alone.binding is choice.binding
    quantity = {"value": 2, "system": SYSTEM, "code": "palpation"}
    run = _run(validator)
    for node, severity in ((choice, "warning"), (alone, "error"), (choice, "warning")):
        issues = check_coded_value(run, node, "Quantity", quantity, "Observation.value")
        assert _rules(issues) == [(severity, "Observation.value", "binding-required")]


def test_the_core_binding_a_profile_replaced_counts() -> None:
    """A profile's category bound to the manual value set, walked in place of the core
    definition (its core element passed) and not: palpation is outside the core's preferred
    observation-category value set only in the first (a hint, no profile asked for)."""
    validator = _validator()
    category = _child(validator, EXAMPLE + "rebound", "category")
    core = _child(validator, "http://hl7.org/fhir/StructureDefinition/Observation", "category")
    value = {"coding": [{"system": SYSTEM, "code": "palpation"}]}
    run = _run(validator)
    run.base_only = True
    hint = [("information", "Observation.category[0]", "binding-preferred")]
    for passed, expected in ((core, hint), (None, []), (core, hint)):
        issues = check_coded_value(run, category, "CodeableConcept", value,
                                   "Observation.category[0]", core=passed)
        assert [r for r in _rules(issues) if r[2].startswith("binding")] == expected, passed
