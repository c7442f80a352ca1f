"""The fast path (ecanfhir.fhirpath.compiler) agrees with fhirpathpy on every expression it
compiles.

For each R4 core invariant the fast compiler accepts, and for extra expressions that exercise
each construct of the subset, generated JSON built from the names and literals of the
expression itself is evaluated twice: by the fast path and by fhirpathpy
(``test(native=False)``). Where the fast path answers, the verdict must be fhirpathpy's; where
fhirpathpy raises, the fast path must hand over (:class:`Unsupported`), unless an ``and``,
``or`` or ``implies`` was decided by its left side: the fast path does not evaluate the right
side then (as the HL7 validator's FHIRPathEngine does not), fhirpathpy does, and may fail on it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecanfhir import Registry
from ecanfhir.fhirpath import fast_operators
from ecanfhir.fhirpath.compiler import FastExpression, Unsupported, compile_fast
from ecanfhir.fhirpath.engine import (
    NATIVE_INVARIANTS,
    CompiledExpression,
    EvalEnv,
    FhirPathEvaluationError,
    Primitive,
    compile_expression,
)
from ecanfhir.fhirpath.model import R4_MODEL

# -- the expressions -------------------------------------------------------------------------


def _core() -> Iterator[tuple[str, str, str | None, bool, str]]:
    """(key, expression, type hint, primitive focus?, resource type) of each core invariant."""
    registry = Registry()
    seen: set[tuple[str, str | None]] = set()
    for entry in registry.core.entries.values():
        if entry.resource_type != "StructureDefinition":
            continue
        definition = registry.core.load(entry.url) or {}
        is_resource = definition.get("kind") == "resource"
        resource_type = definition["type"] if is_resource else "Basic"
        for element in definition.get("snapshot", {}).get("element", []):
            path: str = element["path"]
            codes = [t["code"] for t in element.get("type", [])]
            only = codes[0] if len(codes) == 1 else None
            if "." not in path:
                hint: str | None = definition["type"]
            elif only in (None, "Element", "BackboneElement"):
                hint = path.removesuffix("[x]")
            else:
                hint = only
            primitive = hint is not None and (hint[:1].islower() or "/" in hint)
            for constraint in element.get("constraint", []):
                expression = constraint.get("expression")
                if expression and (expression, hint) not in seen:
                    seen.add((expression, hint))
                    yield constraint["key"], expression, hint, primitive, resource_type


CORE = list(_core())
CORE_EXPRESSIONS = sorted({expression for _, expression, *_ in CORE})
FAST_CORE = [case for case in CORE if compile_expression(case[1])._fast is not None]

# Constructs the core invariants use rarely or never, on types that give them data to see.
EXTRA = [
    ("given.count() = 2", "HumanName"),
    ("given.exists() and family.empty()", "HumanName"),
    ("given.first() = 'a'", "HumanName"),
    ("given.where($this = 'a').exists()", "HumanName"),
    ("given.where(length() > 1).count()", "HumanName"),
    ("given.all($this.startsWith('a'))", "HumanName"),
    ("given.select($this & '-' & family).isDistinct()", "HumanName"),
    ("given.isDistinct()", "HumanName"),
    ("given.exists($this.endsWith('x'))", "HumanName"),
    ("given contains 'a'", "HumanName"),
    ("'a' in given", "HumanName"),
    ("family != 'a' xor given.empty()", "HumanName"),
    ("family.hasValue()", "HumanName"),
    ("family.not()", "HumanName"),
    ("value.not() and url.not().not()", "Extension"),
    ("item.where(required).exists()", "Questionnaire.item"),
    ("item.where(required.not()).count() = 1", "Questionnaire.item"),
    ("item.all(required)", "Questionnaire.item"),
    ("family.matches('^[a-z]+$')", "HumanName"),
    ("family.length() >= 2", "HumanName"),
    ("family", "HumanName"),
    ("given", "HumanName"),
    ("family.trace('f') = family", "HumanName"),
    ("family.extension('http://x').exists()", "HumanName"),
    ("family.extension.count() + given.count() > 1", "HumanName"),
    ("period.start < period.end", "HumanName"),
    ("period.start = period.end", "HumanName"),
    ("use in ('usual' | 'official') implies family.exists()", "HumanName"),
    ("value > 1.5 or value <= 0", "Quantity"),
    ("value = 1 or value != 0.5", "Quantity"),
    ("comparator.exists() implies value.exists().not()", "Quantity"),
    ("value is Quantity", "Extension"),
    ("value is string or value is FHIR.boolean", "Extension"),
    ("(value as Quantity).value > 0", "Extension"),
    ("value.ofType(Coding).code = 'a'", "Extension"),
    ("value.as(string).startsWith('a')", "Extension"),
    ("extension.value.exists()", "Extension"),
    ("value.hasValue() or extension.exists()", "Extension"),
    ("%resource.id = id", "Extension"),
    ("%context.url = url and %rootResource.exists()", "Extension"),
    ("url = %`ext-patient-birthTime` or url.contains(%ucum)", "Extension"),
    ("extension.all(url.exists())", "Extension"),
    ("extension.select(value).allTrue()", "Extension"),
    ("extension.select(value).anyFalse() or extension.select(value).allFalse()", "Extension"),
    ("extension.value.anyTrue()", "Extension"),
    ("$this.url.exists() and {}.empty()", "Extension"),
    ("true and false or true implies false", "Extension"),
    ("(1 + 2) = 3 and ('a' & 'b') = 'ab'", "Extension"),
    ("entry.where(fullUrl.exists()).resource.meta.exists()", "Bundle"),
    ("entry.resource.is(Patient).not()", "Bundle"),
    ("entry.resource.ofType(Patient).count() = 1", "Bundle"),
    ("entry.first().resource.is(Composition)", "Bundle"),
    ("type = 'document' implies (timestamp.hasValue())", "Bundle"),
    ("$this = '*' or $this.length() > 0", "string"),
    ("$this.hasValue() and extension.exists()", "string"),
    ("$this >= '2020-01-01' or $this < $this", "date"),
    ("$this > 0", "integer"),
    ("$this.substring(1, 2) = 'bc' or $this.substring(3).exists()", "string"),
    ("$this.substring(0, 1).toInteger() * 3 - 1 > 4", "string"),
    ("(10 - $this.substring(0, 1).toInteger() mod 10) mod 10 = 1", "string"),
    ("$this.toInteger() div 2 = 1 or $this.toInteger().empty()", "string"),
    ("value.toInteger() * 2 = 4", "Quantity"),
    # toString(): strings, dates and times as written, integers; fhirpathpy's other texts
    # (booleans, decimals) are its own.
    ("start.toString().matches('T.*(Z|[+-][0-9]{2}:[0-9]{2})$')", "Period"),
    ("start.exists() implies start.toString().substring(0, 4).toInteger() > 2020", "Period"),
    ("family.toString() = family and given.toString().length() > 1", "HumanName"),
    ("value.toString() = '1' or value.toString().startsWith('1')", "Quantity"),
    ("value.toString().exists() or value.toString().empty()", "Extension"),
    ("$this.toString() = '2020' or $this.toString().length() = 10", "date"),
    ("$this.toString().toInteger() = $this", "integer"),
    ("(1 + 2).toString() & ('a' | 'b').toString() = '3'", "Extension"),
    # A leading type name (FHIRPath §4.1): the context when of that type, else nothing.
    ("HumanName.given.count() = 2", "HumanName"),
    ("Quantity.value.exists() implies HumanName.family.exists()", "HumanName"),
    ("Extension.value.exists() or Element.extension.empty()", "Extension"),
    ("given.where(HumanName.family.exists()).empty()", "HumanName"),
    ("Bundle.entry.resource.ofType(Patient).count() = 1", "Bundle"),
    # iif() runs its criterion and results on the whole input collection.
    ("extension.iif(exists(), url.exists(), true)", "Extension"),
    ("given.iif(count() > 1, family.exists())", "HumanName"),
    ("iif(family.exists(), given.exists(), period.empty())", "HumanName"),
    ("period.iif(empty(), true, start.exists())", "HumanName"),
    ("given.iif(count(), true, false)", "HumanName"),  # one item equal to true: 1 counts
    ("entry.resource.iif(empty(), true, ofType(Patient).exists())", "Bundle"),
]
EXTRA_FAST = [(expression, hint) for expression, hint in EXTRA
              if compile_expression(expression, type_hint=hint)._fast is not None]


def test_extra_expressions_are_on_the_fast_path() -> None:
    """Every extra expression, written to exercise the subset, compiles fast."""
    assert [e for e, _ in EXTRA if (e, _) not in EXTRA_FAST] == []


def test_core_coverage() -> None:
    """Most core invariants the natives do not cover compile fast, app-4 too: its leading
    ``Appointment`` is a type step (FHIRPath §4.1) on both tiers."""
    interpreted = [e for e in CORE_EXPRESSIONS if e not in NATIVE_INVARIANTS]
    fast = [e for e in interpreted if compile_expression(e)._fast is not None]
    assert len(fast) >= 0.9 * len(interpreted)
    assert compile_expression(
        "Appointment.cancelationReason.exists() implies "
        "(Appointment.status='noshow' or Appointment.status='cancelled')")._fast is not None


@pytest.mark.parametrize("expression", [
    "children().count() > 1", "(family | 'x').count()", "name.tail().exists()", "@2020 < birthDate",
    "value > 5 'mg'", "a | b", "-1 < 0", "a[0]", "name.$this", "$index", "a.length",
    "a.matches('(')", "a.startsWith(b)", "a ~ b", "a.select(1).is(System.Integer)",
])
def test_outside_the_subset(expression: str) -> None:
    """Syntax outside the subset is not compiled; fhirpathpy evaluates it."""
    assert compile_fast(CompiledExpression(expression)._ast) is None


# -- where fhirpathpy departs from FHIRPath, the fast path hands over -----------------------

TWO_HALVES = {"given": ["a", "b"], "_given": [None, {"id": "g"}]}


@pytest.mark.parametrize(("expression", "hint", "focus"), [
    # `_given` items are separate nodes to fhirpathpy: counted twice, compared as two.
    ("given.count() = 2", "HumanName", TWO_HALVES),
    ("family = 'a'", "HumanName", {"family": "a", "_family": {"id": "f"}}),
    ("family.startsWith('a')", "HumanName", {"family": "a", "_family": {"id": "f"}}),
    # JSON nulls that only pad arrays are no values.
    ("given.exists()", "HumanName", {"given": [None], "_given": [None]}),
    # fhirpathpy: ''.startsWith('') is false.
    ("family.startsWith('')", "HumanName", {"family": ""}),
    # Strings of dates and times compare as strings in fhirpathpy: right only at one
    # precision and in one zone.
    ("start <= end", "Period", {"start": "2020-01-01", "end": "2020-01-01T10:00:00Z"}),
    ("start = end", "Period", {"start": "2020-01-01T10:00:00Z",
                               "end": "2020-01-01T11:00:00+01:00"}),
    ("start > '2020'", "Period", {"start": "2021"}),  # no implicit String to DateTime
    ("start.startsWith('2020')", "Period", {"start": "2020-01-01"}),  # nor DateTime to String
    # A JSON float against a decimal literal: fhirpathpy compares binary and decimal exactly.
    ("value = 0.1", "Quantity", {"value": 0.1}),
    # fhirpathpy keeps items whose criterion is a `false` element, and counts any
    # non-Boolean criterion by Python truth.
    ("item.where(required).exists()", "Questionnaire.item", {"item": [{"required": False}]}),
    ("item.all(linkId)", "Questionnaire.item", {"item": [{"linkId": "a"}]}),
    # Operands of `or` must be Booleans to fhirpathpy; `not()` of several items is empty.
    ("family or true", "HumanName", {"family": "a"}),
    ("given.not()", "HumanName", {"given": ["a", "b"]}),
    # A Quantity element is fhirpathpy's own quantity type in `=`.
    ("$this = $this", "Quantity", {"value": 1}),
    # System types: fhirpathpy's names (`String`) are not FHIRPath's (`string`).
    ("id is string", "Patient", {"resourceType": "Patient", "id": "a"}),
    # toString(): fhirpathpy writes Python's texts of a boolean ('True') and of a decimal.
    ("active.toString() = 'true'", "Patient", {"resourceType": "Patient", "active": True}),
    ("value.toString() = '100.0'", "Quantity", {"value": 100.0}),
    ("period.toString().exists()", "HumanName", {"period": {"start": "2020"}}),
])
def test_hands_over_where_fhirpathpy_departs(expression: str, hint: str, focus: Any) -> None:
    """Data where fhirpathpy's answer is not FHIRPath's goes to fhirpathpy, unanswered."""
    compiled = compile_expression(expression, type_hint=hint)
    assert compiled._fast is not None
    env = EvalEnv.for_resource({"resourceType": "Basic"})
    with pytest.raises(Unsupported):
        compiled._fast.test(focus, compiled._type_path, env)


@pytest.mark.parametrize(("expression", "hint", "focus", "holds"), [
    ("given.exists()", "HumanName", {"_given": [{"id": "g"}]}, True),
    ("given.count() = 2", "HumanName", {"given": ["a", "b"]}, True),
    ("given.where($this = 'b').empty()", "HumanName", {"given": ["a", "b"]}, False),
    ("family.hasValue()", "HumanName", {"_family": {"id": "f"}}, False),
    ("family.hasValue()", "HumanName", {"family": "a", "_family": {"id": "f"}}, True),
    ("family.not()", "HumanName", {"family": "a"}, False),
    ("family.exists() implies family.length() > 3", "HumanName", {"family": "abc"}, False),
    ("start <= end", "Period", {"start": "2020-01-01T10:00:00Z",
                                "end": "2020-01-01T09:00:00Z"}, False),
    ("value > 100", "Quantity", {"value": 100.5}, True),
    ("value.exists() or unit", "Quantity", {}, True),
    ("value is Quantity", "Extension", {"url": "u", "valueAge": {"value": 1}}, True),
    ("value.code = 'a'", "Extension", {"url": "u", "valueCoding": {"code": "a"}}, True),
    ("value.code = 'a'", "Extension", {"url": "u", "valueCode": "a"}, True),
    ("%resource.id = 'r'", "HumanName", {}, True),
    ("(1 | 1 | 'a').count() = 2", "HumanName", {}, True),
    ("given", "HumanName", {"given": ["a", "b"]}, False),
    ("{}", "HumanName", {}, True),
    # A value with its `_x` extensions compares by its value.
    ("start <= end", "Period", {"start": "2020", "end": "2019",
                                "_start": {"extension": [{"url": "u", "valueString": "x"}]}},
     False),
    # toString(): a dateTime as written, an integer in digits; of several items, empty.
    ("start.toString() = '2020-01-01T10:00:00+01:00'", "Period",
     {"start": "2020-01-01T10:00:00+01:00"}, True),
    ("start.toString().matches('T.*Z$')", "Period", {"start": "2020-01-01T10:00:00+01:00"},
     False),
    ("value.toString() = '-7'", "Quantity", {"value": -7}, True),
    ("given.toString().empty()", "HumanName", {"given": ["a", "b"]}, True),
    ("family.toString().exists()", "HumanName", {"family": "a", "_family": {"id": "f"}}, False),
    # A resource is typed by its resourceType, whatever the hint.
    ("value.exists()", "Basic", {"resourceType": "Observation", "valueString": "x"}, True),
])
def test_fast_verdicts(expression: str, hint: str, focus: Any, holds: bool) -> None:
    """The fast path answers these itself, with FHIRPath's verdict."""
    compiled = compile_expression(expression, type_hint=hint)
    assert compiled._fast is not None
    env = EvalEnv.for_resource({"resourceType": "Basic", "id": "r"})
    assert compiled._fast.test(focus, compiled._type_path, env) is holds
    assert compiled.test(focus, env, native=False) is holds


