"""The walker's rules on objects and resources (ecanfhir.validation._walk): trial walks of a
value against a profile (slices, reference targets, contained resources), logical-model
instances, frames of contained resources, element ids, unknown properties and their hints,
extension contexts, mustSupport, resources among several types. Each issue is asserted with its
code, location and rule. The profiles and data are hand-written and synthetic.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest
from _profiles import CORE, EXAMPLE, constraint, element, logical_model

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SYSTEM = "urn:oid:1.2.208.176.1.2"


def validate(resource: dict[str, Any], *definitions: dict[str, Any],
             profiles: tuple[str, ...] = (), **options: Any) -> ValidationResult:
    registry = Registry()
    for definition in definitions:
        registry.add(definition)
    return Validator(registry, options=ValidationOptions(**options)).validate(
        resource, profiles=profiles)


def found(resource: dict[str, Any], *definitions: dict[str, Any],
          **options: Any) -> list[tuple[str, str, str, str]]:
    """(severity, code, location, rule) of each issue (dom-6, a best practice, left out)."""
    result = validate(resource, *definitions, **options)
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule != "dom-6"]


def datatype_profile(name: str, of: str, *elements: dict[str, Any]) -> dict[str, Any]:
    """A profile ``EXAMPLE + name`` of the datatype ``of``."""
    return {**constraint(name, of, element(of), *elements), "kind": "complex-type"}


def extension(name: str, *contexts: tuple[str, str]) -> dict[str, Any]:
    """A simple extension ``EXAMPLE + name`` with a string value, used in ``contexts``
    ((type, expression) pairs)."""
    return {**datatype_profile(name, "Extension",
                               element("Extension.url", fixedUri=EXAMPLE + name),
                               element("Extension.value[x]", type=[{"code": "string"}])),
            "context": [{"type": kind, "expression": where} for kind, where in contexts]}


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


# -- trial walks: a value tried against a profile ------------------------------------------------

DANISH_ID = datatype_profile("danish-id", "Identifier",
                             element("Identifier.system", fixedUri=SYSTEM))
ON_IDENTIFIER = extension("on-identifier", ("element", "Patient.identifier"))
BY_PROFILE = constraint(
    "by-profile", "Patient",
    element("Patient.identifier", slicing={"discriminator": [{"type": "profile",
                                                              "path": "$this"}],
                                           "rules": "closed"}),
    element("Patient.identifier:danish", sliceName="danish", min=1, max="1",
            type=[{"code": "Identifier", "profile": [EXAMPLE + "danish-id"]}]))


def test_value_in_a_profile_slice_keeps_its_id_and_its_extensions_context() -> None:
    """A value tried against its slice's profile is tried where it is: its element id is not
    taken for a repeat of itself, and an extension whose context is the sliced element is
    allowed (the slice is found, so no slice-cardinality or slice-closed error)."""
    identifier = {"id": "cpr", "system": SYSTEM, "value": "0101010101",
                  "extension": [{"url": EXAMPLE + "on-identifier", "valueString": "x"}]}
    resource = patient(meta={"profile": [EXAMPLE + "by-profile"]}, identifier=[identifier])
    assert found(resource, DANISH_ID, ON_IDENTIFIER, BY_PROFILE) == []


def test_value_in_no_profile_slice_is_still_reported() -> None:
    """The same slicing, a value of another system: no slice takes it (a closed slicing), and
    the required slice is missing."""
    identifier = {"id": "other", "system": "urn:oid:1.2.208.999", "value": "1"}
    resource = patient(meta={"profile": [EXAMPLE + "by-profile"]}, identifier=[identifier])
    assert sorted(found(resource, DANISH_ID, ON_IDENTIFIER, BY_PROFILE)) == [
        ("error", "required", "Patient.identifier", "slice-cardinality"),
        ("error", "structure", "Patient.identifier[0]", "slice-closed")]


def test_child_tried_against_a_profile_keeps_its_id() -> None:
    """Slicing by the profile of a child (contact by name): the child's element id, met while
    trying it, is not left for the walk proper to find repeated."""
    official = datatype_profile("official-name", "HumanName",
                                element("HumanName.use", fixedCode="official"))
    by_name = constraint(
        "contact-by-name", "Patient",
        element("Patient.contact", slicing={"discriminator": [{"type": "profile",
                                                               "path": "name"}],
                                            "rules": "closed"}),
        element("Patient.contact:official", sliceName="official", min=1, max="1"),
        element("Patient.contact:official.name",
                type=[{"code": "HumanName", "profile": [EXAMPLE + "official-name"]}]))
    resource = patient(meta={"profile": [EXAMPLE + "contact-by-name"]},
                       contact=[{"name": {"id": "n1", "use": "official", "family": "Hansen"}}])
    assert found(resource, official, by_name) == []


def test_value_among_type_profiles_keeps_its_extensions_context() -> None:
    """Type profiles as alternatives ([danish-id, Identifier]): the value is tried against the
    first at its own location, so an extension allowed on Patient.identifier is allowed there
    (and the value, meeting danish-id, is checked against it: no error)."""
    listing = constraint("lists-ids", "Patient", element(
        "Patient.identifier",
        type=[{"code": "Identifier", "profile": [EXAMPLE + "danish-id", CORE + "Identifier"]}]))
    identifier = {"id": "cpr", "system": SYSTEM, "value": "0101010101",
                  "extension": [{"url": EXAMPLE + "on-identifier", "valueString": "x"}]}
    resource = patient(meta={"profile": [EXAMPLE + "lists-ids"]}, identifier=[identifier])
    assert found(resource, DANISH_ID, ON_IDENTIFIER, listing) == []


PART_OF_KNOWN = constraint("part-of-known", "Organization", element(
    "Organization", constraint=[{"key": "pok-1", "severity": "error",
                                 "human": "Part of an organization that can be found",
                                 "expression": "partOf.resolve().exists()"}]))
MANAGED = constraint("managed", "Patient", element(
    "Patient.managingOrganization",
    type=[{"code": "Reference", "targetProfile": [EXAMPLE + "part-of-known"]}]))


def managed_patient(*, claims: bool = False, part_of: str = "#o2") -> dict[str, Any]:
    first = {"resourceType": "Organization", "id": "o1", "name": "Ward",
             "partOf": {"reference": part_of}}
    if claims:
        first["meta"] = {"profile": [EXAMPLE + "part-of-known"]}
    return patient(meta={"profile": [EXAMPLE + "managed"]}, contained=[
        first, {"resourceType": "Organization", "id": "o2", "name": "Hospital"}],
        managingOrganization={"reference": "#o1"}, generalPractitioner=[{"reference": "#o2"}])


def test_contained_target_is_tried_inside_its_container() -> None:
    """A contained target tried against a targetProfile resolves "#o2" among its container's
    contained resources, as the walk proper does: it conforms, whether it claims the profile
    (remembered from the walk) or not (tried)."""
    assert found(managed_patient(), PART_OF_KNOWN, MANAGED) == []
    assert found(managed_patient(claims=True), PART_OF_KNOWN, MANAGED) == []


def test_contained_target_that_does_not_conform_is_reported() -> None:
    """The same target whose partOf names nothing contained: it does not conform."""
    assert found(managed_patient(part_of="#nowhere"), PART_OF_KNOWN, MANAGED) == [
        ("error", "invariant", "Patient.contained[0].partOf", "ref-1"),
        ("error", "not-found", "Patient.contained[0].partOf.reference", "reference-contained"),
        ("error", "structure", "Patient.managingOrganization.reference",
         "reference-profile")]



def test_entry_target_is_tried_with_its_own_contained_resources() -> None:
    """A Bundle entry's target is tried as the resource it is, not as one contained by the
    referring resource (which has contained resources of its own): its "#o9" resolves among
    its own contained resources."""
    hospital = {"resourceType": "Organization", "text": NARRATIVE, "name": "Ward",
                "contained": [{"resourceType": "Organization", "id": "o9", "name": "Hospital"}],
                "partOf": {"reference": "#o9"}}
    managed = patient(meta={"profile": [EXAMPLE + "managed"]},
                      contained=[{"resourceType": "Organization", "id": "o1", "name": "GP"}],
                      generalPractitioner=[{"reference": "#o1"}],
                      managingOrganization={"reference": entry(2, {})["fullUrl"]})
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [entry(1, managed), entry(2, hospital)]}
    assert found(bundle, PART_OF_KNOWN, MANAGED) == []


def test_contained_target_of_a_contained_resource_is_tried_inside_the_container() -> None:
    """A chain inside one container: o1 (claiming a profile whose partOf must be part of a known
    organization) is part of o2, o2 of o3. o2, tried for o1's reference, resolves "#o3" in the
    container it shares with o1, not in o1; it carries an extension, so its hosts are worked
    out at its location. With o2's partOf no reference, o2 does not conform (and o3, referenced
    by nothing, breaks dom-3)."""
    in_chain = constraint("in-chain", "Organization", element(
        "Organization.partOf",
        type=[{"code": "Reference", "targetProfile": [EXAMPLE + "part-of-known"]}]))
    organizations = [
        {"resourceType": "Organization", "id": "o1", "name": "Ward",
         "meta": {"profile": [EXAMPLE + "in-chain"]}, "partOf": {"reference": "#o2"}},
        {"resourceType": "Organization", "id": "o2", "name": "Department",
         "extension": [{"url": "http://example.net/fhir/StructureDefinition/note",
                        "valueString": "synthetic"}],
         "partOf": {"reference": "#o3"}},
        {"resourceType": "Organization", "id": "o3", "name": "Hospital"}]
    resource = patient(contained=organizations, managingOrganization={"reference": "#o1"})
    assert found(resource, PART_OF_KNOWN, in_chain) == []
    organizations[1]["partOf"] = {"display": "Not a reference to anything"}
    assert found(resource, PART_OF_KNOWN, in_chain) == [
        ("error", "invariant", "Patient", "dom-3"),
        ("error", "structure", "Patient.contained[0].partOf.reference", "reference-profile")]


# -- extension contexts: what an object is -------------------------------------------------------

def with_extension(name: str, **elements: Any) -> dict[str, Any]:
    return {"extension": [{"url": EXAMPLE + name, "valueString": "x"}], **elements}


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Synthetic test"}, **elements}


@pytest.mark.parametrize(("context", "resource"), [
    ("Quantity", {"resourceType": "Condition", "text": NARRATIVE,
                  "subject": {"display": "Synthetic patient"},
                  "onsetAge": with_extension("here", value=40, code="a",
                                             system="http://unitsofmeasure.org")}),
    ("Quantity", observation(referenceRange=[{"low": with_extension("here", value=1)}])),
    ("Element", observation(referenceRange=[{"low": with_extension("here", value=1)}])),
    ("HumanName", patient(name=[with_extension("here", family="Hansen")])),
    ("Resource", patient(**with_extension("here"))),
    ("DomainResource", patient(**with_extension("here"))),
    ("CanonicalResource", {"resourceType": "ValueSet", "text": NARRATIVE,
                           "url": "http://example.org/fhir/ValueSet/synthetic",
                           "status": "draft", **with_extension("here")}),
    ("Questionnaire.item", {"resourceType": "Questionnaire", "text": NARRATIVE,
                            "status": "draft", "item": [{
                                "linkId": "1", "type": "group",
                                "item": [with_extension("here", linkId="1.1",
                                                        type="string")]}]}),
], ids=["age-is-a-quantity", "simple-quantity-is-a-quantity", "element", "datatype",
        "resource", "domain-resource", "canonical-resource", "content-reference"])
def test_extension_allowed_by_what_its_host_is(context: str, resource: dict[str, Any]) -> None:
    """An element context admits the host by its type, the types that type derives from (Age
    and SimpleQuantity are Quantities), a resource by the abstract types every resource is,
    and an item defined by contentReference by the element it names."""
    assert found(resource, extension("here", ("element", context))) == []


def test_extension_on_one_type_of_a_choice_is_not_on_another() -> None:
    """valueQuantity is a Quantity, not any other type value[x] allows: an extension for
    CodeableConcepts is not allowed on it."""
    resource = observation(valueQuantity=with_extension("here", value=1))
    assert found(resource, extension("here", ("element", "CodeableConcept"))) == [
        ("error", "structure", "Observation.value.ofType(Quantity).extension[0]",
         "extension-context")]


def test_fhirpath_context_on_a_primitive_is_accepted() -> None:
    """A primitive's extension (in its '_' companion) has no object a FHIRPath context's nodes
    could be compared with: the context is taken as met."""
    resource = patient(birthDate="1970-01-01", _birthDate=with_extension("here"))
    assert found(resource, extension("here", ("fhirpath", "Patient.birthDate"))) == []


def test_extension_context_names_the_enclosing_extension_even_unresolved() -> None:
    """A part inside an extension whose definition is not loaded (an example domain's, let
    pass unchecked) may name that extension's url as its context."""
    outer = "http://example.net/fhir/StructureDefinition/outer"
    resource = patient(extension=[{"url": outer, "extension": [
        {"url": EXAMPLE + "part", "valueString": "x"}]}])
    assert found(resource, extension("part", ("extension", outer))) == []


