"""The walker's handling of one element's values (ecanfhir.validation._walk, R4 JSON §2.6.2):
arrays and single values, primitives and their ``_`` companions, objects and what each type
hands to its checks, slices, type profiles, extensions and resources inside resources. Each
issue is asserted with its severity, code, FHIRPath location and rule; the message where it tells
the user what to write instead. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import profile_of as profile

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
UCUM = "http://unitsofmeasure.org"
PRACTITIONER = {"resourceType": "Practitioner", "text": NARRATIVE}

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


# -- slices ------------------------------------------------------------------------------------
MRN = "http://example.org/fhir/sid/mrn"
SLICED_IDENTIFIERS = profile(
    "sliced-identifiers", "Patient", {"path": "Patient"},
    {"path": "Patient.identifier", "slicing": {
        "discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
    {"path": "Patient.identifier.period", "max": "0"},
    {"id": "Patient.identifier:mrn", "path": "Patient.identifier", "sliceName": "mrn", "min": 1,
     "max": "1"},
    {"id": "Patient.identifier:mrn.system", "path": "Patient.identifier.system", "min": 1,
     "fixedUri": MRN})


def test_sliced_element_bounds_hold_in_its_slices() -> None:
    """identifier.period is 0..0 on the sliced element: an MRN (in slice mrn) with a period is
    reported as well as an identifier in no slice."""
    period = {"start": "2020-01-01"}
    resource = patient(meta={"profile": [EXAMPLE + "sliced-identifiers"]}, identifier=[
        {"system": MRN, "value": "1", "period": period},
        {"system": "http://example.org/fhir/sid/other", "value": "2", "period": period}])
    assert found(resource, SLICED_IDENTIFIERS) == [
        ("error", "structure", "Patient.identifier[0].period", "cardinality-max"),
        ("error", "structure", "Patient.identifier[1].period", "cardinality-max")]


def test_empty_array_of_a_sliced_element_misses_its_slices() -> None:
    """``identifier: []`` is reported, and, as when identifier is left out, so is the required
    slice mrn that it does not fill."""
    resource = patient(meta={"profile": [EXAMPLE + "sliced-identifiers"]}, identifier=[])
    expected = [("error", "required", "Patient.identifier", "slice-cardinality")]
    absent = {k: v for k, v in resource.items() if k != "identifier"}
    assert found(absent, SLICED_IDENTIFIERS) == expected
    assert found(resource, SLICED_IDENTIFIERS) == [
        ("error", "required", "Patient.identifier", "slice-cardinality"),
        ("error", "structure", "Patient.identifier", "json-form")]


def test_value_whose_slice_is_undecided_is_no_error() -> None:
    """A closed slicing by a profile that is not loaded: the address may be in slice dk, so
    the missing slice is a warning and the address is not reported as in no slice."""
    undecided = profile(
        "undecided-address", "Patient", {"path": "Patient"},
        {"path": "Patient.address", "slicing": {
            "discriminator": [{"type": "profile", "path": "$this"}], "rules": "closed"}},
        {"id": "Patient.address:dk", "path": "Patient.address", "sliceName": "dk", "min": 1,
         "type": [{"code": "Address", "profile": [EXAMPLE + "not-loaded"]}]})
    resource = patient(meta={"profile": [EXAMPLE + "undecided-address"]},
                       address=[{"city": "Aarhus"}])
    assert found(resource, undecided) == [
        ("warning", "not-supported", "Patient.address[0]", "slice-unchecked"),
        ("warning", "required", "Patient.address", "slice-cardinality")]


def address_profile(name: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return profile(name, "Address", {"path": "Address"}, *elements, kind="complex-type")


DANISH = address_profile("danish-address", {"path": "Address.country", "fixedString": "DK"})
WITH_LINES = address_profile("address-with-lines", {"path": "Address.line", "min": 1})


def test_type_profile_of_the_sliced_element_holds_in_its_slices() -> None:
    """Patient.address is a danish-address; its slice by profile takes addresses with lines.
    A Swedish address with a line is in the slice, and still breaks danish-address."""
    sliced = profile(
        "sliced-by-profile", "Patient", {"path": "Patient"},
        {"path": "Patient.address",
         "type": [{"code": "Address", "profile": [EXAMPLE + "danish-address"]}],
         "slicing": {"discriminator": [{"type": "profile", "path": "$this"}], "rules": "open"}},
        {"id": "Patient.address:lines", "path": "Patient.address", "sliceName": "lines",
         "type": [{"code": "Address", "profile": [EXAMPLE + "address-with-lines"]}]})
    resource = patient(meta={"profile": [EXAMPLE + "sliced-by-profile"]},
                       address=[{"line": ["Storgatan 1"], "country": "SE"}])
    assert found(resource, DANISH, WITH_LINES, sliced) == [
        ("error", "value", "Patient.address[0].country", "fixed")]


def test_value_in_a_slice_of_other_types_is_checked_as_its_own_type() -> None:
    """effective[x] sliced by the absence of ``start``: a dateTime (it has no start) falls in
    the Period slice; it is still checked as a dateTime, and its bad date reported as such."""
    sliced = profile(
        "sliced-effective", "Observation", {"path": "Observation"},
        {"path": "Observation.effective[x]", "slicing": {
            "discriminator": [{"type": "exists", "path": "start"}], "rules": "open"}},
        {"id": "Observation.effective[x]:open", "path": "Observation.effective[x]",
         "sliceName": "open", "type": [{"code": "Period"}]},
        {"id": "Observation.effective[x]:open.start", "path": "Observation.effective[x].start",
         "max": "0"})
    resource = observation(meta={"profile": [EXAMPLE + "sliced-effective"]},
                           effectiveDateTime="2020-13-45")
    result = check(resource, sliced)
    assert [(i.severity, i.code, i.rule) for i in result.issues
            if i.expression == "Observation.effective.ofType(dateTime)"] == [
        ("error", "invalid", "type-dateTime")]


ORGANIZATION_IDS = "http://example.org/fhir/sid/organization"


def test_slice_narrowing_a_reference_target_holds_for_its_values() -> None:
    """A general practitioner identified as an organization is in slice org, whose reference
    may point to an Organization only: a Practitioner target is reported."""
    sliced = profile(
        "gp-slices", "Patient", {"path": "Patient"},
        {"path": "Patient.generalPractitioner", "slicing": {
            "discriminator": [{"type": "value", "path": "identifier.system"}], "rules": "open"}},
        {"id": "Patient.generalPractitioner:org", "path": "Patient.generalPractitioner",
         "sliceName": "org", "type": [{"code": "Reference",
                                        "targetProfile": [CORE + "Organization"]}]},
        {"id": "Patient.generalPractitioner:org.identifier.system",
         "path": "Patient.generalPractitioner.identifier.system", "fixedUri": ORGANIZATION_IDS})
    gp = {"reference": "Practitioner/2", "identifier": {"system": ORGANIZATION_IDS, "value": "9"}}
    collection = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Patient/1",
         "resource": patient(id="1", meta={"profile": [EXAMPLE + "gp-slices"]},
                             generalPractitioner=[gp])},
        {"fullUrl": "http://example.org/fhir/Practitioner/2",
         "resource": {**PRACTITIONER, "id": "2"}}]}
    assert found(collection, sliced) == [
        ("error", "structure", "Bundle.entry[0].resource.generalPractitioner[0].reference",
         "reference-type")]


# -- resources inside resources ------------------------------------------------------------------
def bundle_profile(name: str, *types: str) -> dict[str, Any]:
    """A Bundle profile whose entries are resources of these types."""
    return profile(name, "Bundle", {"path": "Bundle"}, {
        "path": "Bundle.entry.resource", "type": [{"code": t} for t in types]})


def bundle(name: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "meta": {"profile": [EXAMPLE + name]},
            "entry": [{"fullUrl": "urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-000000000003",
                       "resource": resource}]}


@pytest.mark.parametrize(("types", "message"), [
    (("Patient", "Observation"), "expected one of Patient, Observation here, found Practitioner"),
    (("Patient",), "expected a Patient here, found a Practitioner"),
], ids=["several-types", "one-type"])
def test_entry_of_a_type_the_profile_does_not_allow(types: tuple[str, ...], message: str) -> None:
    """A Practitioner in a Bundle whose profile allows only other types: one error, saying
    which types are allowed (the Practitioner is not walked against them)."""
    result = check(bundle("typed-entries", PRACTITIONER), bundle_profile("typed-entries", *types))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Bundle.entry[0].resource", "resource-type", message)]


def test_entry_among_several_types_is_walked_as_its_own_type() -> None:
    """An Observation where Patient or Observation is allowed: checked as an Observation."""
    entry = observation(valueString=5)
    assert found(bundle("typed-entries", entry),
                 bundle_profile("typed-entries", "Patient", "Observation")) == [
        ("error", "structure", "Bundle.entry[0].resource.value.ofType(string)", "type-string")]


def test_entry_without_a_resource_type_among_several_types() -> None:
    """An entry with no resourceType where Patient or Observation is allowed: its type is
    unknown (and none of the allowed ones); it is not walked as an element (no ele-1, no
    unknown 'id')."""
    assert found(bundle("typed-entries", {"id": "x"}),
                 bundle_profile("typed-entries", "Patient", "Observation")) == [
        ("error", "required", "Bundle.entry[0].resource", "json-form"),
        ("error", "structure", "Bundle.entry[0].resource", "resource-type")]


def test_contained_resource_refers_to_its_container_with_a_hash() -> None:
    """A contained Observation's subject ``#`` is its container, the Patient: a valid subject,
    and the reference from inside the container satisfies dom-3."""
    contained = observation(id="o1", subject={"reference": "#"})
    assert found(patient(contained=[contained])) == []


def test_root_resource_of_a_contained_resource_is_its_container() -> None:
    """%rootResource in an invariant of a contained resource is the resource containing it."""
    rule = profile("in-a-patient", "Observation", {"path": "Observation", "constraint": [{
        "key": "o-1", "severity": "error", "human": "contained in a Patient",
        "expression": "%rootResource is Patient"}]})
    contained = observation(id="o1", subject={"reference": "#"},
                            meta={"profile": [EXAMPLE + "in-a-patient"]})
    assert found(patient(contained=[contained]), rule) == []


def test_code_system_contained_in_a_value_set_gets_advice() -> None:
    """A CodeSystem contained in a ValueSet: referred to by url, it is best not contained."""
    code_system = {"resourceType": "CodeSystem", "id": "cs1", "text": NARRATIVE,
                   "url": "http://example.org/fhir/CodeSystem/local", "status": "draft",
                   "caseSensitive": True, "content": "complete", "concept": [{"code": "a"}]}
    value_set = {"resourceType": "ValueSet", "text": NARRATIVE, "status": "draft",
                 "url": "http://example.org/fhir/ValueSet/local", "contained": [code_system],
                 "compose": {"include": [{"system": "http://example.org/fhir/CodeSystem/local"}]}}
    assert ("information", "informational", "ValueSet.contained[0]", "codesystem-contained") \
        in found(value_set)


def test_outcome_of_a_response_entry_is_not_an_entry() -> None:
    """A transaction response's outcome is no entry of the Bundle: a urn reference in it is
    not looked up among the entries."""
    outcome = {"resourceType": "OperationOutcome", "text": NARRATIVE, "issue": [{
        "severity": "error", "code": "invalid", "diagnostics": "Synthetic failure",
        "extension": [{"url": "http://example.org/fhir/StructureDefinition/about",
                       "valueReference": {
                           "reference": "urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-000000000004"}}]}]}
    response = {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "400", "outcome": outcome}}]}
    assert found(response) == []


# -- type profiles and extension definitions ----------------------------------------------------
def test_type_profile_of_another_type_is_not_applied() -> None:
    """Patient.address names a HumanName profile: reported once, and the address is checked as
    an Address (HumanName.family 1..1 is not asked of it)."""
    name_profile = profile("family-name", "HumanName", {"path": "HumanName"},
                           {"path": "HumanName.family", "min": 1}, kind="complex-type")
    wrong = profile("wrong-type-profile", "Patient", {"path": "Patient"}, {
        "path": "Patient.address",
        "type": [{"code": "Address", "profile": [EXAMPLE + "family-name"]}]})
    result = check(patient(meta={"profile": [EXAMPLE + "wrong-type-profile"]},
                           address=[{"city": "Aarhus"}]), name_profile, wrong)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.address[0]", "profile-type",
         f"the profile {EXAMPLE}family-name that Patient.address names for its type Address is "
         "a profile of HumanName, so it was not applied")]


def test_value_among_type_profiles_is_tried_where_it_is() -> None:
    """[danish-address, swedish-address]: a Swedish address carrying an extension allowed on
    Patient.address is tried there, meets swedish-address, and so is valid."""
    swedish = address_profile("swedish-address", {"path": "Address.country", "fixedString": "SE"})
    alternatives = profile("nordic-addresses", "Patient", {"path": "Patient"}, {
        "path": "Patient.address", "type": [{"code": "Address", "profile": [
            EXAMPLE + "danish-address", EXAMPLE + "swedish-address"]}]})
    note = extension_definition("address-note", {
        "path": "Extension.value[x]", "type": [{"code": "string"}]},
        context=[{"type": "element", "expression": "Patient.address"}])
    address = {"extension": [{"url": EXAMPLE + "address-note", "valueString": "Synthetic"}],
               "city": "Malmö", "country": "SE"}
    resource = patient(meta={"profile": [EXAMPLE + "nordic-addresses"]}, address=[address])
    assert found(resource, DANISH, swedish, alternatives, note) == []


def test_type_profile_that_is_not_loaded_leaves_the_core_type() -> None:
    """A type profile that is not loaded: the address is checked as a core Address."""
    unknown = profile("unknown-type-profile", "Patient", {"path": "Patient"}, {
        "path": "Patient.address",
        "type": [{"code": "Address", "profile": [EXAMPLE + "not-loaded-address"]}]})
    result = check(patient(meta={"profile": [EXAMPLE + "unknown-type-profile"]},
                           address=[{"city": 5}]), unknown)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.errors] == [
        ("error", "structure", "Patient.address[0].city", "type-string")]


def test_invariants_of_a_type_profile_root_apply_to_the_value() -> None:
    """A constraint on the root of an Address profile (``city.exists()``) is checked on the
    address; ``$this is Quantity`` on a Quantity profile's root holds for value[x]."""
    with_city = address_profile("address-with-city", {"path": "Address", "constraint": [{
        "key": "r-1", "severity": "error", "human": "has a city", "expression": "city.exists()"}]})
    quantity = profile("typed-quantity", "Quantity", {"path": "Quantity", "constraint": [{
        "key": "q-1", "severity": "error", "human": "a Quantity",
        "expression": "$this is Quantity"}]}, kind="complex-type")
    patient_profile = profile("city-addresses", "Patient", {"path": "Patient"}, {
        "path": "Patient.address",
        "type": [{"code": "Address", "profile": [EXAMPLE + "address-with-city"]}]})
    observation_profile = profile("typed-quantities", "Observation", {"path": "Observation"}, {
        "path": "Observation.value[x]",
        "type": [{"code": "Quantity", "profile": [EXAMPLE + "typed-quantity"]}]})
    definitions = (with_city, quantity, patient_profile, observation_profile)
    assert found(patient(meta={"profile": [EXAMPLE + "city-addresses"]},
                         address=[{"country": "DK"}]), *definitions) == [
        ("error", "invariant", "Patient.address[0]", "r-1")]
    assert found(observation(meta={"profile": [EXAMPLE + "typed-quantities"]},
                             valueQuantity={"value": 1}), *definitions) == []


