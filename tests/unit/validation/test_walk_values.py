"""The walker's handling of one element's values (ecanfhir.validation._walk, R4 JSON §2.6.2):
arrays and single values, primitives and their ``_`` companions, objects and what each type
hands to its checks, slices, type profiles, extensions and resources inside resources. Each
issue is asserted with its severity, code, FHIRPath location and rule; the message where it tells
the user what to write instead. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
UCUM = "http://unitsofmeasure.org"

Found = tuple[str, str, str, str]


def check(resource: dict[str, Any], *definitions: dict[str, Any],
          options: ValidationOptions | None = None) -> ValidationResult:
    registry = Registry()
    for definition in definitions:
        registry.add(definition)
    return Validator(registry, options=options).validate(resource)


def found(resource: dict[str, Any], *definitions: dict[str, Any],
          options: ValidationOptions | None = None) -> list[Found]:
    """(severity, code, location, rule) of every issue, sorted."""
    result = check(resource, *definitions, options=options)
    return sorted((i.severity, i.code, i.expression, i.rule) for i in result.issues)


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic"}, **elements}


def profile(name: str, of: str, *elements: dict[str, Any], kind: str = "resource"
            ) -> dict[str, Any]:
    """A differential-only profile of ``of`` (an element's id is its path unless given)."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": kind, "abstract": False, "type": of,
        "derivation": "constraint", "baseDefinition": CORE + of,
        "differential": {"element": [{"id": e["path"], **e} for e in elements]},
    }


# -- the JSON form of a value ----------------------------------------------------------------
@pytest.mark.parametrize(("elements", "expected"), [
    ({"managingOrganization": [{"display": "Test clinic"}]},
     [("Patient.managingOrganization", "json-form", "'managingOrganization' must be a single "
       "value, not an array (its maximum cardinality is 1)")]),
    ({"name": []},
     [("Patient.name", "json-form", "'name' is an empty array: leave the property out instead")]),
    ({"name": [{"given": []}]},
     [("Patient.name[0].given", "json-form",
       "'given' is an empty array: leave the property out instead")]),
    ({"name": {"family": "Test"}},
     [("Patient.name", "json-form",
       "'name' must be an array (the element repeats), found an object")]),
    ({"name": [{"given": [None]}]},
     [("Patient.name[0].given[0]", "json-form", "null is only allowed in a primitive array "
       "where the '_' companion has content at the same position")]),
    ({"maritalStatus": "married"},
     [("Patient.maritalStatus", "json-form",
       "expected an object (CodeableConcept), found the string 'married'")]),
    ({"maritalStatus": None},
     [("Patient.maritalStatus", "json-form", "expected an object (CodeableConcept), found null")]),
    ({"maritalStatus": {}},
     [("Patient.maritalStatus", "ele-1",
       "empty object: an element must have a value, children or extensions (ele-1)")]),
    ({"birthDate": "2000-01-01", "_birthDate": {}},
     [("Patient.birthDate", "ele-1",
       "empty object: an element must have a value, children or extensions (ele-1)")]),
], ids=["array-for-single", "empty-array", "empty-primitive-array", "object-for-array",
        "null-without-companion", "string-for-object", "null-for-object", "empty-object",
        "empty-companion"])
def test_value_in_the_wrong_json_form(elements: dict[str, Any],
                                      expected: list[tuple[str, str, str]]) -> None:
    """Each wrong JSON form is one structure error, at the element, with a message saying what
    the element must be instead."""
    result = check(patient(**elements))
    assert sorted((i.expression, i.rule, i.message) for i in result.issues) == expected
    assert {(i.severity, i.code) for i in result.issues} == {("error", "structure")}


def test_companion_of_a_primitive_must_be_an_object() -> None:
    """``_birthDate: 5`` is no id/extension object: said so, and birthDate has no value."""
    result = check(patient(_birthDate=5))
    assert sorted((i.severity, i.code, i.expression, i.rule) for i in result.issues) == [
        ("error", "invariant", "Patient.birthDate", "ele-1"),
        ("error", "structure", "Patient.birthDate", "json-form")]
    assert [i.message for i in result.issues if i.rule == "json-form"] == [
        "the '_' companion of a primitive must be an object with id and/or extension, found "
        "the number 5"]


def test_single_object_of_a_repeating_element_is_checked_as_its_first_item() -> None:
    """``name: {...}`` is reported, and its content is still checked, at ``name[0]``."""
    assert found(patient(name={"family": 5})) == [
        ("error", "structure", "Patient.name", "json-form"),
        ("error", "structure", "Patient.name[0].family", "type-string")]


def test_single_companion_of_a_repeating_primitive_goes_with_the_first_item() -> None:
    """``_given: {...}`` (no array) is reported, and is still the companion of ``given[0]``."""
    assert found(patient(name=[{"given": ["Anna"], "_given": {"id": 5}}])) == [
        ("error", "structure", "Patient.name[0].given", "json-form"),
        ("error", "structure", "Patient.name[0].given[0].id", "type-string")]


