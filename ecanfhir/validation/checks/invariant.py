"""Invariants: ElementDefinition.constraint evaluated with FHIRPath (R4 §2.27.0.1 constraint).

Each constraint is compiled once (``fhirpath.engine.compile_expression`` caches); hot core
invariants run as exact native equivalents. A constraint passes when it evaluates to true or
to an empty collection, as the HL7 validator does. Best-practice constraints (dom-6) follow
``ValidationOptions.best_practice``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._exceptions import EcanfhirError
from ...definitions.compiled import Constraint
from ...fhirpath.engine import EvalEnv, Primitive, compile_expression
from .._issue import Issue
from .reference import resolver_for

if TYPE_CHECKING:
    from .._context import Frame, Run

__all__ = ["Ready", "check_invariants", "check_ready", "frame_env", "ready"]


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
                     primitive: bool = False) -> Sequence[Issue]:
    """Evaluate each constraint on ``focus``; an issue for each one that fails.

    ``focus`` is a JSON object, or with ``primitive`` a primitive's ``(value, _x object)``.
    """
    return check_ready(run, ready(constraints, type_hint, primitive), focus, frame, at,
                       primitive=primitive)


def check_ready(run: Run, constraints: Ready, focus: Any, frame: Frame, at: str, *,
                primitive: bool = False) -> Sequence[Issue]:
    """:func:`check_invariants` for constraints made :func:`ready` before (the walker's
    element plans keep theirs)."""
    env = frame.env
    if env is None:
        return ()
    if primitive:
        value, ext = focus
        # A bare value is the focus Primitive(value) stands for (see fhirpath.model.Primitive).
        subject = value if ext is None and type(value) in _SCALARS else Primitive(value, ext)
        is_object = False
    else:
        subject = focus
        is_object = type(focus) is dict
    issues: list[Issue] | None = None
    for constraint, test, absent in constraints:
        if is_object and absent is not None and focus.keys().isdisjoint(absent):
            continue  # CompiledExpression.holds_without
        if constraint.best_practice and run.options.best_practice == "ignore":
            continue
        try:
            passed = test(subject, env)
        except Exception as exc:
            issue = _not_evaluated(constraint, at, exc)
        else:
            if passed:
                continue
            issue = _failed(run, constraint, at)
        if issues is None:
            issues = []
        issues.append(issue)
    return () if issues is None else issues


# A constraint of a list, ready to run: the constraint, the test of its compiled expression
# (or a test that raises why it cannot be compiled), and the JSON keys without which it holds
# on an object (``CompiledExpression.absent_keys``).
_Ready = tuple[Constraint, Callable[[Any, EvalEnv], bool], frozenset[str] | None]
Ready = tuple[_Ready, ...]
# Compiled once per list of constraints and type hint, not looked up per value. Keyed by the
# list's id, the list itself kept beside its entries so that the id stays its own; the lists
# are the schema's (element plans, structure roots), and the cache is emptied should some
# caller pass new lists each time.
_READY: dict[tuple[int, str | None, bool], tuple[Sequence[Constraint], Ready]] = {}
_READY_LIMIT = 50_000
_SCALARS = frozenset({str, int, float, bool})


def ready(constraints: Sequence[Constraint], type_hint: str | None, primitive: bool) -> Ready:
    """The constraints ready to run under a type hint, compiled once per list."""
    key = (id(constraints), type_hint, primitive)
    hit = _READY.get(key)
    if hit is not None and hit[0] is constraints:
        return hit[1]
    made = tuple(_prepare(constraint, type_hint, primitive) for constraint in constraints)
    if len(_READY) >= _READY_LIMIT:
        _READY.clear()
    _READY[key] = (constraints, made)
    return made


def _prepare(constraint: Constraint, type_hint: str | None, primitive: bool) -> _Ready:
    try:
        compiled = compile_expression(constraint.expression, type_hint=type_hint)
    except Exception as exc:
        error = exc

        def cannot_compile(focus: Any, env: EvalEnv) -> bool:
            raise error.with_traceback(None)  # a new traceback each time, not a growing one

        return constraint, cannot_compile, None
    return constraint, compiled.tester(), None if primitive else compiled.absent_keys()


def _failed(run: Run, constraint: Constraint, at: str) -> Issue:
    severity = run.options.best_practice if constraint.best_practice else constraint.severity
    return Issue(severity if severity in ("error", "warning") else "error",  # type: ignore[arg-type]
                 "invariant", at, f"constraint {constraint.key} failed: {constraint.human}"
                 f"{_defined_in(run, constraint)}", constraint.key)


def _not_evaluated(constraint: Constraint, at: str, exc: Exception) -> Issue:
    detail = f": {exc}" if isinstance(exc, EcanfhirError) else f" ({type(exc).__name__}: {exc})"
    return Issue.warning("processing", at,
                         f"invariant {constraint.key} could not be evaluated{detail}",
                         constraint.key)


def _defined_in(run: Run, constraint: Constraint) -> str:
    """The profile a failed constraint comes from (the HL7 validator: INV_FAILED_SOURCE);
    nothing for those of a type's own definition (a specialization)."""
    source = constraint.source
    structure = run.schema.find(source) if source else None
    return f" (defined in {source})" if structure is not None \
        and structure.derivation == "constraint" else ""
