"""Terminology bindings (R4 §4.1.0 "Using codes") and codes of known code systems.

``required`` bindings are errors when the value set can be enumerated here and the code is not
in it; ``extensible`` ones are warnings; ``preferred`` and ``example`` say nothing. Codes from
code systems ecanfhir does not ship (SNOMED CT, LOINC, ICD-10, ...) are checked for syntax only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..._schema import ElementNode
from ..._terminology import EXTERNAL_SYSTEMS, check_code_syntax
from .._issue import Issue

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_binding", "check_coding_system"]

STRENGTH_SEVERITY = {"required": "error", "extensible": "warning"}


def _codings(type_code: str, value: Any) -> list[Mapping[str, Any]]:
    if type_code == "CodeableConcept":
        codings = value.get("coding") if isinstance(value, dict) else None
        return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
    if isinstance(value, dict):
        return [value]
    return []


def _vs_label(run: Run, url: str) -> str:
    vs = run.schema.registry.value_set(url)
    name = (vs or {}).get("title") or (vs or {}).get("name")
    return f"'{name}' ({url})" if name else f"'{url}'"


def check_binding(run: Run, element: ElementNode, type_code: str, value: Any,
                  at: str) -> Iterator[Issue]:
    """Check a coded value against its element's binding, and its additional bindings."""
    binding = element.binding
    if binding is None:
        return
    if binding.value_set:
        yield from _check_value_set(run, element, binding.strength, binding.value_set, type_code,
                                    value, at)
    for purpose, vs_url in binding.additional:
        for issue in _check_value_set(run, element, purpose, vs_url, type_code, value, at):
            yield Issue(issue.severity, issue.code, issue.expression,
                        issue.message + " (an additional binding)", issue.rule)


def _check_value_set(run: Run, element: ElementNode, strength: str, vs_url: str,
                     type_code: str, value: Any, at: str) -> Iterator[Issue]:
    severity = STRENGTH_SEVERITY.get(strength)
    if severity is None:
        return
    term = run.terminology
    if isinstance(value, str):  # code, string, uri bound directly
        result = term.check_code(vs_url, system=None, code=value)
        if result.outcome == "unknown" and strength == "required":
            run.unchecked.append(_unchecked(run, vs_url, [value]))
        if result.outcome == "not-member":
            yield Issue(severity, "code-invalid", at,  # type: ignore[arg-type]
                        f"the value '{value}' is not in the value set {_vs_label(run, vs_url)}, "
                        f"which is {strength}", f"binding-{strength}")
        return
    codings = _codings(type_code, value)
    if type_code == "Quantity":
        if not isinstance(value, dict) or "code" not in value:
            return
        codings = [{"system": value.get("system"), "code": value.get("code")}]
        if len(element.types) > 1:
            # A binding on a choice element is about its coded types; for a Quantity among
            # them, the HL7 validator reports a unit outside the value set as a warning.
            severity = "warning"
    coded = [c for c in codings if isinstance(c.get("code"), str)]
    if not coded:
        if type_code == "CodeableConcept" and strength == "required":
            yield Issue.error("code-invalid", at, "no code provided, and a code is required from "
                              f"the value set {_vs_label(run, vs_url)}", "binding-required")
        return
    verdicts = []
    for coding in coded:
        system = coding.get("system") if isinstance(coding.get("system"), str) else None
        verdicts.append((coding, term.check_code(vs_url, system=system, code=coding["code"])))
    if any(v.outcome == "member" for _, v in verdicts):
        return
    decided = [(c, v) for c, v in verdicts if v.outcome == "not-member"]
    if not decided or (len(decided) < len(verdicts) and type_code == "CodeableConcept"):
        # Some coding could not be judged here: it may be the one in the value set.
        if strength == "required" and len(decided) < len(verdicts):
            run.unchecked.append(_unchecked(run, vs_url, [
                f"{c.get('system', '')}#{c['code']}" for c, v in verdicts
                if v.outcome == "unknown"]))
        return
    shown = ", ".join(f"{c.get('system', '')}#{c['code']}" for c, _ in decided)
    yield Issue(severity, "code-invalid", at,  # type: ignore[arg-type]
                f"none of the codes ({shown}) is in the value set {_vs_label(run, vs_url)}, "
                f"which is {strength}", f"binding-{strength}")


def _unchecked(run: Run, vs_url: str, codes: list[str]) -> str:
    """What a required binding could not decide: the value set cannot be evaluated here."""
    return (f"the value set {_vs_label(run, vs_url)} cannot be evaluated offline, so "
            f"{', '.join(codes)} could not be checked against it")


def check_coding_system(run: Run, type_code: str, value: Any, at: str) -> Iterator[Issue]:
    """Codes must exist in the code systems that are loaded; others get a syntax check."""
    codings = _codings(type_code, value)
    if type_code == "Quantity":
        return
    term = run.terminology
    for i, coding in enumerate(codings):
        where = f"{at}.coding[{i}]" if type_code == "CodeableConcept" else at
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        if term.is_known_system(system):
            message = term.validate_system_code(system, code)
            if message:
                yield Issue.error("code-invalid", f"{where}.code", message, "code-unknown")
                continue
            display = coding.get("display")
            if run.options.check_display and isinstance(display, str):
                problem = term.check_display(system, code, display)
                if problem:
                    yield Issue.warning("invalid", f"{where}.display", problem, "display")
        else:
            syntax = check_code_syntax(system, code)
            if syntax is not None:
                yield Issue.error("code-invalid", f"{where}.code", syntax, "code-syntax")
            if system in EXTERNAL_SYSTEMS:
                run.external_systems.add(system)

