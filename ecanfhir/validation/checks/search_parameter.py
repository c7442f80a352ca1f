"""SearchParameter and CapabilityStatement search parameters, checked against the definitions
they build on (R4 searchparameter.html, capabilitystatement.html).

A SearchParameter that names ``derivedFrom`` refines that parameter (R4 SearchParameter
.derivedFrom: "the definition ... is derived from another"): it searches a subset of the same
resources, with the same type and in effect the same expression. A CapabilityStatement search
parameter that names its ``definition`` has that definition's type. As in the HL7 validator:

=========================================  ========================================  =========
situation                                  rule                                      severity
=========================================  ========================================  =========
derivedFrom not loaded                     cannot be checked                         warning (*)
a base the derivedFrom parameter lacks     bases are a subset (or it is on Resource) error
another type                               same type                                 error
another expression                         the same, for the bases in common          warning
composite with fewer than two components   a composite combines two or more          error
expression that does not parse             FHIRPath (R4 fhirpath.html)               error
CapabilityStatement searchParam type       the definition's type                     error
=========================================  ========================================  =========

(*) information for a core parameter (``http://hl7.org/fhir/SearchParameter/…``): ecanfhir
does not ship the core SearchParameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import Registry
from ...fhirpath.engine import FhirPathError, compile_expression
from .._issue import Issue
from .json_values import array, dicts

__all__ = ["check_capability_search_params", "check_search_parameter"]

CORE_PREFIX = "http://hl7.org/fhir/SearchParameter/"


def _strings(value: Any) -> list[str]:
    return [v for v in array(value) if isinstance(v, str)]


def check_search_parameter(sp: Mapping[str, Any], at: str, *,
                           registry: Registry) -> Iterator[Issue]:
    """derivedFrom consistency and composite components of one SearchParameter."""
    expression = sp.get("expression")
    if isinstance(expression, str) and expression.strip():
        problem = _syntax_error(expression)
        if problem:
            yield Issue.error("invalid", f"{at}.expression", f"the expression is not valid "
                              f"FHIRPath: {problem}", "searchparameter-expression")
    master_url = sp.get("derivedFrom")
    if isinstance(master_url, str) and master_url:
        yield from _derived(sp, master_url, at, registry)
    components = dicts(sp.get("component"))
    if sp.get("type") == "composite" and len(components) < 2:
        yield Issue.error("business-rule", at, f"a composite search parameter combines two or "
                          f"more components; this one has {len(components)}",
                          "searchparameter-components")


def _syntax_error(expression: str) -> str | None:
    """The FHIRPath syntax error of an expression, if any (functions and variables this engine
    does not know are not held against it: another engine may know them)."""
    try:
        compile_expression(expression)
    except FhirPathError as exc:
        message = str(exc)
        if any(word in message for word in ("unknown function", "unknown variable",
                                            "arguments")):
            return None
        return message
    return None


def _derived(sp: Mapping[str, Any], master_url: str, at: str,
             registry: Registry) -> Iterator[Issue]:
    master = registry.get(master_url, "SearchParameter")
    if master is None:
        message = (f"the SearchParameter {master_url} it is derived from is not loaded, so the "
                   "derivation cannot be checked")
        if master_url.startswith(CORE_PREFIX):
            yield Issue.information("informational", f"{at}.derivedFrom", message,
                                    "searchparameter-derived")
        else:
            yield Issue.warning("not-found", f"{at}.derivedFrom", message + " (load its package "
                                "with --ig / load_ig)", "searchparameter-derived")
        return
    master_bases = set(_strings(master.get("base")))
    bases = _strings(sp.get("base"))
    for i, base in enumerate(bases):
        if base not in master_bases and "Resource" not in master_bases:
            yield Issue.error("business-rule", f"{at}.base[{i}]", f"{base} is not a base of the "
                              f"SearchParameter it is derived from ({master_url}: "
                              f"{', '.join(sorted(master_bases))})", "searchparameter-derived")
    kind, master_kind = sp.get("type"), master.get("type")
    if isinstance(kind, str) and isinstance(master_kind, str) and kind != master_kind:
        yield Issue.error("business-rule", f"{at}.type", f"the type {kind} differs from the type "
                          f"{master_kind} of the SearchParameter it is derived from "
                          f"({master_url})", "searchparameter-derived")
    expression, master_expression = sp.get("expression"), master.get("expression")
    if isinstance(expression, str) and isinstance(master_expression, str) \
            and expression != master_expression \
            and _for_bases(expression, bases) != _for_bases(master_expression, bases):
        yield Issue.warning("business-rule", f"{at}.expression", f"the expression "
                            f"'{expression}' is not the expression '{master_expression}' of "
                            f"the SearchParameter it is derived from ({master_url}), so the "
                            "derivation is likely not valid", "searchparameter-derived")


def _for_bases(expression: str, bases: list[str]) -> frozenset[str]:
    """The ``|``-separated alternatives of an expression that apply to these bases (core
    expressions cover many resource types: ``Patient.name | Person.name``)."""
    parts = {p.strip() for p in expression.split("|") if p.strip()}
    mine = {p for p in parts if any(p.lstrip("(").startswith(f"{b}.") for b in bases)}
    return frozenset(mine or parts)


def check_capability_search_params(cs: Mapping[str, Any], at: str, *,
                                   registry: Registry) -> Iterator[Issue]:
    """Each rest.resource.searchParam with a loaded definition has that definition's type."""
    for i, rest in enumerate(array(cs.get("rest"))):
        if not isinstance(rest, Mapping):
            continue
        for j, resource in enumerate(array(rest.get("resource"))):
            if not isinstance(resource, Mapping):
                continue
            for k, param in enumerate(array(resource.get("searchParam"))):
                if not isinstance(param, Mapping):
                    continue
                definition, kind = param.get("definition"), param.get("type")
                if not isinstance(definition, str) or not isinstance(kind, str):
                    continue
                sp = registry.get(definition, "SearchParameter")
                if sp is not None and isinstance(sp.get("type"), str) and sp["type"] != kind:
                    yield Issue.error(
                        "business-rule", f"{at}.rest[{i}].resource[{j}].searchParam[{k}].type",
                        f"the SearchParameter {definition} has the type {sp['type']}, but the "
                        f"type here is {kind}", "capability-searchparam-type")
