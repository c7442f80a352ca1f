"""Tests for ecanfhir.definitions.snapshot: snapshots generated from differentials.

Two kinds: agreement with HL7 (every core constraint profile and core extension of R4 4.0.1 is
regenerated from its differential and compared with the snapshot HL7 published), and tiny
hand-written profiles in ``tests/fixtures/snapshot/``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ecanfhir._exceptions import PackageError, SnapshotMissing
from ecanfhir.definitions.registry import Registry
from ecanfhir.definitions.snapshot import ensure_snapshot, generate_snapshot, snapshot_issues

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot"
CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"

def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The core definitions plus every fixture profile (none of which has a snapshot)."""
    reg = Registry()
    for path in sorted(FIXTURES.glob("*.json")):
        reg.add(json.loads(path.read_text()))
    return reg


def elements(sd: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in sd["snapshot"]["element"]}


def ids(sd: Mapping[str, Any]) -> list[str]:
    return [e["id"] for e in sd["snapshot"]["element"]]


# -- agreement with HL7 --------------------------------------------------------------------
def summary(element: Mapping[str, Any]) -> dict[str, Any]:
    """What must agree, element by element: the properties validation relies on."""
    binding = element.get("binding") or {}
    slicing = element.get("slicing") or {}
    return {
        "path": element.get("path"),
        "min": element.get("min"),
        "max": element.get("max"),
        "type": [(t.get("code"), t.get("profile", []), t.get("targetProfile", []))
                 for t in element.get("type", ())],
        "fixed/pattern": {k: v for k, v in element.items()
                          if k.startswith(("fixed", "pattern", "minValue", "maxValue"))},
        "binding": (binding.get("strength"), binding.get("valueSet")),
        "constraints": sorted(c["key"] for c in element.get("constraint", ())),
        "sliceName": element.get("sliceName"),
        "slicing": (slicing.get("discriminator"), slicing.get("rules"), slicing.get("ordered")),
        "base": element.get("base"),
        "mustSupport": element.get("mustSupport"),
        "isModifier": element.get("isModifier"),
        "maxLength": element.get("maxLength"),
    }


def differences(expected: Mapping[str, Any], generated: Mapping[str, Any]) -> list[str]:
    if ids(expected) != ids(generated):
        return [f"element ids differ: {ids(expected)} != {ids(generated)}"]
    return [f"{a['id']}.{key}: HL7 {value!r}, generated {summary(b)[key]!r}"
            for a, b in zip(expected["snapshot"]["element"], generated["snapshot"]["element"],
                            strict=True)
            for key, value in summary(a).items() if summary(b)[key] != value]


def core_constraint_urls() -> list[str]:
    return sorted(e.url for e in Registry().core.entries.values()
                  if e.resource_type == "StructureDefinition" and e.derivation == "constraint")


@cache
def core_results() -> dict[str, list[str]]:
    """url → differences between HL7's snapshot and the one generated from the differential."""
    reg = Registry(defaults=False)  # 4.0.1 was published from 4.0.1 definitions alone
    results: dict[str, list[str]] = {}
    for url in core_constraint_urls():
        shipped = reg.core.load(url)
        assert shipped is not None and shipped["differential"]["element"]
        differential_only = {k: v for k, v in shipped.items() if k != "snapshot"}
        results[url] = differences(shipped, generate_snapshot(differential_only, reg))
    return results


@pytest.mark.parametrize("url", [
    pytest.param(url, id=url.removeprefix(CORE)) for url in core_constraint_urls()
])
def test_core_snapshot_matches_hl7(url: str) -> None:
    """Regenerating a core profile or extension from its differential gives HL7's snapshot."""
    assert core_results()[url] == []


def test_core_agreement_count() -> None:
    """All core constraint definitions (46 profiles and 393 extensions in R4 4.0.1) agree."""
    results = core_results()
    assert len(results) >= 437
    assert [url for url, diffs in results.items() if diffs] == []


