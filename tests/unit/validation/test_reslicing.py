"""Re-slicing (R4 profiling.html §5.1.0.11): slice ``b`` of slice ``a`` is named ``a/b``; its
values are a subset of ``a``'s, chosen by ``a``'s own slicing. And an extension re-slice inside
a slice of a backbone element whose slicing discriminates by that extension's value. All data
is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue
from _profiles import CORE, EXAMPLE, constraint, element
from _profiles import validate_against as validate

from ecanfhir import ValidationResult

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
A, B = "urn:oid:1.2.208.176.1.2", "urn:oid:1.2.208.176.1.6"
KIND = EXAMPLE + "contact-kind"

RESLICED = constraint(
    "identifier-resliced", "Patient",
    element("Patient.identifier", slicing={
        "discriminator": [{"type": "value", "path": "system"}], "rules": "open"}),
    element("Patient.identifier:a", sliceName="a", min=1, slicing={
        "discriminator": [{"type": "value", "path": "use"}], "rules": "open"}),
    element("Patient.identifier:a.system", min=1, fixedUri=A),
    element("Patient.identifier:a/official", sliceName="a/official", min=1, max="1"),
    element("Patient.identifier:a/official.use", min=1, fixedCode="official"))

KIND_EXTENSION = {
    "resourceType": "StructureDefinition", "id": "contact-kind", "url": KIND,
    "name": "ContactKind", "status": "draft", "fhirVersion": "4.0.1",
    "kind": "complex-type", "abstract": False, "type": "Extension",
    "context": [{"type": "element", "expression": "Patient.contact"}],
    "baseDefinition": CORE + "Extension", "derivation": "constraint",
    "differential": {"element": [
        {"id": "Extension", "path": "Extension", "max": "1"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": KIND},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "code"}]}]}}

KIND_TYPE = [{"code": "Extension", "profile": [KIND]}]
CONTACT_BY_KIND = constraint(
    "contact-by-kind", "Patient",
    element("Patient.contact", slicing={"discriminator": [
        {"type": "value", "path": f"extension('{KIND}').value"}], "rules": "open"}),
    element("Patient.contact.extension:kind", sliceName="kind", type=KIND_TYPE),
    element("Patient.contact:home", sliceName="home", min=1),
    # Slices copy the base's children, so "kind" is not a slice here: the re-slice stands alone.
    element("Patient.contact:home.extension:kind/home", sliceName="kind/home", min=1, max="1",
            type=KIND_TYPE),
    element("Patient.contact:home.extension:kind/home.valueCode", min=1, fixedCode="home"),
    element("Patient.contact:home.name", min=1))


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def errors(result: ValidationResult) -> list[tuple[str, str, str]]:
    return [(i.code, i.expression, i.rule) for i in result.issues if i.severity == "error"]


def test_value_of_the_reslice_fills_slice_and_reslice() -> None:
    """An identifier of system A used as official is in a and in a/official: no issue."""
    result = validate(patient(identifier=[{"system": A, "use": "official", "value": "1"},
                                          {"system": B, "value": "2"}]), RESLICED)
    assert errors(result) == []


def test_missing_reslice_is_slice_cardinality() -> None:
    """A value of slice a that is not official leaves a/official (min 1) empty."""
    result = validate(patient(identifier=[{"system": A, "use": "usual", "value": "1"}]),
                      RESLICED)
    assert_issue(result, "Patient.identifier", severity="error", code="required",
                 fragment="slice 'a/official' of Patient.identifier: minimum required = 1, "
                          "but only found 0")
    assert errors(result) == [("required", "Patient.identifier", "slice-cardinality")]


def test_reslice_max_counts_only_its_values() -> None:
    """Two official values of slice a exceed a/official's max 1; a itself allows them."""
    result = validate(patient(identifier=[{"system": A, "use": "official", "value": str(n)}
                                          for n in (1, 2)]), RESLICED)
    assert_issue(result, "Patient.identifier", severity="error", code="structure",
                 fragment="slice 'a/official' of Patient.identifier: maximum allowed = 1, "
                          "but found 2")


def test_reslice_value_is_checked_by_the_reslice() -> None:
    """An official value that is not of system A is in neither slice: slice a is missing."""
    result = validate(patient(identifier=[{"system": B, "use": "official", "value": "1"}]),
                      RESLICED)
    assert errors(result) == [("required", "Patient.identifier", "slice-cardinality")] * 2


def test_closed_reslicing_takes_only_values_of_its_reslices() -> None:
    """Slice a re-sliced closed: a value of a that is in no re-slice is an error there."""
    closed = constraint("identifier-resliced-closed", "Patient", *[
        {**e, "slicing": {**e["slicing"], "rules": "closed"}}
        if e["id"] == "Patient.identifier:a" else e
        for e in RESLICED["differential"]["element"]])
    result = validate(patient(identifier=[{"system": A, "use": "official", "value": "1"},
                                          {"system": A, "use": "usual", "value": "2"},
                                          {"system": B, "value": "3"}]), closed)
    assert_issue(result, "Patient.identifier[1]", severity="error", code="structure",
                 fragment="this value of slice 'a' matches none of its re-slices, and its "
                          "slicing is closed")
    assert errors(result) == [("structure", "Patient.identifier[1]", "slice-closed")]
    assert errors(validate(patient(identifier=[{"system": A, "use": "usual", "value": "2"}]),
                           RESLICED)) == [("required", "Patient.identifier", "slice-cardinality")]


def contact(kind: str, **elements: Any) -> dict[str, Any]:
    return {"extension": [{"url": KIND, "valueCode": kind}], **elements}


def test_extension_reslice_in_a_slice_picks_the_slice() -> None:
    """The contact whose kind extension says home is the home slice (it has its name)."""
    result = validate(patient(contact=[contact("home", name={"family": "Hansen"}),
                                       contact("work", name={"family": "Berg"})]),
                      CONTACT_BY_KIND, KIND_EXTENSION)
    assert errors(result) == []


def test_extension_reslice_in_a_slice_wrong_value() -> None:
    """No contact of kind home: the home slice is missing, and nothing else is said."""
    result = validate(patient(contact=[contact("work", name={"family": "Hansen"})]),
                      CONTACT_BY_KIND, KIND_EXTENSION)
    assert_issue(result, "Patient.contact", severity="error", code="required",
                 fragment="slice 'home' of Patient.contact: minimum required = 1")
    assert errors(result) == [("required", "Patient.contact", "slice-cardinality")]


def test_extension_reslice_constraints_apply_in_the_slice() -> None:
    """The home contact without its name breaks the slice's own min 1 on name."""
    phone = {"system": "phone", "value": "1"}
    result = validate(patient(contact=[contact("home", telecom=[phone])]),
                      CONTACT_BY_KIND, KIND_EXTENSION)
    assert [e[:2] for e in errors(result)] == [("required", "Patient.contact[0].name")]
