"""What built resources say they conform to besides the pilot profile (``meta.profile``).

Issue 12: where a pilot resource meets a national or European profile, it names that profile
too, so a Danish receiver validates it with the DK-core and MedCom packages it already has and
a European one with HL7 Europe's or IPS's. Each claim here is proven by ``ecanfhir align``: the
tests check that every claimed profile is a conformant cell of the alignment matrix
(``tests/unit/pilot/test_dual_conformance.py``). A profile is claimed only where no intended
deviation exists (``profiles/deviations.md``): MedCom's messaging profiles are not claimed.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CLAIMS", "claimed_profiles"]

_DK = "http://hl7.dk/fhir/core/StructureDefinition/"
_MEDCOM = "http://medcomfhir.dk/ig/core/StructureDefinition/"
_MEDCOM_MSG = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
_EU = "http://hl7.eu/fhir/base/StructureDefinition/"
_EPS = "http://hl7.eu/fhir/eps/StructureDefinition/"
_IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
_OBSERVATION = (_DK + "dk-core-observation", _MEDCOM + "medcom-core-observation")

# Pilot profile id (or "document"/"document-composition") → the profiles it also conforms to.
CLAIMS: Mapping[str, tuple[str, ...]] = {
    "ecan-patient": (_DK + "dk-core-patient", _MEDCOM + "medcom-core-patient",
                     _EU + "patient-eu-core", _IPS + "Patient-uv-ips", _EPS + "patient-eu-eps"),
    "ecan-organization": (_DK + "dk-core-organization", _MEDCOM + "medcom-core-organization",
                          _EU + "organization-eu-core"),
    "ecan-practitioner": (_DK + "dk-core-practitioner", _MEDCOM + "medcom-core-practitioner",
                          _EU + "practitioner-eu-core"),
    "ecan-practitioner-role": (_DK + "dk-core-practitioner-role",
                               _MEDCOM + "medcom-core-practitionerrole",
                               _EU + "practitionerRole-eu-core"),
    "ecan-primary-cancer-condition": (_DK + "dk-core-condition", _EU + "condition-eu-core",
                                      _IPS + "Condition-uv-ips"),
    "ecan-secondary-cancer-condition": (_DK + "dk-core-condition", _EU + "condition-eu-core",
                                        _IPS + "Condition-uv-ips"),
    "ecan-tumor-marker-test": (*_OBSERVATION, _EU + "medicalTestResult-eu-core",
                               _IPS + "Observation-results-laboratory-pathology-uv-ips"),
    "ecan-tnm-stage-group": _OBSERVATION,
    "ecan-tnm-category": _OBSERVATION,
    "ecan-ecog-performance-status": _OBSERVATION,
    "ecan-telemedicine-encounter": (_DK + "dk-core-encounter", _MEDCOM + "medcom-core-encounter"),
    "ecan-provenance": (_MEDCOM_MSG + "medcom-messaging-provenance",),
    "document": (_IPS + "Bundle-uv-ips", _EPS + "bundle-eu-eps"),
    # The Composition is checked as part of the document (Bundle-uv-ips' composition slice).
    "document-composition": (_IPS + "Composition-uv-ips", _EPS + "composition-eu-eps"),
}


def claimed_profiles(profile: str) -> tuple[str, ...]:
    """The national and European profiles a resource built for pilot ``profile`` meets."""
    return CLAIMS.get(profile, ())
