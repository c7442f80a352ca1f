"""EcanOrganization, EcanPatient, EcanPractitioner and EcanPractitionerRole (DOMAIN.md §2(a)).

The DK-core rules they copy (SOR min-digits-sor, GLN gln-length and gln-modulus-10 with both
GLN system spellings, CPR/X-eCPR/D-eCPR invariants), HL7 Europe eu-pat-1 and the warning-level
birthDate rule ecan-pat-1. All data is synthetic: invented SOR numbers, GLNs whose check digit
the tests compute, fictitious CPR numbers.
"""

from __future__ import annotations

import pytest

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_url

from . import _messaging_data as data
from ._messaging_checks import assert_issue, check

ORGANIZATION = pilot_url("StructureDefinition", "ecan-organization")
PATIENT = pilot_url("StructureDefinition", "ecan-patient")
PRACTITIONER = pilot_url("StructureDefinition", "ecan-practitioner")
PRACTITIONER_ROLE = pilot_url("StructureDefinition", "ecan-practitioner-role")


def gln_check_digit(first_twelve: str) -> str:
    """GS1 mod-10: weights 1,3,1,3... from the left over 12 digits, independent of the profile."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


# -- Organization -------------------------------------------------------------------------


@pytest.mark.parametrize("gln_system", [data.GLN_HTTPS, data.GLN_HTTP])
def test_organization_valid_with_either_gln_system(validator: Validator, gln_system: str) -> None:
    """SOR + GLN validate with both GLN system spellings (DK-core before/after 3.5.0)."""
    result = check(validator, data.organization(gln_system=gln_system), ORGANIZATION)
    assert result.errors == (), result.issues


@pytest.mark.parametrize("first_twelve", ["579000012345", "579000016708", "400638133393",
                                          "579123456789", "790000000000"])
def test_gln_with_computed_check_digit_is_valid(validator: Validator, first_twelve: str) -> None:
    """GLNs completed with an independently computed check digit pass gln-modulus-10."""
    gln = first_twelve + gln_check_digit(first_twelve)
    result = check(validator, data.organization(gln=gln), ORGANIZATION)
    assert result.errors == (), result.issues


def test_known_gs1_example_check_digit() -> None:
    """The helper agrees with GS1's published example (400638133393 → 1)."""
    assert gln_check_digit("400638133393") == "1"


@pytest.mark.parametrize("first_twelve", ["579000012345", "579000016708", "400638133393"])
def test_gln_with_wrong_check_digit(validator: Validator, first_twelve: str) -> None:
    """Every wrong check digit is an error naming gln-modulus-10 on the GLN identifier."""
    right = int(gln_check_digit(first_twelve))
    for wrong in (str((right + k) % 10) for k in (1, 5, 9)):
        result = check(validator, data.organization(gln=first_twelve + wrong), ORGANIZATION)
        assert_issue(result, "Organization.identifier[1]", "gln-modulus-10")
        assert [i.rule for i in result.errors] == ["gln-modulus-10"]


def test_gln_not_thirteen_digits(validator: Validator) -> None:
    """A 12-digit GLN breaks gln-length (the mod-10 rule only judges 13 digits)."""
    result = check(validator, data.organization(gln="579000012345"), ORGANIZATION)
    assert_issue(result, "Organization.identifier[1]", "gln-length")
    assert [i.rule for i in result.errors] == ["gln-length"]


def test_gln_with_other_system_is_not_a_gln_slice(validator: Validator) -> None:
    """Only the two GS1 spellings make the GLN slice: a third system is just another id."""
    org = data.organization()
    org["identifier"][1]["system"] = "urn:oid:1.3.88"
    result = check(validator, org, ORGANIZATION)
    assert_issue(result, "Organization", "ecan-org-2")