def test_extension_is_checked_against_the_invariants_of_its_definition() -> None:
    """ext-1 (value or extensions, not both), and a constraint of the definition's own root."""
    short = extension_definition("short-text", {
        "path": "Extension.value[x]", "type": [{"code": "string"}]})
    short["differential"]["element"][0]["constraint"] = [{
        "key": "k-1", "severity": "error", "human": "short", "expression": "value.length() < 3"}]
    resource = patient(extension=[
        {"url": EXAMPLE + "short-text", "valueString": "long"},
        {"url": EXAMPLE + "short-text", "valueString": "ok",
         "extension": [{"url": "part", "valueString": "b"}]}])
    assert found(resource, short) == [
        ("error", "invariant", "Patient.extension[0]", "k-1"),
        ("error", "invariant", "Patient.extension[1]", "ext-1")]


def test_retired_extension_definition_is_said_once() -> None:
    """An extension whose definition is retired: information, at its first use."""
    retired = extension_definition("retired-note", {
        "path": "Extension.value[x]", "type": [{"code": "string"}]}, status="retired")
    resource = patient(extension=[{"url": EXAMPLE + "retired-note", "valueString": "a"},
                                  {"url": EXAMPLE + "retired-note", "valueString": "b"}])
    result = check(resource, retired)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("information", "business-rule", "Patient.extension[0]", "definition-status",
         f"the extension {EXAMPLE}retired-note is retired")]