def test_renamed_choice_becomes_type_slice() -> None:
    """bodyheight's ``Observation.valueQuantity`` is HL7's ``value[x]:valueQuantity`` slice."""
    reg = Registry()
    shipped = reg.core.load(CORE + "bodyheight") or {}
    generated = elements(generate_snapshot(
        {k: v for k, v in shipped.items() if k != "snapshot"}, reg))
    value = generated["Observation.value[x]"]
    assert value["slicing"]["discriminator"] == [{"type": "type", "path": "$this"}]
    assert [t["code"] for t in value["type"]] == ["Quantity"]
    unit = generated["Observation.value[x]:valueQuantity.unit"]
    assert (unit["path"], unit["min"]) == ("Observation.value[x].unit", 1)


# -- hand-written profiles -----------------------------------------------------------------
def test_birth_date_made_required(registry: Registry) -> None:
    """min 1 on Patient.birthDate; max and type stay as the base says, base is recorded."""
    birth = elements(generate_snapshot(load("patient-cpr"), registry))["Patient.birthDate"]
    assert (birth["min"], birth["max"], birth["type"]) == (1, "1", [{"code": "date"}])
    assert birth["base"] == {"path": "Patient.birthDate", "min": 0, "max": "1"}


def test_identifier_slice_by_system(registry: Registry) -> None:
    """The cpr slice copies Patient.identifier and unfolds Identifier under it."""
    snapshot = generate_snapshot(load("patient-cpr"), registry)
    all_ids = ids(snapshot)
    start = all_ids.index("Patient.identifier")
    assert all_ids[start:start + 11] == [
        "Patient.identifier", "Patient.identifier:cpr",
        *(f"Patient.identifier:cpr.{name}" for name in (
            "id", "extension", "use", "type", "system", "value", "period", "assigner")),
        "Patient.active",
    ]
    by_id = elements(snapshot)
    sliced = by_id["Patient.identifier"]
    assert sliced["slicing"]["discriminator"] == [{"type": "value", "path": "system"}]
    assert sliced["min"] == 1
    cpr = by_id["Patient.identifier:cpr"]
    assert (cpr["sliceName"], cpr["min"], cpr["max"], cpr["path"]) == (
        "cpr", 1, "1", "Patient.identifier")
    assert "slicing" not in cpr
    system = by_id["Patient.identifier:cpr.system"]
    assert (system["path"], system["min"], system["fixedUri"]) == (
        "Patient.identifier.system", 1, "urn:oid:1.2.208.176.1.2")
    assert system["base"]["path"] == "Identifier.system"


def test_added_constraint_names_its_profile(registry: Registry) -> None:
    """Invariants add to the inherited ones; the new one's source is the profile."""
    cpr = elements(generate_snapshot(load("patient-cpr"), registry))["Patient.identifier:cpr"]
    sources = {c["key"]: c["source"] for c in cpr["constraint"]}
    assert sources == {"ele-1": CORE + "Element", "cpr-1": EXAMPLE + "patient-cpr"}


def test_extension_slice(registry: Registry) -> None:
    """A profiled extension slice opens the usual url slicing and keeps its type profile."""
    by_id = elements(generate_snapshot(load("patient-cpr"), registry))
    assert by_id["Patient.extension"]["slicing"]["discriminator"] == [
        {"type": "value", "path": "url"}]
    nationality = by_id["Patient.extension:nationality"]
    assert nationality["type"] == [{"code": "Extension",
                                    "profile": [CORE + "patient-nationality"]}]
    assert (nationality["min"], nationality["max"]) == (0, "1")


def test_value_x_restricted_to_quantity(registry: Registry) -> None:
    """value[x] with one type: the element itself narrows and Quantity unfolds under it."""
    by_id = elements(generate_snapshot(load("observation-quantity"), registry))
    value = by_id["Observation.value[x]"]
    assert (value["type"], value["min"]) == ([{"code": "Quantity"}], 1)
    assert "slicing" not in value
    unit = by_id["Observation.value[x].unit"]
    assert (unit["path"], unit["min"], unit["type"]) == (
        "Observation.value[x].unit", 1, [{"code": "string"}])


