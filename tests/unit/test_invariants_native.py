"""Native invariants agree with fhirpathpy on the same inputs (ecanfhir.fhirpath.natives).

Each native is keyed by the exact text of an R4 core expression. For hand-written edge cases
and for small generated JSON, ``test()`` with and without the native must agree, except
where fhirpathpy raises on malformed data (a list where one string belongs, a primitive with
both a value and an ``_x`` half reaching a function that wants one string): there the native
answers, by design, and the structural checks report the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecanfhir import Registry, pilot_registry, pilot_url
from ecanfhir.fhirpath.engine import (
    NATIVE_INVARIANTS,
    EvalEnv,
    FhirPathEvaluationError,
    Primitive,
    compile_expression,
)
from ecanfhir.fhirpath.natives import _DOM_3_LATER, gln_modulus_10

XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'


def _expression(key: str, path: str | None = None) -> str:
    """The exact core text of invariant ``key`` (on element ``path``, when keys repeat)."""
    registry = Registry()
    for entry in registry.core.entries.values():
        if entry.resource_type != "StructureDefinition":
            continue
        definition = registry.core.load(entry.url) or {}
        for element in definition.get("snapshot", {}).get("element", []):
            if path is not None and element["path"] != path:
                continue
            for constraint in element.get("constraint", []):
                if constraint["key"] == key:
                    expression: str = constraint["expression"]
                    return expression
    raise LookupError(key)


ELE_1 = _expression("ele-1")
EXT_1 = _expression("ext-1")
DOM_2, DOM_3, DOM_4 = _expression("dom-2"), _expression("dom-3", "Patient"), _expression("dom-4")
# dom-3 as later FHIR versions state it (R4B SubscriptionStatus; not in the R4 core we ship).
DOM_3_LATER = _DOM_3_LATER
DOM_5, DOM_6 = _expression("dom-5"), _expression("dom-6")
TXT, REF_1, NAME = _expression("txt-1"), _expression("ref-1"), _expression("sdf-0")
OBS_3, OBS_6, OBS_7 = _expression("obs-3"), _expression("obs-6"), _expression("obs-7")
VS_1, VS_2, VS_3 = _expression("vs-1"), _expression("vs-2"), _expression("vs-3")
QTY_3, SQTY_1, LST_1 = _expression("qty-3"), _expression("sqty-1"), _expression("lst-1")
RNG_2 = _expression("rng-2")
BDL_3, BDL_4, BDL_7 = _expression("bdl-3"), _expression("bdl-4"), _expression("bdl-7")
BDL_5, BDL_8 = _expression("bdl-5"), _expression("bdl-8")
CON_3, PER_1 = _expression("con-3"), _expression("per-1")


def _pilot_expression(key: str, profile: str = "ecan-message") -> str:
    """The exact text of the pilot's invariant ``key`` in one of its profiles (by default, on
    a message Bundle)."""
    definition = pilot_registry().structure_definition(
        pilot_url("StructureDefinition", profile)) or {}
    for element in definition.get("differential", {}).get("element", []):
        for constraint in element.get("constraint", []):
            if constraint["key"] == key:
                expression: str = constraint["expression"]
                return expression
    raise LookupError(key)


MSG_3 = _pilot_expression("ecan-msg-3")
GLN = _pilot_expression("gln-modulus-10", "ecan-organization")


@dataclass(frozen=True)
class Case:
    """A focus, the resource(s) around it, and the type the core declares the invariant on."""

    focus: Any
    resource: Mapping[str, Any] | None = None
    root: Mapping[str, Any] | None = None

    def env(self) -> EvalEnv:
        resource = self.resource or (self.focus if isinstance(self.focus, Mapping) else {})
        return EvalEnv(resource=resource, root_resource=self.root or resource)


HINTS = {ELE_1: "string", EXT_1: "Extension", TXT: "xhtml", REF_1: "Reference",
         OBS_3: "Observation.referenceRange", VS_3: "Observation.component",
         VS_1: "dateTime", QTY_3: "Quantity", SQTY_1: "Quantity", BDL_5: "Bundle.entry",
         BDL_8: "Bundle.entry", PER_1: "Period", GLN: "Identifier"}


def agree(expression: str, case: Case, hint: str | None = None) -> None:
    compiled = compile_expression(expression, type_hint=hint or HINTS.get(expression))
    env = case.env()
    try:
        expected = compiled.test(case.focus, env, native=False)
    except FhirPathEvaluationError:
        event("fhirpathpy rejects the data")
        return
    event(f"verdict {expected}")
    assert compiled.test(case.focus, env) is expected, (expression, case)


def test_every_native_is_a_shipped_expression_with_a_test() -> None:
    """Natives are keyed by real expression texts (R4 core, the pilot's message rule), and each
    one is tested here."""
    tested = {ELE_1, EXT_1, DOM_2, DOM_3, DOM_3_LATER, DOM_4, DOM_5, DOM_6, TXT, REF_1, NAME,
              OBS_3, OBS_6, OBS_7, VS_1, VS_2, VS_3, QTY_3, SQTY_1, LST_1, RNG_2, MSG_3,
              BDL_3, BDL_4, BDL_5, BDL_7, BDL_8, CON_3, PER_1, GLN}
    assert set(NATIVE_INVARIANTS) == tested


# -- hand-written edge cases --------------------------------------------------------------

ORG = {"resourceType": "Organization", "id": "o1"}
PATIENT_ROOT = {"resourceType": "Patient", "contained": [ORG, {"resourceType": "Basic"}]}
URN_A = "urn:uuid:00000000-0000-4000-8000-00000000000a"
URN_B = "urn:uuid:00000000-0000-4000-8000-00000000000b"


def _message(*entries: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "message",
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}


_REFERRING = {"resourceType": "Condition", "subject": {"reference": URN_A}}
MESSAGES = [
    _message((URN_A, {"resourceType": "Patient"}), (URN_B, _REFERRING)),  # resolves
    _message((URN_B, _REFERRING)),  # the urn:uuid names no entry
    _message(("http://x.example/fhir/Patient/p1", {"resourceType": "Patient", "id": "p1"}),
             (URN_B, {"resourceType": "Condition", "subject": {"reference": "Patient/p1"}})),
    _message((URN_B, {"resourceType": "Condition", "subject": {"reference": "Patient/p1"}})),
    _message((URN_B, {"resourceType": "Condition", "contained": [{"resourceType": "Patient",
                                                                   "id": "c"}],
                      "subject": {"reference": "#c"}})),  # a local reference is left out
    _message((URN_B, {"resourceType": "Provenance", "target": [{"reference": "Patient/9"}],
                      "agent": [{"who": {"reference": URN_A}}]})),  # agent.who is checked
    _message((URN_A, {"resourceType": "Organization"}),
             (URN_B, {"resourceType": "Provenance", "target": [{"reference": "Patient/9"}],
                      "agent": [{"who": {"reference": URN_A}}]})),  # target is not
    _message((URN_B, {"resourceType": "Condition",
                      "extension": [{"url": "u", "valueReference": {"reference": URN_A}}]})),
    _message((URN_B, {"resourceType": "Condition", "subject": {"display": "no reference"}})),
    {"resourceType": "Bundle", "type": "message"},
]
_BASIC = {"resourceType": "Basic"}
BUNDLES = [
    {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": _BASIC,
                                                           "request": {"method": "POST"}}]},
    {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": _BASIC}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": _BASIC,
                                                                "request": {"method": "POST"}}]},
    {"resourceType": "Bundle", "type": "history", "entry": [
        {"fullUrl": URN_A, "request": {}, "response": {}},
        {"fullUrl": URN_A, "request": {}, "response": {}}]},
    {"resourceType": "Bundle", "type": "transaction-response", "entry": [{"response": {}}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": URN_A},
                                                               {"fullUrl": URN_A}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": URN_A, "resource": {**_BASIC, "meta": {"versionId": "1"}}},
        {"fullUrl": URN_A, "resource": {**_BASIC, "meta": {"versionId": "2"}}}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [  # "a"&"bc" = "ab"&"c"
        {"fullUrl": "a", "resource": {**_BASIC, "meta": {"versionId": "bc"}}},
        {"fullUrl": "ab", "resource": {**_BASIC, "meta": {"versionId": "c"}}}]},
    {"resourceType": "Bundle", "entry": [{"fullUrl": URN_A}, {"fullUrl": URN_A}]},
    {"resourceType": "Bundle", "type": "batch", "_type": {"id": "t"}, "entry": [{}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [None, {"fullUrl": URN_A}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"request": []}]},
    {"resourceType": "Bundle", "type": "collection"},
]
_ERROR = {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
          "code": "entered-in-error"}
CONDITIONS = [
    {"resourceType": "Condition"},
    {"resourceType": "Condition", "category": [{"coding": [{"code": "problem-list-item"}]}]},
    {"resourceType": "Condition", "category": [{}], "clinicalStatus": {"text": "active"}},
    {"resourceType": "Condition", "category": [{}], "verificationStatus": {"coding": [_ERROR]}},
    {"resourceType": "Condition", "category": [{}], "verificationStatus": {
        "coding": [{**_ERROR, "code": "confirmed"}]}},
    {"resourceType": "Condition", "category": [{}], "verificationStatus": {
        "coding": [{"code": "entered-in-error"}]}},
]
PERIODS = [
    {}, {"start": "2020-01-01"}, {"end": "2020-01-01"},
    {"start": "2020-01-01", "end": "2020-01-02"}, {"start": "2020-01-02", "end": "2020-01-01"},
    {"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T09:00:00+01:00"},
    {"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T09:30:00Z"},  # other zones
    {"start": "2020-01", "end": "2020-01-15"},  # other precisions
]
EDGE_CASES = [
    (ELE_1, Case(Primitive("x"))),
    (ELE_1, Case(Primitive(None, {"id": "a"}))),
    (ELE_1, Case(Primitive(None, {"extension": [{"url": "u"}]}))),
    (ELE_1, Case(Primitive(None, {"id": "a", "extension": []}))),
    (ELE_1, Case(Primitive(False))),
    (ELE_1, Case("")),
    (ELE_1, Case({"id": "a"})),
    (ELE_1, Case({"id": "a", "family": "b"})),
    (ELE_1, Case({"_family": {"extension": [{"url": "u"}]}})),
    (ELE_1, Case({"given": [None], "_given": [None]})),
    (ELE_1, Case({})),
    (EXT_1, Case({"url": "u"})),
    (EXT_1, Case({"url": "u", "valueString": "x"})),
    (EXT_1, Case({"url": "u", "_valueString": {"id": "a"}})),
    (EXT_1, Case({"url": "u", "extension": [{"url": "v"}]})),
    (EXT_1, Case({"url": "u", "extension": [], "valueCode": "x"})),
    (EXT_1, Case({"url": "u", "extension": [{"url": "v"}], "valueQuantity": {}})),
    (EXT_1, Case({"url": "u", "valueNonsense": "x"})),
    (EXT_1, Case({"url": "u", "valueString": [], "valueBoolean": True})),
    (EXT_1, Case({"url": "u", "valueBoolean": [], "valueString": "x"})),
    (EXT_1, Case({"url": "u", "valueString": None, "valueBoolean": True})),
    (EXT_1, Case({"url": "u", "valueString": None, "_valueString": None})),
    (EXT_1, Case({"url": "u", "valueCode": [None]})),
    (EXT_1, Case({"url": "u", "_extension": [{"url": "v"}], "valueCode": "x"})),
    (EXT_1, Case({"url": "u", "extension": None, "_extension": [], "valueCode": "x"})),
    (DOM_2, Case({"resourceType": "Patient", "contained": [{**ORG, "contained": [ORG]}]})),
    (DOM_2, Case(PATIENT_ROOT)),
    (DOM_3, Case({"resourceType": "Patient", "contained": [ORG]})),
    (DOM_3, Case({"resourceType": "Patient", "contained": [ORG],
                  "managingOrganization": {"reference": "#o1"}})),
    (DOM_3, Case({"resourceType": "Patient", "contained": [{"resourceType": "Basic"}]})),
    (DOM_3, Case({"resourceType": "Patient", "contained": [
        {**ORG, "partOf": {"reference": "#"}}]})),
    (DOM_3, Case({"resourceType": "Questionnaire", "contained": [ORG], "status": "draft",
                  "derivedFrom": ["#o1"]})),
    (DOM_3, Case({"resourceType": "Patient", "contained": [ORG],
                  "extension": [{"url": "u", "valueUri": "#o1"}]})),
    (DOM_3, Case({"resourceType": "Patient", "contained": [ORG],
                  "extension": [{"url": "u", "valueString": "#o1"}]})),
    (DOM_3_LATER, Case({"resourceType": "Patient", "contained": [{"resourceType": "Basic"}]})),
    (DOM_3_LATER, Case({"resourceType": "Patient", "contained": [
        {"resourceType": "Questionnaire", "derivedFrom": ["#"]}]})),
    (DOM_4, Case({"resourceType": "Patient", "contained": [{**ORG, "meta": {"versionId": "1"}}]})),
    (DOM_4, Case({"resourceType": "Patient", "contained": [{**ORG, "meta": {"source": "x"}}]})),
    (DOM_5, Case({"resourceType": "Patient", "contained": [{**ORG, "meta": {"security": [{}]}}]})),
    *((GLN, Case({"system": "urn:oid:1.3.88", "value": value})) for value in (
        "5790000123452", "5790000123456", "5790001234560", "579000012345", "57900001234520",
        "579000012345a", "5790000123452\n", "", None)),
    (GLN, Case({"system": "urn:oid:1.3.88"})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"status": "empty"}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"div": "<div/>"}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"_div": {"id": "d"}}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"div": None, "_div": {"id": "d"}}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"div": []}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"div": ""}})),
    (DOM_6, Case({"resourceType": "Patient", "text": None})),
    (DOM_6, Case({"resourceType": "Patient", "text": [{"div": "<div/>"}, {}]})),
    (DOM_6, Case({"resourceType": "Patient", "text": [{"status": "empty"}]})),
    (DOM_6, Case({"resourceType": "Patient", "text": "a string"})),
    (DOM_6, Case({"resourceType": "Patient", "_text": {"div": "<div/>"}})),
    (DOM_6, Case({"resourceType": "Patient", "text": {"status": "empty"},
                  "_text": {"div": "<div/>"}})),
    (TXT, Case(f"<div {XHTML}>x</div>")),
    (TXT, Case(f"<div {XHTML}><script/>x</div>")),
    (TXT, Case(Primitive(None, {"extension": [{"url": "u"}]}))),
    (TXT, Case(Primitive(f"<div {XHTML}>x</div>", {"id": "n"}))),
    (REF_1, Case({"reference": "#o1"}, root=PATIENT_ROOT)),
    (REF_1, Case({"reference": "#o2"}, root=PATIENT_ROOT)),
    (REF_1, Case({"reference": "#"}, root=PATIENT_ROOT)),
    (REF_1, Case({"reference": "#o1"}, root={"resourceType": "Patient"})),
    (REF_1, Case({"reference": "Patient/1"}, root=PATIENT_ROOT)),
    (REF_1, Case({"display": "x"}, root=PATIENT_ROOT)),
    (REF_1, Case({"reference": ""}, root=PATIENT_ROOT)),
    (REF_1, Case({"reference": "Patient/1", "_reference": None}, root=PATIENT_ROOT)),
    (NAME, Case({"resourceType": "StructureDefinition", "name": "MyProfile"})),
    (NAME, Case({"resourceType": "StructureDefinition", "name": "my-profile"})),
    (NAME, Case({"resourceType": "StructureDefinition", "name": "my Profile"})),
    (NAME, Case({"resourceType": "StructureDefinition"})),
    (OBS_6, Case({"resourceType": "Observation", "valueString": "x", "dataAbsentReason": {}})),
    (OBS_6, Case({"resourceType": "Observation", "_valueString": {"id": "x"},
                  "dataAbsentReason": {}})),
    (OBS_7, Case({"resourceType": "Observation", "valueBoolean": True,
                  "code": {"coding": [{"code": "c"}]},
                  "component": [{"code": {"coding": [{"code": "c"}]}}]})),
    (OBS_7, Case({"resourceType": "Observation", "valueBoolean": True,
                  "code": {"coding": [{"code": "c"}]},
                  "component": [{"code": {"coding": [{"code": "d"}]}}]})),
    (OBS_3, Case({"text": "normal"})),
    (OBS_3, Case({"appliesTo": [{}]})),
    (VS_1, Case(Primitive("2020-01-01"))),
    (VS_1, Case(Primitive("2020-01"))),
    (VS_1, Case(Primitive("2020", {"id": "d"}))),
    (VS_2, Case({"resourceType": "Observation"})),
    (VS_2, Case({"resourceType": "Observation", "hasMember": [{}]})),
    (VS_2, Case({"resourceType": "Observation", "valuePeriod": {}})),
    (VS_3, Case({"code": {}})),
    (VS_3, Case({"code": {}, "valueQuantity": {"value": 1}})),
    (QTY_3, Case({"code": "mm"})),
    (QTY_3, Case({"code": "mm", "system": "http://unitsofmeasure.org"})),
    (SQTY_1, Case({"comparator": "<"})),
    (LST_1, Case({"resourceType": "List", "emptyReason": {}, "entry": [{}]})),
    (LST_1, Case({"resourceType": "List", "entry": [{}]})),
    *((MSG_3, Case(message)) for message in MESSAGES),
    *((bdl, Case(bundle)) for bdl in (BDL_3, BDL_4, BDL_7) for bundle in BUNDLES),
    (BDL_5, Case({"fullUrl": URN_A})),
    (BDL_5, Case({"request": {"method": "GET"}})),
    (BDL_5, Case({"resource": {"resourceType": "Basic"}})),
    # null and [] are nothing; an `_x` object alone is something (a JSON object each time)
    (BDL_5, Case({"resource": None, "request": [], "response": [None]})),
    (BDL_5, Case({"resource": [], "_request": {"id": "r"}})),
    (BDL_5, Case({"_resource": [], "_response": None})),
    (BDL_8, Case({"fullUrl": "http://x.example/fhir/Basic/1/_history/2"})),
    (BDL_8, Case({"fullUrl": "http://x.example/fhir/Basic/1"})),
    (BDL_8, Case({})),
    *((CON_3, Case(condition)) for condition in CONDITIONS),
    *((PER_1, Case(period)) for period in PERIODS),
]


@pytest.mark.parametrize(("expression", "case"), EDGE_CASES)
def test_native_agrees_on_edge_cases(expression: str, case: Case) -> None:
    """Hand-written cases: the native and fhirpathpy give the same verdict."""
    compiled = compile_expression(expression, type_hint=HINTS.get(expression))
    expected = compiled.test(case.focus, case.env(), native=False)
    assert compiled.test(case.focus, case.env()) is expected


@pytest.mark.parametrize("identifier", [{"value": 5790000123452},
                                        {"value": "5790000123452", "_value": {"id": "v"}}])
def test_gln_data_the_native_does_not_read_is_evaluated_as_written(
        identifier: dict[str, Any]) -> None:
    """gln-modulus-10 reads a plain string value; a number, or a value with an `_value`, goes
    to the compiled expression, which cannot evaluate it (as before the native)."""
    assert gln_modulus_10(identifier, Case(identifier).env()) is None
    with pytest.raises(FhirPathEvaluationError):
        compile_expression(GLN, type_hint="Identifier").test(identifier, Case(identifier).env())


@pytest.mark.parametrize("entry", [{"fullUrl": URN_A, "_fullUrl": {"id": "u"}},
                                   {"fullUrl": 7}])
def test_data_a_native_does_not_read_is_evaluated_as_written(entry: dict[str, Any]) -> None:
    """bdl-8 reads a plain fullUrl string; anything else goes to fhirpathpy, which fails here
    as it would without the native."""
    compiled = compile_expression(BDL_8, type_hint="Bundle.entry")
    env = Case(entry).env()
    for native in (True, False):
        with pytest.raises(FhirPathEvaluationError):
            compiled.test(entry, env, native=native)


def _mg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}


@pytest.mark.parametrize(("expression", "case", "holds"), [
    (ELE_1, Case(Primitive(None, {"id": "a"})), False),
    (ELE_1, Case({"_family": {"extension": [{"url": "u"}]}}), True),
    (EXT_1, Case({"url": "u"}), False),
    (DOM_3, Case({"resourceType": "Patient", "contained": [ORG]}), False),
    (REF_1, Case({"reference": "#o2"}, root=PATIENT_ROOT), False),
    (REF_1, Case({"reference": "#o1", "_reference": {"id": "r"}}, root=PATIENT_ROOT), True),
    # rng-2: fhirpathpy cannot compare Quantities from JSON; FHIRPath compares them in one unit
    # or after UCUM conversion, and an incomparable pair makes the comparison empty (holds).
    (RNG_2, Case({"low": _mg(1), "high": _mg(2)}), True),
    (RNG_2, Case({"low": _mg(2), "high": _mg(2)}), True),
    (RNG_2, Case({"low": _mg(3), "high": _mg(2)}), False),
    (RNG_2, Case({"low": _mg(1500), "high": {**_mg(1), "code": "g", "unit": "g"}}), False),
    (RNG_2, Case({"low": _mg(500), "high": {**_mg(1), "code": "g", "unit": "g"}}), True),
    (RNG_2, Case({"low": _mg(5), "high": {"value": 1, "unit": "tablet"}}), True),
    (RNG_2, Case({"low": _mg(5)}), True),
    (RNG_2, Case({"low": {"unit": "mg"}, "high": _mg(1)}), True),
    *((BDL_3, Case(bundle), holds) for bundle, holds in zip(BUNDLES[:5], [
        True, False, False, True, True], strict=True)),
    *((BDL_4, Case(bundle), holds) for bundle, holds in zip(BUNDLES[:5], [
        True, True, True, True, True], strict=True)),
    *((BDL_7, Case(bundle), holds) for bundle, holds in zip(BUNDLES[3:9], [
        True, True, False, True, False, True], strict=True)),
    (BDL_8, Case({"fullUrl": "http://x.example/fhir/Basic/1/_history/2"}), False),
    *((CON_3, Case(condition), holds) for condition, holds in zip(
        CONDITIONS, [True, False, True, True, False, False], strict=True)),
    *((PER_1, Case(period), holds) for period, holds in zip(
        PERIODS[:6], [True, True, True, True, False, False], strict=True)),
    *((MSG_3, Case(message), holds) for message, holds in zip(
        MESSAGES, [True, False, True, False, True, False, True, False, True, True], strict=True)),
])
def test_native_verdicts(expression: str, case: Case, holds: bool) -> None:
    """The natives give FHIR's verdict, including where fhirpathpy cannot (`_reference`)."""
    compiled = compile_expression(expression, type_hint=HINTS.get(expression))
    assert compiled.test(case.focus, case.env()) is holds


# -- generated cases ---------------------------------------------------------------------

_ABSENT = object()


def some(required: Mapping[str, st.SearchStrategy[Any]] | None = None,
         **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with the required keys and each optional key about half the time."""
    maybe = {key: st.one_of(st.just(_ABSENT), value) for key, value in optional.items()}
    return st.fixed_dictionaries({**(required or {}), **maybe}).map(
        lambda found: {key: value for key, value in found.items() if value is not _ABSENT})


texts = st.sampled_from(["a", "A1", "#", "#a", "#b", "", "2020", "2020-01-01", "Patient/1"])
ids = st.sampled_from(["a", "b"])
simple_extensions = some({"url": st.just("http://x")}, valueString=texts)
elements = some(id=ids, extension=st.lists(simple_extensions, max_size=2))
references = some(reference=texts, display=texts, _reference=elements)
local_references = some(reference=st.sampled_from(["#a", "#b", "#c", "#", "a"]))
codings = some(system=st.sampled_from(["s1", "s2"]), code=st.sampled_from(["c1", "c2"]))
concepts = some(coding=st.lists(codings, max_size=2), text=texts)
quantities = some(value=st.integers(0, 9), unit=texts, code=st.sampled_from(["mm", "kg"]),
                  system=st.just("http://unitsofmeasure.org"), comparator=st.just("<"),
                  _code=elements)
extensions = st.recursive(
    some({"url": st.just("http://x")}, valueString=texts, valueCode=texts, valueUri=texts,
         valueCanonical=texts, valueQuantity=quantities, value=texts, _valueString=elements,
         id=ids, extension=st.just([])),
    lambda inner: some({"url": st.just("http://x")}, extension=st.lists(inner, max_size=2),
                       valueString=texts),
    max_leaves=4)
json_values = st.one_of(st.none(), texts, st.lists(st.one_of(st.none(), texts), max_size=2),
                        elements, st.just([]), st.just({}))
element_dicts = st.dictionaries(
    st.sampled_from(["id", "_id", "family", "_family", "given", "_given", "extension",
                     "resourceType", "text"]), json_values, max_size=4)
primitives = st.builds(Primitive, st.one_of(st.none(), texts, st.integers(), st.booleans()),
                       st.one_of(st.none(), elements))
metas = some(versionId=texts, lastUpdated=texts, security=st.lists(codings, max_size=1),
             source=texts)
divs = st.lists(st.sampled_from([
    "a", " ", "<p>x</p>", "<b/>", "<br/>", "<script>x</script>", '<img src="a"/>',
    '<span onclick="x">y</span>', "<form/>", "&amp;", "</div><div>", "<p>"]), max_size=4).map(
    lambda parts: f"<div {XHTML}>{''.join(parts)}</div>")
narratives = some({"status": st.just("generated")}, div=divs)
contained_resources = some(
    {"resourceType": st.sampled_from(["Organization", "Questionnaire", "Basic"])},
    id=ids, meta=metas, partOf=st.one_of(references, local_references), text=narratives,
    derivedFrom=st.lists(texts, max_size=2), extension=st.lists(extensions, max_size=1),
    contained=st.lists(some({"resourceType": st.just("Basic")}, id=ids), max_size=1))
resources = some(
    {"resourceType": st.sampled_from(["Patient", "Questionnaire"]),
     "contained": st.lists(contained_resources, max_size=3)},
    id=ids, meta=metas, text=narratives, url=texts,
    managingOrganization=st.one_of(references, local_references),
    generalPractitioner=st.lists(st.one_of(references, local_references), max_size=2),
    derivedFrom=st.lists(texts, max_size=2), extension=st.lists(extensions, max_size=2))
components = some({"code": concepts}, valueString=texts, valueQuantity=quantities,
                  _valueString=elements, dataAbsentReason=concepts)
observations = some(
    {"resourceType": st.just("Observation")}, code=concepts, valueQuantity=quantities,
    valueString=texts, _valueString=elements, valueCodeableConcept=concepts,
    dataAbsentReason=concepts, component=st.lists(components, max_size=2),
    hasMember=st.lists(references, max_size=1))


def _share_code(observation: dict[str, Any], share: bool) -> dict[str, Any]:
    """Give the first component the Observation's own code (what obs-7 forbids)."""
    parts = observation.get("component")
    if not share or not parts or "code" not in observation:
        return observation
    return {**observation, "component": [{**parts[0], "code": observation["code"]}, *parts[1:]]}


observations_sharing_codes = st.builds(_share_code, some(
    {"resourceType": st.just("Observation"),
     "code": some({"coding": st.lists(codings, min_size=1, max_size=2)}),
     "component": st.lists(components, min_size=1, max_size=2)},
    valueQuantity=quantities, _valueString=elements, dataAbsentReason=concepts), st.booleans())

message_urls = st.sampled_from([URN_A, URN_B, "http://x.example/fhir/Patient/a",
                                 "http://x.example/fhir/Patient/b", "Patient/a", "#a", "a"])
message_references = some(reference=st.one_of(message_urls, texts), _reference=elements)
provenances = some({"resourceType": st.just("Provenance")},
                   target=st.lists(message_references, max_size=1),
                   agent=st.lists(some(who=message_references), max_size=2))
conditions = some({"resourceType": st.just("Condition")}, subject=message_references,
                  evidence=st.lists(some(detail=st.lists(message_references, max_size=2)),
                                    max_size=1))

bundle_entries = some(fullUrl=st.one_of(message_urls, st.just("a/_history/1")),
                      _fullUrl=elements,
                      resource=some({"resourceType": st.just("Basic")},
                                    meta=some(versionId=st.sampled_from(["1", "2", ""]))),
                      request=st.one_of(st.just({"method": "GET"}), st.just([]), st.none()),
                      response=st.just({"status": "200"}))
bundles = some({"resourceType": st.just("Bundle")},
               type=st.sampled_from(["batch", "transaction", "history", "collection",
                                     "batch-response", "transaction-response", 3]),
               _type=elements,
               entry=st.lists(st.one_of(bundle_entries, st.none()), max_size=3))

verification_codings = some(system=st.sampled_from([_ERROR["system"], "s1", 3]),
                            code=st.sampled_from(["entered-in-error", "confirmed"]),
                            _code=elements)
conditions_with_status = some(
    {"resourceType": st.just("Condition")}, clinicalStatus=concepts,
    verificationStatus=some(coding=st.lists(verification_codings, max_size=2)),
    category=st.lists(st.one_of(concepts, texts, st.none()), max_size=2))

moments = st.sampled_from([
    "2020", "2021", "2020-01", "2020-02", "2020-01-01", "2020-01-02", "2020-01-01T10:00:00Z",
    "2020-01-01T09:00:00Z", "2020-01-01T10:00:00+01:00", "2020-01-01T10:00:00.5+01:00", 5])
periods = some(start=moments, end=moments, _start=elements, _end=elements)

STRATEGIES: dict[str, st.SearchStrategy[Case]] = {
    ELE_1: st.one_of(primitives, element_dicts, texts).map(Case),
    EXT_1: extensions.map(Case),
    DOM_2: resources.map(Case),
    DOM_3: resources.map(Case),
    DOM_3_LATER: resources.map(Case),
    DOM_4: resources.map(Case),
    DOM_5: resources.map(Case),
    DOM_6: resources.map(Case),
    TXT: st.one_of(divs, divs.map(Primitive), st.just(Primitive(None, {"id": "x"}))).map(Case),
    REF_1: st.builds(lambda ref, root: Case(ref, root=root),
                     st.one_of(references, local_references), resources),
    NAME: some({"resourceType": st.just("StructureDefinition")},
               name=st.text("aA1_ -#", max_size=5)).map(Case),
    OBS_3: some(low=quantities, high=quantities, text=texts, appliesTo=st.just([{}])).map(Case),
    OBS_6: observations.map(Case),
    OBS_7: observations_sharing_codes.map(Case),
    VS_1: st.one_of(texts.map(Primitive), st.builds(Primitive, texts, elements)).map(Case),
    VS_2: observations.map(Case),
    VS_3: components.map(Case),
    QTY_3: quantities.map(Case),
    RNG_2: some(low=quantities, high=quantities).map(Case),
    SQTY_1: quantities.map(Case),
    LST_1: some({"resourceType": st.just("List")}, emptyReason=concepts,
                entry=st.lists(st.just({"item": {}}), max_size=2)).map(Case),
    CON_3: conditions_with_status.map(Case),
    PER_1: periods.map(Case),
    BDL_3: bundles.map(Case),
    BDL_4: bundles.map(Case),
    BDL_5: bundle_entries.map(Case),
    BDL_7: bundles.map(Case),
    BDL_8: bundle_entries.map(Case),
    GLN: st.builds(lambda digits, value: Case({"value": digits if value is None else value}),
                   st.text("0123456789", min_size=12, max_size=14), st.one_of(st.none(), texts)),
    MSG_3: st.builds(
        lambda entries: Case({"resourceType": "Bundle", "type": "message", "entry": entries}),
        st.lists(some(fullUrl=message_urls, resource=st.one_of(resources, provenances, conditions)),
                 max_size=3)),
}


@pytest.mark.parametrize("expression", list(STRATEGIES), ids=lambda e: e[:40])
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_native_agrees_on_generated_json(expression: str, data: st.DataObject) -> None:
    """Small generated JSON: the native and fhirpathpy give the same verdict."""
    agree(expression, data.draw(STRATEGIES[expression]))
