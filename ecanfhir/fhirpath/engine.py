"""FHIRPath for invariants: ``ElementDefinition.constraint.expression`` on JSON resources.

FHIR R4 states every invariant as a FHIRPath expression (R4 fhirpath.html and
conformance-rules.html#constraints). This module compiles such expressions with ``fhirpathpy``
and its R4 model, so choice elements (``value`` → ``valueString``), ``ofType()``, ``is``/``as``
on FHIR types and the split ``_x`` representation of primitives work, and adds what fhirpathpy
lacks from the FHIR flavour of FHIRPath (R4 fhirpath.html, "Additional functions"):
``hasValue()``, ``getValue()``, ``htmlChecks()``, ``resolve()``, ``conformsTo()``,
``memberOf()``, plus ``%resource``/``%rootResource`` and the ``%`vs-x```/``%`ext-x``` constants.

The hot R4 core invariants (``ele-1`` sits on every element) are far too slow through a general
interpreter; :data:`NATIVE_INVARIANTS` (``natives``) holds Python equivalents, keyed by
exact expression text, that :meth:`CompiledExpression.test` uses automatically. Most other
invariants (``value.empty() or system.exists()``) fall in the subset ``compiler`` compiles
to closures; fhirpathpy evaluates the rest, and whatever data the fast path hands back
(``interpreter``, imported only then, or to parse an expression the user cache does not hold).

The focus passed to :meth:`CompiledExpression.evaluate`/:meth:`~CompiledExpression.test` is a
JSON node: a ``dict`` (resource, datatype or backbone element), a list (a collection), or a
primitive. A primitive is wrapped in :class:`Primitive` when its ``_x`` sibling matters: JSON
splits ``"birthDate": "1970"`` and ``"_birthDate": {"extension": [...]}`` (R4
json.html#primitive), and ``ele-1`` on a primitive needs both halves; a bare value is the same
as ``Primitive(value)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from .._cache import read_entry, write_entry
from .compiler import FastExpression, Unsupported, compile_fast
from .errors import FhirPathError, FhirPathEvaluationError
from .model import (
    CONTEXT_TYPE,
    FHIR_CONSTANTS,
    FHIR_FUNCTIONS,
    R4_MODEL,
    EvalEnv,
    Primitive,
    fhir_constant,
    fhirpathpy_version,
)
from .natives import NATIVE_INVARIANTS

__all__ = [
    "NATIVE_INVARIANTS",
    "CompiledExpression",
    "EvalEnv",
    "FhirPathError",
    "FhirPathEvaluationError",
    "Primitive",
    "compile_expression",
]

_VARIABLES = frozenset({"context", "resource", "rootResource", *FHIR_CONSTANTS})


# A verdict, or None where the data is not of the plain shape the native reads: then the
# expression is evaluated as written.
NativeInvariant = Callable[[Any, EvalEnv], bool | None]


class CompiledExpression:
    """A parsed FHIRPath expression, ready to evaluate on many foci.

    >>> ext1 = compile_expression("extension.exists() != value.exists()", type_hint="Extension")
    >>> env = EvalEnv.for_resource({"resourceType": "Patient"})
    >>> ext1.evaluate({"url": "http://x", "valueString": "a"}, env)
    [True]
    >>> ext1.test({"url": "http://x"}, env)
    False
    """

    __slots__ = ("_absent", "_fast", "_names", "_native", "_tree", "_type_path", "_vars",
                 "expression", "type_hint")

    def __init__(self, expression: str, *, type_hint: str | None = None) -> None:
        self.expression = expression
        self.type_hint = type_hint
        tree = _syntax_tree(expression)
        self._vars = _check_tree(tree, expression)
        self._type_path = _type_path(type_hint)
        self._native: NativeInvariant | None = NATIVE_INVARIANTS.get(expression)
        self._fast: FastExpression | None = compile_fast(tree)
        self._names = _focus_names(tree, rooted=True)  # for holds_without
        self._absent: frozenset[str] | bool | None = False  # not yet known: see holds_without
        # The syntax tree is kept where the interpreter is the way; where the fast path or a
        # native answers, it is read again (from the user cache, or parsed) only if data takes
        # the expression to the interpreter. Kept for every expression, the trees were a third
        # of a loaded validator's objects, which every full garbage collection walks.
        self._tree: dict[str, Any] | None = \
            tree if self._fast is None and self._native is None else None

    @property
    def _ast(self) -> dict[str, Any]:
        """The expression's syntax tree (fhirpathpy's, with the type steps marked)."""
        tree = self._tree
        if tree is None:
            tree = self._tree = _syntax_tree(self.expression)
        return tree

    def holds_without(self, focus: Mapping[str, Any]) -> bool:
        """True when the invariant holds on an object because it has none of its inputs.

        An expression that reads the focus only through named children (``value.empty() or
        system.exists()`` reads ``value[x]`` and ``system``), and no variable or function of
        the focus itself, gives on an object without those children what it gives on ``{}``:
        when that is a pass, such objects need no evaluation (``dom-2``..``dom-5`` on a
        resource without ``contained``). The JSON keys are worked out once per expression.
        """
        keys = self.absent_keys()
        return keys is not None and keys.isdisjoint(focus)

    def absent_keys(self) -> frozenset[str] | None:
        """The JSON keys without which the invariant holds on an object (see
        :meth:`holds_without`), or None when it must always be evaluated."""
        keys = self._absent
        if keys is False:
            keys = self._absent = _absent_keys(self)
        return keys  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r}, type_hint={self.type_hint!r})"

    def evaluate(self, focus: Any, env: EvalEnv) -> list[Any]:
        """Evaluate on ``focus``; return the result collection as plain JSON-like values.

        Complex results are the JSON dicts themselves; decimals come back as ``Decimal``;
        dates and quantities built by the expression as fhirpathpy's ``FP_*`` objects.

        Raises:
            FhirPathEvaluationError: the expression fails on this focus.
        """
        from .interpreter import evaluate

        return evaluate(self._ast, self.expression, focus, self._type_path, self._vars, env)

    def test(self, focus: Any, env: EvalEnv, *, native: bool = True) -> bool:
        """Evaluate as an invariant: True when it holds.

        A result of ``true`` passes and ``false`` fails. An empty result passes: nothing in
        the instance contradicts the invariant (``reference.startsWith('#')`` on a
        Reference without ``reference`` is empty, and ref-1 must not fail there). A single
        non-Boolean item counts as ``true``, following FHIRPath's singleton evaluation of
        collections (http://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections); more
        than one item is an error there, and fails here.

        The R4 core expressions in :data:`NATIVE_INVARIANTS` run as Python, not through
        fhirpathpy, unless ``focus`` is a list or ``native`` is False. They assume the focus
        has the type the core declares the constraint on (``ext-1`` an Extension, ``dom-*``
        a DomainResource) and never raise. Other expressions run compiled by
        ``compiler`` when they can, with fhirpathpy's verdict; ``native=False`` means
        fhirpathpy alone.

        Raises:
            FhirPathEvaluationError: the expression fails on this focus.
        """
        if native and self._native is not None and not isinstance(focus, list):
            verdict = self._native(focus, env)
            if verdict is not None:
                return verdict
        if native and self._fast is not None:
            try:
                return self._fast.test(focus, self._type_path, env)
            except Unsupported:
                pass  # data the fast path leaves to fhirpathpy
        return self._interpreted(focus, env)

    def tester(self) -> Callable[[Any, EvalEnv], bool]:
        """:meth:`test` as a function of the focus and the environment, going straight to the
        tiers this expression has: for a caller that tests many foci (``checks/invariant``)."""
        native, fast, type_path, interpreted = \
            self._native, self._fast, self._type_path, self._interpreted
        after = interpreted
        if fast is not None:
            fast_test = fast.test

            def after(focus: Any, env: EvalEnv) -> bool:
                try:
                    return fast_test(focus, type_path, env)
                except Unsupported:
                    return interpreted(focus, env)  # data the fast path leaves to fhirpathpy

        if native is None:
            return after

        def test(focus: Any, env: EvalEnv) -> bool:
            if not isinstance(focus, list):
                verdict = native(focus, env)
                if verdict is not None:
                    return verdict
            return after(focus, env)

        return test

    def _interpreted(self, focus: Any, env: EvalEnv) -> bool:
        """fhirpathpy's verdict (see :meth:`test`)."""
        result = self.evaluate(focus, env)
        if not result:
            return True
        if len(result) > 1:
            return False
        value = result[0]
        return value if isinstance(value, bool) else True


def compile_expression(expression: str, *, type_hint: str | None = None) -> CompiledExpression:
    """Compile a FHIRPath expression, or return the copy compiled before.

    Args:
        expression: FHIRPath (N1, with the FHIR additions), e.g. an invariant's ``expression``.
        type_hint: the FHIR type of the focus: a type name (``Extension``, ``HumanName``,
            ``dateTime``) or, for a backbone element, its path (``Observation.component``);
            an element path of a typed element (``Patient.name``) also works. Needed for
            choice elements: ``value`` on an Extension finds ``valueString`` only when the
            focus is known to be an Extension. Resources carry their own ``resourceType``.

    Returns:
        The compiled expression; equal arguments return the same object.

    Raises:
        FhirPathError: a syntax error, an unknown function or an unknown ``%variable``.

    >>> compile_expression("name.exists()") is compile_expression("name.exists()")
    True
    >>> compile_expression("name.frobnicate()")
    Traceback (most recent call last):
    ...
    ecanfhir.fhirpath.errors.FhirPathError: FHIRPath 'name.frobnicate()': unknown function ...
    """
    return _compile(expression, type_hint)


@lru_cache(maxsize=8192)
def _compile(expression: str, type_hint: str | None) -> CompiledExpression:
    return CompiledExpression(expression, type_hint=type_hint)


# -- parsing and compile-time checks ------------------------------------------------------


# Syntax trees are JSON, and parsing is most of a new process's time (ANTLR in Python takes
# milliseconds an expression): they are kept in the user cache, per fhirpathpy version, with
# their leading type names already turned into type tests (_type_steps).
_TREES = f"fhirpath-ast-{fhirpathpy_version()}-2"


def _syntax_tree(expression: str) -> dict[str, Any]:
    """fhirpathpy's syntax tree of an expression, its type steps marked (a new copy: callers
    may rewrite it)."""
    tree = read_entry(_TREES, expression)
    if isinstance(tree, dict):
        return tree
    tree = _type_steps(_parse(expression), entry=True)
    write_entry(_TREES, expression, tree)
    return tree


def _parse(expression: str) -> dict[str, Any]:
    """fhirpathpy's parser, but raising on syntax errors and requiring the whole input."""
    from .interpreter import parse

    return parse(expression)


# The functions an expression may call: fhirpathpy's built-ins (kept in the user cache too, so
# that checking an expression read from there needs no fhirpathpy) and the FHIR additions.
_BUILT_INS = f"fhirpath-functions-{fhirpathpy_version()}-1"


@lru_cache(maxsize=1)
def _arities() -> Mapping[str, frozenset[int] | None]:
    """Each function's parameter counts (None: any), the FHIR additions over the built-ins."""
    table = read_entry(_BUILT_INS, "built-ins")
    if not _arity_table(table):  # none yet, or not what this module writes: made again
        from .interpreter import built_in_arities

        table = built_in_arities()
        write_entry(_BUILT_INS, "built-ins", table)
    found = {name: None if counts is None else frozenset(counts)
             for name, counts in table.items()}
    found.update((name, frozenset(arity or (0,))) for name, arity in FHIR_FUNCTIONS.items())
    return found


def _arity_table(table: Any) -> bool:
    """Whether a cached function table has the form :func:`_arities` reads."""
    return isinstance(table, dict) and all(
        counts is None or (isinstance(counts, list) and all(type(n) is int for n in counts))
        for counts in table.values())


def _type_steps(node: dict[str, Any], *, entry: bool) -> dict[str, Any]:
    """Turn each leading type name into a type test: ``Patient.active`` on a Patient.

    FHIRPath §4.1 (http://hl7.org/fhirpath/N1/#path-selection): an identifier that starts an
    expression may name the type of the context; it then selects the context if it is of that
    type (or a subtype), and nothing otherwise. The HL7 validator reads every capitalised name
    "at entry" so (FHIR element names start in lower case): the first step of the whole
    expression, of each operand, of each function argument and inside parentheses; never a
    step after a dot. fhirpathpy tries it only on raw resources, and not at all on the nodes
    ecanfhir evaluates, so such a step found nothing and the invariant was silently empty. It
    becomes a call of :data:`CONTEXT_TYPE`, which fhirpathpy and ``compiler`` both know.
    """
    kind = node["type"]
    children: list[dict[str, Any]] = node.get("children") or []
    if kind == "TermExpression" and entry and children[0]["type"] == "InvocationTerm":
        invocation = children[0]["children"][0]
        if invocation["type"] == "MemberInvocation":
            name = str(invocation["children"][0]["text"]).strip('"').replace("`", "")
            if name[:1].isupper() and name.isidentifier():
                children[0]["children"][0] = _context_type_call(name)
                return node
    if kind == "InvocationExpression":
        _type_steps(children[0], entry=entry)
        _type_steps(children[1], entry=False)
        return node
    passes = kind in ("TermExpression", "InvocationTerm", "ParenthesizedTerm",
                      "FunctionInvocation", "MemberInvocation")
    for child in children:
        _type_steps(child, entry=entry if passes else True)
    return node


def _context_type_call(name: str) -> dict[str, Any]:
    """The syntax tree of ``%contextType('name')`` (a name no expression can write)."""
    call: dict[str, Any] = _syntax_tree(f"contextType('{name}')")["children"][0]["children"][0]
    call["children"][0]["children"][0]["text"] = CONTEXT_TYPE
    return call


def _walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a syntax tree (a stack, not nested generators: trees are deep)."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("children", ())))


def _check_tree(ast: Mapping[str, Any], expression: str) -> dict[str, Any]:
    """Reject unknown functions and variables; return the ``%`vs-x```-style constants used."""
    table = _arities()
    constants_used: dict[str, Any] = dict(FHIR_CONSTANTS)
    for node in _walk(ast):
        if node["type"] == "Functn":
            name = node["children"][0]["text"]
            params = node["children"][1]["children"] if len(node["children"]) > 1 else []
            if name not in table:
                raise FhirPathError(f"FHIRPath {expression!r}: unknown function {name}()")
            arities = table[name]
            if arities is not None and len(params) not in arities:
                raise FhirPathError(
                    f"FHIRPath {expression!r}: {name}() takes {sorted(arities)} arguments, "
                    f"not {len(params)}")
        elif node["type"] == "ExternalConstant":
            children: list[Mapping[str, Any]] = node.get("children") or [{}]
            name = str(children[0].get("text", "")).strip("`")
            value = fhir_constant(name)
            if value is not None:
                constants_used[name] = value
            elif name not in _VARIABLES:
                shown = name or "".join(node["terminalNodeText"])
                raise FhirPathError(f"FHIRPath {expression!r}: unknown variable %{shown}")
    return constants_used


_CHOICE_TYPES: Mapping[str, frozenset[str]] = {
    name: frozenset(t for path, types in R4_MODEL["choiceTypePaths"].items()
                    if path.rsplit(".", 1)[-1] == name for t in types)
    for name in {path.rsplit(".", 1)[-1] for path in R4_MODEL["choiceTypePaths"]}}


def _absent_keys(compiled: CompiledExpression) -> frozenset[str] | None:
    """The JSON keys whose absence makes the invariant hold (see ``holds_without``), or None.

    Only for R4 types and their elements, whose choice elements the R4 model lists (a logical
    model may define others); ``value`` stands for ``valueString``, ``_valueString``... The
    verdict on ``{}`` is taken with an environment that raises when read: an expression that
    needs ``%resource`` there (not only inside a ``where()`` that finds nothing to iterate)
    is always evaluated.
    """
    hint = compiled.type_hint
    if hint is None or hint.split(".", 1)[0] not in R4_MODEL["type2Parent"]:
        return None
    names = compiled._names
    if names is None:
        return None
    try:
        if not compiled.test({}, _UNREADABLE_ENV):
            return None
    except Exception:  # it fails on an empty object, or reads the environment: evaluate it
        return None
    keys: set[str] = set()
    for name in names:
        for key in (name, *(name + t for t in _CHOICE_TYPES.get(name, ()))):
            keys.update((key, "_" + key))
    return frozenset(keys)


# Functions whose arguments are evaluated on each item of their input (or on the input): a
# name there starts from those items, not from the focus (FHIRPath §5, "Expr" arguments).
_ON_ITEMS = frozenset({"where", "select", "all", "exists", "repeat", "iif", "aggregate",
                       "trace"})


def _focus_names(node: Mapping[str, Any], *, rooted: bool) -> set[str] | None:
    """The element names an expression reads from its focus, or None when it may read the
    focus otherwise: ``$this``, ``%context``, or a function called on the focus
    (``hasValue()``, ``children()``, a leading type name).

    ``rooted`` is False inside the arguments of :data:`_ON_ITEMS` functions, where names,
    ``$this`` and functions start from the items, which derive from the focus's names. Other
    arguments count as reading the focus (a superset of what is read is safe).
    """
    kind = node["type"]
    children: list[Mapping[str, Any]] = node.get("children") or []
    if kind == "InvocationTerm":
        start = children[0]
        if start["type"] == "MemberInvocation":
            return {str(start["children"][0]["text"]).strip('"').replace("`", "")} \
                if rooted else set()
        if rooted:
            return None  # $this, or a function of the focus
    elif kind == "ExternalConstant":
        name = str((children[0] if children else {}).get("text", "")).strip("`")
        return set() if name in ("resource", "rootResource") or fhir_constant(name) is not None \
            else None
    elif kind == "InvocationExpression":
        left = _focus_names(children[0], rooted=rooted)
        step = children[1]
        if left is None or step["type"] != "FunctionInvocation":
            return left
        call = step["children"][0]
        params = call["children"][1]["children"] if len(call["children"]) > 1 else []
        on_items = call["children"][0]["text"] in _ON_ITEMS
        for param in params:
            found = _focus_names(param, rooted=rooted and not on_items)
            if found is None:
                return None
            left |= found
        return left
    names: set[str] = set()
    for child in children:
        found = _focus_names(child, rooted=rooted)
        if found is None:
            return None
        names |= found
    return names


class _Unreadable(Mapping[str, Any]):
    """A resource that raises when read: ``holds_without`` must not depend on it."""

    def __getitem__(self, key: str) -> Any:
        raise LookupError("the environment is not available here")

    def __iter__(self) -> Iterator[str]:
        raise LookupError("the environment is not available here")

    def __len__(self) -> int:
        raise LookupError("the environment is not available here")


def _unavailable(*args: Any) -> Any:
    raise LookupError("the environment is not available here")


_UNREADABLE_ENV = EvalEnv(_Unreadable(), _Unreadable(), resolve=_unavailable,
                          member_of=_unavailable, conforms_to=_unavailable)


def _type_path(type_hint: str | None) -> str | None:
    if type_hint is None:
        return None
    hint = type_hint.removesuffix("[x]")
    typed: str | None = R4_MODEL["path2Type"].get(hint)
    if typed is not None and typed not in ("Element", "BackboneElement"):
        return typed
    elsewhere: str = R4_MODEL["pathsDefinedElsewhere"].get(hint, hint)
    return elsewhere