# -- unknown properties and their hints ----------------------------------------------------------

def unknown(resource: dict[str, Any], at: str) -> str:
    """The message of the one issue at ``at``, an unknown-element error."""
    issues = [i for i in validate(resource).issues if i.expression == at]
    assert [(i.severity, i.code, i.rule) for i in issues] == [
        ("error", "structure", "unknown-element")], issues
    return issues[0].message


@pytest.mark.parametrize(("key", "message"), [
    ("foo", "unrecognised property 'foo'"),
    ("_foo", "unrecognised property '_foo'"),
    ("_name", "unrecognised property '_name' ('name' is not a primitive, so it has no '_name' "
              "companion)"),
    ("deceased", "unrecognised property 'deceased' ('deceased' is a choice element: use one "
                 "of deceasedBoolean, deceasedDateTime)"),
    ("_deceased", "unrecognised property '_deceased' ('deceased' is a choice element: use one "
                  "of deceasedBoolean, deceasedDateTime)"),
    ("multiple", "unrecognised property 'multiple'"),
    ("__deceased", "unrecognised property '__deceased'"),
    ("deceasedString", "unrecognised property 'deceasedString' (deceased[x] allows only the "
                       "types boolean, dateTime here, by "
                       "http://hl7.org/fhir/StructureDefinition/Patient; found type string)"),
], ids=["plain", "companion-of-nothing", "companion-of-complex", "choice", "choice-companion",
        "prefix-of-a-choice", "no-element", "type-not-allowed"])
