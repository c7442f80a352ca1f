"""References (R4 §2.3.0, §3.3.1.4.2): resolution inside a Bundle and to contained resources,
and the target types a Reference allows.

Each rule has a valid case and an invalid one asserting code, severity and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, ValidationOptions, Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir"
DOC_ID = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f3d3d1a-1b2c-4d5e-8f90-123456789abc"}
PATIENT = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
           "name": [{"family": "Testesen", "given": ["Synne"]}]}
MEDICATION = {"resourceType": "Medication", "id": "m1", "text": NARRATIVE,
              "code": {"text": "Synthetic tablet"}}


def uuid(n: int) -> str:
    return f"urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c{n:02d}"


def observation(subject: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
            "code": {"text": "Body weight"}, "subject": {"reference": subject}, **elements}


def composition(subject: str) -> dict[str, Any]:
    return {"resourceType": "Composition", "id": "c1", "text": NARRATIVE, "status": "final",
            "type": {"text": "Cancer referral"}, "subject": {"reference": subject},
            "date": "2024-05-01T10:00:00+02:00", "author": [{"display": "Synthetic Clinician"}],
            "title": "Cancer referral"}


def bundle(*entries: tuple[str, dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if kind == "document":
        extra = {"identifier": DOC_ID, "timestamp": "2024-05-01T10:00:00+02:00"}
    return {"resourceType": "Bundle", "type": kind, **extra,
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}






SUBJECT = "Bundle.entry[0].resource.subject.reference"


# -- inside a Bundle -------------------------------------------------------------------------

def test_urn_uuid_reference_to_an_entry_resolves() -> None:
    """urn:uuid references match an entry's fullUrl."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), PATIENT)))
    assert result.issues == ()


def test_unresolved_urn_uuid_reference_is_an_error() -> None:
    """A urn:uuid can only mean an entry of this Bundle: not found is an error."""
    result = validate(bundle((uuid(1), observation(uuid(9))), (uuid(2), PATIENT)))
    assert_issue(result, SUBJECT, severity="error", code="not-found", fragment=uuid(9))


def test_relative_reference_resolves_against_restful_full_url() -> None:
    """'Patient/p1' in an entry at {BASE}/Composition/c1 means {BASE}/Patient/p1."""
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p1")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert result.issues == ()


def test_unresolved_relative_reference_in_document_is_a_warning() -> None:
    """A document should carry what it references: 'Patient/p2' is not in it."""
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p2")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert_issue(result, SUBJECT, severity="warning", code="not-found", fragment="Patient/p2")
    assert result.ok


@pytest.mark.parametrize(("target", "mismatch"), [(MEDICATION, True), (PATIENT, False)])
def test_relative_reference_from_urn_entry_naming_another_type_of_entry(
        target: dict[str, Any], mismatch: bool) -> None:
    """From an entry with a urn:uuid fullUrl, 'Patient/<uuid>' where the Bundle's urn:uuid:<uuid>
    is a Medication: an error (the HL7 validator reads it as that entry); a Patient there is
    no such error."""
    ref = "Patient/" + uuid(2).removeprefix("urn:uuid:")
    result = validate(bundle((uuid(1), observation(ref)), (uuid(2), target)))
    found = [i for i in result.issues if i.rule == "reference-resource-type"]
    if mismatch:
        issue = assert_issue(result, SUBJECT, severity="error", code="required",
                             fragment="of type Medication, not Patient")
        assert found == [issue]
    else:
        assert found == []


def test_versioned_relative_reference_from_urn_entry_names_that_version_only() -> None:
    """'Patient/<uuid>/_history/2' where urn:uuid:<uuid> is a Medication at version 1: no
    entry is named, so no type to contradict; at version 2 it is the error above."""
    ref = "Patient/" + uuid(2).removeprefix("urn:uuid:") + "/_history/2"
    for version, errors in (("1", 0), ("2", 1)):
        medication = {**MEDICATION, "meta": {"versionId": version}}
        result = validate(bundle((uuid(1), observation(ref)), (uuid(2), medication)))
        found = [(i.severity, i.code, i.expression) for i in result.issues
                 if i.rule == "reference-resource-type"]
        assert found == [("error", "required", SUBJECT)] * errors


def test_versioned_relative_reference_resolves() -> None:
    """'Patient/p1/_history/1' resolves to the entry of Patient p1 at version 1."""
    versioned = {**PATIENT, "meta": {"versionId": "1"}}
    result = validate(bundle((f"{BASE}/Composition/c1", composition("Patient/p1/_history/1")),
                             (f"{BASE}/Patient/p1", versioned), kind="document"))
    assert result.issues == ()


