"""The HL7 packages known by default (Extensions Pack, HL7 Terminology): found without any
package loaded, looked up after the user's packages and core, opened only when needed."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from ecanfhir import Registry
from ecanfhir.definitions.core import CoreDefinitions, DefaultPackage, default_packages

EXT = "http://hl7.org/fhir/StructureDefinition/"
BRAND = EXT + "organization-brand"
RELIGION = "http://terminology.hl7.org/CodeSystem/v2-0006"


def fresh_packages() -> list[DefaultPackage]:
    """New, unopened instances (the process-wide ones may have been opened by other tests)."""
    return [DefaultPackage(p.file, p.package, p.folders, p.url_keys)
            for p in default_packages()]


def test_the_pinned_packages_are_listed_in_look_up_order() -> None:
    """Extensions first, then terminology; both HL7 packages under CC0."""
    assert Registry().default_packages == ("hl7.fhir.uv.extensions.r4#5.3.0-ballot-tc1",
                                           "hl7.terminology.r4#7.0.1")
    listing = json.loads((resources.files("ecanfhir") / "data" / "defaults.json").read_text())
    assert {p["license"] for p in listing["packages"]} == {"CC0-1.0"}


@pytest.mark.parametrize(("url", "resource_type"), [
    (BRAND, "StructureDefinition"), (EXT + "textLink", "StructureDefinition"),
    (EXT + "allergyintolerance-abatement", "StructureDefinition"),
    (RELIGION, "CodeSystem"), ("http://terminology.hl7.org/ValueSet/v2-0006", "ValueSet"),
])
def test_definitions_are_found_without_loading_a_package(url: str, resource_type: str) -> None:
    """A fresh Registry knows the extensions pack and THO; with defaults off it does not."""
    found = Registry().get(url, resource_type)
    assert found is not None and found["url"] == url
    assert Registry(defaults=False).get(url) is None


def test_user_loaded_version_wins() -> None:
    """A definition the user loads (e.g. another version of the package via --ig) shadows the
    default one, with or without a version in the canonical."""
    registry = Registry()
    mine = {"resourceType": "CodeSystem", "url": RELIGION, "version": "2.9", "status": "active",
            "content": "complete", "concept": [{"code": "X"}]}
    registry.add(mine)
    assert registry.code_system(RELIGION) is registry.code_system(RELIGION + "|2.9")
    assert (registry.code_system(RELIGION) or {})["version"] == "2.9"
    # A version only the default package has is still found there.
    default = Registry().code_system(RELIGION) or {}
    assert (registry.code_system(f"{RELIGION}|{default['version']}") or {})["concept"] != \
        mine["concept"]


def test_terminology_replaces_core_copies() -> None:
    """R4 core's copies of HL7 Terminology's code systems give way to THO's own definitions, as
    in the HL7 validator; asking for core's version by number still finds core's copy."""
    registry = Registry()
    physical = "http://terminology.hl7.org/CodeSystem/location-physical-type"
    assert (registry.code_system(physical) or {}).get("version") != "4.0.1"
    assert (registry.code_system(physical + "|4.0.1") or {}).get("version") == "4.0.1"
    assert (Registry(defaults=False).code_system(physical) or {}).get("version") == "4.0.1"
    act_code = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    assert (registry.code_system(act_code) or {}).get("version") != "2018-08-12"


def test_code_added_by_terminology_is_valid() -> None:
    """A code THO added to a system core also copies (location-physical-type 'vi', virtual) is
    accepted; a code neither has is still an error at its location."""
    from ecanfhir import validate

    def location(code: str) -> dict[str, object]:
        return {"resourceType": "Location", "id": "l1", "physicalType": {"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
             "code": code}]}}

    assert validate(location("vi")).errors == ()
    errors = validate(location("zz")).errors
    assert [(e.code, e.expression) for e in errors] == [
        ("code-invalid", "Location.physicalType.coding[0].code")]


def test_a_package_is_opened_only_for_urls_it_holds() -> None:
    """Look-ups of SNOMED, pilot urls, or urls in THO's folders that THO lacks (ICD-O-3 has no
    CodeSystem there) leave the packages' zips unopened."""
    extensions, terminology = fresh_packages()
    for url in ("http://snomed.info/sct", "urn:oid:1.2.208.176.1.1",
                "http://terminology.hl7.org/CodeSystem/icd-o-3",
                EXT + "patient-shoeSize",
                "https://ecanfhir.example/fhir/StructureDefinition/EcanPatient"):
        assert extensions.load(url) is None and terminology.load(url) is None
    assert extensions._definitions is None and terminology._definitions is None
    assert terminology.load(RELIGION) is not None
    assert terminology._definitions is not None and extensions._definitions is None


def test_every_member_of_the_default_packages_reads_back() -> None:
    """The index's offsets locate every member (the zip is read without its directory)."""
    for package in fresh_packages():
        definitions = package.definitions
        for entry in definitions.entries.values():
            resource = definitions.load(entry.url)
            assert resource is not None and resource["url"] == entry.url, entry
            assert resource["resourceType"] == entry.resource_type


def test_extension_definitions_have_snapshots_and_r4_contexts() -> None:
    """Every extension of the pack ships with a snapshot and a context to check its use."""
    extensions = fresh_packages()[0].definitions
    sds = [extensions.load(e.url) or {} for e in extensions.entries.values()
           if e.resource_type == "StructureDefinition" and e.type == "Extension"]
    assert len(sds) > 400
    for sd in sds:
        assert sd["snapshot"]["element"][0]["path"] == "Extension", sd["url"]
        assert sd.get("context"), sd["url"]


@pytest.mark.parametrize("name", ["r4-core.zip", "hl7-extensions-r4.zip",
                                  "hl7-terminology-r4.zip"])
def test_shipped_zips_open_without_their_central_directory(name: str) -> None:
    """The zip comment locates the index, and the index every member (a fast cold start)."""
    with resources.as_file(resources.files("ecanfhir") / "data" / name) as path:
        definitions = CoreDefinitions(str(path))
    assert definitions._zip is None
    first = next(iter(definitions.entries.values()))
    assert first.at is not None and (definitions.load(first.url) or {})["url"] == first.url
