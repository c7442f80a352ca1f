"""EcanOrganization: a message participant addressed by SOR and GLN (DOMAIN.md §2(a)).

DK-core SORIdentifier (``urn:oid:1.2.208.176.1.1``, at least 11 digits) and GLNIdentifier (13
digits with the GS1 mod-10 check digit); MedComMessagingOrganization requires both on every
sender and receiver (our invariant ``ecan-org-2``). The MedCom endpoint form is
``https://sor2.sum.dsdn.dk/#id=<SOR>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._exceptions import BuildError
from ._context import BuildContext
from ._resource import new_resource

__all__ = ["SOR_SYSTEM", "Organization", "build_organization", "gln_check_digit"]

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
_SOR = re.compile(r"^[0-9]{11,}$")
_GLN = re.compile(r"^[0-9]{13}$")


def gln_check_digit(first12: str) -> int:
    """The GS1 mod-10 check digit of a GLN's first 12 digits.

    >>> gln_check_digit("579000016806")
    4
    """
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


@dataclass(frozen=True, slots=True)
class Organization:
    """A hospital department or national cancer centre taking part in a message.

    Args:
        name: the organisation's name.
        sor: its SOR code (at least 11 digits).
        gln: its GLN/EAN location number (13 digits, GS1 check digit).
        endpoint: where its messages go; default ``https://sor2.sum.dsdn.dk/#id=<sor>``.

    Raises:
        BuildError: SOR or GLN malformed, empty name.

    >>> Organization("Oncology, Aarhus", sor="123456789012", gln="5790000168064").address
    'https://sor2.sum.dsdn.dk/#id=123456789012'
    >>> Organization("X", sor="123456789012", gln="5790000168065")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Organization.gln: ... check digit ...
    """

    name: str
    sor: str
    gln: str
    endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise BuildError("Organization.name: must not be empty")
        if not _SOR.match(self.sor):
            raise BuildError(f"Organization.sor: a SOR code has at least 11 digits, not "
                             f"{self.sor!r}")
        if not _GLN.match(self.gln):
            raise BuildError(f"Organization.gln: a GLN has exactly 13 digits, not {self.gln!r}")
        if gln_check_digit(self.gln[:12]) != int(self.gln[12]):
            raise BuildError(f"Organization.gln: {self.gln} fails the GS1 mod-10 check digit "
                             f"(expected {gln_check_digit(self.gln[:12])} last)")
        if self.endpoint is not None and not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", self.endpoint):
            raise BuildError(f"Organization.endpoint: must be an absolute URL, not "
                             f"{self.endpoint!r}")

    @property
    def address(self) -> str:
        """The endpoint messages to this organisation are sent to."""
        return self.endpoint or f"https://sor2.sum.dsdn.dk/#id={self.sor}"


def build_organization(org: Organization, ctx: BuildContext) -> dict[str, Any]:
    """The EcanOrganization resource of ``org`` (SOR and GLN identifiers, narrative)."""
    resource = new_resource(ctx, "Organization", "ecan-organization",
                            org.name, f"SOR {org.sor}, GLN {org.gln}")
    resource["identifier"] = [
        {"use": "official", "system": SOR_SYSTEM, "value": org.sor},
        # `use` official as DK-core's dk-core-gln-identifier fixes it (MedCom's EAN-ID slice).
        {"use": "official", "system": ctx.gln_system, "value": org.gln},
    ]
    resource["active"] = True
    resource["name"] = org.name
    return resource
