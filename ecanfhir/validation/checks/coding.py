"""Coding.system values that cannot be a code system, whatever the binding (R4 datatypes.html
#Coding: "system: the identification of the code system", terminologies-systems.html).

The HL7 validator checks the system of every Coding that is not a loaded code system:

===================================================  ================================  ========
system                                               rule                              severity
===================================================  ================================  ========
a ValueSet's canonical URL                           a code system, not a value set    error
on build.fhir.org                                    the published URL, not the build  error
under hl7.org/fhir, ending in .html                  the code system URL, not its page error
https: where the http: URL is a known code system    http:                             error
===================================================  ================================  ========

The HL7 validator also rejects any other unknown system under hl7.org/fhir, and a SNOMED CT,
LOINC, UCUM or RxNorm URL with a path added; ecanfhir does not: the first depends on the packages
loaded (IGs publish code systems there too), and national SNOMED CT editions are written as
``http://snomed.info/sct/{module}`` in published Danish examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ...definitions.compiled import Binding
from .._issue import Issue
from .code_system_use import check_code_system_use

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_coding_systems"]

_HL7_FHIR = re.compile(r"https?://(www\.)?hl7\.org/fhir(/|$)")


def _codings(type_code: str, value: Any) -> list[tuple[Mapping[str, Any], int | None]]:
    """The codings of a value, each with its index in ``coding`` (None: the value itself)."""
    if type(value) is not dict and not isinstance(value, Mapping):
        return []
    if type_code == "Coding":
        return [(value, None)]
    codings = value.get("coding")
    if type_code != "CodeableConcept" or not isinstance(codings, list):
        return []
    return [(c, i) for i, c in enumerate(codings) if type(c) is dict or isinstance(c, Mapping)]


def _where(at: str, index: int | None) -> str:
    return at if index is None else f"{at}.coding[{index}]"


def check_coding_systems(run: Run, type_code: str, value: Any, at: str, *,
                         binding: Binding | None = None) -> Iterator[Issue]:
    """The systems of a Coding or of a CodeableConcept's codings; with a binding, codes
    without a system."""
    codings = _codings(type_code, value)
    if binding is not None and binding.value_set and binding.strength in _JUDGED:
        yield from _bound(codings, binding, at)
    for coding, index in codings:
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        version = coding.get("version")
        version = version if isinstance(version, str) else None
        # The findings depend on the system and version alone: worked out once for each.
        findings = run.terminology.remember(("coding-system", system, version),
                                            _system_findings, run, system, version)
        for issue in findings:
            yield issue.under(_where(at, index))


def _system_findings(run: Run, system: str, version: str | None) -> tuple[Issue, ...]:
    """:func:`check_coding_systems`'s issues on a coding of ``system`` (with a code),
    located relative to it."""
    problem = None if run.schema.registry.code_system(system) is not None \
        else _problem(run, system)
    if problem:
        return (Issue.error("code-invalid", ".system", problem, "coding-system"),)
    return tuple(check_code_system_use(run, system, version, ""))


_JUDGED = ("required", "extensible", "preferred")


def _bound(codings: list[tuple[Mapping[str, Any], int | None]], binding: Binding,
           at: str) -> Iterator[Issue]:
    """What a bound value cannot be checked for (R4 terminologies.html#strength)."""
    for coding, index in codings:
        if isinstance(coding.get("code"), str) and "system" not in coding:
            yield Issue.warning("invalid", _where(at, index), "the coding has a code but no "
                                "system: a code without a system has no defined meaning and "
                                "cannot be checked against the value set "
                                f"{binding.value_set}", "coding-system")


def _problem(run: Run, system: str) -> str | None:
    registry = run.schema.registry
    if registry.value_set(system) is not None:
        return f"'{system}' is a value set, not a code system: Coding.system names a code system"
    if system.startswith(("http://build.fhir.org", "https://build.fhir.org")):
        return f"'{system}' is a build of the specification: use the published code system URL"
    if _HL7_FHIR.match(system) and system.endswith(".html"):
        return f"'{system}' is a web page: use the URL of the code system it shows"
    if system.startswith("https:") and registry.code_system("http:" + system[6:]) is not None:
        return f"'{system}' wrongly starts with https: the code system is 'http:{system[6:]}'"
    return None