# -- generated data, built from the expression's own names and literals ---------------------


def _walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("children") or ():
        yield from _walk(child)


def _choice_suffixes(name: str) -> list[str]:
    suffixes = {t for path, types in R4_MODEL["choiceTypePaths"].items()
                if path.rsplit(".", 1)[-1] == name for t in types}
    return sorted(suffixes)


STRINGS = ["", "a", "ab", "x", "*", "1", "0", "%", "#a", "home", "history", "Patient/1",
           "http://x/_history/1", "http://unitsofmeasure.org", "2020", "2020-01", "2020-01-01",
           "2021-06-01", "2020-01-01T10:00:00Z", "2020-01-01T09:00:00Z",
           "2020-01-01T10:00:00+01:00", "2020-01-01T10:00:00.5Z", "10:00:00"]
COMPANIONS: list[dict[str, Any]] = [
    {"id": "c"}, {"extension": [{"url": "http://x", "valueString": "e"}]},
    {"id": "c", "extension": []}, {}]


def _names(expression: str, hint: str | None) -> tuple[list[str], list[Any]]:
    """The member names an expression uses (with choice variants), and its literals."""
    ast = compile_expression(expression, type_hint=hint)._ast
    names: set[str] = {"id", "extension", "url"}
    literals: list[Any] = []
    for node in _walk(ast):
        if node["type"] == "MemberInvocation":
            name = node["children"][0]["text"].strip("`")
            names.add(name)
            suffixes = _choice_suffixes(name)
            names.update(name + s for s in random.Random(name).sample(
                suffixes, min(4, len(suffixes))))
        elif node["type"] in ("StringLiteral", "NumberLiteral", "BooleanLiteral"):
            literals.append(compile_expression(node["text"]).evaluate({}, ENV0)[0])
    return sorted(names), literals