def test_value_quantity_renamed_path(registry: Registry) -> None:
    """``valueQuantity.unit`` (renamed path) gives the R4 type slice value[x]:valueQuantity."""
    by_id = elements(generate_snapshot(load("observation-valuequantity"), registry))
    value = by_id["Observation.value[x]"]
    assert value["slicing"] == {"discriminator": [{"type": "type", "path": "$this"}],
                                "ordered": False, "rules": "closed"}
    assert value["type"] == [{"code": "Quantity"}]
    quantity = by_id["Observation.value[x]:valueQuantity"]
    assert (quantity["sliceName"], quantity["type"]) == ("valueQuantity", [{"code": "Quantity"}])
    assert by_id["Observation.value[x]:valueQuantity.unit"]["min"] == 1


def test_explicit_type_slice_without_slicing(registry: Registry) -> None:
    """``value[x]:valueQuantity`` with no slicing element (as SUSHI writes it) slices by type."""
    sd = load("observation-valuequantity")
    sd["differential"]["element"] = [
        {"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]",
         "sliceName": "valueQuantity"},
        {"id": "Observation.value[x]:valueQuantity.unit", "path": "Observation.value[x].unit",
         "min": 1},
    ]
    by_id = elements(generate_snapshot(sd, registry))
    assert by_id["Observation.value[x]"]["slicing"]["rules"] == "closed"
    assert by_id["Observation.value[x]:valueQuantity"]["type"] == [{"code": "Quantity"}]
    assert by_id["Observation.value[x]:valueQuantity.unit"]["min"] == 1


@pytest.mark.parametrize("rules", ["open", "closed"])
def test_explicit_type_slicing_keeps_its_rules(registry: Registry, rules: str) -> None:
    """A differential that slices ``effective[x]`` by type itself keeps its ``rules``: open
    leaves the other types allowed (IPS MedicationStatement), closed stays closed."""
    sd = load("observation-valuequantity")
    sd["differential"]["element"] = [
        {"id": "Observation.effective[x]", "path": "Observation.effective[x]", "slicing": {
            "discriminator": [{"type": "type", "path": "$this"}], "ordered": False,
            "rules": rules}},
        {"id": "Observation.effective[x]:effectiveDateTime", "path": "Observation.effective[x]",
         "sliceName": "effectiveDateTime", "type": [{"code": "dateTime"}]},
    ]
    by_id = elements(generate_snapshot(sd, registry))
    effective = by_id["Observation.effective[x]"]
    assert effective["slicing"] == {"discriminator": [{"type": "type", "path": "$this"}],
                                    "ordered": False, "rules": rules}
    assert [t["code"] for t in effective["type"]] == ["dateTime", "Period", "Timing", "instant"]
    assert by_id["Observation.effective[x]:effectiveDateTime"]["type"] == [{"code": "dateTime"}]


def test_profile_on_profile(registry: Registry) -> None:
    """The base profile's snapshot is generated first; its slices and constraints carry over,
    new slices come after the inherited ones."""
    snapshot = generate_snapshot(load("patient-cpr-passport"), registry)
    by_id = elements(snapshot)
    assert by_id["Patient.birthDate"]["min"] == 1
    assert by_id["Patient.gender"]["min"] == 1
    assert by_id["Patient.identifier:cpr.system"]["fixedUri"] == "urn:oid:1.2.208.176.1.2"
    assert by_id["Patient.identifier:cpr.value"]["maxLength"] == 10
    assert by_id["Patient.identifier:passport.system"]["patternUri"] == "urn:oid:1.2.208.176.1.6"
    slices = [e["sliceName"] for e in snapshot["snapshot"]["element"]
              if e["path"] == "Patient.identifier" and "sliceName" in e]
    assert slices == ["cpr", "passport"]
    assert snapshot_issues(load("patient-cpr-passport"), registry) == []