# -- logical models: elements typed Resource or Extension, elements without a type -------------
HOLDER = EXAMPLE + "Holder"


def holder_model(*elements: dict[str, Any]) -> dict[str, Any]:
    """A logical model ``Holder`` with these elements (paths relative to it)."""
    return {
        "resourceType": "StructureDefinition", "id": "Holder", "url": HOLDER, "name": "Holder",
        "status": "draft", "fhirVersion": "4.0.1", "kind": "logical", "abstract": False,
        "type": HOLDER, "baseDefinition": CORE + "Base", "derivation": "specialization",
        "differential": {"element": [{"id": "Holder", "path": "Holder"}, *(
            {"id": f"Holder.{e['path']}", "min": 0, "max": "1", **e, "path": f"Holder.{e['path']}"}
            for e in elements)]}}


def test_resource_in_a_model_element_is_not_contained() -> None:
    """A resource in a model's Resource element is no contained resource: its ``#`` is itself,
    an Observation, which Observation.subject does not allow."""
    model = holder_model({"path": "source", "type": [{"code": "Resource"}]})
    resource = {"resourceType": HOLDER, "source": observation(id="o1", subject={"reference": "#"})}
    result = check(resource, model)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "structure", "Holder.source.subject.reference", "reference-type")]
    assert "points to a Observation" in result.issues[0].message


