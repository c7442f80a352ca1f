"""FHIRPath compilation and evaluation for invariants (ecanfhir.fhirpath.engine)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from ecanfhir import Registry
from ecanfhir.fhirpath.engine import (
    CompiledExpression,
    EvalEnv,
    FhirPathError,
    FhirPathEvaluationError,
    Primitive,
    compile_expression,
)

XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "text": {"status": "generated", "div": f"<div {XHTML}>Ann</div>"},
    "contained": [{"resourceType": "Organization", "id": "org", "name": "Acme"}],
    "managingOrganization": {"reference": "#org"},
    "birthDate": "1970-01-01",
    "_birthDate": {"extension": [{"url": "http://x/a", "valueString": "a"},
                                 {"url": "http://x/b", "valueCode": "b"},
                                 {"url": "http://x/a", "valueString": "a2"}]},
    "name": [{"family": "Smith", "given": ["Ann", None], "_given": [None, {"id": "g2"}]}],
}
ENV = EvalEnv.for_resource(PATIENT)


def run(expression: str, focus: Any = PATIENT, env: EvalEnv = ENV,
        type_hint: str | None = None) -> list[Any]:
    return compile_expression(expression, type_hint=type_hint).evaluate(focus, env)


# -- every R4 core invariant --------------------------------------------------------------


def _core_constraints() -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    """(key, expression, element path, structure definition) of each distinct expression."""
    registry = Registry()
    seen: set[str] = set()
    for entry in registry.core.entries.values():
        if entry.resource_type != "StructureDefinition":
            continue
        definition = registry.core.load(entry.url) or {}
        for element in definition.get("snapshot", {}).get("element", []):
            for constraint in element.get("constraint", []):
                expression = constraint.get("expression")
                if expression and expression not in seen:
                    seen.add(expression)
                    yield constraint["key"], expression, element["path"], definition


CORE = list(_core_constraints())


def _minimal_focus(path: str, definition: Mapping[str, Any],
                   element_types: list[str]) -> tuple[Any, str, Mapping[str, Any]]:
    """A minimal focus for an element, its type hint, and the resource holding it."""
    is_resource = definition.get("kind") == "resource"
    resource = {"resourceType": definition["type"] if is_resource else "Basic"}
    if "." not in path:
        return (resource if is_resource else {}), definition["type"], resource
    only = element_types[0] if len(element_types) == 1 else None
    hint = path.removesuffix("[x]") if only in (None, "Element", "BackboneElement") else only
    focus: Any = {} if (hint[:1].isupper() or "." in hint) else Primitive("x")
    return focus, hint, resource


# The core invariants that a minimal (empty) focus breaks, e.g. ele-1 (an element needs a value
# or children), ext-1 (an extension needs a value or extensions); every other one holds there.
FALSE_ON_MINIMAL_FOCUS = frozenset({
    "ait-1@AllergyIntolerance", "app-1@Appointment.participant", "apr-1@AppointmentResponse",
    "bdl-5@Bundle.entry", "ces-1@CoverageEligibilityResponse.insurance.item",
    "cmp-1@Composition.section", "con-1@Condition.stage", "con-2@Condition.evidence",
    "cpb-1@CapabilityStatement", "cpb-2@CapabilityStatement", "dom-6@Account",
    "drq-1@DataRequirement.codeFilter", "eld-1@ElementDefinition.slicing",
    "eld-21@ElementDefinition.constraint", "ele-1@Extension", "exp-1@Expression",
    "ext-1@Extension", "imm-1@Immunization.education",
    "imr-1@ImmunizationRecommendation.recommendation", "inv-1@Extension",
    "inv-1@Parameters.parameter", "inv-1@TestReport.setup.action", "ipn-1@InsurancePlan",
    "lnk-1@Linkage", "mad-1@MedicationAdministration.dosage",
    "msq-6@MolecularSequence.referenceSeq", "nor-1@NutritionOrder",
    "obs-3@Observation.referenceRange", "opd-1@OperationDefinition.parameter",
    "pat-1@Patient.contact", "ppc-1@Consent", "rat-1@Ratio", "rqg-1@RequestGroup.action",
    "sdf-2@StructureDefinition.mapping", "sdf-6@StructureDefinition", "tst-4@TestScript.metadata",
    "txt-1@Narrative.div", "vs-2@Observation", "vs-3@Observation.component",
    "vsd-1@ValueSet.compose.include", "vsd-6@ValueSet.expansion.contains",
})


def test_core_has_the_expected_invariants() -> None:
    """The embedded core carries the ~200 distinct invariant expressions of R4."""
    keys = {key for key, *_ in CORE}
    assert len(CORE) > 150
    assert {"ele-1", "ext-1", "dom-2", "dom-3", "dom-6", "ref-1", "bdl-7", "txt-1"} <= keys
    assert {f"{key}@{path}" for key, _, path, _ in CORE} >= FALSE_ON_MINIMAL_FOCUS


@pytest.mark.parametrize(("key", "expression", "path", "definition"), CORE,
                         ids=[f"{key}@{path}" for key, _, path, _ in CORE])
def test_every_core_invariant_compiles_and_runs(
        key: str, expression: str, path: str, definition: Mapping[str, Any]) -> None:
    """Each core expression compiles and gives its verdict on a minimal focus, the same through
    fhirpathpy as through the native or fast evaluator: false for the invariants an empty
    element breaks (FALSE_ON_MINIMAL_FOCUS), true for all others."""
    element = next(e for e in definition["snapshot"]["element"] if e["path"] == path)
    focus, hint, resource = _minimal_focus(
        path, definition, [t["code"] for t in element.get("type", [])])
    compiled = compile_expression(expression, type_hint=hint)
    env = EvalEnv.for_resource(resource)
    assert isinstance(compiled.evaluate(focus, env), list)
    expected = f"{key}@{path}" not in FALSE_ON_MINIMAL_FOCUS
    assert compiled.test(focus, env, native=False) is expected
    assert compiled.test(focus, env) is expected


# -- compiling -------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "message"), [
    ("name.where(", "syntax error"),
    ("name given", "syntax error"),
    ("name.frobnicate()", "unknown function frobnicate()"),
    ("name.exists(1, 2)", "exists() takes [0, 1] arguments, not 2"),
    ("name.hasValue(1)", "hasValue() takes [0] arguments, not 1"),
    ("%nosuch.exists()", "unknown variable %nosuch"),
])
def test_compile_errors_name_the_expression(expression: str, message: str) -> None:
    """Syntax errors, unknown functions, wrong arity and unknown variables fail at compile."""
    with pytest.raises(FhirPathError) as caught:
        compile_expression(expression)
    assert repr(expression) in str(caught.value)
    assert message in str(caught.value)


def test_compiled_expressions_are_cached() -> None:
    """The same expression and type hint give the same object; another hint another."""
    first = compile_expression("value.exists()", type_hint="Extension")
    assert compile_expression("value.exists()", type_hint="Extension") is first
    assert compile_expression("value.exists()") is not first
    assert isinstance(first, CompiledExpression)


def test_evaluation_errors_are_fhirpath_errors() -> None:
    """A runtime failure inside fhirpathpy surfaces as FhirPathEvaluationError."""
    with pytest.raises(FhirPathEvaluationError, match=r"name\.given"):
        run("name.given + 'x'")


# -- focus, type hints and variables -------------------------------------------------------


def test_type_hint_finds_choice_elements() -> None:
    """`value` on an Extension finds valueString only when the focus is known to be one."""
    extension = {"url": "http://x", "valueString": "a"}
    assert run("value", extension, type_hint="Extension") == ["a"]
    assert run("value", extension) == []
    component = {"valueQuantity": {"value": 5, "unit": "mm"}}
    assert run("value.unit", component, type_hint="Observation.component") == ["mm"]
    assert run("value is Quantity", component, type_hint="Observation.component") == [True]


def test_type_hint_may_be_an_element_path() -> None:
    """`Patient.name` as a hint means HumanName; `Bundle.entry.link` is defined elsewhere."""
    assert run("given.first() is string", {"given": ["Ann"]}, type_hint="Patient.name") == [True]
    link = {"relation": "self", "url": "http://x"}
    assert run("url is uri", link, type_hint="Bundle.entry.link") == [True]


def test_resource_and_root_resource() -> None:
    """%resource is the holding resource, %rootResource its container."""
    contained = PATIENT["contained"][0]
    env = EvalEnv(resource=contained, root_resource=PATIENT)
    assert run("%resource.name", {}, env) == ["Acme"]
    assert run("%rootResource.id", {}, env) == ["p1"]
    assert run("%resource.id = %rootResource.id", {}, ENV) == [True]


def test_context_and_constants() -> None:
    """%context is the focus; %ucum, %`vs-x` and %`ext-x` are the FHIR constants."""
    assert run("%context.family", PATIENT["name"][0]) == ["Smith"]
    assert run("%ucum") == ["http://unitsofmeasure.org"]
    assert run("%`vs-administrative-gender`") == [
        "http://hl7.org/fhir/ValueSet/administrative-gender"]
    assert run("%`ext-patient-birthTime`") == [
        "http://hl7.org/fhir/StructureDefinition/patient-birthTime"]


def test_primitive_focus_carries_value_and_extensions() -> None:
    """Primitive(value, _x) is one focus: its value, id and extensions are all visible."""
    birth = Primitive.of(PATIENT, "birthDate")
    assert birth == Primitive("1970-01-01", PATIENT["_birthDate"])
    assert run("$this", birth, type_hint="date") == ["1970-01-01"]
    assert run("extension.count()", birth, type_hint="date") == [3]
    assert run("hasValue()", birth, type_hint="date") == [True]
    assert run("getValue()", birth, type_hint="date") == ["1970-01-01"]
    assert run("$this is date", birth, type_hint="date") == [True]
    given2 = Primitive.of(PATIENT["name"][0], "given", 1)
    assert given2 == Primitive(None, {"id": "g2"})
    assert run("hasValue()", given2, type_hint="string") == [False]
    assert run("id", given2, type_hint="string") == ["g2"]
    assert run("hasValue()", "plain", type_hint="string") == [True]


# -- the FHIR functions ----------------------------------------------------------------------


def test_has_value_in_paths() -> None:
    """hasValue() sees through a primitive's `_x` half; complex elements have no value."""
    assert run("birthDate.hasValue()") == [True]
    assert run("name.hasValue()") == [False]
    assert run("gender.hasValue()") == [False]