def test_absolute_reference_to_an_entry_resolves() -> None:
    """An absolute URL matches an entry's fullUrl, whatever the referring entry's fullUrl."""
    result = validate(bundle((uuid(1), composition(f"{BASE}/Patient/p1")),
                             (f"{BASE}/Patient/p1", PATIENT), kind="document"))
    assert result.issues == ()


def test_reference_to_two_entries_is_ambiguous() -> None:
    """Two entries with the referenced fullUrl: the reference must identify one."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), PATIENT),
                             (uuid(2), {**PATIENT, "id": "p2"})))
    assert_issue(result, SUBJECT, severity="error", code="multiple-matches",
                 fragment="2 entries")


# -- contained -----------------------------------------------------------------------------

def test_contained_reference_resolves() -> None:
    """'#p1' points at the contained resource with id p1."""
    result = validate(observation("#p1", contained=[PATIENT]))
    assert result.issues == ()


def test_contained_reference_inside_bundle_entry_resolves() -> None:
    """'#p1' is resolved in the entry's own contained list."""
    result = validate(bundle((uuid(1), observation("#p1", contained=[PATIENT]))))
    assert result.issues == ()


def test_contained_reference_not_found_is_an_error() -> None:
    """'#p2' matches no contained resource."""
    result = validate(observation("#p2", contained=[PATIENT]))
    assert_issue(result, "Observation.subject.reference", severity="error", code="not-found",
                 fragment="'#p2'")


def test_contained_reference_without_contained_is_an_error() -> None:
    """'#p2' with no contained resources at all."""
    result = validate(observation("#p2"))
    assert_issue(result, "Observation.subject.reference", severity="error", code="not-found",
                 fragment="'#p2'")


# -- target types --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    PATIENT, {"resourceType": "Group", "id": "g1", "text": NARRATIVE, "type": "person",
              "actual": True}])
