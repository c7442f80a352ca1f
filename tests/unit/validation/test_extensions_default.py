"""Extensions and terminology HL7 knows without any package loaded, cross-version extensions,
and the options that accept unknown extensions (--allow-any-extensions, --allow-extension-domain).

All resources and profiles are synthetic and hand-written.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationOptions, ValidationResult, validate

EXT = "http://hl7.org/fhir/StructureDefinition/"
BRAND = EXT + "organization-brand"
TEXT_LINK = EXT + "textLink"
ABATEMENT = EXT + "allergyintolerance-abatement"
R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-"
DO_NOT_PERFORM = R5 + "DeviceRequest.doNotPerform"
DIAGNOSIS = R5 + "Account.diagnosis"
UNKNOWN = "https://fhir.ecan-plus.eu/StructureDefinition/referral-priority"
NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
LOGO = {"url": "brandLogo", "valueUrl": "https://ecan.example.dk/logo.png"}


def resource(resource_type: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": resource_type, "text": NARRATIVE, **elements}


def organization(**elements: Any) -> dict[str, Any]:
    return resource("Organization", name="Synthetic Oncology Department", **elements)


def device_request(**elements: Any) -> dict[str, Any]:
    return resource("DeviceRequest", status="completed", intent="original-order",
                    codeCodeableConcept={"text": "Compression pump"},
                    subject={"reference": "Patient/p1"}, **elements)


def allergy(**elements: Any) -> dict[str, Any]:
    return resource("AllergyIntolerance", patient={"reference": "Patient/p1"},
                    code={"text": "Synthetic allergen"}, clinicalStatus={"coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-"
                                   "clinical", "code": "resolved"}]}, **elements)


# -- the extensions pack -------------------------------------------------------------------

def test_extension_from_the_extensions_pack_is_valid_without_any_package() -> None:
    """organization-brand (Extensions Pack) on an Organization, with its brandLogo part."""
    result = validate(organization(extension=[{"url": BRAND, "extension": [LOGO]}]))
    assert result.issues == ()


def test_extension_from_the_extensions_pack_is_checked_for_its_context() -> None:
    """organization-brand's context is Organization: on a Patient it is an error, located."""
    result = validate(resource("Patient", extension=[{"url": BRAND, "extension": [LOGO]}]))
    issue = assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                         fragment="not allowed here")
    assert issue.rule == "extension-context" and "Organization" in issue.message


def test_extensions_pack_definition_checks_the_parts() -> None:
    """brandLogo is a url: a string value is reported at the part."""
    result = validate(organization(extension=[{"url": BRAND, "extension": [
        {"url": "brandLogo", "valueString": "logo"}]}]))
    assert_issue(result, "Organization.extension[0].extension[0].valueString", severity="error",
                 code="structure", fragment="valueString")


def test_text_link_goes_on_the_narrative_only() -> None:
    """textLink's context is Narrative: valid in Patient.text, an error on the Patient."""
    link = {"url": TEXT_LINK, "extension": [{"url": "htmlid", "valueString": "n1"},
                                            {"url": "data", "valueUri": "#Patient.name"}]}
    assert validate(resource("Patient", text={**NARRATIVE, "extension": [link]})).issues == ()
    result = validate(resource("Patient", extension=[link]))
    assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                 fragment="not allowed here")


@pytest.mark.parametrize("value", [{"valueString": "childhood"},
                                   {"valueDateTime": "2019-06-01"}])
def test_allergy_abatement_with_its_value_types(value: dict[str, Any]) -> None:
    """allergyintolerance-abatement: a string or dateTime on an AllergyIntolerance."""
    assert validate(allergy(extension=[{"url": ABATEMENT, **value}])).issues == ()


def test_allergy_abatement_with_another_value_type_is_an_error() -> None:
    """A boolean is not one of abatement's value types."""
    result = validate(allergy(extension=[{"url": ABATEMENT, "valueBoolean": True}]))
    assert_issue(result, "AllergyIntolerance.extension[0].valueBoolean", severity="error",
                 code="structure", fragment="valueBoolean")


# -- HL7 terminology -------------------------------------------------------------------------

def religion_profile(value_set: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/religion-obs",
        "name": "ReligionObservation", "status": "draft", "fhirVersion": "4.0.1",
        "kind": "resource", "abstract": False, "type": "Observation",
        "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "differential": {"element": [{
            "id": "Observation.value[x]", "path": "Observation.value[x]",
            "type": [{"code": "CodeableConcept"}],
            "binding": {"strength": "required", "valueSet": value_set}}]},
    }


