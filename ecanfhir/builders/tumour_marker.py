"""EcanTumorMarkerTest: a serum tumour marker result sent with a referral (mCODE-style).

LOINC code (``ecan-tmt-1``), the value as a UCUM quantity, ``focus`` → the primary cancer
condition, category ``laboratory``, and a ``performer`` (MedCom's medcom-core-observation and
IPS's Observation-results-laboratory-pathology-uv-ips require one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import new_resource, reference_to
from .datatypes import fhir_date_time, require_aware
from .observation import set_final_category

__all__ = ["TumourMarker", "build_tumour_marker"]

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")


@dataclass(frozen=True, slots=True)
class TumourMarker:
    """A tumour marker result.

    Args:
        loinc: the LOINC code of the test (e.g. 6875-9, CA 15-3).
        display: the LOINC display.
        value: the measured value (not negative).
        unit: its UCUM unit code (e.g. ``U/mL``).
        measured: when the specimen was measured (date or zoned datetime).

    >>> TumourMarker("CA 15-3", "x", 28, "U/mL", date(2026, 11, 19))
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: TumourMarker.loinc: not a LOINC code: 'CA 15-3'
    """

    loinc: str
    display: str
    value: float
    unit: str
    measured: date | datetime

    def __post_init__(self) -> None:
        if not _LOINC.match(self.loinc):
            raise BuildError(f"TumourMarker.loinc: not a LOINC code: {self.loinc!r}")
        if isinstance(self.value, bool) or self.value < 0:
            raise BuildError(f"TumourMarker.value: a non-negative number, not {self.value!r}")
        if not self.unit.strip():
            raise BuildError("TumourMarker.unit: a UCUM unit code is needed")
        if isinstance(self.measured, datetime):
            require_aware(self.measured, "TumourMarker.measured")


def build_tumour_marker(marker: TumourMarker, patient: dict[str, Any],
                        condition: dict[str, Any], ctx: BuildContext, *,
                        performer: dict[str, Any]) -> dict[str, Any]:
    """The EcanTumorMarkerTest Observation of ``marker``, measured by ``performer``."""
    resource = new_resource(ctx, "Observation", "ecan-tumor-marker-test",
                            f"{marker.display}: {marker.value:g} {marker.unit}")
    set_final_category(resource, "laboratory")
    resource["code"] = {"coding": [{"system": LOINC_SYSTEM, "code": marker.loinc,
                                    "display": marker.display}]}
    resource["subject"] = reference_to(patient)
    resource["focus"] = [reference_to(condition)]
    resource["effectiveDateTime"] = fhir_date_time(marker.measured, "TumourMarker.measured")
    resource["performer"] = [reference_to(performer)]
    resource["valueQuantity"] = {"value": marker.value, "unit": marker.unit,
                                 "system": UCUM_SYSTEM, "code": marker.unit}
    return resource
