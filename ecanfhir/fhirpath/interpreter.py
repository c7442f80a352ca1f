"""fhirpathpy, where ecanfhir needs it: parsing an expression new to the user cache, the
table of its built-in functions, and evaluating what neither a native nor the fast path
answers.

``engine`` imports this module only then, so a process whose invariants all come from the
user cache and run natively or compiled never imports fhirpathpy (its ANTLR parser and
engine are about a tenth of a new process's start).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from antlr4 import (  # type: ignore[import-untyped, unused-ignore]
    CommonTokenStream,
    InputStream,
    ParseTreeWalker,
)
from antlr4.error.ErrorListener import (  # type: ignore[import-untyped, unused-ignore]
    ErrorListener,
)
from fhirpathpy import engine
from fhirpathpy.engine.invocations import constants, invocation_registry
from fhirpathpy.engine.nodes import TypeInfo
from fhirpathpy.parser.ASTPathListener import ASTPathListener
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from .errors import FhirPathError, FhirPathEvaluationError
from .functions import FUNCTIONS
from .model import ENV_KEY, R4_MODEL, EvalEnv, Primitive
from .nodes import companion_node, get_data, is_companion, make_node

__all__ = ["built_in_arities", "evaluate", "parse"]

# Typed handles on the unannotated parts of fhirpathpy (see ``nodes``).
_do_eval: Callable[..., list[Any]] = engine.do_eval
_system_time: Any = constants.constants  # now()/today() are fixed for one evaluation
_type_info_class: Any = TypeInfo


class _RaisingListener(ErrorListener):  # type: ignore[misc]
    def __init__(self, expression: str) -> None:
        self.expression = expression

    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int,
                    msg: str, e: Any) -> None:
        raise FhirPathError(f"FHIRPath {self.expression!r}: syntax error at {column}: {msg}")


def parse(expression: str) -> dict[str, Any]:
    """fhirpathpy's parser, but raising on syntax errors and requiring the whole input."""
    listener = _RaisingListener(expression)
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser: Any = FHIRPathParser(CommonTokenStream(lexer))
    parser.buildParseTrees = True
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    try:
        tree = parser.entireExpression()  # expression EOF: no silently ignored trailing text
    except FhirPathError as exc:
        raise FhirPathError(str(exc)) from None  # hide antlr's internal exception chain
    ast: Any = ASTPathListener
    ast = ast()
    ParseTreeWalker().walk(ast, tree)
    entire: dict[str, Any] = ast.parentStack[0]["children"][0]
    node: dict[str, Any] = entire["children"][0]
    return node


def built_in_arities() -> dict[str, list[int] | None]:
    """fhirpathpy's built-in functions: the parameter counts each takes, None when any."""
    table: Mapping[str, Any] = invocation_registry
    return {name: None if "variadic" in entry else sorted(entry.get("arity", {0: []}))
            for name, entry in table.items()}


def evaluate(tree: Mapping[str, Any], expression: str, focus: Any, type_path: str | None,
             variables: Mapping[str, Any], env: EvalEnv) -> list[Any]:
    """fhirpathpy's result nodes for the syntax tree of ``expression`` on ``focus``, the
    companion (``_x``) halves and JSON nulls left out, as JSON values.

    Raises:
        FhirPathEvaluationError: the expression fails on this focus.
    """
    root = _focus_nodes(focus, type_path)
    ctx: dict[str, Any] = {
        "dataRoot": root,
        "vars": {
            **variables,
            "context": root,
            "resource": make_node(env.resource),
            "rootResource": make_node(env.root_resource),
        },
        "model": R4_MODEL,
        "userInvocationTable": FUNCTIONS,
        "$this": root,
        ENV_KEY: env,
    }
    # fhirpathpy keeps the model for type tests in a class attribute, set by is/as only.
    _type_info_class.model = R4_MODEL
    _system_time.reset()
    try:
        result = _do_eval(ctx, root, tree)
    except FhirPathError:
        raise
    except Exception as exc:  # fhirpathpy raises bare Exceptions for runtime errors
        raise FhirPathEvaluationError(f"FHIRPath {expression!r} failed: {exc}") from exc
    values = (get_data(n) for n in result if not is_companion(n))
    return [value for value in values if value is not None]  # JSON nulls pad arrays only


def _focus_nodes(focus: Any, path: str | None) -> list[Any]:
    if focus is None:
        return []
    if isinstance(focus, list):
        return [node for item in focus for node in _focus_nodes(item, path)]
    if isinstance(focus, Primitive):
        # fhirpathpy models a primitive as up to two nodes: the value and the `_x` object.
        nodes = [] if focus.value is None else [make_node(focus.value, path)]
        if focus.element is not None:
            nodes.append(companion_node(focus.element, path))
        return nodes
    return [make_node(focus, path)]