def test_unknown_property_hint(key: str, message: str) -> None:
    """The message tells what the property could have been: a companion of a complex element
    does not exist, a choice element needs its type in the name (and only the choice element
    of that very name: 'multiple' is not multipleBirth[x]), a choice type not allowed."""
    assert unknown(patient(**{key: 1}), f"Patient.{key}") == message


def test_hint_lists_six_choices_and_says_when_there_are_more() -> None:
    """answerOption.value[x] has six types: all are listed; Goal.target.detail[x] has seven:
    six are listed, then '...'."""
    item = {"linkId": "1", "type": "choice", "answerOption": [{"value": 1, "valueInteger": 1}]}
    form = {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
            "item": [item]}
    assert unknown(form, "Questionnaire.item[0].answerOption[0].value") == (
        "unrecognised property 'value' ('value' is a choice element: use one of valueCoding, "
        "valueDate, valueInteger, valueReference, valueString, valueTime)")
    goal = {"resourceType": "Goal", "text": NARRATIVE, "lifecycleStatus": "active",
            "description": {"text": "Synthetic goal"}, "subject": {"display": "Synthetic"},
            "target": [{"detail": 1}]}
    assert unknown(goal, "Goal.target[0].detail") == (
        "unrecognised property 'detail' ('detail' is a choice element: use one of "
        "detailBoolean, detailCodeableConcept, detailInteger, detailQuantity, detailRange, "
        "detailRatio, ...)")


