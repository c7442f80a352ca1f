"""The rule catalogue (docs/validator-rules.json) is well-formed, honest and in sync with its page.

Every ``implemented`` entry must name a rule id our code really issues and a test that really
exists; the Markdown page must be what ``scripts/make_rule_docs.py`` writes from the JSON.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from _scripts import load_script

from ecanfhir.definitions.core import core_definitions

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "validator-rules.json"
PAGE = ROOT / "docs" / "validator-rules.md"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "families", "rules"],
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "object",
            "required": ["repository", "path", "commit"],
            "properties": {"repository": {"type": "string"}, "path": {"type": "string"},
                           "commit": {"type": "string", "pattern": "^[0-9a-f]{40}$"}},
        },
        "families": {"type": "object", "minProperties": 1,
                     "additionalProperties": {"type": "string", "minLength": 1}},
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["key", "family", "status"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string", "minLength": 1},
                    "family": {"type": "string"},
                    "status": {"enum": ["implemented", "not-applicable", "not-yet"]},
                    "rule": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9.\-]*$"},
                    "test": {"type": "string", "pattern": r"^tests/.+\.py::test_\w+$"},
                    "reason": {"type": "string", "minLength": 10},
                    "note": {"type": "string"},
                },
                "allOf": [
                    {"if": {"properties": {"status": {"const": "implemented"}}},
                     "then": {"required": ["rule", "test"], "not": {"required": ["reason"]}}},
                    {"if": {"properties": {"status": {"const": "not-applicable"}}},
                     "then": {"required": ["reason"],
                              "not": {"anyOf": [{"required": ["rule"]}, {"required": ["test"]}]}}},
                    {"if": {"properties": {"status": {"const": "not-yet"}}},
                     "then": {"not": {"anyOf": [{"required": ["rule"]}, {"required": ["test"]},
                                                {"required": ["reason"]}]}}},
                ],
            },
        },
    },
}


def _catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return data


def _script() -> ModuleType:
    return load_script("make_rule_docs", ROOT / "scripts" / "make_rule_docs.py")


def _rule_like_template(node: ast.JoinedStr) -> bool:
    """``f"type-{code}"``: a literal ``name-`` prefix, and only rule-id characters around."""
    first = node.values[0]
    return (isinstance(first, ast.Constant) and isinstance(first.value, str)
            and re.fullmatch(r"[a-z][a-z0-9]*-", first.value) is not None
            and all(re.fullmatch(r"[\w.\-]*", v.value) for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)))


@cache
def _code_rule_ids() -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """Every string literal of the package, and every f-string as a pattern (``type-{code}``)."""
    literals: set[str] = set()
    templates: list[re.Pattern[str]] = []
    for path in (ROOT / "ecanfhir").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and _rule_like_template(node):
                templates.append(re.compile("".join(
                    re.escape(v.value) if isinstance(v, ast.Constant) else r"[\w.\-]+"
                    for v in node.values)))
    return frozenset(literals), tuple(templates)


@cache
def _core_constraint_keys() -> frozenset[str]:
    """The invariant keys of the core definitions (our issues carry them as the rule)."""
    core = core_definitions()
    keys: set[str] = set()
    for url, entry in core.entries.items():
        if entry.resource_type != "StructureDefinition":
            continue
        sd = core.load(url) or {}
        for element in sd.get("snapshot", {}).get("element", ()):
            keys.update(c["key"] for c in element.get("constraint", ()) if "key" in c)
    return frozenset(keys)


def _rule_exists(rule: str) -> bool:
    literals, templates = _code_rule_ids()
    if rule in literals or any(t.fullmatch(rule) for t in templates):
        return True
    return rule in _core_constraint_keys()


@cache
def _tests_in(path: str) -> frozenset[str]:
    file = ROOT / path
    if not file.is_file():
        return frozenset()
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return frozenset(n.name for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def test_catalogue_is_well_formed() -> None:
    """The JSON meets its schema; keys are unique and every family has a title."""
    catalogue = _catalogue()
    jsonschema.validate(catalogue, SCHEMA)
    keys = [r["key"] for r in catalogue["rules"]]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []
    assert {r["family"] for r in catalogue["rules"]} <= set(catalogue["families"])


def test_schema_rejects_an_implemented_entry_without_a_test() -> None:
    """The schema is not a formality: an implemented key must name its rule and its test."""
    bad = {**_catalogue(), "rules": [{"key": "X", "family": "json", "status": "implemented",
                                      "rule": "json-form"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_implemented_entries_name_real_rules_and_tests() -> None:
    """Each implemented key names a rule id the code issues and a test function that exists."""
    problems = []
    for entry in _catalogue()["rules"]:
        if entry["status"] != "implemented":
            continue
        if not _rule_exists(entry["rule"]):
            problems.append(f"{entry['key']}: no rule '{entry['rule']}' in ecanfhir")
        path, _, name = entry["test"].partition("::")
        if name not in _tests_in(path):
            problems.append(f"{entry['key']}: no test {entry['test']}")
    assert problems == []


def test_rule_lookup_can_fail() -> None:
    """A made-up rule id and a made-up test are not found."""
    assert not _rule_exists("no-such-rule-anywhere")
    assert _rule_exists("dom-3") and _rule_exists("type-date") and _rule_exists("slice-order")
    assert "test_no_such_test" not in _tests_in("tests/unit/test_rule_catalogue.py")


def test_page_is_what_the_script_writes() -> None:
    """docs/validator-rules.md is in sync: run scripts/make_rule_docs.py after editing the JSON."""
    assert PAGE.read_text(encoding="utf-8") == _script().render(_catalogue())


def test_page_states_the_coverage_figure() -> None:
    """The page gives implemented / applicable, counted from the JSON."""
    rules = _catalogue()["rules"]
    done = sum(r["status"] == "implemented" for r in rules)
    applicable = done + sum(r["status"] == "not-yet" for r in rules)
    assert f"Coverage: {done} of {applicable} applicable keys implemented" \
        in PAGE.read_text(encoding="utf-8")