def test_reference_to_allowed_target_type_is_valid(target: dict[str, Any]) -> None:
    """Observation.subject may be a Patient or a Group."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), target)))
    assert result.issues == ()


def test_urn_reference_to_target_type_not_allowed_is_an_error() -> None:
    """Observation.subject cannot be a Medication (the type is known once resolved)."""
    result = validate(bundle((uuid(1), observation(uuid(2))), (uuid(2), MEDICATION)))
    issue = assert_issue(result, SUBJECT, severity="error", code="structure",
                         fragment="Medication")
    assert "Patient" in issue.message


TRUSTING = ValidationOptions(assume_valid_rest_references=True)


def test_relative_reference_to_target_type_not_allowed_is_an_error() -> None:
    """'Medication/m1' names a type Observation.subject does not allow: an error when the
    type a reference names is trusted (the HL7 validator's -assumeValidRestReferences)."""
    result = validate(observation("Medication/m1"), options=TRUSTING)
    assert_issue(result, "Observation.subject.reference", severity="error", code="structure",
                 fragment="Medication")


@pytest.mark.parametrize("subject", ["Medication/m1", f"{BASE}/Medication/m1"])
def test_type_named_by_an_unresolved_reference_is_not_judged_by_default(subject: str) -> None:
    """As in the HL7 validator (InstanceValidator.checkReference), a target that is not at
    hand is not judged by the type its URL names unless asked; with it, the type is checked."""
    assert validate(observation(subject)).issues == ()
    assert_issue(validate(observation(subject), options=TRUSTING),
                 "Observation.subject.reference", severity="error", code="structure",
                 fragment="Medication")


def test_contained_reference_to_target_type_not_allowed_is_an_error() -> None:
    """'#m1' resolves to a contained Medication, not allowed as subject."""
    result = validate(observation("#m1", contained=[MEDICATION]))
    assert_issue(result, "Observation.subject.reference", severity="error", code="structure",
                 fragment="Medication")


# -- target profiles (R4 §2.27 ElementDefinition.type.targetProfile) ---------------------------

CORE = "http://hl7.org/fhir/StructureDefinition/"
NAMED_PATIENT = {
    "resourceType": "StructureDefinition", "id": "named-patient",
    "url": f"{BASE}/StructureDefinition/named-patient", "name": "NamedPatient",
    "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
    "type": "Patient", "derivation": "constraint", "baseDefinition": CORE + "Patient",
    "differential": {"element": [{"id": "Patient.name", "path": "Patient.name", "min": 1}]}}


def _observation_profile(name: str, path: str, targets: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition", "id": name,
        "url": f"{BASE}/StructureDefinition/{name}", "name": name, "status": "draft",
        "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Observation",
        "derivation": "constraint", "baseDefinition": CORE + "Observation",
        "differential": {"element": [{"id": path, "path": path, "type": [
            {"code": "Reference", "targetProfile": targets}]}]}}


SUBJECTS = _observation_profile("device-or-named-patient", "Observation.subject",
                                [NAMED_PATIENT["url"], CORE + "Device"])
MEMBERS = _observation_profile("weight-members", "Observation.hasMember", [CORE + "bodyweight"])


def _registry() -> Registry:
    registry = Registry()
    for definition in (NAMED_PATIENT, SUBJECTS, MEMBERS):
        registry.add(definition)
    return registry


def _profiled(profile: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "text": NARRATIVE, "meta": {"profile": [profile["url"]]},
            "status": "final", "code": {"text": "Body weight"}, **elements}


DEVICE = {"resourceType": "Device", "id": "d1", "text": NARRATIVE,
          "deviceName": [{"name": "Synthetic scale", "type": "user-friendly-name"}]}


@pytest.mark.parametrize("target", [DEVICE, PATIENT])
def test_target_of_a_base_type_or_conforming_to_the_profile_is_valid(
        target: dict[str, Any]) -> None:
    """targetProfile [named-patient, Device]: a Device needs no profile; a named Patient fits."""
    observation_ = _profiled(SUBJECTS, subject={"reference": uuid(2)})
    result = Validator(_registry()).validate(bundle((uuid(1), observation_), (uuid(2), target)))
    assert result.errors == ()


def test_target_not_conforming_to_the_profile_of_its_type_is_an_error() -> None:
    """A Patient without a name does not conform to named-patient (the Device base is no
    excuse for a Patient)."""
    nameless = {"resourceType": "Patient", "id": "p2", "text": NARRATIVE, "active": True}
    observation_ = _profiled(SUBJECTS, subject={"reference": uuid(2)})
    result = Validator(_registry()).validate(bundle((uuid(1), observation_), (uuid(2), nameless)))
    issue = assert_issue(result, SUBJECT, severity="error", code="structure",
                         fragment="does not conform to")
    assert (issue.rule, NAMED_PATIENT["url"] in issue.message) == ("reference-profile", True)
    assert "Device" not in issue.message


def test_target_type_outside_the_profiles_types_names_the_types() -> None:
    """A Group is neither a Patient (named-patient's type) nor a Device."""
    group = {"resourceType": "Group", "id": "g1", "text": NARRATIVE, "type": "person",
             "actual": True}
    observation_ = _profiled(SUBJECTS, subject={"reference": uuid(2)})
    result = Validator(_registry()).validate(bundle((uuid(1), observation_), (uuid(2), group)))
    issue = assert_issue(result, SUBJECT, severity="error", code="structure", fragment="Group")
    assert issue.rule == "reference-type"
    assert "allowed: Patient, Device" in issue.message


def _weight(value: float, unit: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "w1", "text": NARRATIVE, "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-05-01",
            "valueQuantity": {"value": value, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def test_core_profile_as_target_is_a_profile_not_a_type() -> None:
    """``.../StructureDefinition/bodyweight`` admits an Observation that conforms to it."""
    observation_ = _profiled(MEMBERS, hasMember=[{"reference": uuid(2)}])
    result = Validator(_registry()).validate(
        bundle((uuid(1), observation_), (uuid(2), _weight(72.5, "kg"))))
    assert [i for i in result.errors if i.expression.startswith("Bundle.entry[0]")] == []
    result = Validator(_registry()).validate(
        bundle((uuid(1), observation_), (uuid(2), _weight(72.5, "cm"))))
    issue = assert_issue(result, "Bundle.entry[0].resource.hasMember[0].reference",
                         severity="error", code="structure", fragment=CORE + "bodyweight")
    assert issue.rule == "reference-profile"


def test_target_types_of_base_types_and_profiles() -> None:
    """Base type URLs are types; profiles, core or not, give their type and themselves."""
    from ecanfhir.definitions.compiled import TypeRef
    from ecanfhir.validation._context import Run
    from ecanfhir.validation.checks.reference import Target, target_types

    validator = Validator(_registry())
    run = Run(validator.schema, validator.terminology, validator.options)
    targets = target_types(run, TypeRef("Reference", target_profiles=(
        CORE + "Device", CORE + "vitalsigns", NAMED_PATIENT["url"], f"{BASE}/unknown")))
    assert targets == (Target("Device"), Target("Observation", CORE + "vitalsigns"),
                       Target("Patient", NAMED_PATIENT["url"]), Target("Resource"))