def test_extension_returns_every_match() -> None:
    """extension(url) returns all matching extensions (fhirpathpy alone returns the first)."""
    assert run("birthDate.extension('http://x/a').value") == ["a", "a2"]
    assert run("birthDate.extension('http://x/none')") == []


def test_children_include_extension_only_primitives() -> None:
    """children() counts `_x`-only primitives and not resourceType, so ele-1 holds there."""
    name = {"_family": {"extension": [{"url": "http://x", "valueString": "y"}]}}
    assert run("children().count()", name, type_hint="HumanName") == [1]
    assert run("children().count()", {"resourceType": "Basic"}) == [0]


def test_resolve_contained_and_through_env() -> None:
    """resolve() finds #id in contained, other references through env.resolve, else empty."""
    assert run("managingOrganization.resolve().name") == ["Acme"]
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p2"}
    observation: dict[str, Any] = {"resourceType": "Observation", "status": "final",
                   "subject": {"reference": "urn:uuid:2"}, "performer": [{"reference": "x/9"}]}
    entries: list[dict[str, Any]] = [{"fullUrl": "urn:uuid:2", "resource": patient},
                                     {"fullUrl": "urn:uuid:3", "resource": observation}]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    by_url: dict[str, Mapping[str, Any]] = {e["fullUrl"]: e["resource"] for e in entries}
    env = EvalEnv(resource=observation, root_resource=observation, resolve=by_url.get)
    assert run("subject.resolve().id", observation, env) == ["p2"]
    assert run("subject.resolve() is Patient", observation, env) == [True]
    assert run("performer.resolve()", observation, env) == []
    assert run("subject.resolve()", observation, EvalEnv.for_resource(observation)) == []
    bundle_env = EvalEnv.for_resource(bundle, resolve=by_url.get)
    assert run("entry.resource.subject.resolve().id", bundle, bundle_env) == ["p2"]


