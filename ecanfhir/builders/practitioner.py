"""EcanPractitioner and EcanPractitionerRole: the referring clinician (DOMAIN.md §2(a)).

PractitionerEuCore wants ``name`` 1..*, MedCom careCommunication-4/13 given and family when the
practitioner authors; the role ties the practitioner to an EcanOrganization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import new_resource, reference_to

__all__ = ["AUTHORISATION_SYSTEM", "PractitionerRole", "build_practitioner_role"]

AUTHORISATION_SYSTEM = "https://autregweb.sst.dk"


@dataclass(frozen=True, slots=True)
class PractitionerRole:
    """A clinician acting for an organisation (the organisation is the message's sender).

    Args:
        family: family name.
        given: given names (at least one).
        role: the role as text (e.g. "Consultant oncologist").
        authorisation_id: Danish authorisation id (``https://autregweb.sst.dk``).

    Raises:
        BuildError: no family or given name.
    """

    family: str
    given: tuple[str, ...]
    role: str | None = None
    authorisation_id: str | None = None

    def __post_init__(self) -> None:
        if not self.family.strip():
            raise BuildError("PractitionerRole.family: must not be empty")
        if isinstance(self.given, str) or not self.given:
            raise BuildError("PractitionerRole.given: a non-empty tuple of given names")


def build_practitioner_role(role: PractitionerRole, organization: dict[str, Any],
                            ctx: BuildContext) -> list[dict[str, Any]]:
    """The Practitioner and PractitionerRole resources (in that order) of ``role``."""
    full_name = " ".join((*role.given, role.family))
    practitioner = new_resource(ctx, "Practitioner", "ecan-practitioner", full_name)
    if role.authorisation_id:
        practitioner["identifier"] = [{"system": AUTHORISATION_SYSTEM,
                                       "value": role.authorisation_id}]
    practitioner["name"] = [{"family": role.family, "given": list(role.given)}]
    practitioner_role = new_resource(ctx, "PractitionerRole", "ecan-practitioner-role",
                                     f"{full_name}, {role.role or 'practitioner'}",
                                     str(organization.get("name", "")))
    practitioner_role["practitioner"] = reference_to(practitioner, full_name)
    practitioner_role["organization"] = reference_to(organization)
    if role.role:
        practitioner_role["code"] = [{"text": role.role}]
    return [practitioner, practitioner_role]
