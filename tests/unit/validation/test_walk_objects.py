"""The walker's rules on objects and resources (ecanfhir.validation._walk): trial walks of a
value against a profile (slices, reference targets, contained resources), logical-model
instances, frames of contained resources, element ids, unknown properties and their hints,
extension contexts, mustSupport, resources among several types. Each issue is asserted with its
code, location and rule. The profiles and data are hand-written and synthetic.
"""

from __future__ import annotations

from typing import Any

from _profiles import CORE, EXAMPLE, constraint, element

from ecanfhir import Registry, ValidationOptions, ValidationResult, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SYSTEM = "urn:oid:1.2.208.176.1.2"


def validate(resource: dict[str, Any], *definitions: dict[str, Any],
             **options: Any) -> ValidationResult:
    registry = Registry()
    for definition in definitions:
        registry.add(definition)
    return Validator(registry, options=ValidationOptions(**options)).validate(resource)


def found(resource: dict[str, Any], *definitions: dict[str, Any],
          **options: Any) -> list[tuple[str, str, str, str]]:
    """(severity, code, location, rule) of each issue (dom-6, a best practice, left out)."""
    result = validate(resource, *definitions, **options)
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule != "dom-6"]


def datatype_profile(name: str, of: str, *elements: dict[str, Any]) -> dict[str, Any]:
    """A profile ``EXAMPLE + name`` of the datatype ``of``."""
    return {**constraint(name, of, element(of), *elements), "kind": "complex-type"}


def extension(name: str, *contexts: tuple[str, str], value: str = "string",
              **more: Any) -> dict[str, Any]:
    """A simple extension ``EXAMPLE + name`` with a ``value`` of one type, used in ``contexts``
    ((type, expression) pairs)."""
    return {**datatype_profile(name, "Extension",
                               element("Extension.url", fixedUri=EXAMPLE + name),
                               element("Extension.value[x]", type=[{"code": value}])),
            "context": [{"type": kind, "expression": where} for kind, where in contexts],
            **more}


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