def test_sor_too_short(validator: Validator) -> None:
    """A SOR identifier has at least 11 digits (min-digits-sor)."""
    org = data.organization(sor="1234567890")
    assert_issue(check(validator, org, ORGANIZATION), "Organization.identifier[0]",
                 "min-digits-sor")


def test_sor_use_fixed_official(validator: Validator) -> None:
    """The SOR slice fixes use = official."""
    org = data.organization()
    org["identifier"][0]["use"] = "usual"
    assert_issue(check(validator, org, ORGANIZATION), "Organization.identifier[0].use",
                 "fixed", code="value")


def test_two_sor_identifiers(validator: Validator) -> None:
    """The SOR slice is 0..1."""
    org = data.organization()
    org["identifier"].append(dict(org["identifier"][0]))
    assert_issue(check(validator, org, ORGANIZATION), "Organization.identifier",
                 "slice-cardinality", code="structure")


def test_identifier_required(validator: Validator) -> None:
    """identifier 1..*; without identifier or name, ecan-org-1 fails too."""
    org = data.organization()
    del org["identifier"], org["name"]
    result = check(validator, org, ORGANIZATION)
    assert_issue(result, "Organization.identifier", "cardinality-min", code="required")
    assert_issue(result, "Organization", "ecan-org-1")


@pytest.mark.parametrize("keep", [0, 1])
def test_sor_and_gln_come_in_pairs(validator: Validator, keep: int) -> None:
    """ecan-org-2: SOR without GLN, or GLN without SOR, is an error."""
    org = data.organization()
    org["identifier"] = [org["identifier"][keep]]
    result = check(validator, org, ORGANIZATION)
    assert_issue(result, "Organization", "ecan-org-2")
    assert [i.rule for i in result.errors] == ["ecan-org-2"]


def test_foreign_organization_without_danish_ids(validator: Validator) -> None:
    """An organisation with neither SOR nor GLN (e.g. EU partner) is valid."""
    org = data.organization()
    org["identifier"] = [{"system": "urn:oid:2.16.528.1.1007.3.3", "value": "00000001"}]
    assert check(validator, org, ORGANIZATION).errors == ()


# -- Patient --------------------------------------------------------------------------------


@pytest.mark.parametrize("cpr", [data.FICTITIOUS_CPR, data.FICTITIOUS_CPR_2])
def test_patient_valid_with_fictitious_cpr(validator: Validator, cpr: str) -> None:
    """Fictitious CPR numbers pass `cpr`; no birthDate is needed (ecan-pat-1 derives it)."""
    patient = data.patient()
    patient["identifier"][0]["value"] = cpr
    result = check(validator, patient, PATIENT)
    assert result.issues == (), result.issues


@pytest.mark.parametrize("cpr", ["3202709995", "3002709995", "0113709995", "010170999",
                                 "01017099951", "0101A09995"])
def test_invalid_cpr(validator: Validator, cpr: str) -> None:
    """Bad day/month, wrong length or non-digits break `cpr` on the identifier."""
    patient = data.patient()
    patient["identifier"][0]["value"] = cpr
    result = check(validator, patient, PATIENT)
    assert_issue(result, "Patient.identifier[0]", "cpr")


def test_x_ecpr_and_d_ecpr_valid(validator: Validator) -> None:
    """X-eCPR (…1AB1) and D-eCPR (…0VK9, a regional OID) slices validate."""
    patient = data.patient()
    patient["identifier"] = [
        {"use": "temp", "system": data.X_ECPR, "value": "0101701AB1"},
        {"use": "temp", "system": data.D_ECPR, "value": "1206550VK9"},
    ]
    patient["birthDate"] = "1970-01-01"
    assert check(validator, patient, PATIENT).issues == ()


