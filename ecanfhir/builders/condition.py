"""EcanPrimaryCancerCondition: the cancer a referral is about (DOMAIN.md §2(a), §5.3, §5.5).

Coded in ICD-10 (WHO), SKS-D (``D`` + the ICD-10 code without its dot, DC509 ~ C50.9; the
builder adds whichever of the two is missing) and optionally SNOMED CT; a *primary* cancer's
ICD-10 code lies in C00–C97 or D00–D09 (inv ``ecan-cond-1``). Histology is ICD-O-3 morphology
``NNNN/B`` with behaviour 0–3 (inv ``ecan-cond-2``), in the ``ecan-histology-morphology-behavior``
extension; laterality is SNOMED CT in ``ecan-laterality``; the body site an ICD-O-3 topography.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from .._exceptions import BuildError
from ..definitions.pilot import pilot_url
from ._context import BuildContext
from ._resource import new_resource, reference_to
from .datatypes import fhir_date_time, require_aware

__all__ = ["ICD10_SYSTEM", "ICDO3_SYSTEM", "SKS_SYSTEM", "CancerDiagnosis", "Laterality",
           "build_condition", "icd10_from_sks", "sks_from_icd10"]

ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
SKS_SYSTEM = "urn:oid:1.2.208.176.2.4.12"
SNOMED_SYSTEM = "http://snomed.info/sct"
ICDO3_SYSTEM = "http://terminology.hl7.org/CodeSystem/icd-o-3"
Laterality = Literal["left", "right", "bilateral"]
_LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right"),
               "bilateral": ("51440002", "Right and left")}
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")
_SKS = re.compile(r"^D[A-Z][0-9]{2}[0-9A-Z]*$")
_MORPHOLOGY = re.compile(r"^[0-9]{4}/[0-3]$")
_TOPOGRAPHY = re.compile(r"^C[0-9]{2}\.[0-9]$")
_SNOMED = re.compile(r"^[1-9][0-9]{5,17}$")


def icd10_from_sks(sks: str) -> str:
    """The ICD-10 code an SKS-D code refines: drop the ``D``, keep 3 or 4 characters.

    >>> icd10_from_sks("DC509"), icd10_from_sks("DC509A"), icd10_from_sks("DC50")
    ('C50.9', 'C50.9', 'C50')
    """
    core = sks[1:]
    return core[:3] if len(core) == 3 or not core[3].isdigit() else f"{core[:3]}.{core[3]}"


def sks_from_icd10(icd10: str) -> str:
    """The SKS-D code of an ICD-10 code.

    >>> sks_from_icd10("C50.9")
    'DC509'
    """
    return "D" + icd10.replace(".", "")


def _primary_cancer(icd10: str) -> bool:
    letter, number = icd10[0], int(icd10[1:3])
    return (letter == "C" and number <= 97) or (letter == "D" and number <= 9)


@dataclass(frozen=True, slots=True)
class CancerDiagnosis:
    """A primary cancer diagnosis.

    Args:
        diagnosed: date (or zoned datetime) of diagnosis (``onsetDateTime``).
        icd10: ICD-10 (WHO) code, e.g. ``C50.4``; at least one of icd10, sks, snomed.
        sks: SKS-D code, e.g. ``DC504``.
        snomed: SNOMED CT concept id of the disorder.
        text: the diagnosis in words (defaults to the code).
        morphology: ICD-O-3 morphology ``NNNN/B`` (behaviour 0–3).
        laterality: left, right or bilateral.
        body_site: ICD-O-3 topography, e.g. ``C50.4``.
        clinical_status: condition-clinical code.

    Raises:
        BuildError: no code, malformed codes, ICD-10/SKS outside C00–C97/D00–D09, ICD-10 and
            SKS disagreeing, malformed morphology or topography, naive datetime.

    >>> CancerDiagnosis(date(2026, 11, 20), icd10="C50.4").sks_code
    'DC504'
    >>> CancerDiagnosis(date(2026, 11, 20), icd10="I21.9")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: CancerDiagnosis.icd10: I21.9 is not a primary cancer code ...
    """

    diagnosed: date | datetime
    icd10: str | None = None
    sks: str | None = None
    snomed: str | None = None
    text: str | None = None
    morphology: str | None = None
    laterality: Laterality | None = None
    body_site: str | None = None
    clinical_status: Literal["active", "recurrence", "relapse", "remission",
                             "resolved"] = "active"

    def __post_init__(self) -> None:
        if self.icd10 is None and self.sks is None and self.snomed is None:
            raise BuildError("CancerDiagnosis.icd10: give at least one of icd10, sks, snomed")
        if isinstance(self.diagnosed, datetime):
            require_aware(self.diagnosed, "CancerDiagnosis.diagnosed")
        if self.icd10 is not None:
            self._check_icd10(self.icd10, "icd10")
        if self.sks is not None:
            if not _SKS.match(self.sks):
                raise BuildError(f"CancerDiagnosis.sks: not an SKS-D code (D + ICD-10 without "
                                 f"dot, e.g. DC509): {self.sks!r}")
            self._check_icd10(icd10_from_sks(self.sks), "sks")
            a, b = self.icd10 and self.icd10.replace(".", ""), self.sks[1:]
            if a is not None and not (a.startswith(b) or b.startswith(a)):
                raise BuildError(f"CancerDiagnosis.sks: {self.sks} does not refine ICD-10 "
                                 f"{self.icd10}")
        if self.snomed is not None and not _SNOMED.match(self.snomed):
            raise BuildError(f"CancerDiagnosis.snomed: not a SNOMED CT id: {self.snomed!r}")
        if self.morphology is not None and not _MORPHOLOGY.match(self.morphology):
            raise BuildError(f"CancerDiagnosis.morphology: ICD-O-3 morphology NNNN/B with "
                             f"behaviour 0-3 for a primary cancer, not {self.morphology!r}")
        if self.body_site is not None and not _TOPOGRAPHY.match(self.body_site):
            raise BuildError(f"CancerDiagnosis.body_site: ICD-O-3 topography Cnn.n, not "
                             f"{self.body_site!r}")
        if self.laterality is not None and self.laterality not in _LATERALITY:
            raise BuildError(f"CancerDiagnosis.laterality: left, right or bilateral, not "
                             f"{self.laterality!r}")

    @staticmethod
    def _check_icd10(code: str, field: str) -> None:
        if not _ICD10.match(code):
            raise BuildError(f"CancerDiagnosis.{field}: not an ICD-10 code (e.g. C50.9): "
                             f"{code!r}")
        if not _primary_cancer(code):
            raise BuildError(f"CancerDiagnosis.{field}: {code} is not a primary cancer code "
                             "(ICD-10 C00-C97 or D00-D09)")

    @property
    def icd10_code(self) -> str | None:
        """The ICD-10 code, given or derived from the SKS code."""
        return self.icd10 or (icd10_from_sks(self.sks) if self.sks else None)

    @property
    def sks_code(self) -> str | None:
        """The SKS-D code, given or derived from the ICD-10 code."""
        return self.sks or (sks_from_icd10(self.icd10) if self.icd10 else None)


def set_condition_status(resource: dict[str, Any], clinical_status: str) -> None:
    """A confirmed problem-list Condition with ``clinical_status`` (clinical, verification,
    category, in this order)."""
    resource["clinicalStatus"] = {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
        "code": clinical_status}]}
    resource["verificationStatus"] = {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "confirmed"}]}
    resource["category"] = [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
        "code": "problem-list-item"}]}]


def build_condition(diagnosis: CancerDiagnosis, patient: dict[str, Any],
                    ctx: BuildContext) -> dict[str, Any]:
    """The EcanPrimaryCancerCondition resource of ``diagnosis`` for ``patient``."""
    codes = [c for c in (diagnosis.icd10_code, diagnosis.sks_code, diagnosis.snomed) if c]
    label = diagnosis.text or " / ".join(codes)
    resource = new_resource(ctx, "Condition", "ecan-primary-cancer-condition", label,
                            f"Diagnosed {fhir_date_time(diagnosis.diagnosed, 'diagnosed')}")
    extensions: list[dict[str, Any]] = []
    if diagnosis.morphology:
        extensions.append({"url": pilot_url("StructureDefinition",
                                             "ecan-histology-morphology-behavior"),
                           "valueCodeableConcept": {"coding": [
                               {"system": ICDO3_SYSTEM, "code": diagnosis.morphology}]}})
    if diagnosis.laterality:
        code, display = _LATERALITY[diagnosis.laterality]
        extensions.append({"url": pilot_url("StructureDefinition", "ecan-laterality"),
                           "valueCodeableConcept": {"coding": [
                               {"system": SNOMED_SYSTEM, "code": code, "display": display}]}})
    if extensions:
        resource["extension"] = extensions
    set_condition_status(resource, diagnosis.clinical_status)
    coding = []
    if diagnosis.icd10_code:
        coding.append({"system": ICD10_SYSTEM, "code": diagnosis.icd10_code})
    if diagnosis.sks_code:
        coding.append({"system": SKS_SYSTEM, "code": diagnosis.sks_code})
    if diagnosis.snomed:
        coding.append({"system": SNOMED_SYSTEM, "code": diagnosis.snomed})
    resource["code"] = {"coding": coding, "text": label}
    if diagnosis.body_site:
        resource["bodySite"] = [{"coding": [{"system": ICDO3_SYSTEM,
                                             "code": diagnosis.body_site}]}]
    resource["subject"] = reference_to(patient)
    resource["onsetDateTime"] = fhir_date_time(diagnosis.diagnosed, "CancerDiagnosis.diagnosed")
    return resource
