"""What compiling needs of fhirpathpy, taken without importing it: its version, its function
table and its reading of literals (ecanfhir.fhirpath.model, engine, compiler)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.engine.evaluators import evaluators
from fhirpathpy.engine.invocations import invocation_registry

from ecanfhir import _cache
from ecanfhir.fhirpath import engine
from ecanfhir.fhirpath.compiler import literal_values
from ecanfhir.fhirpath.engine import FhirPathError, compile_expression
from ecanfhir.fhirpath.functions import FUNCTIONS
from ecanfhir.fhirpath.interpreter import parse
from ecanfhir.fhirpath.model import FHIR_FUNCTIONS, fhirpathpy_version

LITERALS = [
    "true", "false", "{}", "0", "7", "1.0", "1.50", "0.1", "123456789012345678901234",
    "3.000000000000000000001", "''", "'plain'", "'it\\'s'", "'a\\\\b'", "'\\n\\r\\t\\f'",
    "'\\\"quoted\\\"'", "'back\\`tick'", "'\\u0041\\u00e9'", "'\\\\u0041'", "'tab\\\\t'",
    "'\"double\" inside'", "'x\\/y'", "'%'", "'ends with quote\\''",
]


def _literal_node(text: str) -> dict[str, Any]:
    """The literal's own node in fhirpathpy's syntax tree of the expression ``text``."""
    node = parse(text)
    while node["type"] not in evaluators or node["type"] in ("TermExpression", "LiteralTerm"):
        node = node["children"][0]
    return node


@pytest.mark.parametrize("text", LITERALS)
def test_literals_read_as_fhirpathpy_reads_them(text: str) -> None:
    node = _literal_node(text)
    assert node["type"] in ("StringLiteral", "NumberLiteral", "BooleanLiteral", "NullLiteral")
    expected = evaluators[node["type"]](None, None, node)
    found = literal_values(node)
    assert found == expected
    assert [type(v) for v in found] == [type(v) for v in expected]


def test_version_read_from_the_package_file() -> None:
    assert fhirpathpy_version() == fhirpathpy.__version__


def test_function_table_is_fhirpathpys_with_the_fhir_additions() -> None:
    """The arities a compile checks are fhirpathpy's built-ins, overridden by the FHIR
    functions, whose table (fhirpathpy's format) is built from the same declaration."""
    arities = engine._arities()
    for name, entry in invocation_registry.items():
        if name in FHIR_FUNCTIONS:
            continue
        expected = None if "variadic" in entry else frozenset(entry.get("arity", {0: []}))
        assert arities[name] == expected, name
    for name, arity in FHIR_FUNCTIONS.items():
        assert arities[name] == frozenset(arity or {0: []})
        assert FUNCTIONS[name].get("arity") == arity  # no "arity" key for no parameters
        assert callable(FUNCTIONS[name]["fn"])


@pytest.mark.parametrize(("expression", "message"), [
    ("name.frobnicate()", "unknown function frobnicate()"),
    ("name.exists(1, 2)", "exists() takes [0, 1] arguments, not 2"),
    ("extension()", "extension() takes [1] arguments, not 0"),
    ("hasValue(1)", "hasValue() takes [0] arguments, not 1"),
])
def test_unknown_functions_and_arities_rejected(expression: str, message: str) -> None:
    with pytest.raises(FhirPathError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        engine.CompiledExpression(expression)


def test_function_table_from_the_user_cache(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-ins' table is written to the user cache and read back from there; a damaged
    entry, or one of another form, is computed again."""
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path))
    engine._arities.cache_clear()
    try:
        table = engine._arities()
        stored = _cache.read_entry(engine._BUILT_INS, "built-ins")
        assert stored is not None and stored["where"] == [1] and stored["exists"] == [0, 1]
        _cache.write_entry(engine._BUILT_INS, "built-ins", {"where": [3]})
        engine._arities.cache_clear()
        assert engine._arities()["where"] == frozenset({3})  # what the cache says is used
        (entry,) = tmp_path.glob("fhirpath-functions-*/*/*.json")
        entry.write_text("{")
        engine._arities.cache_clear()
        assert engine._arities() == table
        for damaged in ({"where": 1}, {"where": ["1"]}, ["where"]):
            _cache.write_entry(engine._BUILT_INS, "built-ins", damaged)
            engine._arities.cache_clear()
            assert engine._arities() == table
    finally:
        engine._arities.cache_clear()


def test_compiled_literals_evaluate_as_the_interpreter_does() -> None:
    """The fast path's constants are the interpreter's: compared through whole expressions."""
    env = engine.EvalEnv.for_resource({"resourceType": "Patient"})
    for text in LITERALS:
        compiled = compile_expression(f"{text} = {text}")
        assert compiled._fast is not None, text
        assert compiled.test({}, env) == compiled.test({}, env, native=False), text
