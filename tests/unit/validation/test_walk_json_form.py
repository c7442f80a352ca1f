"""The walker's own JSON-form rules (ecanfhir.validation._walk, R4 JSON §2.6.2): a resource that
is not an object or has no resourceType, primitive arrays and their ``_`` companions, and the
nesting limit. Each issue is asserted with its code, location and rule. All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import ValidationOptions, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def found(resource: dict[str, Any], *, max_depth: int | None = None
          ) -> list[tuple[str, str, str, str]]:
    options = ValidationOptions() if max_depth is None else ValidationOptions(max_depth=max_depth)
    result = Validator(options=options).validate(resource)
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues
            if i.rule not in ("dom-3", "dom-6")]


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


@pytest.mark.parametrize(("contained", "code", "message"), [
    (5, "structure", "expected a resource (a JSON object), found the number 5"),
    ({"id": "x"}, "required", "the resource has no resourceType property"),
    ({"resourceType": 5}, "required", "the resource has resourceType the number 5, which is no "
                                      "type name, so its type is unknown"),
    ({"resourceType": ""}, "required", "the resource has resourceType the string '', which is "
                                       "no type name"),
], ids=["not-an-object", "no-resource-type", "numeric-resource-type", "empty-resource-type"])
def test_contained_resource_must_be_a_typed_object(contained: Any, code: str,
                                                   message: str) -> None:
    """A contained item that is no object, or has no resourceType, cannot be walked."""
    result = Validator().validate(patient(contained=[contained]))
    issues = [i for i in result.issues if i.expression == "Patient.contained[0]"]
    assert [(i.severity, i.code, i.rule) for i in issues] == [("error", code, "json-form")]
    assert message in issues[0].message


def test_single_value_of_a_repeating_primitive_is_still_checked() -> None:
    """given: 5 is not an array (an error), and is checked as the first item (not a string)."""
    assert found(patient(name=[{"given": 5}])) == [
        ("error", "structure", "Patient.name[0].given", "json-form"),
        ("error", "structure", "Patient.name[0].given[0]", "type-string")]


def test_companion_array_longer_than_the_values() -> None:
    """One given, two _given items: the arrays do not align; the second item has no value."""
    issues = found(patient(name=[{"given": ["Anna"], "_given": [{"id": "a"}, {"id": "b"}]}]))
    assert sorted(issues) == [("error", "invariant", "Patient.name[0].given[1]", "ele-1"),
                              ("error", "structure", "Patient.name[0].given", "json-form")]


def test_companion_that_is_no_array_is_named() -> None:
    """A repeating primitive's _given must be an array too; the message names '_given'."""
    result = Validator().validate(patient(name=[{"given": ["Anna"], "_given": {"id": "a"}}]))
    issues = [i for i in result.issues if i.expression == "Patient.name[0].given"]
    assert [(i.code, i.rule) for i in issues] == [("structure", "json-form")]
    assert "'_given' must be an array" in issues[0].message



def test_primitive_array_items_checked_at_their_index() -> None:
    """An array of primitives without a companion: each value is checked where it is, a plain
    one as well as one that is not (a number among strings, spaces around a name, a control
    character in an address line), and the others pass."""
    issues = found(patient(name=[{"given": ["Anna", 5, " Bo", "Ea"]}],
                           address=[{"line": ["Vej 1", "Vej\u00012"]}]))
    assert sorted(issues) == [
        ("error", "invalid", "Patient.address[0].line[1]", "type-string"),
        ("error", "structure", "Patient.name[0].given[1]", "type-string"),
        ("warning", "invalid", "Patient.name[0].given[2]", "string-whitespace")]

def test_null_without_companion_does_not_stop_the_array() -> None:
    """A null with nothing at its position is an error; the items after it are still checked."""
    assert found(patient(name=[{"given": ["Anna", None, 5]}])) == [
        ("error", "structure", "Patient.name[0].given[1]", "json-form"),
        ("error", "structure", "Patient.name[0].given[2]", "type-string")]


@pytest.mark.parametrize(("max_depth", "expected"), [
    (1, ("error", "structure", "Bundle.entry[0].resource", "json-form")),
    (2, ("error", "structure", "Bundle.entry[0].resource.text", "json-form")),
])
def test_nesting_limit_counts_resources_and_elements(max_depth: int,
                                                     expected: tuple[str, ...]) -> None:
    """An entry's resource is two levels down, its text three: each limit stops at its level."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:6f1c2d3e-4b5a-4c6d-8e7f-000000000001", "resource": patient()}]}
    assert found(bundle, max_depth=max_depth) == [expected]


def test_companion_alone_needs_no_values_to_align() -> None:
    """_given without given: no alignment error; each item lacks a value (ele-1)."""
    issues = found(patient(name=[{"_given": [{"id": "a"}, {"id": "b"}]}]))
    assert sorted(issues) == [("error", "invariant", "Patient.name[0].given[0]", "ele-1"),
                              ("error", "invariant", "Patient.name[0].given[1]", "ele-1")]


def test_companion_array_of_a_single_primitive_is_named() -> None:
    """birthDate is 0..1: an array as its _birthDate is an error naming '_birthDate'."""
    result = Validator().validate(patient(birthDate="1970-01-01", _birthDate=[{"id": "b"}]))
    issues = [i for i in result.issues if i.expression == "Patient.birthDate"]
    assert [(i.code, i.rule) for i in issues] == [("structure", "json-form")]
    assert "'_birthDate' must be a single value" in issues[0].message
