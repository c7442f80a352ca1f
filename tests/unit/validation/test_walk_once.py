"""A resource is walked once per structure of its own (ecanfhir.validation._walk.walk_resource),
and a profile of its type is walked in place of its core definition.

A profile's snapshot holds all of its type's core definition, tightened, so a resource asked
to conform to one is walked against the profile alone (bindings and Reference targets the
profile replaced are also checked against the core elements: test_profile_in_place_of_core.py).
A container walked against several structures meets each entry once per walk; the entry is
walked against its own structures the first time and, later, only against what the container's
profile asks of it beyond them. Work is counted, not timed. All data is synthetic.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Registry, Validator
from ecanfhir.validation import _walk

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
SD = "http://example.org/fhir/StructureDefinition/"
CORE = "http://hl7.org/fhir/StructureDefinition/"


def profile(name: str, base: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": name, "url": SD + name, "name": name,
            "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
            "type": base, "derivation": "constraint", "baseDefinition": CORE + base,
            "differential": {"element": elements}}


# A Patient profile that needs a birth date, and a Bundle profile whose entries must be such
# Patients (the entry element's type profile).
DATED = profile("dated-patient", "Patient", [
    {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}])
ROSTER = profile("roster", "Bundle", [
    {"id": "Bundle.entry.resource", "path": "Bundle.entry.resource",
     "type": [{"code": "Patient", "profile": [DATED["url"]]}]}])


def roster(*patients: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:0f2d7a36-3d0e-4a4c-9f7b-1d1b7b4a8c{n:02d}", "resource": p}
        for n, p in enumerate(patients)]}


@pytest.fixture
def validator() -> Validator:
    registry = Registry()
    registry.add_all([DATED, ROSTER])
    return Validator(registry)


def walks(validator: Validator, monkeypatch: pytest.MonkeyPatch, bundle: dict[str, Any],
          profiles: list[str]) -> Counter[tuple[int, str]]:
    """How often each resource of ``bundle`` was walked against each structure root."""
    counted: Counter[tuple[int, str]] = Counter()
    walk_object = _walk._walk_object

    def counting(run: Any, obj: Any, node: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("is_resource"):
            counted[(id(obj), node.structure.url)] += 1
        walk_object(run, obj, node, *args, **kwargs)

    monkeypatch.setattr(_walk, "_walk_object", counting)
    validator.validate(bundle, profiles=profiles)
    return counted


@pytest.mark.interpreted_only("ecanfhir.validation._walk")
def test_an_entry_is_walked_once_per_structure(validator: Validator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The roster is walked against its profile, in place of Bundle; each Patient entry,
    claiming the dated-patient profile, against dated-patient once, in place of Patient."""
    first = {"resourceType": "Patient", "text": NARRATIVE, "birthDate": "1970-01-01",
             "meta": {"profile": [DATED["url"]]}}
    second = {**first, "birthDate": "1980-02-02"}
    bundle = roster(first, second)
    counted = walks(validator, monkeypatch, bundle, [ROSTER["url"]])
    assert counted == Counter({(id(bundle), ROSTER["url"]): 1, (id(first), DATED["url"]): 1,
                               (id(second), DATED["url"]): 1})


@pytest.mark.interpreted_only("ecanfhir.validation._walk")
def test_the_first_profile_of_the_resource_type_stands_in_for_the_core(
        validator: Validator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked to conform to a Patient profile and then to the roster, a Bundle is walked against
    the roster in place of Bundle; the Patient profile is reported as of another type."""
    patient = {"resourceType": "Patient", "text": NARRATIVE, "birthDate": "1970-01-01",
               "meta": {"profile": [DATED["url"]]}}
    bundle = roster(patient)
    counted = walks(validator, monkeypatch, bundle, [DATED["url"], ROSTER["url"]])
    assert counted == Counter({(id(bundle), ROSTER["url"]): 1, (id(patient), DATED["url"]): 1})
    result = validator.validate(bundle, profiles=[DATED["url"], ROSTER["url"]])
    assert [(i.expression, i.rule) for i in result.errors] == [("Bundle", "profile-type")]


@pytest.mark.interpreted_only("ecanfhir.validation._walk")
def test_what_a_later_walk_of_the_container_asks_is_still_checked(
        validator: Validator, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that claims no profile is walked against dated-patient, which only the roster
    profile asks of it, in place of Patient: the missing birth date is reported once, at the
    entry; without the roster, against Patient."""
    undated = {"resourceType": "Patient", "text": NARRATIVE, "active": True}
    bundle = roster(undated)
    counted = walks(validator, monkeypatch, bundle, [ROSTER["url"]])
    assert counted[(id(undated), CORE + "Patient")] == 0
    assert counted[(id(undated), DATED["url"])] == 1
    result = validator.validate(bundle, profiles=[ROSTER["url"]])
    issue = assert_issue(result, "Bundle.entry[0].resource.birthDate", severity="error",
                         code="required", fragment="minimum required = 1")
    assert issue.rule == "cardinality-min"
    assert [i.expression for i in result.errors] == ["Bundle.entry[0].resource.birthDate"]
    assert validator.validate(bundle).errors == ()  # without the roster, nothing asks for it
