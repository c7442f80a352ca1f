"""Observation rules the specification states outside the StructureDefinitions.

R4 §8.1 Vital Signs (http://hl7.org/fhir/R4/observation-vitalsigns.html): "If implementations
use this Observation resource to represent vital signs, they SHALL use [the vital signs
profiles]". Like the HL7 validator, an Observation whose code is one of the vital-sign codes is
checked against the matching core profile, whether or not it claims it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VITAL_SIGNS", "vital_signs_profiles"]

_BASE = "http://hl7.org/fhir/StructureDefinition/"
VITAL_SIGNS: Mapping[tuple[str, str], str] = {
    # LOINC codes of the R4 vital signs profiles (the table in observation-vitalsigns.html).
    ("http://loinc.org", "85353-1"): "vitalspanel",
    ("http://loinc.org", "9279-1"): "resprate",
    ("http://loinc.org", "8867-4"): "heartrate",
    ("http://loinc.org", "2708-6"): "oxygensat",
    ("http://loinc.org", "59408-5"): "oxygensat",
    ("http://loinc.org", "8310-5"): "bodytemp",
    ("http://loinc.org", "8302-2"): "bodyheight",
    ("http://loinc.org", "9843-4"): "headcircum",
    ("http://loinc.org", "29463-7"): "bodyweight",
    ("http://loinc.org", "39156-5"): "bmi",
    ("http://loinc.org", "85354-9"): "bp",
    # SNOMED CT concepts for the same measurements.
    ("http://snomed.info/sct", "386725007"): "bodytemp",
    ("http://snomed.info/sct", "276885007"): "bodytemp",
    ("http://snomed.info/sct", "50373000"): "bodyheight",
    ("http://snomed.info/sct", "27113001"): "bodyweight",
    ("http://snomed.info/sct", "60621009"): "bmi",
    ("http://snomed.info/sct", "364075005"): "heartrate",
    ("http://snomed.info/sct", "86290005"): "resprate",
    ("http://snomed.info/sct", "103228002"): "oxygensat",
    ("http://snomed.info/sct", "75367002"): "bp",
    ("http://snomed.info/sct", "363812007"): "headcircum",
}


def vital_signs_profiles(resource: Mapping[str, Any]) -> list[str]:
    """The core vital-signs profiles an Observation must conform to because of its code."""
    if resource.get("resourceType") != "Observation":
        return []
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, Mapping) else None
    out: list[str] = []
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, Mapping):
            name = VITAL_SIGNS.get((str(coding.get("system")), str(coding.get("code"))))
            if name and _BASE + name not in out:
                out.append(_BASE + name)
    return out