def observe(value_set: str, system: str, code: str) -> ValidationResult:
    registry = Registry()
    registry.add(religion_profile(value_set))
    obs = resource("Observation", status="final", code={"text": "Religious affiliation"},
                   valueCodeableConcept={"coding": [{"system": system, "code": code}]})
    return validate(obs, registry=registry, profiles=["http://example.org/fhir/religion-obs"])


@pytest.mark.parametrize(("code", "valid"), [("LUT", True), ("NOPE", False)])
def test_v2_code_against_a_terminology_value_set(code: str, valid: bool) -> None:
    """v2 table 0006 (religion) and its value set exist only in HL7 Terminology."""
    result = observe("http://terminology.hl7.org/ValueSet/v2-0006",
                     "http://terminology.hl7.org/CodeSystem/v2-0006", code)
    assert result.ok is valid, result.issues
    if not valid:
        assert any(i.is_error and i.code == "code-invalid"
                   and i.expression.startswith("Observation.value") for i in result.issues)


@pytest.mark.parametrize(("code", "valid"), [("CASH", True), ("AMB", False)])
def test_v3_code_against_a_terminology_value_set_with_a_filter(code: str, valid: bool) -> None:
    """v3-ActAccountCode (THO) selects ActCode's _ActAccountCode descendants: AMB is not one."""
    result = observe("http://terminology.hl7.org/ValueSet/v3-ActAccountCode",
                     "http://terminology.hl7.org/CodeSystem/v3-ActCode", code)
    assert result.ok is valid, result.issues


# -- cross-version extensions ----------------------------------------------------------------

def test_cross_version_modifier_extension_is_valid() -> None:
    """R5's DeviceRequest.doNotPerform, a modifier, carried as a modifierExtension."""
    result = validate(device_request(modifierExtension=[{"url": DO_NOT_PERFORM,
                                                         "valueBoolean": True}]))
    assert result.issues == ()


def test_cross_version_modifier_as_a_regular_extension_is_an_error() -> None:
    """The element is a modifier in R5, so its extension must be a modifierExtension."""
    result = validate(device_request(extension=[{"url": DO_NOT_PERFORM, "valueBoolean": True}]))
    issue = assert_issue(result, "DeviceRequest.extension[0]", severity="error",
                         code="structure", fragment="modifierExtension")
    assert issue.rule == "extension-modifier"


def test_cross_version_extension_of_the_wrong_type_is_an_error() -> None:
    """doNotPerform is a boolean in R5: a string is not allowed."""
    result = validate(device_request(modifierExtension=[{"url": DO_NOT_PERFORM,
                                                         "valueString": "yes"}]))
    assert_issue(result, "DeviceRequest.modifierExtension[0].valueString", severity="error",
                 code="structure", fragment="valueString")


def test_complex_cross_version_extension_checks_its_parts() -> None:
    """Account.diagnosis (R5): sequence is a positiveInt; an undeclared part is an error."""
    ok = [{"url": "sequence", "valuePositiveInt": 1},
          {"url": "dateOfDiagnosis", "valueDateTime": "2024-01-01"}]
    assert validate(resource("Account", status="active", extension=[
        {"url": DIAGNOSIS, "extension": ok}])).issues == ()
    result = validate(resource("Account", status="active", extension=[
        {"url": DIAGNOSIS, "extension": [{"url": "stage", "valueString": "II"}]}]))
    assert_issue(result, "Account.extension[0].extension[0]", severity="error", code="invalid",
                 fragment="'stage'")


def test_cross_version_extension_of_an_unknown_path_is_an_error() -> None:
    """Patient.shoeSize is no R5 element: the url is invalid, said so, at the extension."""
    result = validate(resource("Patient", extension=[{"url": R5 + "Patient.shoeSize",
                                                      "valueInteger": 42}]))
    issue = assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                         fragment="is not a valid cross-version extension path")
    assert issue.rule == "extension-xver-path"


def test_cross_version_extension_of_an_unchanged_element_is_an_error() -> None:
    """R3's Account.description is the same in R4: use the element, not an extension."""
    result = validate(resource("Account", status="active", extension=[
        {"url": "http://hl7.org/fhir/3.0/StructureDefinition/extension-Account.description",
         "valueString": "x"}]))
    issue = assert_issue(result, "Account.extension[0]", severity="error", code="structure",
                         fragment="same in R4")
    assert issue.rule == "extension-xver-unchanged"