def test_unknown_property_does_not_stop_the_object() -> None:
    """The properties after an unknown one are still checked."""
    assert found(patient(foo=1, gender=5)) == [
        ("error", "structure", "Patient.foo", "unknown-element"),
        ("error", "structure", "Patient.gender", "type-code")]


def test_resource_type_inside_a_datatype() -> None:
    """resourceType belongs to resources only; the message says so."""
    result = validate(patient(name=[{"resourceType": "HumanName", "family": "Hansen"}]))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.name[0].resourceType", "json-form",
         "resourceType is only allowed on a resource, not inside a datatype or backbone "
         "element")]


# -- element ids ---------------------------------------------------------------------------------

def test_element_id_repeated_in_a_resource() -> None:
    """Element ids are unique within a resource: the second element with an id is reported;
    the resource's own id is not an element id."""
    resource = patient(id="a", name=[{"id": "a", "family": "Hansen"}],
                       telecom=[{"id": "a", "system": "phone", "value": "1"}])
    result = validate(resource)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "business-rule", "Patient.telecom[0]", "element-id-unique")]
    assert "the element at Patient.name[0] has the same id" in result.issues[0].message


def test_element_definition_ids_repeat_between_snapshot_and_differential() -> None:
    """ElementDefinition.id is the element's path-based id, the same in the snapshot and the
    differential: not an element id that must be unique."""
    elements = [{"id": "Patient", "path": "Patient"},
                {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]
    definition = {**constraint("born", "Patient", *elements), "snapshot": {"element": elements}}
    assert [i for i in validate(definition).issues if i.rule == "element-id-unique"] == []


# -- logical models ------------------------------------------------------------------------------

def model(name: str, *elements: dict[str, Any]) -> dict[str, Any]:
    """A logical model ``EXAMPLE + name`` based on Base, with these elements (paths relative)."""
    return logical_model(EXAMPLE + name, name, *elements)


PLACE = model("Place", {"path": "name", "min": 0, "max": "1", "type": [{"code": "string"}],
                        "mustSupport": True})
VISIT = model("Visit", {"path": "when", "min": 1, "max": "1", "type": [{"code": "dateTime"}]},
              {"path": "note", "min": 0, "max": "1", "type": [{"code": "string"}]},
              {"path": "place", "min": 0, "max": "1", "type": [{"code": EXAMPLE + "Place"}]},
              {"path": "where[x]", "min": 0, "max": "1",
               "type": [{"code": "string"}, {"code": EXAMPLE + "Place"}]})


def test_logical_model_instance_is_walked_against_the_model() -> None:
    """An instance names its model's URL as resourceType; its locations start with the model's
    name; an element typed by another model may carry that model's URL as its resourceType."""
    visit = {"resourceType": EXAMPLE + "Visit", "note": 5,
             "place": {"resourceType": EXAMPLE + "Place", "name": "Ward 3"}}
    assert found(visit, PLACE, VISIT) == [
        ("error", "structure", "Visit.note", "type-string"),
        ("error", "required", "Visit.when", "cardinality-min")]


def test_logical_model_inside_a_resource() -> None:
    """An instance of a model inside a resource is located where it is."""
    resource = {"resourceType": "Parameters", "parameter": [{"name": "visit", "resource": {
        "resourceType": EXAMPLE + "Visit", "when": "2024-05-01", "note": 5}}]}
    assert found(resource, PLACE, VISIT) == [
        ("error", "structure", "Parameters.parameter[0].resource.note", "type-string")]


def test_resource_type_naming_a_model_not_loaded() -> None:
    """A URL as resourceType that no loaded definition has: the model is not loaded."""
    assert found({"resourceType": EXAMPLE + "Visit", "when": "2024-05-01"}) == [
        ("error", "not-found", EXAMPLE + "Visit", "logical-model-unknown")]


def test_profile_asked_of_a_model_instance_is_applied() -> None:
    """A profile of the model asked of an instance is applied, as to a resource; one that is
    not loaded is an error."""
    noted = {**model("VisitNoted"), "type": EXAMPLE + "Visit",
             "baseDefinition": EXAMPLE + "Visit", "derivation": "constraint",
             "differential": {"element": [element("Visit"), element("Visit.note", min=1)]}}
    visit = {"resourceType": EXAMPLE + "Visit", "when": "2024-05-01"}
    result = validate(visit, PLACE, VISIT, noted, profiles=(EXAMPLE + "VisitNoted",))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "required", "Visit.note", "cardinality-min", "Visit.note: minimum required "
         f"= 1, but only found 0 (from {EXAMPLE}VisitNoted)")]
    result = validate(visit, PLACE, VISIT, profiles=(EXAMPLE + "Unloaded",))
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "not-found", "Visit", "profile-unknown")]


