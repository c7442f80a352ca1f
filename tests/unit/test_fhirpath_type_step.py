"""A type name as an expression's first step (FHIRPath §4.1, path selection).

``Patient.active.exists()`` on a Patient is ``active.exists()``; on anything else the step
selects nothing. Every tier must say so: fhirpathpy (``test(native=False)``), the compiled
fast path (``_fhirpath_fast``) and, for core expressions written with their type in front, the
same verdict as the native equivalent of the expression without it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir.fhirpath.engine import NATIVE_INVARIANTS, EvalEnv, Primitive, compile_expression

PATIENT = {"resourceType": "Patient", "active": True, "name": [{"family": "Testperson"}]}
INACTIVE = {"resourceType": "Patient", "name": [{"family": "Testperson"}]}
BUNDLE = {"resourceType": "Bundle", "type": "collection",
          "entry": [{"resource": PATIENT}, {"resource": {"resourceType": "Basic"}}]}
EMPTY_BUNDLE = {"resourceType": "Bundle", "type": "collection",
                "entry": [{"resource": {"resourceType": "Basic"}}]}
EXT = {"url": "http://example.org/x", "valueQuantity": {"value": 2, "unit": "kg"}}

CASES: list[tuple[str, str | None, Any, bool]] = [
    # (expression, type hint, focus, holds)
    ("Patient.active.exists()", "Patient", PATIENT, True),
    ("Patient.active.exists()", "Patient", INACTIVE, False),
    ("Patient.active = true", "Patient", PATIENT, True),
    ("Patient.active.exists() and Patient.name.family.exists()", "Patient", INACTIVE, False),
    ("(Patient.active).exists()", "Patient", PATIENT, True),
    ("Patient.name.all(family.exists())", "Patient", PATIENT, True),
    # A supertype names the context too.
    ("DomainResource.text.exists()", "Patient", PATIENT, False),
    ("Resource.id.empty()", "Patient", PATIENT, True),
    # Another type selects nothing: exists() is false, and a path alone is empty (passes).
    ("Observation.status.exists()", "Patient", PATIENT, False),
    ("Observation.status = 'final'", "Patient", PATIENT, True),
    # Bundle: the first step only; `ofType(Patient)` stays a type parameter.
    ("Bundle.entry.resource.ofType(Patient).exists()", "Bundle", BUNDLE, True),
    ("Bundle.entry.resource.ofType(Patient).exists()", "Bundle", EMPTY_BUNDLE, False),
    ("Bundle.entry.all(resource.exists())", "Bundle", BUNDLE, True),
    # Inside a function argument the step tests $this (a HumanName is not a Patient).
    ("name.where(HumanName.family.exists()).exists()", "Patient", PATIENT, True),
    ("name.where(Patient.active).exists()", "Patient", PATIENT, False),
    # Datatypes and extensions name their own type.
    ("Extension.value.exists()", "Extension", EXT, True),
    ("Extension.value.exists()", "Extension", {"url": "http://example.org/x"}, False),
    ("Extension.url.startsWith('http://example.org')", "Extension", EXT, True),
    ("Quantity.value > 1", "Quantity", {"value": 2}, True),
    ("Quantity.value > 1", "Quantity", {"value": 1}, False),
    ("Quantity.value > 1", "Age", {"value": 1}, False),  # an Age is a Quantity
    ("Element.extension.empty()", "Quantity", {"value": 1}, True),
    ("Quantity.value.exists()", "HumanName", {"family": "x"}, False),
    # A backbone element is a BackboneElement, not its resource.
    ("BackboneElement.code.exists()", "Observation.component",
     {"code": {"text": "x"}}, True),
    ("Observation.code.exists()", "Observation.component", {"code": {"text": "x"}}, False),
]


@pytest.mark.parametrize(("expression", "hint", "focus", "holds"), CASES,
                         ids=[f"{e}@{h}:{holds}" for e, h, _, holds in CASES])
def test_type_step_on_fast_path_and_fhirpathpy(expression: str, hint: str | None, focus: Any,
                                               holds: bool) -> None:
    """The fast path compiles the step and answers as fhirpathpy does, with §4.1's verdict."""
    compiled = compile_expression(expression, type_hint=hint)
    env = EvalEnv.for_resource(focus if "resourceType" in focus else PATIENT)
    assert compiled._fast is not None
    assert compiled._fast.test(focus, compiled._type_path, env) is holds
    assert compiled.test(focus, env, native=False) is holds
    assert compiled.test(focus, env) is holds


def test_type_step_selects_the_context_itself() -> None:
    """``Patient`` alone is the Patient; a later capitalised name is a member, not a type."""
    env = EvalEnv.for_resource(PATIENT)
    assert compile_expression("Patient").evaluate(PATIENT, env) == [PATIENT]
    assert compile_expression("name.Patient").evaluate(PATIENT, env) == []


def test_type_step_on_a_primitive_keeps_both_halves() -> None:
    """A primitive focus with its ``_x`` object: ``Element.extension`` reaches the extension."""
    ext = {"extension": [{"url": "http://example.org/x", "valueString": "a"}]}
    compiled = compile_expression("Element.extension.exists()", type_hint="date")
    env = EvalEnv.for_resource(PATIENT)
    assert compiled.test(Primitive("2020", ext), env, native=False) is True
    assert compiled.test(Primitive("2020", ext), env) is True
    assert compiled.test(Primitive("2020"), env) is False


NATIVE_CASES: list[tuple[str, str, str, Any, bool]] = [
    # (native expression, the same with its type in front, hint, focus, holds)
    ("extension.exists() != value.exists()",
     "Extension.extension.exists() != Extension.value.exists()", "Extension", EXT, True),
    ("extension.exists() != value.exists()",
     "Extension.extension.exists() != Extension.value.exists()", "Extension",
     {"url": "http://example.org/x"}, False),
    ("code.empty() or system.exists()", "Quantity.code.empty() or Quantity.system.exists()",
     "Quantity", {"code": "kg"}, False),
    ("code.empty() or system.exists()", "Quantity.code.empty() or Quantity.system.exists()",
     "Quantity", {"code": "kg", "system": "http://unitsofmeasure.org"}, True),
    ("dataAbsentReason.empty() or value.empty()",
     "Observation.dataAbsentReason.empty() or Observation.value.empty()", "Observation",
     {"resourceType": "Observation", "valueString": "x",
      "dataAbsentReason": {"text": "x"}}, False),
]


@pytest.mark.parametrize(("native", "typed", "hint", "focus", "holds"), NATIVE_CASES)
def test_type_step_agrees_with_the_native_tier(native: str, typed: str, hint: str, focus: Any,
                                               holds: bool) -> None:
    """A core expression with its type in front gives the native's verdict on every tier."""
    assert native in NATIVE_INVARIANTS and typed not in NATIVE_INVARIANTS
    env = EvalEnv.for_resource(focus if "resourceType" in focus else PATIENT)
    assert compile_expression(native, type_hint=hint).test(focus, env) is holds
    compiled = compile_expression(typed, type_hint=hint)
    assert compiled.test(focus, env) is holds
    assert compiled.test(focus, env, native=False) is holds


def test_natives_have_no_type_step() -> None:
    """Natives are keyed by text without a leading type name, so none needs the step."""
    assert not [text for text in NATIVE_INVARIANTS if text[:1].isupper()]