def test_member_of_and_conforms_to_ask_the_environment() -> None:
    """memberOf()/conformsTo() call the env; an unknown answer or no callback is empty."""
    calls: list[tuple[Any, str]] = []

    def member_of(value: Any, url: str) -> bool | None:
        calls.append((value, url))
        return None if url.endswith("unknown") else value == "female"

    env = EvalEnv.for_resource(PATIENT, member_of=member_of,
                               conforms_to=lambda r, url: url.endswith(r["resourceType"]))
    focus = {"gender": "female"}
    assert run("gender.memberOf('http://vs')", focus, env) == [True]
    assert run("gender.memberOf('http://unknown')", focus, env) == []
    assert calls == [("female", "http://vs"), ("female", "http://unknown")]
    assert run("gender.memberOf('http://vs')", focus) == []
    assert run("$this.conformsTo('http://x/Patient')", PATIENT, env) == [True]
    assert run("$this.conformsTo('http://x/Group')", PATIENT, env) == [False]
    assert run("$this.conformsTo('http://x/Patient')", PATIENT) == []


def test_trace_does_not_print(capsys: pytest.CaptureFixture[str]) -> None:
    """trace() with one or two arguments passes its input through silently."""
    assert run("name.family.trace('f', $this)") == ["Smith"]
    assert capsys.readouterr().out == ""


