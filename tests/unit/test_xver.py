"""Cross-version extensions (R4 §2.17.1.2): status of a URL and the synthesised definition.

The element tables come from HL7's hl7.fhir.xver-extensions package (shipped trimmed); these
tests name real FHIR element paths, chosen for the shape of their table entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry
from ecanfhir.definitions.xver import cross_version_definition, status, url_parts

R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-"
R3 = "http://hl7.org/fhir/3.0/StructureDefinition/extension-"


def differential(url: str) -> dict[str, dict[str, Any]]:
    definition = cross_version_definition(url, Registry())
    assert definition is not None
    return {e["id"]: e for e in definition["differential"]["element"]}


@pytest.mark.parametrize(("url", "expected"), [
    (R5 + "DeviceRequest.doNotPerform", "valid"),          # types
    (R5 + "Account.diagnosis", "valid"),                   # elements
    (R5 + "Observation.value", "valid"),                   # listed as value[x]
    (R3 + "Account.description", "unchanged"),             # listed with nothing: same in R4
    (R5 + "Patient.shoeSize", "unknown"),
    ("http://hl7.org/fhir/2.7/StructureDefinition/extension-Patient.name", "bad-version"),
    ("http://hl7.org/fhir/4.3/StructureDefinition/extension-Patient.name", "not-shipped"),
    ("http://hl7.org/fhir/StructureDefinition/patient-birthPlace", None),
])
def test_status_of_a_url(url: str, expected: str | None) -> None:
    """The tables tell a valid path from an unchanged, unknown or unsupported one."""
    assert status(url) == expected


def test_url_parts() -> None:
    """The version and the element path are read from the URL."""
    assert url_parts(R5 + "Account.diagnosis.sequence") == ("5.0", "Account.diagnosis.sequence")
    assert url_parts("http://example.org/fhir/5.0/StructureDefinition/extension-X") is None


def test_simple_element_gives_a_value_of_its_types_and_its_modifier_flag() -> None:
    """DeviceRequest.doNotPerform (R5): a boolean modifier, extending DeviceRequest."""
    url = R5 + "DeviceRequest.doNotPerform"
    definition = cross_version_definition(url, Registry()) or {}
    elements = differential(url)
    assert definition["context"] == [{"type": "element", "expression": "DeviceRequest"}]
    assert definition["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/Extension"
    assert elements["Extension"]["isModifier"] is True
    assert elements["Extension.value[x]"]["type"] == [{"code": "boolean"}]
    assert elements["Extension.value[x]"]["min"] == 1
    assert elements["Extension.url"]["fixedUri"] == url
    assert elements["Extension.extension"]["max"] == "0"


def test_complex_element_gives_one_sub_extension_per_child() -> None:
    """Account.diagnosis (R5) is a backbone: its children become sub-extensions, by name."""
    elements = differential(R5 + "Account.diagnosis")
    assert elements["Extension.extension:sequence"]["sliceName"] == "sequence"
    assert elements["Extension.extension:sequence.url"]["fixedUri"] == "sequence"
    assert elements["Extension.extension:sequence.value[x]"]["type"] == [{"code": "positiveInt"}]
    assert elements["Extension.value[x]"]["max"] == "0"
    assert "isModifier" not in elements.get("Extension", {})


def test_types_and_targets_that_r4_lacks_are_dropped() -> None:
    """CodeableReference is not an R4 type: the sub-extension keeps the base's types."""
    elements = differential(R5 + "Account.diagnosis")
    assert "type" not in elements["Extension.extension:condition.value[x]"]


def test_reference_targets_are_r4_resources() -> None:
    """Reference(...) targets become target profiles of R4 resource types only."""
    elements = differential(R3 + "Account.guarantor")
    party = elements["Extension.extension:party.value[x]"]["type"]
    assert party == [{"code": "Reference", "targetProfile": [
        "http://hl7.org/fhir/StructureDefinition/" + t
        for t in ("Patient", "RelatedPerson", "Organization")]}]


def test_context_is_element_when_r4_has_no_such_parent() -> None:
    """R5's Availability type does not exist in R4: the extension may go on any element."""
    definition = cross_version_definition(R5 + "Availability.notAvailableTime", Registry())
    assert definition is not None
    assert definition["context"] == [{"type": "element", "expression": "Element"}]


def test_registry_finds_the_synthesised_definition_only_with_defaults() -> None:
    """Cross-version extensions are known by default, not with defaults turned off."""
    url = R5 + "DeviceRequest.doNotPerform"
    assert (Registry().structure_definition(url) or {})["url"] == url
    assert Registry(defaults=False).structure_definition(url) is None
    assert Registry().structure_definition(R5 + "Patient.shoeSize") is None