def test_object_with_only_an_id_breaks_ele_1() -> None:
    """An element needs a value or children besides its id (ele-1)."""
    result = check(patient(maritalStatus={"id": "m1", "text": "Married"},
                           address=[{"id": "a1"}]))
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.errors] == [
        ("error", "invariant", "Patient.address[0]", "ele-1")]


# -- nesting -------------------------------------------------------------------------------------
def test_nesting_limit_message_names_the_limit() -> None:
    """An element nested past max_depth is refused, the message giving the limit."""
    result = check(patient(contact=[{"name": {"family": "Test"}}]),
                   options=ValidationOptions(max_depth=1))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.contact[0].name", "json-form",
         "elements are nested deeper than 1 levels")]


def test_nesting_depth_is_restored_after_each_element() -> None:
    """Siblings are at the same depth: many of them never add up to a nesting error."""
    contacts = [{"name": {"family": f"Test{i}"}} for i in range(6)]
    assert found(patient(contact=contacts), options=ValidationOptions(max_depth=3)) == []


def test_nesting_depth_after_an_element_of_an_entry_is_the_entry_resource_depth() -> None:
    """In a Bundle entry, the element after the narrative is as deep as the narrative: the
    contact's name, five levels down, is past a limit of 3 (Bundle, entry, resource, contact)."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-000000000002",
         "resource": patient(contact=[{"name": {"family": "Test"}}])}]}
    assert found(bundle, options=ValidationOptions(max_depth=3)) == [
        ("error", "structure", "Bundle.entry[0].resource.contact[0].name", "json-form")]


# -- what a value of a type is handed to --------------------------------------------------------
def test_quantity_with_ucum_annotations_gets_advice() -> None:
    """A UCUM code with an annotation and no unit: comparisons ignore the annotation."""
    quantity = {"value": 72, "system": UCUM, "code": "{beats}/min"}
    assert found(observation(valueQuantity=quantity)) == [
        ("warning", "business-rule", "Observation.value.ofType(Quantity)", "ucum-annotation")]


def test_reference_that_is_no_string_is_only_a_type_error() -> None:
    """``reference: 5`` is not a string: a type error, and no reference to resolve."""
    assert found(patient(generalPractitioner=[{"reference": 5}])) == [
        ("error", "structure", "Patient.generalPractitioner[0].reference", "type-string")]


def test_reference_in_a_contained_resource_outside_a_bundle_is_left_to_the_server() -> None:
    """A contained Practitioner's ``Organization/1`` cannot be resolved here, and is not an
    error: the contained resource is in no Bundle."""
    practitioner = {"resourceType": "Practitioner", "id": "p1", "text": NARRATIVE,
                    "qualification": [{"code": {"text": "Synthetic"},
                                       "issuer": {"reference": "Organization/1"}}]}
    assert found(patient(contained=[practitioner],
                         generalPractitioner=[{"reference": "#p1"}])) == []


def test_quantity_is_checked_against_its_binding() -> None:
    """A Quantity bound to a value set of units: a unit outside it breaks a required binding."""
    bound = profile("bound-unit", "Observation", {"path": "Observation"}, {
        "path": "Observation.value[x]", "type": [{"code": "Quantity"}],
        "binding": {"strength": "required",
                    "valueSet": "http://hl7.org/fhir/ValueSet/ucum-vitals-common"}})
    resource = observation(meta={"profile": [EXAMPLE + "bound-unit"]},
                           valueQuantity={"value": 1, "system": UCUM, "code": "mg"})
    assert found(resource, bound) == [
        ("error", "code-invalid", "Observation.value.ofType(Quantity)", "binding-required")]


def test_bound_coding_without_a_system_is_named() -> None:
    """A coding with a code and no system cannot be checked against the binding's value set."""
    result = check(patient(maritalStatus={"coding": [{"code": "M"}]}))
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("warning", "invalid", "Patient.maritalStatus.coding[0]", "coding-system")]
    assert "http://hl7.org/fhir/ValueSet/marital-status" in result.issues[0].message


def test_display_is_expected_in_the_resource_language() -> None:
    """The resource is in German; the code system has no German display: the warning says so
    (in French, which it has, the usual wrong-display warning)."""
    code_system = {"resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/cs",
                   "name": "Cs", "status": "draft", "content": "complete",
                   "concept": [{"code": "a", "display": "Alpha",
                                "designation": [{"language": "fr", "value": "Alphe"}]}]}
    coding = {"system": "http://example.org/fhir/CodeSystem/cs", "code": "a", "display": "Beta"}
    for language, fragment in (("de", "No valid display names found for "
                                      "http://example.org/fhir/CodeSystem/cs#a in the language de"),
                               ("fr", "Wrong display 'Beta'")):
        result = check(patient(language=language, maritalStatus={"coding": [coding]}),
                       code_system)
        issues = [i for i in result.issues if i.rule == "display"]
        assert [(i.severity, i.code, i.expression) for i in issues] == [
            ("warning", "invalid", "Patient.maritalStatus.coding[0].display")]
        assert fragment in issues[0].message