def test_extension_in_a_model_element_is_checked_against_its_definition() -> None:
    """A model element typed Extension has no host element: its value is still checked against
    the extension's definition (valueString only)."""
    model = holder_model({"path": "note", "type": [{"code": "Extension"}]})
    note = extension_definition("note", {"path": "Extension.value[x]",
                                         "type": [{"code": "string"}]})
    assert found({"resourceType": HOLDER, "note": {"url": EXAMPLE + "note", "valueString": "a"}},
                 model, note) == []
    assert found({"resourceType": HOLDER, "note": {"url": EXAMPLE + "note", "valueInteger": 1}},
                 model, note) == [("error", "structure", "Holder.note.valueInteger",
                                   "unknown-element")]


def test_model_element_without_a_type_is_checked_against_its_children() -> None:
    """An untyped model element with children: an object is checked against them."""
    model = holder_model({"path": "part"}, {"path": "part.label", "type": [{"code": "string"}]})
    assert found({"resourceType": HOLDER, "part": {"label": 5}}, model) == [
        ("error", "structure", "Holder.part.label", "type-string")]


def test_model_element_without_a_type_must_be_an_object() -> None:
    """An untyped model element with children, given a string: the message says an object
    (an element) is expected."""
    model = holder_model({"path": "part"}, {"path": "part.label", "type": [{"code": "string"}]})
    result = check({"resourceType": HOLDER, "part": "label"}, model)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Holder.part", "json-form",
         "expected an object (element), found the string 'label'")]