@pytest.mark.parametrize(("code", "expression", "words"), [
    ("business-rule", "Patient.birthDate", "min 0 is lower"),
    ("business-rule", "Patient.birthDate", "type string is not allowed"),
    ("business-rule", "Patient.identifier:cpr", "max * is higher"),
    ("business-rule", "Patient.gender", "weakens the base's required binding"),
    ("structure", "Patient.shoeSize", "no element 'shoeSize'"),
    ("structure", "Patient.identifier:nope.system", "slice 'nope'"),
])
def test_loosening_is_reported(registry: Registry, code: str, expression: str,
                               words: str) -> None:
    """A profile may only restrict its base; what loosens it, or names nothing, is an issue."""
    found = [(i.code, i.expression) for i in snapshot_issues(load("patient-loose"), registry)
             if words in i.message]
    assert found == [(code, expression)]


def test_issues_are_errors_and_only_these(registry: Registry) -> None:
    """patient-loose has exactly six problems, all errors; unknown elements are skipped."""
    issues = snapshot_issues(load("patient-loose"), registry)
    assert len(issues) == 6
    assert all(i.severity == "error" for i in issues)
    generated = elements(generate_snapshot(load("patient-loose"), registry))
    assert not any("shoeSize" in i or ":nope" in i for i in generated)


def test_path_only_differential(registry: Registry) -> None:
    """Without element ids, slices are found from sliceName and order, as in HL7's tools."""
    with_ids = generate_snapshot(load("patient-cpr"), registry)
    sd = load("patient-cpr")
    for element in sd["differential"]["element"]:
        del element["id"]
    without_ids = generate_snapshot(sd, registry)
    assert ids(without_ids) == ids(with_ids)
    assert elements(without_ids)["Patient.identifier:cpr.system"]["min"] == 1


def test_specialization_adds_elements(registry: Registry) -> None:
    """A logical model's new elements follow those of its base (Element)."""
    sd = {"resourceType": "StructureDefinition", "url": EXAMPLE + "Shoe", "type": "Shoe",
          "kind": "logical", "derivation": "specialization",
          "baseDefinition": CORE + "Element",
          "differential": {"element": [
              {"id": "Shoe", "path": "Shoe"},
              {"id": "Shoe.size", "path": "Shoe.size", "min": 1, "max": "1",
               "type": [{"code": "decimal"}]}]}}
    snapshot = generate_snapshot(sd, registry)
    assert ids(snapshot) == ["Shoe", "Shoe.id", "Shoe.extension", "Shoe.size"]
    assert snapshot_issues(sd, registry) == []


def test_reslice_without_its_slice_is_a_slice_of_its_own(registry: Registry) -> None:
    """Re-slicing (``mrn/old``) a slice the element lacks: a warning, and the re-slice is taken
    as a slice of the element (never an exception)."""
    sd = load("patient-cpr-passport")
    sd["differential"]["element"] = [
        {"id": "Patient.identifier:mrn/old", "path": "Patient.identifier", "sliceName": "mrn/old"}]
    issues = snapshot_issues(sd, registry)
    assert [(i.severity, i.code, i.expression) for i in issues] == [
        ("warning", "structure", "Patient.identifier:mrn/old")]
    assert "slice 'mrn' re-sliced by 'mrn/old' is not declared" in issues[0].message
    assert "Patient.identifier:mrn/old" in ids(generate_snapshot(sd, registry))


