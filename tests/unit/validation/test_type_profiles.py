"""Several profiles on one type are alternatives (R4 ElementDefinition.type.profile).

"The element SHALL conform to at least one": a value is checked against the first listed profile
it conforms to, and a listed base type's own definition (``.../StructureDefinition/Address``) is
met by every valid value of the type; only when the value meets none is it reported, against the
first. This holds for datatypes (``Patient.address``) and for resources (a Bundle entry). The
profiles and data are synthetic.
"""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue
from _profiles import profile_of as profile

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}


def country_address(name: str, country: str) -> dict[str, Any]:
    return profile(name, "Address", {"path": "Address"},
                   {"path": "Address.country", "fixedString": country}, kind="complex-type")


def patient_profile(*address_profiles: str) -> dict[str, Any]:
    return profile("lists-addresses", "Patient", {"path": "Patient"}, {
        "path": "Patient.address",
        "type": [{"code": "Address", "profile": list(address_profiles)}]})


def check(resource: dict[str, Any], *definitions: dict[str, Any]) -> ValidationResult:
    registry = Registry()
    for definition in (country_address("dk-address", "DK"),
                       country_address("se-address", "SE"), *definitions):
        registry.add(definition)
    return Validator(registry).validate(resource)


def patient(*addresses: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE,
            "meta": {"profile": [EXAMPLE + "lists-addresses"]}, "address": list(addresses)}


def test_value_meeting_the_base_type_listed_second_is_valid() -> None:
    """[dk-address, Address]: an address in Sweden is a valid Address, so no error."""
    result = check(patient({"city": "Malmö", "country": "SE"}),
                   patient_profile(EXAMPLE + "dk-address", CORE + "Address"))
    assert result.issues == ()


def test_value_meeting_the_second_profile_is_valid() -> None:
    """[dk-address, se-address]: a Swedish address meets the second."""
    result = check(patient({"city": "Aarhus", "country": "DK"}, {"city": "Malmö", "country": "SE"}),
                   patient_profile(EXAMPLE + "dk-address", EXAMPLE + "se-address"))
    assert result.issues == ()


def test_value_meeting_no_profile_is_reported_against_the_first() -> None:
    """[dk-address, se-address]: a Norwegian address meets neither; dk-address reports it."""
    result = check(patient({"city": "Aarhus", "country": "DK"}, {"city": "Oslo", "country": "NO"}),
                   patient_profile(EXAMPLE + "dk-address", EXAMPLE + "se-address"))
    issue = assert_issue(result, "Patient.address[1].country", severity="error", code="value",
                         fragment='"DK"')
    assert "dk-address" in issue.message
    assert [i.expression for i in result.errors] == ["Patient.address[1].country"]


def test_one_listed_profile_is_still_required() -> None:
    """[dk-address] alone: a Swedish address is an error."""
    result = check(patient({"city": "Malmö", "country": "SE"}),
                   patient_profile(EXAMPLE + "dk-address"))
    assert_issue(result, "Patient.address[0].country", severity="error", code="value",
                 fragment='"DK"')


def test_base_type_listed_does_not_excuse_an_invalid_value() -> None:
    """[dk-address, Address]: an unknown property is wrong for every alternative."""
    result = check(patient({"city": "Malmö", "county": "Skåne"}),
                   patient_profile(EXAMPLE + "dk-address", CORE + "Address"))
    assert_issue(result, "Patient.address[0].county", severity="error", code="structure",
                 fragment="unrecognised property 'county'")


def bundle_of(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "meta": {"profile": [EXAMPLE + "patient-bundle"]},
            "entry": [{"fullUrl": "urn:uuid:0d7d2f1c-8a35-4f0b-9a49-2e7c5b1f6a01",
                       "resource": resource}]}


RESOURCE_PROFILES = (
    profile("active-patient", "Patient", {"path": "Patient"},
            {"path": "Patient.active", "min": 1, "fixedBoolean": True}),
    profile("female-patient", "Patient", {"path": "Patient"},
            {"path": "Patient.gender", "min": 1, "fixedCode": "female"}),
    profile("patient-bundle", "Bundle", {"path": "Bundle"}, {
        "path": "Bundle.entry.resource", "type": [{"code": "Patient", "profile": [
            EXAMPLE + "active-patient", EXAMPLE + "female-patient"]}]}),
)


def test_entry_meeting_the_second_resource_profile_is_valid() -> None:
    """An inactive female patient meets female-patient, the second alternative."""
    entry = {"resourceType": "Patient", "text": NARRATIVE, "active": False, "gender": "female"}
    assert check(bundle_of(entry), *RESOURCE_PROFILES).issues == ()


def test_entry_meeting_no_resource_profile_is_reported_against_the_first() -> None:
    """An inactive male patient meets neither: active-patient reports it."""
    entry = {"resourceType": "Patient", "text": NARRATIVE, "active": False, "gender": "male"}
    result = check(bundle_of(entry), *RESOURCE_PROFILES)
    assert_issue(result, "Bundle.entry[0].resource.active", severity="error", code="value",
                 fragment="true")
    assert [i.expression for i in result.errors] == ["Bundle.entry[0].resource.active"]


def sliced_by_type_profile() -> dict[str, Any]:
    """Patient.address sliced by country, the slice constraining its values by a type profile
    only (as DK-core's ``identifier:cpr`` is constrained by dk-core-cpr-identifier)."""
    return {**profile("slices-addresses", "Patient", {"path": "Patient"}),
            "differential": {"element": [
                {"id": "Patient", "path": "Patient"},
                {"id": "Patient.address", "path": "Patient.address", "slicing": {
                    "discriminator": [{"type": "value", "path": "country"}], "rules": "open"}},
                {"id": "Patient.address:dk", "path": "Patient.address", "sliceName": "dk",
                 "max": "1", "type": [{"code": "Address", "profile": [EXAMPLE + "dk-lines"]}]},
            ]}}


def dk_lines() -> dict[str, Any]:
    """A Danish address: country DK, and at least one line."""
    return profile("dk-lines", "Address", {"path": "Address"},
                   {"path": "Address.country", "fixedString": "DK"},
                   {"path": "Address.line", "min": 1}, kind="complex-type")


def test_value_in_slice_is_checked_against_the_slice_type_profile() -> None:
    """A value the discriminator (taken from the type profile) puts in the slice must meet that
    profile: a Danish address without a line breaks dk-lines' Address.line 1..1."""
    resource = {**patient({"country": "DK", "city": "Aarhus"}, {"country": "SE"}),
                "meta": {"profile": [EXAMPLE + "slices-addresses"]}}
    result = check(resource, sliced_by_type_profile(), dk_lines())
    issue = assert_issue(result, "Patient.address[0].line", severity="error", code="required",
                         fragment="minimum required = 1")
    assert issue.rule == "cardinality-min"
    assert not [i for i in result.errors if i.expression.startswith("Patient.address[1]")]
