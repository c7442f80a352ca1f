"""A resolved reference whose target meets several of the profiles its element allows.

``ElementDefinition.type.targetProfile`` (R4 §2.27) lists alternatives: the target must conform
to one. When it conforms to more than one (a Norwegian basis Organization profile and the base
Organization, say), the HL7 validator warns that it found several matching profiles
(``InstanceValidator.checkReference``, Reference_REF_MultipleMatches): the element's profiles
may not tell its targets apart as the profile author meant. A base type listed among the
targets is met by every resource of that type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from .._issue import Issue

__all__ = ["several_matching_profiles"]

_CORE = "http://hl7.org/fhir/StructureDefinition/"


class _Target(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def profile(self) -> str | None: ...


def several_matching_profiles(target: Mapping[str, Any], found_type: str,
                              matching: Sequence[_Target], conforms: Callable[[str], bool], *,
                              at: str) -> Iterator[Issue]:
    """A warning when ``target`` meets more than one of the ``matching`` targets (base types
    count as met); ``conforms(profile)`` checks it against one profile."""
    named: list[str] = []
    met: list[str] = []
    for candidate in matching:
        name = candidate.profile or _CORE + candidate.type
        if name in named:
            continue
        named.append(name)
        if candidate.profile is None or conforms(candidate.profile):
            met.append(name)
    if len(met) > 1:
        yield Issue.warning("structure", at, f"the referenced {found_type} matches several of "
                            f"the target profiles allowed here ({', '.join(met)})",
                            "reference-multiple-profiles")