ENV0 = EvalEnv.for_resource({"resourceType": "Basic"})


def _scalars(literals: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(STRINGS + [v for v in literals if isinstance(v, str)] or [""]),
        st.sampled_from([0, 1, 2, -1, 0.5, 1.0, 100.0, 150.5, True, False]),
        st.sampled_from(literals) if literals else st.nothing())


def _objects(names: list[str], literals: list[Any]) -> st.SearchStrategy[dict[str, Any]]:
    scalars = _scalars(literals)
    companions = st.sampled_from(COMPANIONS)

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        values = st.one_of(scalars, inner, st.lists(st.one_of(scalars, inner, st.none()),
                                                    max_size=3))
        underscored = st.one_of(companions, st.lists(st.one_of(companions, st.none()),
                                                     max_size=3), scalars)
        keys = st.sampled_from(names)
        return st.builds(
            lambda plain, extra: {**plain, **{"_" + k: v for k, v in extra.items()}},
            st.dictionaries(keys, values, max_size=4),
            st.dictionaries(keys, underscored, max_size=2))

    return st.recursive(st.just({}), extend, max_leaves=8)


@st.composite
def _cases(draw: st.DrawFn, expression: str, hint: str | None, primitive: bool,
           resource_type: str) -> tuple[Any, EvalEnv]:
    names, literals = _names(expression, hint)
    objects = _objects(names, literals)
    resource = {**draw(objects), "resourceType": resource_type}
    if hint == resource_type:
        focus: Any = resource
    elif primitive:
        focus = Primitive(draw(st.one_of(st.none(), _scalars(literals))),
                          draw(st.one_of(st.none(), st.sampled_from(COMPANIONS))))
    else:
        focus = draw(st.one_of(objects, objects, st.lists(objects, max_size=2)))
    if hint == "Bundle" and isinstance(focus, dict):
        entries = draw(st.lists(st.builds(
            lambda entry, inner: {**entry, "resource": {**inner, "resourceType": "Patient"}},
            objects, objects), max_size=2))
        focus = {**focus, "entry": entries}
    return focus, EvalEnv(resource=resource, root_resource=resource)


