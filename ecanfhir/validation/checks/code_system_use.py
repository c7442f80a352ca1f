"""What a Coding's ``system`` (and ``version``) names, and whether its code can be checked
(R4 datatypes.html#Coding; terminologies-systems.html), as the HL7 validator says it
(``InstanceValidator.checkCode`` and the terminology context behind it, hapifhir/
org.hl7.fhir.core):

=================================================  ===========================  =============
system                                             rule                         level
=================================================  ===========================  =============
LOINC, UCUM or RxNorm URL with something appended  not that code system's URL   error
a loaded CodeSystem that is a supplement           not a code system to code    error
                                                   from (``content = supplement``)
a loaded CodeSystem without its codes              codes cannot be checked      information
(``content = not-present``)
a version that no loaded CodeSystem has            codes cannot be checked      warning
not loaded, and not one known by name (SNOMED CT,  codes cannot be checked      information
LOINC, ...: ``EXTERNAL_SYSTEMS``)
=================================================  ===========================  =============

A SNOMED CT URL with a module appended (``http://snomed.info/sct/554471000005108``, the Danish
edition) is an error to the HL7 validator too, but published Danish examples write it so, so
ecanfhir leaves it alone (the edition belongs in ``Coding.version``). Example code systems
(RFC 2606 names: ``example.org``, ``example.com``, ``example.net``, ``*.example``) are not
reported as unknown, as the HL7 validator leaves ``example.org`` when examples are allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...terminology.value_sets import EXTERNAL_SYSTEMS
from .._issue import Issue
from .uri import host_within

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_code_system_use"]

# Code systems whose URL is the whole identity: nothing may be appended.
_EXACT_SYSTEMS = ("http://loinc.org", "http://unitsofmeasure.org",
                  "http://www.nlm.nih.gov/research/umls/rxnorm")
# RFC 2606 names reserved for examples: the domains, and the whole .example top-level domain.
_EXAMPLE_HOSTS = ("example.org", "example.com", "example.net", "example")


def check_code_system_use(run: Run, system: str, version: str | None,
                          where: str) -> Iterator[Issue]:
    """The system (and version) of one Coding at ``where`` that has a system and a code."""
    base = next((s for s in _EXACT_SYSTEMS if system != s and system.startswith(s)), None)
    if base is not None:
        yield Issue.error("code-invalid", f"{where}.system", f"invalid system URI '{system}': "
                          f"the code system is '{base}', with nothing appended", "coding-system")
        return
    if system in EXTERNAL_SYSTEMS:
        return  # known by name, checked for syntax only offline (the tx-offline note)
    registry = run.schema.registry
    cs = registry.code_system(system)
    if cs is None:
        if not host_within(system, _EXAMPLE_HOSTS):
            yield Issue.information("not-found", where, f"a definition for the CodeSystem "
                                    f"'{system}' could not be found, so the code cannot be "
                                    "validated", "code-system-unknown")
        return
    content = cs.get("content")
    if content == "supplement":
        yield Issue.error("code-invalid", f"{where}.system", f"the CodeSystem '{system}' is a "
                          f"supplement (of {cs.get('supplements')}), so it cannot be used as "
                          "Coding.system", "coding-system")
    elif content == "not-present":
        yield Issue.information("not-found", where, f"the definition of the CodeSystem "
                                f"'{system}' does not provide any codes (content = not-present), "
                                "so the code cannot be validated", "code-system-unknown")
    if version and registry.code_system(f"{system}|{version}") is None:
        known = cs.get("version")
        shown = f"'{known}'" if isinstance(known, str) else "none stated"
        yield Issue.warning("not-found", f"{where}.version", f"a definition for the CodeSystem "
                            f"'{system}' version '{version}' could not be found, so the code "
                            f"cannot be validated (version loaded: {shown})",
                            "code-system-version")