def test_reslice_copies_its_slice(registry: Registry) -> None:
    """``cpr/old`` (R4 profiling.html §5.1.0.11) starts as a copy of slice ``cpr`` (its fixed
    system, its cardinality) and follows ``cpr``'s children in the snapshot."""
    sd = load("patient-cpr-passport")
    sd["differential"]["element"] = [*sd["differential"]["element"], {
        "id": "Patient.identifier:cpr/old", "path": "Patient.identifier", "sliceName": "cpr/old",
        "max": "1"}, {"id": "Patient.identifier:cpr/old.period", "path":
                      "Patient.identifier.period", "min": 1}]
    snapshot = generate_snapshot(sd, registry)
    assert snapshot_issues(sd, registry) == []
    order = ids(snapshot)
    cpr = [i for i in order if i.startswith("Patient.identifier:cpr")]
    assert cpr.index("Patient.identifier:cpr/old") == len(
        [i for i in cpr if not i.startswith("Patient.identifier:cpr/old")])
    found = elements(snapshot)
    assert found["Patient.identifier:cpr/old"]["sliceName"] == "cpr/old"
    assert found["Patient.identifier:cpr/old"]["max"] == "1"
    assert found["Patient.identifier:cpr/old.system"] == {
        **found["Patient.identifier:cpr.system"], "id": "Patient.identifier:cpr/old.system"}
    assert found["Patient.identifier:cpr/old.period"]["min"] == 1
    assert found["Patient.identifier:cpr.period"]["min"] == 0


# -- API contract ----------------------------------------------------------------------------
def test_input_is_not_modified(registry: Registry) -> None:
    """generate_snapshot returns a new dict and leaves its argument alone."""
    sd = load("patient-cpr-passport")
    before = copy.deepcopy(sd)
    result = generate_snapshot(sd, registry)
    assert sd == before
    assert result is not sd
    assert result["differential"] == sd["differential"]


def test_output_does_not_share_the_registry(registry: Registry) -> None:
    """Mutating a generated snapshot does not change the next one (no shared core data)."""
    first = generate_snapshot(load("patient-cpr"), registry)
    for element in first["snapshot"]["element"]:
        element.get("constraint", []).clear()
        element.get("type", []).clear()
    second = generate_snapshot(load("patient-cpr"), registry)
    assert elements(second)["Patient.birthDate"]["type"] == [{"code": "date"}]
    assert elements(second)["Patient"]["constraint"]


def test_ensure_snapshot(registry: Registry) -> None:
    """A definition with a snapshot comes back as is; one without gets one generated."""
    patient = registry.structure_definition(CORE + "Patient")
    assert patient is not None
    assert ensure_snapshot(patient, registry) is patient
    assert ensure_snapshot(load("patient-cpr"), registry)["snapshot"]["element"]


@pytest.mark.parametrize(("change", "words"), [
    ({"baseDefinition": EXAMPLE + "missing"}, EXAMPLE + "missing"),
    ({"baseDefinition": None}, "no baseDefinition"),
    ({"resourceType": "ValueSet"}, "not a StructureDefinition"),
])
def test_broken_input_raises(registry: Registry, change: dict[str, Any], words: str) -> None:
    """A base that cannot be found, or input that is no profile, is SnapshotMissing."""
    sd = {**load("patient-cpr"), **change}
    with pytest.raises(SnapshotMissing, match=words.replace("*", r"\*")):
        generate_snapshot(sd, registry)
    assert issubclass(SnapshotMissing, PackageError)


def test_cycle_of_bases_raises() -> None:
    """Two profiles without snapshots, each the other's base, cannot be generated."""
    reg = Registry()
    for name, base in (("a", "b"), ("b", "a")):
        reg.add({**load("patient-cpr"), "url": EXAMPLE + name,
                 "baseDefinition": EXAMPLE + base})
    with pytest.raises(SnapshotMissing, match="cycle"):
        generate_snapshot(reg.structure_definition(EXAMPLE + "a") or {}, reg)


def test_malformed_differential_elements_are_issues(registry: Registry) -> None:
    """Elements without a path are reported, not a crash."""
    sd = load("patient-cpr")
    sd["differential"]["element"].append({"id": "oops"})
    sd["differential"]["element"].append("not an element")
    assert [i.code for i in snapshot_issues(sd, registry)] == ["invalid", "invalid"]
