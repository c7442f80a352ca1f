"""Invariants (ElementDefinition.constraint, R4 §2.27.0.1): core ele-1, ext-1, dom-2..dom-6
and a few resource and datatype invariants (per-1, qty-3, obs-6, obs-7).

Each has a valid case and an invalid one asserting code, severity and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, Registry, ValidationOptions, ValidationResult, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
EXT = "http://example.org/fhir/StructureDefinition/test-extension"
ORG = {"resourceType": "Organization", "id": "org1", "text": NARRATIVE,
       "name": "Synthetic Hospital"}


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def with_contained(org: dict[str, Any], **elements: Any) -> dict[str, Any]:
    """A Patient containing ``org`` and referring to it (so dom-3 holds)."""
    return patient(contained=[org], managingOrganization={"reference": "#org1"}, **elements)


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Body weight"}, **elements}


def the_issue(result: ValidationResult, expression: str, rule: str) -> Issue:
    """The one issue of ``rule`` at ``expression``."""
    found = [i for i in result.issues if i.expression == expression and i.rule == rule]
    assert len(found) == 1, result.issues
    return found[0]


def assert_invariant(result: ValidationResult, expression: str, key: str, *,
                     severity: str = "error") -> Issue:
    issue = the_issue(result, expression, key)
    assert (issue.severity, issue.code) == (severity, "invariant"), issue
    assert key in issue.message, issue
    return issue


def rules(result: ValidationResult) -> set[str]:
    return {i.rule for i in result.issues}


# -- ele-1 -----------------------------------------------------------------------------------

def test_elements_with_values_or_children_satisfy_ele_1() -> None:
    """An element with an id and a child, and a primitive with a value and an id, pass."""
    result = validate(patient(maritalStatus={"id": "m1", "text": "unmarried"},
                              birthDate="1970-01-01", _birthDate={"id": "b1"}))
    # text only under maritalStatus's extensible binding: a warning that a code should be given
    assert [i.rule for i in result.issues] == ["binding-extensible"]


def test_element_with_only_an_id_fails_ele_1() -> None:
    """An id is not content: {"id": "m1"} has neither value nor children."""
    result = validate(patient(maritalStatus={"id": "m1"}))
    assert_invariant(result, "Patient.maritalStatus", "ele-1")


def test_primitive_with_only_an_id_fails_ele_1() -> None:
    """_birthDate with only an id and no birthDate value is an empty element."""
    result = validate(patient(_birthDate={"id": "b1"}))
    assert_invariant(result, "Patient.birthDate", "ele-1")


def test_empty_object_is_reported_as_ele_1() -> None:
    """An empty object is an error of rule ele-1 at its location."""
    result = validate(patient(maritalStatus={}))
    issue = the_issue(result, "Patient.maritalStatus", "ele-1")
    assert issue.severity == "error"
    assert "ele-1" in issue.message


# -- ext-1 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("extension", [
    {"url": EXT, "valueString": "synthetic"},
    {"url": EXT, "extension": [{"url": "part", "valueString": "synthetic"}]},
])
def test_extension_with_value_or_nested_extensions_satisfies_ext_1(
        extension: dict[str, Any]) -> None:
    """An extension has a value or nested extensions."""
    result = validate(patient(extension=[extension]))
    assert "ext-1" not in rules(result)
    assert result.ok


@pytest.mark.parametrize("extension", [
    {"url": EXT, "valueString": "synthetic",
     "extension": [{"url": "part", "valueString": "synthetic"}]},
    {"url": EXT},
])
def test_extension_with_both_or_neither_fails_ext_1(extension: dict[str, Any]) -> None:
    """ext-1: extensions or value[x], not both (and not neither)."""
    result = validate(patient(extension=[extension]))
    assert_invariant(result, "Patient.extension[0]", "ext-1")


# -- dom-2 .. dom-6 --------------------------------------------------------------------------

def test_referenced_contained_resource_is_valid() -> None:
    """A contained resource without meta, referenced from the container, passes dom-2..dom-6."""
    assert validate(with_contained(ORG)).issues == ()


def test_contained_resource_with_contained_fails_dom_2() -> None:
    """dom-2: a contained resource SHALL NOT contain resources."""
    inner = {"resourceType": "Organization", "id": "org2", "text": NARRATIVE, "name": "Ward"}
    org = {**ORG, "contained": [inner], "partOf": {"reference": "#org2"}}
    result = validate(with_contained(org))
    assert_invariant(result, "Patient", "dom-2")


def test_unreferenced_contained_resource_fails_dom_3() -> None:
    """dom-3: a contained resource SHALL be referenced from the rest of the resource."""
    result = validate(patient(contained=[ORG]))
    assert_invariant(result, "Patient", "dom-3")


@pytest.mark.parametrize("resource", [
    # referenced from another contained resource
    patient(contained=[{**ORG, "partOf": {"reference": "#org2"}},
                       {**ORG, "id": "org2", "name": "Synthetic Region"}],
            managingOrganization={"reference": "#org1"}),
    # referring to its container with '#'
    patient(id="p1", contained=[{"resourceType": "Provenance", "id": "prov1",
                                 "text": NARRATIVE, "target": [{"reference": "#"}],
                                 "recorded": "2024-05-01T10:00:00+02:00",
                                 "agent": [{"who": {"display": "Synthetic Clinician"}}]}]),
    # referenced as a canonical
    {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "active",
     "contained": [{"resourceType": "ValueSet", "id": "vs1", "text": NARRATIVE,
                    "status": "active", "compose": {"include": [
                        {"system": "http://example.org/fhir/CodeSystem/answers",
                         "concept": [{"code": "a"}]}]}}],
     "item": [{"linkId": "1", "type": "choice", "text": "Q", "answerValueSet": "#vs1"}]},
], ids=["from-sibling", "to-container", "canonical"])
def test_other_ways_of_referencing_satisfy_dom_3(resource: dict[str, Any]) -> None:
    """dom-3 also accepts references from siblings, to '#', and canonical '#id'."""
    result = validate(resource)
    assert "dom-3" not in rules(result), result.issues


@pytest.mark.parametrize("meta", [{"versionId": "1"},
                                  {"lastUpdated": "2024-05-01T10:00:00+02:00"}])
def test_contained_resource_with_version_or_last_updated_fails_dom_4(
        meta: dict[str, Any]) -> None:
    """dom-4: no meta.versionId or meta.lastUpdated on contained resources."""
    result = validate(with_contained({**ORG, "meta": meta}))
    assert_invariant(result, "Patient", "dom-4")


def test_contained_resource_with_profile_in_meta_satisfies_dom_4() -> None:
    """meta.profile is allowed on a contained resource (only versionId/lastUpdated are not)."""
    org = {**ORG, "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Organization"]}}
    assert validate(with_contained(org)).issues == ()


def test_contained_resource_with_security_label_fails_dom_5() -> None:
    """dom-5: no meta.security on contained resources."""
    security = [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                 "code": "R"}]
    result = validate(with_contained({**ORG, "meta": {"security": security}}))
    assert_invariant(result, "Patient", "dom-5")


def test_resource_without_narrative_gets_dom_6_warning() -> None:
    """dom-6 is best practice: a warning, and the resource stays valid."""
    result = validate({"resourceType": "Patient", "gender": "female"})
    issue = assert_invariant(result, "Patient", "dom-6", severity="warning")
    assert issue.code == "invariant"
    assert result.ok
    assert result.issues == (issue,)


def test_contained_resource_without_narrative_gets_dom_6_warning() -> None:
    """dom-6 is checked on each contained resource at its own location."""
    org = {k: v for k, v in ORG.items() if k != "text"}
    result = validate(with_contained(org))
    assert_invariant(result, "Patient.contained[0]", "dom-6", severity="warning")
    assert result.ok


@pytest.mark.parametrize(("best_practice", "expected"), [
    ("error", ("error",)), ("ignore", ()), ("warning", ("warning",))])
def test_best_practice_option_sets_dom_6_severity(best_practice: str,
                                                  expected: tuple[str, ...]) -> None:
    """ValidationOptions.best_practice turns dom-6 into an error, or off."""
    validator = Validator(options=ValidationOptions(best_practice=best_practice))
    result = validator.validate({"resourceType": "Patient", "gender": "female"})
    assert tuple(i.severity for i in result.issues if i.rule == "dom-6") == expected


# -- datatype and resource invariants -------------------------------------------------------

def test_period_with_start_before_end_satisfies_per_1() -> None:
    """per-1 holds when start <= end."""
    period = {"start": "2024-01-01", "end": "2024-01-02"}
    assert validate(patient(name=[{"family": "Testesen", "period": period}])).issues == ()


def test_period_ending_before_it_starts_fails_per_1() -> None:
    """per-1: the end of a Period is not before its start."""
    period = {"start": "2024-01-02", "end": "2024-01-01"}
    result = validate(patient(name=[{"family": "Testesen", "period": period}]))
    assert_invariant(result, "Patient.name[0].period", "per-1")


def test_quantity_with_code_and_system_satisfies_qty_3() -> None:
    """qty-3 holds when a unit code comes with its system."""
    quantity = {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
    assert validate(observation(valueQuantity=quantity)).issues == ()


def test_quantity_with_code_but_no_system_fails_qty_3() -> None:
    """qty-3: a unit code needs a system."""
    result = validate(observation(valueQuantity={"value": 72.5, "code": "kg"}))
    assert_invariant(result, "Observation.value.ofType(Quantity)", "qty-3")


def test_value_and_data_absent_reason_fail_obs_6() -> None:
    """obs-6: dataAbsentReason only when there is no value."""
    result = validate(observation(valueString="72.5 kg", dataAbsentReason={"text": "unknown"}))
    assert_invariant(result, "Observation", "obs-6")


def test_data_absent_reason_without_value_satisfies_obs_6() -> None:
    """A missing value with its reason passes."""
    reason = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                          "code": "unknown"}]}
    assert validate(observation(dataAbsentReason=reason)).issues == ()


def test_component_repeating_the_code_with_a_value_fails_obs_7() -> None:
    """obs-7: no value on the Observation when a component has the same code."""
    code = {"coding": [{"system": "http://example.org/fhir/CodeSystem/tests", "code": "w"}]}
    result = validate(observation(code=code, valueString="72.5 kg",
                                  component=[{"code": code, "valueString": "72.5 kg"}]))
    assert_invariant(result, "Observation", "obs-7")


def test_component_with_other_code_satisfies_obs_7() -> None:
    """Components with codes other than Observation.code may coexist with a value."""
    code = {"coding": [{"system": "http://example.org/fhir/CodeSystem/tests", "code": "w"}]}
    other = {"coding": [{"system": "http://example.org/fhir/CodeSystem/tests", "code": "h"}]}
    result = validate(observation(code=code, valueString="72.5 kg",
                                  component=[{"code": other, "valueString": "180 cm"}]))
    assert result.issues == ()


# -- rng-2 -----------------------------------------------------------------------------------

UCUM = "http://unitsofmeasure.org"


def quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


@pytest.mark.parametrize(("low", "high"), [
    (quantity(1, "mg"), quantity(2, "mg")),
    (quantity(500, "mg"), quantity(1, "g")),
    (quantity(5, "mg"), {"value": 1, "unit": "tablet"}),   # not comparable: holds
])
def test_range_in_order_or_incomparable_satisfies_rng_2(low: dict[str, Any],
                                                         high: dict[str, Any]) -> None:
    assert validate(observation(valueRange={"low": low, "high": high})).issues == ()


@pytest.mark.parametrize(("low", "high"), [
    (quantity(3, "mg"), quantity(2, "mg")),
    (quantity(1500, "mg"), quantity(1, "g")),              # after UCUM conversion
])
def test_range_with_low_above_high_fails_rng_2(low: dict[str, Any],
                                               high: dict[str, Any]) -> None:
    result = validate(observation(valueRange={"low": low, "high": high}))
    assert_invariant(result, "Observation.value.ofType(Range)", "rng-2")


# -- a type name as the first step (FHIRPath §4.1) ---------------------------------------------

PROFILES = "http://example.org/fhir/StructureDefinition/"


def _profile(name: str, resource_type: str, path: str, key: str, expression: str) -> Validator:
    """A validator with one differential profile adding constraint ``key`` on ``path``."""
    registry = Registry()
    registry.add({
        "resourceType": "StructureDefinition", "id": name, "url": PROFILES + name,
        "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
        "abstract": False, "type": resource_type, "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/" + resource_type,
        "differential": {"element": [{"id": path, "path": path, "constraint": [{
            "key": key, "severity": "error", "human": "synthetic rule",
            "expression": expression}]}]}})
    return Validator(registry)


def test_type_named_resource_invariant_holds_and_fails() -> None:
    """``Patient.active.exists()`` reads as ``active.exists()`` on a Patient."""
    checker = _profile("active-patient", "Patient", "Patient", "tst-1", "Patient.active.exists()")
    meta = {"profile": [PROFILES + "active-patient"]}
    assert checker.validate(patient(meta=meta, active=True)).issues == ()
    assert_invariant(checker.validate(patient(meta=meta)), "Patient", "tst-1")


def test_type_named_bundle_invariant_holds_and_fails() -> None:
    """``Bundle.entry.resource.ofType(Patient)``: a Bundle with a Patient passes."""
    checker = _profile("patient-bundle", "Bundle", "Bundle", "tst-2",
                       "Bundle.entry.resource.ofType(Patient).exists()")
    meta = {"profile": [PROFILES + "patient-bundle"]}

    def bundle(resource: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Bundle", "meta": meta, "type": "collection",
                "entry": [{"fullUrl": "urn:uuid:5c1e6f3e-2d6c-4a36-9d43-3f1c1a0b7a11",
                           "resource": resource}]}

    assert checker.validate(bundle(patient())).issues == ()
    assert_invariant(checker.validate(bundle(ORG)), "Bundle", "tst-2")


def test_type_named_datatype_invariant_holds_and_fails() -> None:
    """On an element, the step names the element's type: ``HumanName.family`` on a name."""
    checker = _profile("named-patient", "Patient", "Patient.name", "tst-3",
                       "HumanName.family.exists()")
    meta = {"profile": [PROFILES + "named-patient"]}
    assert checker.validate(patient(meta=meta, name=[{"family": "Testperson"}])).issues == ()
    result = checker.validate(patient(meta=meta, name=[{"family": "Testperson"},
                                                       {"given": ["Ann"]}]))
    assert_invariant(result, "Patient.name[1]", "tst-3")


def test_core_invariant_starting_with_its_type_is_checked() -> None:
    """app-4 (``Appointment.cancelationReason.exists() implies ...``) is no longer empty."""
    appointment = {"resourceType": "Appointment", "text": NARRATIVE,
                   "participant": [{"actor": {"display": "Synthetic clinic"},
                                    "status": "accepted"}],
                   "cancelationReason": {"text": "synthetic reason"}}
    assert_invariant(validate({**appointment, "status": "booked"}), "Appointment", "app-4")
    assert "app-4" not in rules(validate({**appointment, "status": "cancelled"}))