def test_must_support_of_a_model_type_in_a_choice() -> None:
    """With must_support on, an element of the model a choice value has as its type (wherePlace:
    Place) that is mustSupport and absent is noted, at the value's location."""
    visit = {"resourceType": EXAMPLE + "Visit", "when": "2024-05-01",
             "wherePlace": {"id": "p1"}}
    result = validate(visit, PLACE, VISIT, must_support=True)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues
            if i.rule == "must-support"] == [
        ("information", "informational", f"Visit.where.ofType({EXAMPLE}Place).name",
         "must-support",
         f"Place.name is mustSupport in {EXAMPLE}Place but is not present")]



def test_must_support_of_an_element_a_repeated_id_hides() -> None:
    """A profile whose snapshot gives Patient.birthDate twice (the first mustSupport): the note
    for the absent element says it is mustSupport, without a definition to name."""
    registry = Registry()
    elements = copy.deepcopy(registry.structure_definition(CORE + "Patient")["snapshot"]
                             ["element"])
    at = next(n for n, e in enumerate(elements) if e["id"] == "Patient.birthDate")
    elements.insert(at, {**elements[at], "mustSupport": True})
    twice = {**constraint("twice", "Patient"), "snapshot": {"element": elements}}
    result = validate(patient(meta={"profile": [EXAMPLE + "twice"]}), twice, must_support=True)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("information", "informational", "Patient.birthDate", "must-support",
         "Patient.birthDate is mustSupport but is not present")]

