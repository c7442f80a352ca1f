"""CompiledExpression.tester(): the same verdicts as test(), straight to the expression's tiers
(a native, the fast path, fhirpathpy) and handing over between them as test() does."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir.fhirpath.engine import (
    NATIVE_INVARIANTS,
    EvalEnv,
    FhirPathEvaluationError,
    Primitive,
    compile_expression,
)

ENV = EvalEnv.for_resource({"resourceType": "Patient", "id": "p"})
QTY_3 = "code.empty() or system.exists()"  # native
FAST = "family.exists() implies given.count() = 2"
INTERPRETED = "given.tail().exists() or family.exists()"  # tail(): not in the fast subset

CASES: list[tuple[str, str, Any]] = [
    (QTY_3, "Quantity", {"code": "mg", "system": "http://unitsofmeasure.org"}),
    (QTY_3, "Quantity", {"code": "mg"}),
    (QTY_3, "Quantity", [{"code": "mg"}, {"value": 1}]),  # a list: never the native
    (QTY_3, "Quantity", {"code": ["mg", "g"]}),  # data the native leaves to the others
    (FAST, "HumanName", {"family": "a", "given": ["b", "c"]}),
    (FAST, "HumanName", {"family": "a", "given": ["b"]}),
    # `_given` halves: the fast path hands over, fhirpathpy counts three items
    (FAST, "HumanName", {"family": "a", "given": ["b", "c"], "_given": [None, {"id": "g"}]}),
    (INTERPRETED, "HumanName", {"given": ["a", "b"]}),
    (INTERPRETED, "HumanName", {"given": ["a"]}),
    ("$this.hasValue() and extension.exists()", "string",
     Primitive("abc", {"extension": [{"url": "http://x", "valueString": "y"}]})),
    ("$this.hasValue() and extension.exists()", "string", "abc"),
]


@pytest.mark.parametrize(("expression", "hint", "focus"), CASES)
def test_tester_gives_the_verdict_of_test(expression: str, hint: str, focus: Any) -> None:
    compiled = compile_expression(expression, type_hint=hint)
    assert compiled.tester()(focus, ENV) is compiled.test(focus, ENV)


def test_the_cases_reach_every_tier() -> None:
    """A native, a fast-only and an interpreted expression are among the cases."""
    assert QTY_3 in NATIVE_INVARIANTS
    fast = compile_expression(FAST, type_hint="HumanName")
    assert fast._fast is not None and fast._native is None
    interpreted = compile_expression(INTERPRETED, type_hint="HumanName")
    assert interpreted._fast is None and interpreted._native is None
    halves = CASES[6][2]
    assert fast.tester()(halves, ENV) is fast.test(halves, ENV, native=False) is False


def test_tester_raises_where_test_raises() -> None:
    """fhirpathpy's evaluation errors come through as from test()."""
    compiled = compile_expression("family + 1 > 0", type_hint="HumanName")
    focus = {"family": "a"}
    with pytest.raises(FhirPathEvaluationError):
        compiled.test(focus, ENV)
    with pytest.raises(FhirPathEvaluationError):
        compiled.tester()(focus, ENV)
