"""The subset of the FHIR R4 TestScript resource this engine runs, as a JSON Schema.

A TestScript using an element outside the subset (``rule``, ``ruleset``, ``navigationLinks``,
``minimumId``, a fixture that is not ``contained``…) is refused with a clear message when it is
loaded, before anything is sent: a bad test definition is a usage error, not a test failure.
See :mod:`ecanfhir.conformance` for what each supported element means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from ._model import SuiteError

__all__ = ["ASSERT_OPERATORS", "ASSERT_RESPONSES", "TESTSCRIPT_SCHEMA", "check_testscript"]

ASSERT_OPERATORS = ("equals", "notEquals", "in", "notIn", "greaterThan", "lessThan", "empty",
                    "notEmpty", "contains", "notContains", "eval")
ASSERT_RESPONSES = {"okay": 200, "created": 201, "noContent": 204, "notModified": 304,
                    "bad": 400, "forbidden": 403, "notFound": 404, "methodNotAllowed": 405,
                    "conflict": 409, "gone": 410, "preconditionFailed": 412,
                    "unprocessable": 422}

_CODING = {"type": "object", "required": ["code"],
           "properties": {"system": {"type": "string"}, "code": {"type": "string"}}}
_EXTENSIONS = {"type": "array", "items": {"type": "object", "required": ["url"]}}
_HEADER = {"type": "object", "required": ["field", "value"], "additionalProperties": False,
           "properties": {"field": {"type": "string"}, "value": {"type": "string"},
                          "id": {"type": "string"}, "extension": _EXTENSIONS}}
_OPERATION = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["type"]}, {"required": ["method", "url"]}],
    "properties": {
        "id": {"type": "string"}, "extension": _EXTENSIONS,
        "type": _CODING, "resource": {"type": "string"}, "label": {"type": "string"},
        "description": {"type": "string"},
        "accept": {"type": "string"}, "contentType": {"type": "string"},
        "destination": {"type": "integer"}, "origin": {"type": "integer", "minimum": 1},
        "encodeRequestUrl": {"type": "boolean"},
        "method": {"enum": ["delete", "get", "options", "patch", "post", "put", "head"]},
        "params": {"type": "string"}, "requestHeader": {"type": "array", "items": _HEADER},
        "requestId": {"type": "string"}, "responseId": {"type": "string"},
        "sourceId": {"type": "string"}, "targetId": {"type": "string"},
        "url": {"type": "string"},
    },
}
_ASSERT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["warningOnly"],
    "anyOf": [{"required": [key]} for key in (
        "response", "responseCode", "contentType", "headerField", "resource", "expression",
        "validateProfileId", "compareToSourceId")],
    "properties": {
        "id": {"type": "string"}, "extension": _EXTENSIONS,
        "label": {"type": "string"}, "description": {"type": "string"},
        "direction": {"enum": ["response", "request"]},
        "compareToSourceId": {"type": "string"},
        "compareToSourceExpression": {"type": "string"},
        "contentType": {"type": "string"}, "expression": {"type": "string"},
        "headerField": {"type": "string"},
        "operator": {"enum": list(ASSERT_OPERATORS)},
        "resource": {"type": "string"},
        "response": {"enum": list(ASSERT_RESPONSES)},
        "responseCode": {"type": "string"},
        "sourceId": {"type": "string"}, "validateProfileId": {"type": "string"},
        "value": {"type": "string"}, "warningOnly": {"type": "boolean"},
    },
}
_ACTION = {"type": "object", "additionalProperties": False,
           "oneOf": [{"required": ["operation"]}, {"required": ["assert"]}],
           "properties": {"id": {"type": "string"}, "operation": _OPERATION,
                          "assert": _ASSERT}}
_OPERATION_ONLY = {"type": "object", "additionalProperties": False, "required": ["operation"],
                   "properties": {"id": {"type": "string"}, "operation": _OPERATION}}
_ID = {"type": "string", "pattern": r"^[A-Za-z0-9\-.]{1,64}$"}

TESTSCRIPT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ecanfhir TestScript subset (FHIR R4)",
    "type": "object",
    "required": ["resourceType", "url", "name", "status", "test"],
    "properties": {
        "resourceType": {"const": "TestScript"},
        "id": _ID, "url": {"type": "string"}, "name": {"type": "string"},
        "status": {"enum": ["draft", "active", "retired", "unknown"]},
        "contained": {"type": "array", "items": {
            "type": "object", "required": ["resourceType", "id"]}},
        "origin": {"type": "array", "items": {"type": "object", "required": ["index"]}},
        "destination": {"type": "array", "items": {"type": "object", "required": ["index"]}},
        "fixture": {"type": "array", "items": {
            "type": "object", "required": ["id", "autocreate", "autodelete", "resource"],
            "properties": {
                "id": _ID, "autocreate": {"type": "boolean"}, "autodelete": {"type": "boolean"},
                "resource": {"type": "object", "required": ["reference"], "properties": {
                    "reference": {"type": "string", "pattern": "^#.+"}}}}}},
        "profile": {"type": "array", "items": {
            "type": "object", "required": ["id", "reference"],
            "properties": {"id": _ID, "reference": {"type": "string"}}}},
        "variable": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "anyOf": [{"required": [k]} for k in ("expression", "headerField", "path",
                                                    "defaultValue")],
            "properties": {"name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_\-]*$"},
                           "expression": {"type": "string"},
                           "headerField": {"type": "string"}, "path": {"type": "string"},
                           "sourceId": {"type": "string"}, "defaultValue": {"type": "string"},
                           "description": {"type": "string"}, "hint": {"type": "string"}},
            "not": {"anyOf": [{"required": ["expression", "headerField"]},
                              {"required": ["expression", "path"]},
                              {"required": ["headerField", "path"]}]}}},
        "setup": {"type": "object", "required": ["action"], "properties": {
            "action": {"type": "array", "minItems": 1, "items": _ACTION}}},
        "test": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["action"],
            "properties": {"id": _ID, "name": {"type": "string"},
                           "description": {"type": "string"},
                           "action": {"type": "array", "minItems": 1, "items": _ACTION}}}},
        "teardown": {"type": "object", "required": ["action"], "properties": {
            "action": {"type": "array", "minItems": 1, "items": _OPERATION_ONLY}}},
    },
    "not": {"anyOf": [{"required": ["rule"]}, {"required": ["ruleset"]}]},
}

_VALIDATOR = jsonschema.Draft202012Validator(TESTSCRIPT_SCHEMA)


def check_testscript(document: Any, source: str) -> None:
    """Raise :class:`SuiteError` naming every place ``document`` leaves the supported subset.

    >>> check_testscript({"resourceType": "TestScript"}, "x.json")
    Traceback (most recent call last):
    ecanfhir.conformance._model.SuiteError: x.json: not a TestScript this engine runs: ...
    """
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(e.absolute_path))
    problems = [f"{_where(e.absolute_path)}: {_message(e)}" for e in errors[:10]]
    if isinstance(document, Mapping) and not problems:
        problems = list(_cross_references(document))
    if problems:
        raise SuiteError(f"{source}: not a TestScript this engine runs: " + "; ".join(problems))


def _where(path: Any) -> str:
    out = "TestScript"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unsupported element ({error.message.split('(')[-1].rstrip(')')})"
    if error.validator == "not":
        return "uses an element this engine does not support (rule, ruleset) or a variable " \
               "with more than one source"
    if error.validator == "anyOf" and isinstance(error.instance, Mapping):
        return "needs one of: " + ", ".join(
            sorted({k for s in error.validator_value for k in s.get("required", ())}))
    return str(error.message)[:200]


def _cross_references(document: Mapping[str, Any]) -> list[str]:
    """Fixture references name contained resources; profile ids used by asserts exist."""
    contained = {f"#{r.get('id')}" for r in document.get("contained", ())}
    problems = [f"fixture {f['id']}: {f['resource']['reference']} is not a contained resource"
                for f in document.get("fixture", ())
                if f["resource"]["reference"] not in contained]
    profiles = {p["id"] for p in document.get("profile", ())}
    for action in _actions(document):
        check = action.get("assert")
        if check and check.get("validateProfileId") and check["validateProfileId"] not in profiles:
            problems.append(f"assert validateProfileId {check['validateProfileId']}: no "
                            "TestScript.profile has this id")
    ids = [t.get("id") for t in document.get("test", ()) if t.get("id")]
    problems += [f"test id {i} is used twice" for i in sorted({i for i in ids
                                                               if ids.count(i) > 1})]
    return problems


def _actions(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = list(document.get("setup", {}).get("action", ()))
    for test in document.get("test", ()):
        found += test["action"]
    return found