def test_narrative_parts_without_a_source_class_when_the_profile_asks() -> None:
    """narrative-source-control on Patient.text: a part with no source class is reported at the
    narrative, at the level the extension gives."""
    control = profile("narrative-source", "Patient", {"path": "Patient"}, {
        "path": "Patient.text", "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/narrative-source-control",
            "valueCode": "warning"}]})
    resource = patient(meta={"profile": [EXAMPLE + "narrative-source"]})
    assert found(resource, control) == [
        ("warning", "business-rule", "Patient.text", "narrative-source")]


# -- profiled values: limits, bindings and invariants of primitives ---------------------------
@pytest.mark.parametrize(("value_type", "limit", "value", "location"), [
    ("integer", {"minValueInteger": 0}, {"valueInteger": -1}, "Observation.value.ofType(integer)"),
    ("Quantity", {"minValueQuantity": {"value": 0, "system": UCUM, "code": "mg"}},
     {"valueQuantity": {"value": -1, "system": UCUM, "code": "mg"}},
     "Observation.value.ofType(Quantity)"),
], ids=["integer", "Quantity"])
def test_minimum_alone_is_checked(value_type: str, limit: dict[str, Any], value: dict[str, Any],
                                  location: str) -> None:
    """A profile giving only minValue[x] (no maxValue[x]): a value below it is an error."""
    minimum = profile("minimum", "Observation", {"path": "Observation"}, {
        "path": "Observation.value[x]", "type": [{"code": value_type}], **limit})
    resource = observation(meta={"profile": [EXAMPLE + "minimum"]}, **value)
    assert found(resource, minimum) == [("error", "value", location, "min-value")]


def test_primitive_with_only_an_extension_is_not_checked_against_its_binding() -> None:
    """gender bound to a value set that is not loaded, and given no value (only the reason it
    is absent): there is no code to check, so nothing to report."""
    absent = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                             "valueCode": "unknown"}]}
    bound = profile("bound-gender", "Patient", {"path": "Patient"}, {
        "path": "Patient.gender", "binding": {
            "strength": "required", "valueSet": "http://example.org/fhir/ValueSet/not-loaded"}})
    assert found(patient(meta={"profile": [EXAMPLE + "bound-gender"]}, _gender=absent),
                 bound) == []


def extension_definition(name: str, *elements: dict[str, Any], **more: Any) -> dict[str, Any]:
    """An extension ``EXAMPLE + name`` on Patient (an element's id is its path)."""
    return {
        "resourceType": "StructureDefinition", "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": "Patient"}], "type": "Extension",
        "baseDefinition": CORE + "Extension", "derivation": "constraint",
        "differential": {"element": [{"id": e["path"], **e} for e in (
            {"path": "Extension"}, {"path": "Extension.url", "fixedUri": EXAMPLE + name},
            *elements)]}, **more}


def test_code_bound_without_a_value_set_cannot_be_checked() -> None:
    """An extension's valueCode bound with a description only: information, not an error."""
    definition = extension_definition("any-code", {
        "path": "Extension.value[x]", "type": [{"code": "code"}],
        "binding": {"strength": "required", "description": "Any code"}})
    resource = patient(extension=[{"url": EXAMPLE + "any-code", "valueCode": "x"}])
    assert found(resource, definition) == [
        ("information", "code-invalid", "Patient.extension[0].value.ofType(code)",
         "binding-no-source")]


def test_invariants_of_a_primitive_see_its_value_and_type() -> None:
    """A profile's invariants on primitive elements: ``$this = 'female'`` fails for male,
    ``$this is date`` and ``$this is FHIR.boolean`` hold."""
    rules = profile(
        "primitive-rules", "Patient", {"path": "Patient"},
        {"path": "Patient.gender", "constraint": [{"key": "g-1", "severity": "error",
                                                   "human": "female", "expression":
                                                   "$this = 'female'"}]},
        {"path": "Patient.birthDate", "constraint": [{"key": "b-1", "severity": "error",
                                                      "human": "a date", "expression":
                                                      "$this is date"}]},
        {"path": "Patient.active", "constraint": [{"key": "a-1", "severity": "error",
                                                   "human": "a boolean", "expression":
                                                   "$this is FHIR.boolean"}]})
    resource = patient(meta={"profile": [EXAMPLE + "primitive-rules"]}, gender="male",
                       birthDate="2000-01-01", active=True)
    assert found(resource, rules) == [("error", "invariant", "Patient.gender", "g-1")]
