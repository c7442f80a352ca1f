"""EcanSecondaryCancerCondition: a metastasis of the referred cancer (DOMAIN.md §2(a)).

ICD-10 C77–C79 (``ecan-sec-1``) with its SKS-D code, linked to the primary cancer by the core
``condition-related`` extension; no ``stage`` (staging belongs to the primary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import new_resource, reference_to
from .condition import ICD10_SYSTEM, SKS_SYSTEM, set_condition_status, sks_from_icd10

__all__ = ["Metastasis", "build_secondary_condition"]

_SECONDARY = re.compile(r"^C7[7-9](\.[0-9]{1,2})?$")
_RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"


@dataclass(frozen=True, slots=True)
class Metastasis:
    """A secondary cancer (metastasis).

    Args:
        icd10: ICD-10 code of the secondary neoplasm (C77–C79, e.g. C78.7 liver).
        text: what it is, in words.
        recorded: when it was recorded.

    >>> Metastasis("C50.9", "breast", date(2026, 11, 22))
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Metastasis.icd10: C50.9 is not a secondary neoplasm (C77-C79)
    """

    icd10: str
    text: str
    recorded: date

    def __post_init__(self) -> None:
        if not _SECONDARY.match(self.icd10):
            raise BuildError(f"Metastasis.icd10: {self.icd10} is not a secondary neoplasm "
                             "(C77-C79)")
        if not self.text.strip():
            raise BuildError("Metastasis.text: must not be empty")


def build_secondary_condition(metastasis: Metastasis, patient: dict[str, Any],
                              primary: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
    """The EcanSecondaryCancerCondition of ``metastasis``, related to the ``primary`` cancer."""
    resource = new_resource(ctx, "Condition", "ecan-secondary-cancer-condition",
                            metastasis.text, f"Recorded {metastasis.recorded.isoformat()}")
    resource["extension"] = [{"url": _RELATED, "valueReference": reference_to(primary)}]
    set_condition_status(resource, "active")
    resource["code"] = {"coding": [{"system": ICD10_SYSTEM, "code": metastasis.icd10},
                                   {"system": SKS_SYSTEM,
                                    "code": sks_from_icd10(metastasis.icd10)}],
                        "text": metastasis.text}
    resource["subject"] = reference_to(patient)
    resource["recordedDate"] = metastasis.recorded.isoformat()
    return resource