# -- resources: profiles, nesting, frames --------------------------------------------------------

BORN = constraint("born", "Patient", element("Patient.birthDate", min=1))


def test_profile_of_another_type_does_not_stop_the_next_profile() -> None:
    """A resource claiming an Observation profile and then a Patient profile: the first is
    reported (profile-type), the second is still applied."""
    coded = constraint("coded", "Observation", element("Observation.category", min=1))
    resource = patient(meta={"profile": [EXAMPLE + "coded", EXAMPLE + "born"]})
    assert found(resource, BORN, coded) == [
        ("error", "structure", "Patient", "profile-type"),
        ("error", "required", "Patient.birthDate", "cardinality-min")]


def entry(number: int, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-00000000000{number}",
            "resource": resource}


def test_nesting_limit_holds_for_every_entry_alike() -> None:
    """Each entry's text is nested as deep as the first's: the level is given back after each
    resource, so the limit stops both at the same place; the message names the limit."""
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [entry(1, patient()), entry(2, patient())]}
    result = validate(bundle, max_depth=2)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("error", "structure", "Bundle.entry[0].resource.text", "json-form"),
        ("error", "structure", "Bundle.entry[1].resource.text", "json-form")]
    result = validate(bundle, max_depth=1)
    assert [(i.expression, i.message) for i in result.issues] == [
        ("Bundle.entry[0].resource", "resources are nested deeper than 1 levels"),
        ("Bundle.entry[1].resource", "resources are nested deeper than 1 levels")]


CONFORMING = constraint("conforming", "Patient", element("Patient", constraint=[{
    "key": "cfm-1", "severity": "error", "human": "Meets the born profile",
    "expression": f"conformsTo('{EXAMPLE}born')"}]))


def test_invariant_asks_conforms_to() -> None:
    """FHIRPath conformsTo() in a profile's invariant walks the resource against the other
    profile: it holds for a patient with a birth date, fails without one."""
    claims = {"meta": {"profile": [EXAMPLE + "conforming"]}}
    assert found(patient(birthDate="1970-01-01", **claims), BORN, CONFORMING) == []
    assert found(patient(**claims), BORN, CONFORMING) == [
        ("error", "invariant", "Patient", "cfm-1")]


@pytest.mark.parametrize("limit", [200, 16384])
def test_conforms_to_a_profile_being_tried_does_not_follow_the_recursion_limit(
        limit: int) -> None:
    """The patient claims the profile whose invariant asks conformsTo(born): trying it against
    born walks its claimed profile again, whose invariant asks the same question. The trial in
    progress answers it, so the verdict is the same whatever Python's recursion limit (a
    higher one used to let the trials nest to the depth limit and fail cfm-1; mypy, run in
    the same process, sets 16384)."""
    claims = {"meta": {"profile": [EXAMPLE + "conforming"]}}
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        born = found(patient(birthDate="1970-01-01", **claims), BORN, CONFORMING)
        unborn = found(patient(**claims), BORN, CONFORMING)
    finally:
        sys.setrecursionlimit(old)
    assert born == []
    assert unborn == [("error", "invariant", "Patient", "cfm-1")]


# -- resources among several types ---------------------------------------------------------------

TYPED_ENTRIES = constraint("typed-entries", "Bundle", element(
    "Bundle.entry.resource", type=[{"code": "Patient"}, {"code": "Observation"}]))


def typed_bundle(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "meta": {"profile": [EXAMPLE + "typed-entries"]}, "entry": [entry(1, resource)]}


def test_resource_of_a_type_the_element_allows_is_walked_as_that_type() -> None:
    """Bundle.entry.resource narrowed to Patient or Observation: a Patient is checked as one."""
    assert found(typed_bundle(patient(gender=5)), TYPED_ENTRIES) == [
        ("error", "structure", "Bundle.entry[0].resource.gender", "type-code")]


