"""Operators, FHIRPath, variables, patches and the TestScript subset schema."""

from __future__ import annotations

import json

import pytest

from ecanfhir.conformance import SuiteError, check_testscript, shipped_suites
from ecanfhir.conformance._asserts import compare, evaluate
from ecanfhir.conformance._fixtures import Renewal, apply_patch, json_path, substitute


@pytest.mark.parametrize(("actual", "operator", "value", "ok"), [
    (["ok"], "equals", "ok", True), (["ok"], "notEquals", "ok", False),
    (["a"], "in", "b, a", True), (["c"], "notIn", "a,b", True),
    ([5], "greaterThan", "10", False), ([11], "greaterThan", "10", True),
    ([2], "lessThan", "10", True), ([], "empty", None, True), ([1], "notEmpty", None, True),
    (["MSG_X,MSG_Y"], "contains", "MSG_Y", True), (["abc"], "notContains", "z", True),
    ([True], "eval", None, True), ([False], "eval", None, False), ([True, "x"], "equals",
                                                                   "true,x", True),
])
def test_operators(actual: list[object], operator: str, value: str | None, ok: bool) -> None:
    assert compare(actual, operator, value)[0] is ok


def test_operator_without_value_is_a_suite_error() -> None:
    with pytest.raises(SuiteError):
        compare(["x"], "equals", None)


def test_fhirpath_on_a_message() -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MessageHeader", "id": "m1", "response": {"code": "ok"}}}]}
    assert evaluate(bundle, "Bundle.entry[0].resource.response.code") == ["ok"]
    assert evaluate(None, "x") == []


def test_renewal_is_consistent_within_a_test_and_fresh_across_tests() -> None:
    old = "11111111-1111-4111-8111-111111111111"
    resource = {"id": old, "ref": f"urn:uuid:{old}", "case": f"CASE-{old}"}
    first = Renewal().resource(resource)
    assert first["ref"] == f"urn:uuid:{first['id']}" and first["case"].endswith(first["id"])
    assert Renewal().resource(resource)["id"] != first["id"] != old


def test_variables_paths_and_patches() -> None:
    assert substitute("/Bundle/${x}", {"x": "1"}.__getitem__) == "/Bundle/1"
    assert json_path({"entry": [{"id": "a"}]}, "$.entry[0].id") == ["a"]
    patched = apply_patch({"entry": [{"resource": {"status": "active"}}]},
                          "entry[0].resource.status=bogus")
    assert patched["entry"][0]["resource"]["status"] == "bogus"
    with pytest.raises(SuiteError):
        apply_patch({"a": 1}, "no-equals-sign")


@pytest.mark.parametrize(("change", "message"), [
    ({"rule": []}, "does not support"),
    ({"test": [{"action": [{"assert": {"warningOnly": False, "navigationLinks": True}}]}]},
     "unsupported element"),
    ({"fixture": [{"id": "f", "autocreate": False, "autodelete": False,
                   "resource": {"reference": "#missing"}}]}, "not a contained resource"),
    ({"test": [{"action": [{"assert": {"warningOnly": False, "operator": "sameAs",
                                       "expression": "x"}}]}]}, "sameAs"),
])
def test_schema_refuses_what_the_engine_does_not_run(change: dict[str, object],
                                                     message: str) -> None:
    script = {"resourceType": "TestScript", "url": "u", "name": "n", "status": "active",
              "test": [{"action": [{"assert": {"warningOnly": False, "response": "okay"}}]}]}
    with pytest.raises(SuiteError, match=message):
        check_testscript({**script, **change}, "t.json")


def test_shipped_suites_name_known_requirements_and_are_valid_testscripts() -> None:
    from ecanfhir import Validator
    from ecanfhir.definitions.pilot import pilot_registry

    suites = shipped_suites()
    assert set(suites) == {"ecan-centre-endpoint", "ecan-sender-behaviour"}
    validator = Validator(pilot_registry())
    for suite in suites.values():
        result = validator.validate(json.loads(json.dumps(suite.script)))
        assert result.ok, [str(i) for i in result.errors]
        assert all("Verifies:" in t["description"] for t in suite.script["test"])