def agree(expression: str, hint: str | None, focus: Any, env: EvalEnv) -> str:
    """Assert the fast verdict is fhirpathpy's; say who decided."""
    compiled = compile_expression(expression, type_hint=hint)
    fast = compiled._fast
    assert fast is not None
    try:
        expected: bool | str = compiled.test(focus, env, native=False)
    except FhirPathEvaluationError:
        expected = "error"
    try:
        verdict = fast.test(focus, compiled._type_path, env)
    except Unsupported:
        return "fhirpathpy"
    if expected == "error":
        # Answered where fhirpathpy fails: only an operand left unevaluated may explain it.
        assert isinstance(verdict, bool)
        with pytest.raises(Unsupported):
            _both_sides(expression).test(focus, compiled._type_path, env)
        return "decided by a left operand"
    assert verdict == expected, (expression, hint, focus)
    return "fast"


def _both_sides(expression: str) -> FastExpression:
    """The expression's fast path as fhirpathpy evaluates it: both sides of every operator."""
    fast_operators.SHORT_CIRCUIT = False
    try:
        eager = compile_fast(CompiledExpression(expression)._ast)
    finally:
        fast_operators.SHORT_CIRCUIT = True
    assert eager is not None
    return eager


@pytest.mark.parametrize(("expression", "fast"), [
    ("family.exists() and given.startsWith('a')", False),
    ("given.exists() or given.startsWith('a')", True),
    ("family.exists() implies given.startsWith('a')", True),
    ("given.exists() and given.startsWith('a')", "hands over"),
    ("given.exists() implies given.startsWith('a')", "hands over"),
    ("family.exists() or given.startsWith('a')", "hands over"),
    ("family.exists() xor given.startsWith('a')", "hands over"),
])
def test_a_left_operand_that_decides_leaves_the_right_unevaluated(expression: str,
                                                                   fast: bool | str) -> None:
    """``false and``, ``true or`` and ``false implies`` are decided by their left side (FHIRPath
    §6.5; the HL7 validator's FHIRPathEngine.preOperate): the right side, which fhirpathpy
    cannot evaluate on two given names, is not evaluated. Any other left side (and xor) needs
    the right one, and the data goes to fhirpathpy."""
    compiled = compile_expression(expression, type_hint="HumanName")
    env = EvalEnv.for_resource({"resourceType": "Basic"})
    focus = {"given": ["a", "b"]}
    with pytest.raises(FhirPathEvaluationError):
        compiled.test(focus, env, native=False)
    assert compiled._fast is not None
    try:
        verdict: bool | str = compiled._fast.test(focus, compiled._type_path, env)
    except Unsupported:
        verdict = "hands over"
    assert verdict == fast
    assert agree(expression, "HumanName", focus, env) == (
        "fhirpathpy" if fast == "hands over" else "decided by a left operand")


