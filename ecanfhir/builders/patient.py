"""EcanPatient: the one patient of a message (DOMAIN.md §2(a)), identified by CPR or a foreign id.

DK-core ``DkCoreCprIdentifier``: system ``urn:oid:1.2.208.176.1.2``, use ``official``, ten digits
``DDMMYY`` + four, the date part a real date. The seventh digit and the year give the century
(CPR-kontoret's rule), so birthDate is derived from the CPR number when not given (our warning
invariant ``ecan-pat-1``: EU core wants birthDate, MedCom messages often omit it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import new_resource
from .datatypes import Identifier

__all__ = ["CPR_SYSTEM", "Gender", "Patient", "birth_date_from_cpr", "build_patient"]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
Gender = Literal["male", "female", "other", "unknown"]
_CPR = re.compile(r"^[0-9]{10}$")


def birth_date_from_cpr(cpr: str) -> date:
    """The birth date encoded in a CPR number (DDMMYY, century from the seventh digit).

    Raises:
        BuildError: not ten digits, or the date part is not a real date.

    >>> birth_date_from_cpr("2512489996")
    datetime.date(1948, 12, 25)
    >>> birth_date_from_cpr("3102489996")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Patient.cpr: ... is not a valid date
    """
    if not _CPR.match(cpr):
        raise BuildError(f"Patient.cpr: a CPR number has exactly 10 digits, not {cpr!r}")
    day, month, yy, seventh = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        raise BuildError(f"Patient.cpr: the date part {cpr[:6]} (DDMMYY) is not a valid date"
                         ) from None


@dataclass(frozen=True, slots=True)
class Patient:
    """The patient a message is about.

    Args:
        family: family name.
        given: given names.
        cpr: Danish CPR number (10 digits); exactly one of ``cpr`` and ``foreign_identifier``.
        foreign_identifier: a national id from another country.
        birth_date: defaults to the date in the CPR number.
        gender: administrative gender.

    Raises:
        BuildError: no or two identifiers, bad CPR, birth date contradicting the CPR, no name.

    >>> Patient("Testpatient", ("Bruno",), cpr="2512489996").birth
    datetime.date(1948, 12, 25)
    """

    family: str
    given: tuple[str, ...] = ()
    cpr: str | None = None
    foreign_identifier: Identifier | None = None
    birth_date: date | None = None
    gender: Gender | None = None

    def __post_init__(self) -> None:
        if not self.family.strip():
            raise BuildError("Patient.family: must not be empty (DK name[official].family 1..1)")
        if isinstance(self.given, str):
            raise BuildError("Patient.given: a tuple of given names, not a string")
        if (self.cpr is None) == (self.foreign_identifier is None):
            raise BuildError("Patient.cpr: give exactly one of cpr and foreign_identifier")
        if self.cpr is not None:
            derived = birth_date_from_cpr(self.cpr)
            if self.birth_date is not None and self.birth_date != derived:
                raise BuildError(f"Patient.birth_date: {self.birth_date} contradicts the CPR "
                                 f"number's {derived}")
        if self.gender not in (None, "male", "female", "other", "unknown"):
            raise BuildError(f"Patient.gender: not an AdministrativeGender code: {self.gender!r}")

    @property
    def birth(self) -> date | None:
        """The birth date given, or the one in the CPR number."""
        if self.birth_date is not None or self.cpr is None:
            return self.birth_date
        return birth_date_from_cpr(self.cpr)


def build_patient(patient: Patient, ctx: BuildContext) -> dict[str, Any]:
    """The EcanPatient resource of ``patient``."""
    full_name = " ".join((*patient.given, patient.family))
    ident = (f"CPR {patient.cpr}" if patient.cpr else
             f"{patient.foreign_identifier.system} {patient.foreign_identifier.value}"
             if patient.foreign_identifier else "")
    resource = new_resource(ctx, "Patient", "ecan-patient", full_name, ident)
    if patient.cpr is not None:
        resource["identifier"] = [{"use": "official", "system": CPR_SYSTEM, "value": patient.cpr}]
    elif patient.foreign_identifier is not None:
        resource["identifier"] = [patient.foreign_identifier.to_fhir()]
    name: dict[str, Any] = {"use": "official", "family": patient.family}
    if patient.given:
        name["given"] = list(patient.given)
    resource["name"] = [name]
    if patient.gender is not None:
        resource["gender"] = patient.gender
    if patient.birth is not None:
        resource["birthDate"] = patient.birth.isoformat()
    else:
        # HL7 Europe patient-eu-core and IPS Patient-uv-ips require birthDate (1..1); IPS says
        # an unknown one is sent as data-absent-reason (R4 §2.24.0.2: a primitive may carry
        # extensions without a value).
        resource["_birthDate"] = {"extension": [{"url": DATA_ABSENT_REASON,
                                                 "valueCode": "unknown"}]}
    return resource