def test_x_ecpr_and_d_ecpr_invalid(validator: Validator) -> None:
    """The 7th character is 1/7 for X-eCPR and 0/5/6 for D-eCPR."""
    patient = data.patient()
    patient["identifier"] = [
        {"use": "temp", "system": data.X_ECPR, "value": "0101702AB1"},
        {"use": "temp", "system": data.D_ECPR, "value": "1206551VK9"},
    ]
    result = check(validator, patient, PATIENT)
    assert_issue(result, "Patient.identifier[0]", "x-ecpr")
    assert_issue(result, "Patient.identifier[1]", "d-ecpr")


def test_cpr_use_fixed_official(validator: Validator) -> None:
    """The cpr slice fixes use = official."""
    patient = data.patient()
    patient["identifier"][0]["use"] = "temp"
    assert_issue(check(validator, patient, PATIENT), "Patient.identifier[0].use", "fixed",
                 code="value")


def test_birth_date_warning_without_cpr(validator: Validator) -> None:
    """ecan-pat-1 is a warning, not an error, when birthDate is absent and there is no CPR."""
    patient = data.patient()
    patient["identifier"] = [{"use": "temp", "system": data.D_ECPR, "value": "1206550VK9"}]
    result = check(validator, patient, PATIENT)
    assert_issue(result, "Patient", "ecan-pat-1", severity="warning")
    assert result.errors == ()
    patient["birthDate"] = "1955-06-12"
    assert check(validator, patient, PATIENT).issues == ()


def test_patient_identifier_and_name_required(validator: Validator) -> None:
    """identifier 1..* and name 1..*."""
    patient = data.patient()
    del patient["identifier"], patient["name"]
    result = check(validator, patient, PATIENT)
    assert_issue(result, "Patient.identifier", "cardinality-min", code="required")
    assert_issue(result, "Patient.name", "cardinality-min", code="required")


def test_eu_pat_1(validator: Validator) -> None:
    """A name without family, given, text or data-absent-reason breaks eu-pat-1."""
    patient = data.patient()
    patient["name"] = [{"use": "nickname", "period": {"start": "2000"}}]
    assert_issue(check(validator, patient, PATIENT), "Patient.name[0]", "eu-pat-1")
    patient["name"][0]["extension"] = [{
        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
        "valueCode": "masked"}]
    assert check(validator, patient, PATIENT).errors == ()


def test_official_name_needs_family(validator: Validator) -> None:
    """name[official] has family 1..1 (DK-core)."""
    patient = data.patient()
    patient["name"] = [{"use": "official", "given": ["Synne"]}]
    assert_issue(check(validator, patient, PATIENT), "Patient.name[0].family",
                 "cardinality-min", code="required")


# -- Practitioner and PractitionerRole ---------------------------------------------------------


def test_practitioner_valid(validator: Validator) -> None:
    assert check(validator, data.practitioner(), PRACTITIONER).errors == ()


def test_practitioner_name_rules(validator: Validator) -> None:
    """name 1..*; a name with given but no family (nor text) breaks ecan-prac-1."""
    practitioner = data.practitioner()
    practitioner["name"] = [{"given": ["Anna"]}]
    assert_issue(check(validator, practitioner, PRACTITIONER), "Practitioner.name[0]",
                 "ecan-prac-1")
    del practitioner["name"]
    assert_issue(check(validator, practitioner, PRACTITIONER), "Practitioner.name",
                 "cardinality-min", code="required")


def test_authorisation_id_format(validator: Validator) -> None:
    """The Danish authorisation id is 5 consonants/digits (authorization-id-format)."""
    practitioner = data.practitioner()
    practitioner["identifier"][0]["value"] = "AE123"
    assert_issue(check(validator, practitioner, PRACTITIONER), "Practitioner.identifier[0]",
                 "authorization-id-format")


def test_practitioner_role(validator: Validator) -> None:
    """practitioner 1..1."""
    role = data.practitioner_role()
    assert check(validator, role, PRACTITIONER_ROLE).errors == ()
    del role["practitioner"]
    assert_issue(check(validator, role, PRACTITIONER_ROLE), "PractitionerRole.practitioner",
                 "cardinality-min", code="required")
