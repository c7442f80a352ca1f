"""Invariants: ElementDefinition.constraint evaluated with FHIRPath (R4 §2.27.0.1 constraint).

Each constraint is compiled once (``fhirpath.engine.compile_expression`` caches); hot core
invariants run as exact native equivalents. A constraint passes when it evaluates to true or
to an empty collection, as the HL7 validator does. Best-practice constraints (dom-6) follow
``ValidationOptions.best_practice``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._exceptions import EcanfhirError
from ...definitions.schema import Constraint
from ...fhirpath.engine import EvalEnv, compile_expression
from .._issue import Issue
from .reference import resolver_for

if TYPE_CHECKING:
    from .._context import Frame, Run

__all__ = ["check_invariants", "frame_env"]


Conforms = Callable[["Run", "Frame", Any, str], bool]


def frame_env(run: Run, frame: Frame, conforms: Conforms) -> EvalEnv:
    """The FHIRPath environment of a resource: %resource, %rootResource, resolve().

    ``conforms`` is the walker's own profile check, for ``conformsTo()`` (passed in, so that
    the checks never import the walker that runs them).
    """
    return EvalEnv(
        resource=frame.resource,
        # R4 fhirpath.html §2.9.1.1.1: %rootResource is the container of a contained resource,
        # otherwise %resource itself (so a Bundle entry is its own root).
        root_resource=frame.container().resource,
        resolve=resolver_for(frame),
        member_of=lambda value, url: _member_of(run, value, url),
        conforms_to=lambda resource, url: _conforms_to(run, frame, resource, url, conforms),
    )


def _conforms_to(run: Run, frame: Frame, resource: Mapping[str, Any], url: str,
                 conforms: Conforms) -> bool | None:
    """FHIRPath conformsTo(): unknown (empty) when the profile is not loaded."""
    if run.schema.find(url) is None:
        return None
    return conforms(run, frame, resource, url)


def _member_of(run: Run, value: Any, url: str) -> bool | None:
    if isinstance(value, str):
        check = run.terminology.check_code(url, system=None, code=value)
        return None if check.outcome == "unknown" else check.outcome == "member"
    if isinstance(value, Mapping):
        codings = value.get("coding") if "coding" in value else [value]
        outcomes = []
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                system = coding.get("system") if isinstance(coding.get("system"), str) else None
                outcomes.append(run.terminology.check_code(url, system=system,
                                                           code=coding["code"]).outcome)
        if "member" in outcomes:
            return True
        if outcomes and all(o == "not-member" for o in outcomes):
            return False
    return None


def check_invariants(run: Run, constraints: Sequence[Constraint], focus: Any, frame: Frame,
                     at: str, *, type_hint: str | None = None,
                     primitive: bool = False) -> Iterator[Issue]:
    """Evaluate each constraint on ``focus``; yield an issue for each one that fails."""
    env = frame.env
    if env is None:
        return
    is_object = type(focus) is dict
    subject = _focus(focus, primitive)
    for constraint in constraints:
        severity = constraint.severity
        if constraint.best_practice:
            severity = run.options.best_practice
            if severity == "ignore":
                continue
        try:
            compiled = compile_expression(constraint.expression, type_hint=type_hint)
            if is_object and compiled.holds_without(focus):
                continue
            passed = compiled.test(subject, env)
        except EcanfhirError as exc:
            yield Issue.warning("processing", at, f"invariant {constraint.key} could not be "
                                f"evaluated: {exc}", constraint.key)
            continue
        except Exception as exc:
            yield Issue.warning("processing", at, f"invariant {constraint.key} could not be "
                                f"evaluated ({type(exc).__name__}: {exc})", constraint.key)
            continue
        if not passed:
            yield Issue(severity if severity in ("error", "warning") else "error",  # type: ignore[arg-type]
                        "invariant", at, f"constraint {constraint.key} failed: {constraint.human}"
                        f"{_defined_in(run, constraint)}", constraint.key)


def _defined_in(run: Run, constraint: Constraint) -> str:
    """The profile a failed constraint comes from (the HL7 validator: INV_FAILED_SOURCE);
    nothing for those of a type's own definition (a specialization)."""
    source = constraint.source
    structure = run.schema.find(source) if source else None
    return f" (defined in {source})" if structure is not None \
        and structure.derivation == "constraint" else ""


def _focus(focus: Any, primitive: bool) -> Any:
    if not primitive:
        return focus
    from ...fhirpath.engine import Primitive

    value, ext = focus
    return Primitive(value, ext)