def test_cross_version_extension_outside_its_context_is_an_error() -> None:
    """doNotPerform extends DeviceRequest, not Patient."""
    result = validate(resource("Patient", modifierExtension=[{"url": DO_NOT_PERFORM,
                                                              "valueBoolean": True}]))
    assert_issue(result, "Patient.modifierExtension[0]", severity="error", code="structure",
                 fragment="not allowed here")


# -- unknown extensions, and the options that accept them ------------------------------------

def test_unknown_extension_is_an_error_that_says_how_to_load_it() -> None:
    """Without the options an unknown extension cannot be checked: an error naming --ig and
    load_ig."""
    result = validate(resource("Patient", extension=[{"url": UNKNOWN, "valueString": "x"}]))
    issue = assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                         fragment="--ig")
    assert "load_ig" in issue.message and issue.rule == "extension-unknown"


def test_allow_any_extensions_reports_unknown_ones_as_information() -> None:
    """allow_any_extensions: the unknown extension is accepted, said as information."""
    options = ValidationOptions(allow_any_extensions=True)
    result = validate(resource("Patient", extension=[{"url": UNKNOWN, "valueString": "x"}]),
                      options=options)
    assert result.ok
    issue = assert_issue(result, "Patient.extension[0]", severity="information",
                         code="informational", fragment=UNKNOWN)
    assert issue.rule == "extension-unknown-allowed"


def test_allowed_extension_domain_accepts_only_its_urls() -> None:
    """A domain accepts the extensions under it; others stay errors."""
    options = ValidationOptions(allow_extension_domains=("https://fhir.ecan-plus.eu/",))
    other = "https://fhir.otherregion.dk/StructureDefinition/x"
    result = validate(resource("Patient", extension=[{"url": UNKNOWN, "valueString": "x"},
                                                     {"url": other, "valueString": "y"}]),
                      options=options)
    assert_issue(result, "Patient.extension[0]", severity="information", code="informational",
                 fragment=UNKNOWN)
    assert_issue(result, "Patient.extension[1]", severity="error", code="structure",
                 fragment=other)


def test_allow_any_extensions_still_checks_known_extensions() -> None:
    """Known extensions are checked as usual under allow_any_extensions."""
    options = ValidationOptions(allow_any_extensions=True)
    result = validate(resource("Patient", extension=[{"url": BRAND, "extension": [LOGO]}]),
                      options=options)
    assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                 fragment="not allowed here")


def test_allow_any_extensions_does_not_excuse_an_invalid_cross_version_url() -> None:
    """As in the HL7 validator, a wrong cross-version path stays an error."""
    options = ValidationOptions(allow_any_extensions=True)
    result = validate(resource("Patient", extension=[{"url": R5 + "Patient.shoeSize",
                                                      "valueInteger": 42}]), options=options)
    assert not result.ok
    assert any(i.rule == "extension-xver-path" for i in result.errors)


def test_cross_version_extension_of_a_release_without_tables_is_a_warning() -> None:
    """FHIR 4.3 has no element table offline: not checked, said as a warning, not an error."""
    url = "http://hl7.org/fhir/4.3/StructureDefinition/extension-Patient.name"
    result = validate(resource("Patient", extension=[{"url": url, "valueString": "x"}]))
    assert result.ok
    issue = assert_issue(result, "Patient.extension[0]", severity="warning",
                         code="not-supported", fragment=url)
    assert issue.rule == "extension-xver-unchecked"


def test_cross_version_extension_of_no_fhir_release_is_an_error() -> None:
    """2.7 is not a FHIR release: the url is invalid."""
    url = "http://hl7.org/fhir/2.7/StructureDefinition/extension-Patient.name"
    result = validate(resource("Patient", extension=[{"url": url, "valueString": "x"}]))
    issue = assert_issue(result, "Patient.extension[0]", severity="error", code="structure",
                         fragment="not a FHIR release")
    assert issue.rule == "extension-xver-version"


def test_cross_version_extension_without_the_defaults_is_unknown() -> None:
    """Registry(defaults=False) knows no cross-version extension: an unknown-extension error."""
    result = validate(device_request(modifierExtension=[{"url": DO_NOT_PERFORM,
                                                         "valueBoolean": True}]),
                      registry=Registry(defaults=False))
    issue = assert_issue(result, "DeviceRequest.modifierExtension[0]", severity="error",
                         code="structure", fragment=DO_NOT_PERFORM)
    assert issue.rule == "extension-unknown"