def test_resource_of_another_type_is_reported_with_the_allowed_types() -> None:
    """A Condition where only a Patient or an Observation may be: one error, naming them."""
    condition = {"resourceType": "Condition", "text": NARRATIVE,
                 "subject": {"display": "Synthetic patient"}}
    result = validate(typed_bundle(condition), TYPED_ENTRIES)
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Bundle.entry[0].resource", "resource-type",
         "expected one of Patient, Observation here, found Condition")]


def test_resource_type_that_is_no_string_is_described() -> None:
    """A resourceType that is a number is described as the number it is."""
    result = validate(typed_bundle({"resourceType": 5}), TYPED_ENTRIES)
    assert [(i.severity, i.code, i.message) for i in result.issues
            if i.rule == "resource-type"] == [
        ("error", "structure", "expected one of Patient, Observation here, found the number 5")]


# -- values of one element: choices, companions, counts ------------------------------------------

def test_choice_element_with_two_values() -> None:
    """value[x] given twice (valueString and valueBoolean): one error naming both."""
    result = validate(observation(valueString="a", valueBoolean=True))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Observation.value", "choice-type",
         "value[x] has several values (valueBoolean, valueString); only one is allowed")]


def test_choice_value_with_its_companion_is_located_by_its_type() -> None:
    """valueBoolean with its _valueBoolean companion: the value is at value.ofType(boolean)."""
    assert found(observation(valueBoolean="yes", _valueBoolean={"id": "b"})) == [
        ("error", "structure", "Observation.value.ofType(boolean)", "type-boolean")]


def test_companion_without_its_value_is_named() -> None:
    """Only '_given' (not an array): the message names '_given', the property to fix."""
    result = validate(patient(name=[{"_given": {"id": "a"}}]))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.name[0].given", "json-form",
         "'_given' must be an array (the element repeats), found an object"),
        ("error", "invariant", "Patient.name[0].given[0]", "ele-1",
         "constraint ele-1 failed: All FHIR elements must have a @value or children")]


def test_values_and_companions_are_counted_against_the_cardinality() -> None:
    """A profile allows one given name; two (each with its companion) are too many."""
    one_given = constraint("one-given", "Patient", element("Patient.name.given", max="1"))
    resource = patient(meta={"profile": [EXAMPLE + "one-given"]},
                       name=[{"given": ["Anna", "Maria"], "_given": [{"id": "g1"}, None]}])
    assert found(resource, one_given) == [
        ("error", "structure", "Patient.name[0].given", "cardinality-max")]


def test_required_children_of_a_choice_value_are_those_of_its_type() -> None:
    """valueSampledData without origin: SampledData.origin is required (1..1)."""
    sampled = {"period": 1, "dimensions": 1, "data": "1"}
    assert found(observation(valueSampledData=sampled)) == [
        ("error", "required", "Observation.value.ofType(SampledData).origin", "cardinality-min")]


@pytest.mark.parametrize(("value", "shown"), [
    (True, "the boolean true"),
    (5, "the number 5"),
    ("x" * 40, "the string '" + "x" * 40 + "'"),
    ("y" * 41, "the string '" + "y" * 37 + "...'"),
    (None, "null"),
], ids=["boolean", "number", "string-of-40", "string-of-41", "null"])
def test_value_found_instead_of_an_object_is_shown(value: Any, shown: str) -> None:
    """The message shows what was found, as JSON spells it; a string longer than 40
    characters is cut to 37 and '...'."""
    result = validate(patient(maritalStatus=value))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.maritalStatus", "json-form",
         f"expected an object (CodeableConcept), found {shown}")]


def test_array_found_instead_of_a_resource_is_named() -> None:
    """A contained item that is an array is no resource."""
    result = validate(patient(contained=[[1]]))
    assert [(i.severity, i.code, i.expression, i.rule, i.message) for i in result.issues] == [
        ("error", "structure", "Patient.contained[0]", "json-form",
         "expected a resource (a JSON object), found an array")]


# -- verdicts remembered from the walk -----------------------------------------------------------

LOINC = "http://loinc.org"
# A LOINC filter: LOINC is not shipped, so membership cannot be decided offline.
AGE_CODES = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/age-codes",
             "name": "AgeCodes", "status": "draft", "compose": {"include": [{
                 "system": LOINC, "filter": [{"property": "COMPONENT", "op": "=",
                                              "value": "LP00000-0"}]}]}}