@pytest.mark.parametrize(("key", "expression", "hint", "primitive", "resource_type"),
                         FAST_CORE, ids=[f"{case[0]}@{case[2]}" for case in FAST_CORE])
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_agrees_on_core_invariants(key: str, expression: str, hint: str | None,
                                        primitive: bool, resource_type: str,
                                        data: st.DataObject) -> None:
    """Generated JSON: the fast path gives fhirpathpy's verdict or hands over."""
    focus, env = data.draw(_cases(expression, hint, primitive, resource_type))
    event(agree(expression, hint, focus, env))


@pytest.mark.parametrize(("expression", "hint"), EXTRA_FAST, ids=[e for e, _ in EXTRA_FAST])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_agrees_on_extra_expressions(expression: str, hint: str,
                                          data: st.DataObject) -> None:
    """Generated JSON on expressions using every construct of the subset."""
    primitive = hint[:1].islower()
    focus, env = data.draw(_cases(expression, hint, primitive, "Patient"))
    event(agree(expression, hint, focus, env))


def test_fast_path_decides_most_generated_cases() -> None:
    """The fast path is not a detour: it decides most of a fixed sample by itself."""
    counts: Counter[str] = Counter()

    @settings(max_examples=400, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def sample(data: st.DataObject) -> None:
        _, expression, hint, primitive, resource_type = data.draw(st.sampled_from(FAST_CORE))
        focus, env = data.draw(_cases(expression, hint, primitive, resource_type))
        counts[agree(expression, hint, focus, env)] += 1

    sample()
    assert counts["fast"] >= 0.6 * counts.total(), counts


@pytest.mark.parametrize(("reference", "holds"), [("#o1", False), ("#o2", True),
                                                  ("Organization/o9", False)])
def test_fast_resolve_agrees_with_fhirpathpy(reference: str, holds: bool) -> None:
    """resolve(): a contained target, a missing one, and one the resolver finds (a Bundle)."""
    patient = {"resourceType": "Patient", "managingOrganization": {"reference": reference},
               "contained": [{"resourceType": "Organization", "id": "o1", "name": "x"}]}
    elsewhere = {"resourceType": "Organization", "id": "o9", "name": "z"}
    env = EvalEnv.for_resource(patient, resolve=lambda ref: elsewhere
                               if ref == "Organization/o9" else None)
    compiled = compile_expression("managingOrganization.resolve().name = 'y'",
                                  type_hint="Patient")
    assert compiled._fast is not None
    assert compiled._fast.test(patient, compiled._type_path, env) is holds
    assert compiled.test(patient, env, native=False) is holds