def test_as_function_filters_collections() -> None:
    """as(type) on a collection keeps the items of that type, as dom-3 needs."""
    questionnaire = {"resourceType": "Questionnaire", "status": "draft",
                     "derivedFrom": ["http://a", "http://b"], "url": "http://q"}
    assert run("descendants().as(canonical)", questionnaire) == ["http://a", "http://b"]
    assert run("descendants().as(uri).count()", questionnaire) == [3]


@pytest.mark.parametrize(("div", "ok"), [
    (f"<div {XHTML}><p>Ann <b>Smith</b><br/></p><table><tr><td>1</td></tr></table></div>", True),
    (f'<div {XHTML}><img src="x.png" alt=""/></div>', True),
    (f"<div {XHTML}><a href='#x'>link</a> &amp; text</div>", True),
    (f"<div {XHTML}><script>alert(1)</script>hi</div>", False),
    (f'<div {XHTML}><p onclick="x()">hi</p></div>', False),
    (f'<div {XHTML}><a href="javascript:x()">hi</a></div>', False),
    (f"<div {XHTML}><form><input/></form>hi</div>", False),
    (f"<div {XHTML}><iframe src='x'></iframe>hi</div>", False),
    (f"<div {XHTML}>   </div>", False),
    (f"<div {XHTML}></div>", False),
    ("<p>not a div</p>", False),
    (f"<div {XHTML}>a</div><div>b</div>", False),
    (f"<div {XHTML}>a</div>trailing", False),
    (f"<div {XHTML}><p>unclosed</div>", False),
])
def test_html_checks(div: str, ok: bool) -> None:
    """htmlChecks() applies the narrative rules of txt-1 and txt-2."""
    assert run("htmlChecks()", div, type_hint="xhtml") == [ok]
    narrative = {"status": "generated", "div": div}
    assert run("`div`.htmlChecks()", narrative, type_hint="Narrative") == [ok]


# -- invariant semantics ----------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "holds"), [
    ("true", True),
    ("false", False),
    ("gender.exists()", False),
    ("{}", True),
    ("gender = 'male'", True),  # empty: nothing contradicts it
    ("id", True),  # a single non-Boolean item counts as true
    ("name.family | id", False),  # more than one item: not a Boolean at all
])
def test_invariant_truth(expression: str, holds: bool) -> None:
    """test(): true passes, false fails, empty passes, a lone non-Boolean passes."""
    assert compile_expression(expression).test(PATIENT, ENV) is holds


def test_natives_are_used_by_test() -> None:
    """A core expression with a native equivalent runs natively unless told otherwise."""
    ele1 = compile_expression("hasValue() or (children().count() > id.count())")
    assert ele1.test({"id": "only"}, ENV) is False
    assert ele1.test({"id": "only"}, ENV, native=False) is False
    assert ele1.test(Primitive(None, {"id": "only"}), ENV) is False
    assert ele1.test(Primitive("x", {"id": "a"}), ENV) is True


def test_a_fast_expression_reads_its_syntax_tree_again_only_when_interpreted() -> None:
    """The fast path needs no syntax tree: it is dropped after compiling, and read again (from
    the user cache, or parsed) the first time the interpreter evaluates the expression; an
    expression outside the fast path keeps its own."""
    fast = compile_expression("name.given.exists() or name.family.count() > 7",
                              type_hint="Patient")
    assert fast._tree is None
    patient = {"resourceType": "Patient", "name": [{"given": ["Synthetic"]}]}
    assert fast.evaluate(patient, EvalEnv.for_resource(patient)) == [True]
    assert fast._tree is not None
    interpreted = compile_expression("name.tail().exists() or name.count() > 7",
                                     type_hint="Patient")
    assert interpreted._tree is not None
    assert interpreted.test(patient, EvalEnv.for_resource(patient)) is False
