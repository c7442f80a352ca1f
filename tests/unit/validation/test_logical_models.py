"""Instances of logical models (StructureDefinition.kind = logical): ``resourceType`` is the
model's URL; with the model loaded they are validated against it, without it the error says how
to load it.

Two tiny hand-written models based on ``Base``: a tumour finding whose ``patient`` is itself an
instance of a second model. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue
from _profiles import logical_model

from ecanfhir import Registry, ValidationOptions, Validator

SD = "http://example.org/fhir/StructureDefinition/"
FINDING, PATIENT = SD + "TumourFinding", SD + "StudyPatient"
SITES = "http://example.org/fhir/ValueSet/tumour-sites"
SITE_CODES = "http://example.org/fhir/CodeSystem/tumour-sites"


def _type(code: str, **more: Any) -> list[dict[str, Any]]:
    return [{"code": code, **more}]


FINDING_MODEL = logical_model(
    FINDING, "TumourFinding",
    {"path": "patient", "min": 1, "max": "1", "type": _type(PATIENT)},
    {"path": "site", "min": 1, "max": "1", "type": _type("CodeableConcept"),
     "binding": {"strength": "required", "valueSet": SITES}},
    {"path": "grade", "min": 0, "max": "1", "type": _type("string")},
    {"path": "seenOn", "min": 0, "max": "1", "type": _type("dateTime")},
    {"path": "reportedOn", "min": 0, "max": "1", "type": _type("dateTime")},
    {"path": "marker", "min": 0, "max": "*", "type": _type("Element")},
    {"path": "previous", "min": 0, "max": "1",
     "type": _type("Reference", targetProfile=[FINDING])},
)
FINDING_MODEL["differential"]["element"][0]["constraint"] = [{
    "key": "tf-1", "severity": "error", "human": "A finding has a date",
    "expression": "seenOn.exists() or reportedOn.exists()"}]
PATIENT_MODEL = logical_model(
    PATIENT, "StudyPatient",
    {"path": "birthDate", "min": 1, "max": "1", "type": _type("date")},
    {"path": "sex", "min": 0, "max": "1", "type": _type("code")},
)
CODE_SYSTEM = {"resourceType": "CodeSystem", "id": "tumour-sites", "url": SITE_CODES,
               "status": "draft", "content": "complete",
               "concept": [{"code": "lung", "display": "Lung"},
                           {"code": "breast", "display": "Breast"}]}
VALUE_SET = {"resourceType": "ValueSet", "id": "tumour-sites", "url": SITES, "status": "draft",
             "compose": {"include": [{"system": SITE_CODES}]}}


def _validator(*, models: bool = True, trusting: bool = False) -> Validator:
    registry = Registry()
    for resource in ((FINDING_MODEL, PATIENT_MODEL) if models else ()) + (CODE_SYSTEM,
                                                                          VALUE_SET):
        registry.add(resource)
    options = ValidationOptions(assume_valid_rest_references=trusting)
    return Validator(registry, options=options)


def finding(**elements: Any) -> dict[str, Any]:
    return {"resourceType": FINDING,
            "patient": {"resourceType": PATIENT, "birthDate": "1970-05-01", "sex": "female"},
            "site": {"coding": [{"system": SITE_CODES, "code": "lung"}]},
            "grade": "G2", "seenOn": "2024-05-01", "marker": [{"id": "T2"}], **elements}


def test_instance_of_a_loaded_model_is_valid() -> None:
    """Elements by name, a nested model instance, a date, an Element holding only an id (a model
    based on Base does not inherit ele-1) and a reference to another finding by URL."""
    result = _validator().validate(finding(previous={"reference": FINDING + "/f0"}))
    assert result.errors == ()


def test_model_not_loaded_says_how_to_load_it() -> None:
    """Without the model: not 'not a FHIR resource', but which model and how to load it."""
    result = _validator(models=False).validate(finding())
    issue = assert_issue(result, FINDING, severity="error", code="not-found",
                         fragment="names a logical model that is not loaded")
    assert issue.rule == "logical-model-unknown"
    assert "--ig" in issue.message and "load_ig()" in issue.message


def test_cardinality_and_unknown_elements_of_thelogical_model() -> None:
    """A missing 1..1 element, an element the model lacks and one in the nested model."""
    instance = finding(colour="red")
    del instance["site"]
    instance["patient"] = {"resourceType": PATIENT, "sex": "female"}
    result = _validator().validate(instance)
    assert_issue(result, "TumourFinding.site", severity="error", code="required",
                 fragment="minimum required = 1")
    assert_issue(result, "TumourFinding.colour", severity="error", code="structure",
                 fragment="unrecognised property 'colour'")
    assert_issue(result, "TumourFinding.patient.birthDate", severity="error", code="required",
                 fragment="minimum required = 1")


def test_types_of_the_model_are_checked() -> None:
    """A dateTime that is not one, and a grade that is not a string."""
    result = _validator().validate(finding(seenOn="yesterday", grade=2))
    assert_issue(result, "TumourFinding.seenOn", severity="error", code="invalid",
                 fragment="'yesterday' is not a valid dateTime")
    assert_issue(result, "TumourFinding.grade", severity="error", code="structure",
                 fragment="expected a JSON string")


def test_invariant_of_the_model_is_checked() -> None:
    """tf-1: a finding with neither date fails; one with reportedOn passes."""
    dated = finding()
    del dated["seenOn"]
    assert _validator().validate({**dated, "reportedOn": "2024-05-02"}).errors == ()
    result = _validator().validate(dated)
    issue = assert_issue(result, "TumourFinding", severity="error", code="invariant",
                         fragment="constraint tf-1 failed")
    assert issue.rule == "tf-1"


def test_binding_of_the_model_is_checked() -> None:
    """site is bound (required) to the two tumour sites: 'skin' is not one of them."""
    result = _validator().validate(
        finding(site={"coding": [{"system": SITE_CODES, "code": "skin"}]}))
    issue = assert_issue(result, "TumourFinding.site", severity="error", code="code-invalid",
                         fragment="is in the value set")
    assert issue.rule == "binding-required"


def test_nested_instance_must_name_its_ownlogical_model() -> None:
    """``patient`` holding an instance of another model is not a StudyPatient."""
    result = _validator().validate(finding(patient={"resourceType": FINDING,
                                                    "birthDate": "1970-05-01"}))
    assert_issue(result, "TumourFinding.patient.resourceType", severity="error",
                 code="structure", fragment="resourceType")


def test_reference_to_a_resource_where_a_model_is_expected() -> None:
    """previous admits TumourFinding instances, not a Patient resource (judged from the type
    the reference names, when that is trusted)."""
    result = _validator(trusting=True).validate(finding(previous={"reference": "Patient/p1"}))
    issue = assert_issue(result, "TumourFinding.previous.reference", severity="error",
                         code="structure", fragment="points to a Patient")
    assert issue.rule == "reference-type"


def test_resource_type_naming_a_profile_is_not_alogical_model() -> None:
    """A URL that names a loaded profile (kind resource) is not an instance type."""
    registry = Registry()
    url = SD + "some-patient"
    registry.add({"resourceType": "StructureDefinition", "id": "some-patient", "url": url,
                  "name": "SomePatient", "status": "draft", "fhirVersion": "4.0.1",
                  "kind": "resource", "abstract": False, "type": "Patient",
                  "derivation": "constraint",
                  "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
                  "differential": {"element": [{"id": "Patient", "path": "Patient"}]}})
    result = Validator(registry).validate({"resourceType": url})
    issue = assert_issue(result, url, severity="error", code="structure",
                         fragment="not a logical model")
    assert issue.rule == "json-form"


def test_model_based_on_element_keeps_ele_1() -> None:
    """A model based on Element inherits ele-1: an Element holding only an id is empty there."""
    url = SD + "ElementFinding"
    model = logical_model(url, "ElementFinding",
                   {"path": "marker", "min": 0, "max": "*", "type": _type("Element")})
    model["baseDefinition"] = "http://hl7.org/fhir/StructureDefinition/Element"
    registry = Registry()
    registry.add(model)
    checker = Validator(registry)
    assert checker.validate({"resourceType": url, "marker": [{"id": "a", "extension": [
        {"url": "http://example.org/x", "valueString": "y"}]}]}).errors == ()
    result = checker.validate({"resourceType": url, "marker": [{"id": "T2"}]})
    assert_issue(result, "ElementFinding.marker[0]", severity="error", code="invariant",
                 fragment="ele-1")


def test_model_that_cannot_be_used_says_why() -> None:
    """A model whose base is not loaded is reported as unusable, with the reason."""
    url = SD + "Orphan"
    model = logical_model(url, "Orphan",
                          {"path": "note", "min": 0, "max": "1", "type": _type("string")})
    model["baseDefinition"] = SD + "MissingBase"
    registry = Registry()
    registry.add(model)
    result = Validator(registry).validate({"resourceType": url, "note": "x"})
    issue = assert_issue(result, url, severity="error", code="not-found",
                         fragment="could not be used")
    assert issue.rule == "logical-model-unusable" and "MissingBase" in issue.message


def test_choice_of_models_is_named_by_the_models_last_part() -> None:
    """``evidence[x]`` of two models: ``evidenceStudyPatient`` holds a StudyPatient instance."""
    url = SD + "Evidence"
    model = logical_model(url, "Evidence", {"path": "evidence[x]", "min": 1, "max": "1",
                                     "type": [{"code": PATIENT}, {"code": FINDING}]})
    registry = Registry()
    for resource in (model, FINDING_MODEL, PATIENT_MODEL):
        registry.add(resource)
    checker = Validator(registry)
    patient = {"resourceType": PATIENT, "birthDate": "1970-05-01"}
    wrong = checker.validate({"resourceType": url, "evidencePatient": patient})
    assert_issue(wrong, "Evidence.evidencePatient", severity="error", code="structure",
                 fragment="unrecognised property")
    assert checker.validate({"resourceType": url, "evidenceStudyPatient": patient}).errors == ()
    result = checker.validate({"resourceType": url, "evidenceStudyPatient": {
        "resourceType": PATIENT}})
    assert_issue(result, f"Evidence.evidence.ofType({PATIENT}).birthDate", severity="error",
                 code="required", fragment="minimum required = 1")