AGED = constraint("aged", "Observation", element(
    "Observation.code", binding={"strength": "required", "valueSet": AGE_CODES["url"]}))
HB = constraint("hb", "Observation", element(
    "Observation.code", patternCodeableConcept={"coding": [{"system": LOINC, "code": "718-7"}]}))
SUMMARY = constraint(
    "summary", "Composition",
    element("Composition.section.entry", slicing={
        "discriminator": [{"type": "profile", "path": "resolve()"}], "rules": "open"}),
    element("Composition.section.entry:hb", sliceName="hb", min=1,
            type=[{"code": "Reference", "targetProfile": [EXAMPLE + "hb"]}]))


def measured(profile: str, code: str) -> dict[str, Any]:
    return observation(meta={"profile": [EXAMPLE + profile]},
                       code={"coding": [{"system": LOINC, "code": code}]})


def summarised(*entries: dict[str, Any], target: int) -> dict[str, Any]:
    """A collection Bundle of ``entries`` and then a Composition claiming the summary profile
    whose section references entry ``target`` (numbered from 1)."""
    composition = {
        "resourceType": "Composition", "text": NARRATIVE,
        "meta": {"profile": [EXAMPLE + "summary"]}, "status": "final",
        "type": {"text": "Synthetic summary"}, "date": "2024-03-01",
        "author": [{"display": "Synthetic author"}], "title": "Synthetic summary",
        "section": [{"title": "Findings", "text": NARRATIVE,
                     "entry": [{"reference": entry(target, {})["fullUrl"]}]}]}
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        entry(n, r) for n, r in enumerate((*entries, composition), 1)]}


def test_remembered_verdict_holds_only_its_own_resources_doubts() -> None:
    """An Hb Observation walked against the hb profile it claims is remembered as conforming,
    with nothing unchecked: what an earlier entry could not check (a code against a value set
    that cannot be evaluated offline) is no doubt about it, so the summary's hb slice, which
    references it, is filled (no slice-unchecked warning, no missing slice)."""
    bundle = summarised(measured("aged", "11884-4"), measured("hb", "718-7"), target=2)
    assert found(bundle, AGE_CODES, AGED, HB, SUMMARY) == [
        ("information", "informational", "", "tx-offline")]


def test_remembered_verdict_keeps_its_own_doubts() -> None:
    """An Observation that claims both profiles is remembered as conforming with its own doubt
    (its code could not be checked against the value set): the hb slice is not counted as
    filled, and warnings say so."""
    both = {**measured("hb", "718-7"), "meta": {"profile": [EXAMPLE + "aged", EXAMPLE + "hb"]}}
    at = "Bundle.entry[1].resource.section[0].entry"
    assert found(summarised(both, target=1), AGE_CODES, AGED, HB, SUMMARY) == [
        ("warning", "required", at, "slice-cardinality"),
        ("warning", "not-supported", f"{at}[0]", "slice-unchecked"),
        ("information", "informational", "", "tx-offline")]


LISTED = constraint("listed-patient", "Patient", element("Patient.name", min=0))
LISTING = constraint("listing", "Bundle", element("Bundle.entry.resource", type=[
    {"code": "Patient", "profile": [EXAMPLE + "listed-patient"]}, {"code": "Observation"}]))
ABOUT_LISTED = constraint("about-listed", "Observation", element(
    "Observation.subject",
    type=[{"code": "Reference", "targetProfile": [EXAMPLE + "listed-patient"]}]))


def test_entry_met_again_keeps_the_error_of_its_first_walk() -> None:
    """A Bundle profile that asks its Patient entries for another profile meets each entry a
    second time, walking it only against that profile, which it meets; the error its first walk
    found (a birth date the profile it claims requires) still keeps it from conforming to the
    profile asked, so a reference whose targetProfile that is fails."""
    about = observation(meta={"profile": [EXAMPLE + "about-listed"]},
                        subject={"reference": entry(1, {})["fullUrl"]})
    bundle = {"resourceType": "Bundle", "type": "collection",
              "meta": {"profile": [EXAMPLE + "listing"]},
              "entry": [entry(1, patient(meta={"profile": [EXAMPLE + "born"]})), entry(2, about)]}
    assert found(bundle, BORN, LISTED, LISTING, ABOUT_LISTED) == [
        ("error", "required", "Bundle.entry[0].resource.birthDate", "cardinality-min"),
        ("error", "structure", "Bundle.entry[1].resource.subject.reference",
         "reference-profile")]
