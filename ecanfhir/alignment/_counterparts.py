"""The alignment table: which national and European profile each pilot profile claims to meet.

DOMAIN.md §2(a) and issue 12: the pilot reuses Danish infrastructure (DK-core identifiers, MedCom
messaging) while its content meets the EHDS profiles (HL7 Europe base and patient summary, IPS).
Each row is a pilot profile (or a role of one: the Organizations a MessageHeader names, the
document form); each counterpart a canonical URL in a real package. ``PACKAGES`` says which
package defines a counterpart, so ``ecanfhir align`` can load it from the package cache and say
"not checked (package X not installed)" when it is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["COUNTERPARTS", "PACKAGES", "ROWS", "Row", "counterpart_name", "package_of"]

DK = "http://hl7.dk/fhir/core/StructureDefinition/"
MEDCOM_CORE = "http://medcomfhir.dk/ig/core/StructureDefinition/"
MEDCOM_MSG = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
EU_BASE = "http://hl7.eu/fhir/base/StructureDefinition/"
EU_EPS = "http://hl7.eu/fhir/eps/StructureDefinition/"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"

# Canonical prefix → the package (id#version) that defines it.
PACKAGES: Mapping[str, str] = {
    DK: "hl7.fhir.dk.core#3.8.0",
    MEDCOM_CORE: "medcom.fhir.dk.core#4.0.0",
    MEDCOM_MSG: "medcom.fhir.dk.messaging#4.0.1",
    EU_BASE: "hl7.fhir.eu.base#2.0.0",
    EU_EPS: "hl7.fhir.eu.eps#1.0.0-xtehr",
    IPS: "hl7.fhir.uv.ips#2.0.0",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the matrix: a pilot profile (or a role of it) and its counterparts."""

    key: str                      # the pilot profile id, or the role ("document")
    label: str                    # as the report shows it
    counterparts: tuple[str, ...]


_OBSERVATION = (DK + "dk-core-observation", MEDCOM_CORE + "medcom-core-observation")
_CONDITION = (DK + "dk-core-condition", EU_BASE + "condition-eu-core", IPS + "Condition-uv-ips")

ROWS: tuple[Row, ...] = (
    Row("ecan-patient", "EcanPatient",
        (DK + "dk-core-patient", MEDCOM_CORE + "medcom-core-patient", EU_BASE + "patient-eu-core",
         IPS + "Patient-uv-ips", EU_EPS + "patient-eu-eps")),
    Row("ecan-organization", "EcanOrganization",
        (DK + "dk-core-organization", MEDCOM_CORE + "medcom-core-organization",
         EU_BASE + "organization-eu-core")),
    Row("sender-receiver", "EcanOrganization (MessageHeader sender/receiver)",
        (MEDCOM_MSG + "medcom-messaging-organization",)),
    Row("ecan-practitioner", "EcanPractitioner",
        (DK + "dk-core-practitioner", MEDCOM_CORE + "medcom-core-practitioner",
         EU_BASE + "practitioner-eu-core")),
    Row("ecan-practitioner-role", "EcanPractitionerRole",
        (DK + "dk-core-practitioner-role", MEDCOM_CORE + "medcom-core-practitionerrole",
         EU_BASE + "practitionerRole-eu-core")),
    Row("ecan-primary-cancer-condition", "EcanPrimaryCancerCondition", _CONDITION),
    Row("ecan-secondary-cancer-condition", "EcanSecondaryCancerCondition", _CONDITION),
    Row("ecan-tnm-stage-group", "EcanTnmStageGroup", _OBSERVATION),
    Row("ecan-tnm-category", "EcanTnmCategory", _OBSERVATION),
    Row("ecan-ecog-performance-status", "EcanEcogPerformanceStatus", _OBSERVATION),
    Row("ecan-tumor-marker-test", "EcanTumorMarkerTest",
        (*_OBSERVATION, EU_BASE + "medicalTestResult-eu-core",
         IPS + "Observation-results-laboratory-pathology-uv-ips")),
    Row("ecan-telemedicine-encounter", "EcanTelemedicineEncounter",
        (DK + "dk-core-encounter", MEDCOM_CORE + "medcom-core-encounter")),
    Row("ecan-message", "EcanMessage", (MEDCOM_MSG + "medcom-messaging-message",)),
    Row("ecan-message-header", "EcanMessageHeader",
        (MEDCOM_MSG + "medcom-messaging-messageHeader",)),
    Row("ecan-provenance", "EcanProvenance", (MEDCOM_MSG + "medcom-messaging-provenance",)),
    Row("document", "document form (to_document)", (IPS + "Bundle-uv-ips",
                                                      EU_EPS + "bundle-eu-eps")),
)

# Every row's counterparts, by row key (what scripts/make_counterparts.py copies).
COUNTERPARTS: Mapping[str, tuple[str, ...]] = {row.key: row.counterparts for row in ROWS}


def package_of(url: str) -> str:
    """The package (``id#version``) defining the counterpart ``url``."""
    for prefix, package in PACKAGES.items():
        if url.startswith(prefix):
            return package
    raise KeyError(url)


def counterpart_name(url: str) -> str:
    """The counterpart's short name: the last segment of its canonical."""
    return url.rsplit("/", 1)[-1]
