"""CompiledExpression.holds_without: invariants skipped on objects that lack their inputs."""

from __future__ import annotations

import pytest

from ecanfhir.fhirpath.engine import compile_expression


@pytest.mark.parametrize(("expression", "hint", "focus"), [
    ("contained.contained.empty()", "Patient", {"resourceType": "Patient", "id": "p"}),
    ("value.empty() or system.exists()", "Quantity", {"unit": "mg"}),
    ("value.exists() implies url.exists()", "Extension", {"id": "e"}),
    ("(low.empty() or (low.system = %ucum))", "Range", {"high": {"value": 1}}),
    # %resource and $this inside where(): read only for items, and there are none
    ("contained.where(('#' + id in %resource.contained.id).not()).empty()",
     "Patient", {"resourceType": "Patient", "id": "p"}),
    # %resource on the right of an `or` its left side decides without the input (FHIRPath
    # §6.5; the fast path, as the HL7 validator, leaves the right side unevaluated then)
    ("code.empty() or %resource.status.exists()", "Quantity", {"unit": "mg"}),
    # ref-1, as R4 states it (run natively)
    ("reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
     "%rootResource.contained.id.trace('ids'))", "Reference", {"display": "Dr Who"}),
])
def test_absent_inputs_hold(expression: str, hint: str, focus: dict[str, object]) -> None:
    """An expression that reads only named children holds on an object without them."""
    assert compile_expression(expression, type_hint=hint).holds_without(focus)


@pytest.mark.parametrize(("expression", "hint", "focus"), [
    # an input is there: evaluate
    ("contained.contained.empty()", "Patient", {"resourceType": "Patient", "contained": []}),
    ("value.exists() implies url.exists()", "Extension", {"valueString": "x"}),
    ("value.exists() implies url.exists()", "Extension", {"_valueCode": {"id": "c"}}),
    # it fails without its inputs
    ("value.exists() or dataAbsentReason.exists()", "Observation", {"status": "final"}),
    # it reads the focus itself, the resource, or a leading type name
    ("hasValue() or (children().count() > id.count())", "Quantity", {"unit": "mg"}),
    ("$this.unit.exists()", "Quantity", {"code": "mg"}),
    ("code.exists() or %resource.status.exists()", "Quantity", {"unit": "mg"}),
    ("Observation.status.exists()", "Observation", {"id": "o"}),
    ("contained.union($this).empty()", "Patient", {"id": "p"}),
    ("contained.empty() or %context.id.exists()", "Patient", {"id": "p"}),
    # it needs %rootResource even without a reference (`in` evaluates both sides)
    ("reference.startsWith('#').not() or (reference.substring(1) in %rootResource.id)",
     "Reference", {"display": "Dr Who"}),
    # a logical model may define choice elements the R4 model does not know
    ("value.empty() or system.exists()", "http://example.org/Model", {"unit": "mg"}),
])
def test_evaluated(expression: str, hint: str, focus: dict[str, object]) -> None:
    """Objects that hold an input, and expressions not read through named children, are
    evaluated."""
    assert not compile_expression(expression, type_hint=hint).holds_without(focus)


def test_absent_keys_name_the_json_inputs() -> None:
    """absent_keys(): each input's JSON keys, its ``_x`` and choice variants too; None when
    the expression must always be evaluated."""
    keys = compile_expression("value.exists() implies url.exists()",
                              type_hint="Extension").absent_keys()
    assert keys is not None
    assert {"url", "_url", "valueString", "_valueString", "valueCoding"} <= keys
    assert "extension" not in keys
    assert compile_expression("value.exists() or dataAbsentReason.exists()",
                              type_hint="Observation").absent_keys() is None
