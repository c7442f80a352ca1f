"""Limits set by ElementDefinition extensions (minLength, maxDecimalPlaces, maxSize),
Attachment content and base64 whitespace (ecanfhir.validation.checks.element_limits), each
asserting severity, code, rule and FHIRPath location. Profiles and data are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.net/fhir/StructureDefinition/"
CORE = "http://hl7.org/fhir/StructureDefinition/"


def _profile(name: str, rtype: str, element: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": BASE + name, "name": name,
            "status": "draft", "kind": "resource", "abstract": False, "type": rtype,
            "baseDefinition": CORE + rtype, "derivation": "constraint",
            "differential": {"element": [{"id": rtype, "path": rtype}, element]}}


def _limit(url: str, **value: Any) -> dict[str, Any]:
    return {"extension": [{"url": CORE + url, **value}]}


PROFILES = [
    _profile("few-places", "Location", {"id": "Location.position.latitude",
                                        "path": "Location.position.latitude",
                                        **_limit("maxDecimalPlaces", valueInteger=4)}),
    _profile("small-binary", "Binary", {"id": "Binary.data", "path": "Binary.data",
                                        **_limit("maxSize", valueDecimal=4)}),
    _profile("small-photo", "Patient", {"id": "Patient.photo", "path": "Patient.photo",
                                        **_limit("maxSize", valueDecimal=4)}),
    _profile("long-names", "Patient", {"id": "Patient.name.family", "path": "Patient.name.family",
                                       **_limit("minLength", valueInteger=3)}),
]


@pytest.fixture(scope="module")
def validator() -> Validator:
    registry = Registry()
    for profile in PROFILES:
        registry.add(profile)
    return Validator(registry)


def _found(validator: Validator, resource: dict[str, Any], rule: str) -> list[tuple[str, ...]]:
    result = validator.validate(resource)
    return [(i.severity, i.code, i.expression) for i in result.issues if i.rule == rule]


def _location(latitude: Any) -> dict[str, Any]:
    return {"resourceType": "Location", "text": NARRATIVE,
            "meta": {"profile": [BASE + "few-places"]},
            "position": {"latitude": latitude, "longitude": 12.5}}


def test_decimal_with_more_places_than_allowed_is_an_error(validator: Validator) -> None:
    """maxDecimalPlaces 4: 55.123456 has six places, 55.6761 has four."""
    assert _found(validator, _location(55.123456), "max-decimal-places") == [
        ("error", "value", "Location.position.latitude")]
    assert _found(validator, _location(55.6761), "max-decimal-places") == []


def _binary(data: str) -> dict[str, Any]:
    return {"resourceType": "Binary", "meta": {"profile": [BASE + "small-binary"]},
            "contentType": "application/octet-stream", "data": data}


def test_base64_larger_than_max_size_is_an_error(validator: Validator) -> None:
    """maxSize 4 bytes: AAAAAAAA decodes to 6 bytes, AAAA to 3."""
    assert _found(validator, _binary("AAAAAAAA"), "max-size") == [
        ("error", "value", "Binary.data")]
    assert _found(validator, _binary("AAAA"), "max-size") == []


def _patient(photo: dict[str, Any], profiled: bool = True) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "text": NARRATIVE, "photo": [photo]}
    if profiled:
        resource["meta"] = {"profile": [BASE + "small-photo"]}
    return resource


def test_attachment_data_larger_than_max_size_is_an_error(validator: Validator) -> None:
    """maxSize 4 on Patient.photo: the inline data's decoded bytes count, at .data."""
    big = {"contentType": "image/png", "data": "AAAAAAAA"}
    assert _found(validator, _patient(big), "max-size") == [
        ("error", "value", "Patient.photo[0].data")]
    assert _found(validator, _patient({"contentType": "image/png", "data": "AAAA"}),
                  "max-size") == []


@pytest.mark.parametrize(("photo", "warned"), [
    ({"title": "Portrait"}, True),
    ({"title": "Portrait", "contentType": "image/png"}, False),
    ({"language": "da"}, False),
    ({"url": "http://example.net/photo.png"}, False),
])
def test_attachment_saying_nothing_of_its_content_is_a_warning(
        validator: Validator, photo: dict[str, Any], warned: bool) -> None:
    """Neither data nor url, and no contentType or language: a warning on the Attachment."""
    result = validator.validate(_patient(photo, profiled=False))
    found = [(i.severity, i.code, i.expression) for i in result.issues
             if i.rule == "attachment-content"]
    assert found == ([("warning", "business-rule", "Patient.photo[0]")] if warned else [])
    assert result.ok


def test_base64_with_whitespace_is_a_warning(validator: Validator) -> None:
    """R4's base64Binary form allows whitespace; RFC 4648 does not: a warning, valid."""
    resource = {"resourceType": "Binary", "contentType": "text/plain", "data": "AAAA\nAAAA"}
    result = validator.validate(resource)
    assert [(i.severity, i.code, i.expression, i.rule) for i in result.issues] == [
        ("warning", "value", "Binary.data", "base64-whitespace")]
    assert result.ok


@pytest.mark.parametrize(("family", "found"), [
    ("Li", [("error", "value", "Patient.name[0].family")]),
    ("Lin", []),
])
def test_min_length(validator: Validator, family: str, found: list[tuple[str, ...]]) -> None:
    """minLength (R4 extension): a string-typed value shorter than the limit is an error."""
    patient = {"resourceType": "Patient", "text": NARRATIVE,
               "meta": {"profile": [BASE + "long-names"]}, "name": [{"family": family}]}
    assert _found(validator, patient, "min-length") == found
