"""The values the fast path computes on: collections, nodes, member navigation, types.

A collection is a list of ``(JSON value, type path)`` pairs, the path being the one
fhirpathpy's ``ResourceNode`` would carry, or :data:`LITERAL` for values computed by the
expression (``true``, ``count()``). Member navigation follows fhirpathpy's model exactly:
``value`` finds ``valueString`` by the R4 model's choice types (R4 formats.html#choice), and a
primitive's ``_x`` object is a node of its own, after the values (R4 json.html#primitive).
Where the data leaves the subset the fast path decides like fhirpathpy, these helpers raise
:class:`Unsupported`; syntax outside it raises :class:`NotCompilable` while compiling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from .model import R4_MODEL, EvalEnv, Primitive, is_companion_data

__all__ = [
    "FALSE", "LITERAL", "STRING_TYPES", "TRUE", "Coll", "Fn", "Item", "NotCompilable", "Scope",
    "Unsupported", "boolean", "distinct_key", "input_collection", "is_companion_pair",
    "is_mapping", "is_number", "is_type", "member_invocation", "resource_node", "single_value",
    "singleton", "string_path", "type_name_of", "type_specifier", "values_only",
]


class Unsupported(Exception):
    """This evaluation is left to fhirpathpy (the data takes it outside the fast subset)."""


class NotCompilable(Exception):
    """The syntax is outside the fast subset (:func:`~.compiler.compile_fast` gives None)."""


class _Literal:
    __slots__ = ()

    def __repr__(self) -> str:
        return "LITERAL"


LITERAL: Any = _Literal()  # the "path" of a value the expression computed, not a node

Item = tuple[Any, Any]  # (JSON value, fhirpathpy type path or LITERAL)
Coll = list[Item]


class Scope:
    """What a running expression sees besides its input: the env and ``%context``."""

    __slots__ = ("context", "env")

    def __init__(self, env: EvalEnv, context: Coll) -> None:
        self.env = env
        self.context = context


Fn = Callable[[Coll, Scope], Coll]

_ELSEWHERE: Mapping[str, str] = R4_MODEL["pathsDefinedElsewhere"]
_CHOICES: Mapping[str, list[str]] = R4_MODEL["choiceTypePaths"]
_PATH_TO_TYPE: Mapping[str, str] = R4_MODEL["path2Type"]
_TYPE_PARENT: Mapping[str, str] = R4_MODEL["type2Parent"]
# Every last segment of a choice element (`value`, `onset`…): after a path is lost, such a
# name may or may not be a choice, so the fast path leaves it to fhirpathpy.
_CHOICE_NAMES = frozenset(path.rsplit(".", 1)[-1] for path in _CHOICES)
STRING_TYPES = frozenset({
    "string", "System.String", "code", "uri", "url", "canonical", "id", "oid", "uuid",
    "markdown", "base64Binary", "xhtml"})


# -- the focus and nodes as fhirpathpy builds them --------------------------------------------
_SCALARS = frozenset({str, int, float, bool, Decimal, list, type(None)})


def is_mapping(data: Any) -> bool:
    """``isinstance(data, Mapping)``, without the ABC check for JSON's own types."""
    kind = type(data)
    return kind is dict or (kind not in _SCALARS and isinstance(data, Mapping))


def resource_node(data: Any, path: Any) -> Item:
    """fhirpathpy's ``ResourceNode(data, path)``: a resource carries its own type."""
    if is_mapping(data) and "resourceType" in data:
        return data, data["resourceType"]
    return data, path


def input_collection(focus: Any, path: str | None) -> Coll:
    """The input collection, as ``engine._focus_nodes`` builds it for fhirpathpy."""
    if focus is None:
        return []
    if type(focus) is dict:
        return [(focus, focus["resourceType"]) if "resourceType" in focus else (focus, path)]
    if isinstance(focus, list):
        return [item for part in focus for item in input_collection(part, path)]
    if isinstance(focus, Primitive):
        items = [] if focus.value is None else [resource_node(focus.value, path)]
        if focus.element is not None:
            element = resource_node(focus.element, path)
            # fhirpathpy marks this half as a companion whatever it holds; the pair form
            # carries no mark, so it must be recognisable as one by its shape and type.
            if not isinstance(element[1], str | None) or not is_companion_pair(*element):
                raise Unsupported
            items.append(element)
        return items
    return [resource_node(focus, path)]


def is_companion_pair(data: Any, path: Any) -> bool:
    """``is_companion`` on a pair; an ``_x``-shaped object of unknown type is undecidable."""
    if not is_mapping(data):
        return False
    if path is None and data and data.keys() <= {"id", "extension"}:
        raise Unsupported
    return is_companion_data(data, path)


def type_name_of(data: Any, path: Any) -> str | None:
    """The FHIR or System type name of an item, None when fhirpathpy does not know it."""
    if path is LITERAL:
        return "System.String" if isinstance(data, str) else None
    if not isinstance(path, str) or ("." in path and not path.startswith("System.")):
        return None
    return path


def string_path(path: Any) -> bool:
    """Whether a JSON string (``type(data) is str``) with this path is a String to both
    FHIRPath and fhirpathpy: ``type_name_of(data, path) in STRING_TYPES``, sooner."""
    return path is LITERAL or (type(path) is str and path in STRING_TYPES)


# -- member navigation ------------------------------------------------------------------------
@cache
def _member_plan(path: Any, key: str) -> tuple[tuple[tuple[str, str, str], ...], str]:
    """(choice fields as (name, _name, child path), child path) for ``key`` under ``path``.

    The same steps as fhirpathpy's ``create_reduce_member_invocation``.
    """
    child = f"{path}.{key}" if path else f"_.{key}"
    child = _ELSEWHERE.get(child, child)
    types = _CHOICES.get(child)
    if types:
        fields = tuple((key + name, f"_{key}{name}", _PATH_TO_TYPE.get(child + name, child + name))
                       for name in types)
        return fields, child
    if key == "extension":
        child = "Extension"
    return (), _PATH_TO_TYPE.get(child, child)


def _add(out: Coll, value: Any, path: str) -> None:
    if type(value) is str:
        out.append((value, path))  # resource_node() of a string
    elif type(value) is list:
        for item in value:
            if type(item) is dict:  # resource_node() of an object, inline
                out.append((item, item["resourceType"]) if "resourceType" in item
                           else (item, path))
            else:
                out.append(resource_node(item, path))
    else:
        out.append(resource_node(value, path))


def member_invocation(key: str, source: Fn | None) -> Fn:
    underscored = "_" + key
    may_be_choice = key in _CHOICE_NAMES
    plans: dict[Any, tuple[tuple[tuple[str, str, str], ...], str]] = {}

    def member(focus: Coll, scope: Scope) -> Coll:
        out: Coll = []
        for data, path in (focus if source is None else source(focus, scope)):
            if type(data) is not dict and not is_mapping(data):
                continue  # fhirpathpy finds no member on a non-object (nor on a literal)
            try:
                plan = plans.get(path)
                if plan is None:
                    if may_be_choice and path is None:
                        raise Unsupported  # the type is lost: is `value` a choice here?
                    plan = plans[path] = _member_plan(path, key)
            except TypeError:  # an unhashable "resourceType"
                raise Unsupported from None
            fields, child = plan
            if fields:
                for name, underscored_name, choice_path in fields:
                    value, element = data.get(name), data.get(underscored_name)
                    if value is not None or element is not None:
                        if value is not None:
                            _add(out, value, choice_path)
                        if element is not None:
                            _add(out, element, choice_path)
                        break
                continue
            value = data.get(key)
            if value is not None:
                kind = type(value)  # _add() of the usual values, inline
                if kind is str:
                    out.append((value, child))
                elif kind is dict:
                    out.append((value, value["resourceType"]) if "resourceType" in value
                               else (value, child))
                else:
                    _add(out, value, child)
            element = data.get(underscored)
            if element is not None:
                _add(out, element, child)
        return out

    return member


# -- results and operands ---------------------------------------------------------------------
TRUE: Coll = [(True, LITERAL)]
FALSE: Coll = [(False, LITERAL)]


def boolean(value: bool | None) -> Coll:
    """A Boolean result; the two lists are shared, and no caller changes a collection."""
    if value is None:
        return []
    return TRUE if value else FALSE


def singleton(coll: Coll) -> Item:
    if len(coll) != 1:
        raise Unsupported  # FHIRPath: an error; fhirpathpy: the first item, or an error
    return coll[0]


def is_number(value: Any) -> bool:
    kind = type(value)  # JSON's own types first: cheaper than the union isinstance
    if kind in _NUMBERS:
        return True
    if kind in _NOT_NUMBERS:
        return False
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


_NUMBERS = frozenset({int, float, Decimal})
_NOT_NUMBERS = frozenset({str, bool, dict, list, type(None)})


def distinct_key(value: Any) -> str:
    """fhirpathpy's identity of a value in ``distinct()``/``isDistinct()``/``|``."""
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return str(value)


# -- types ------------------------------------------------------------------------------------
def type_specifier(text: str) -> tuple[str | None, str]:
    """(namespace, name) of a type specifier such as ``Quantity`` or ``FHIR.Patient``."""
    parts = text.replace("`", "").split(".")
    if len(parts) == 2 and parts[0] == "FHIR":
        return parts[0], parts[1]
    if len(parts) == 1:
        return None, parts[0]
    raise NotCompilable(text)


def is_type(item: Item, namespace: str | None, name: str) -> bool:
    """``item is namespace.name``, for FHIR types only (fhirpathpy's ``TypeInfo.is_``)."""
    path = item[1]
    if type(path) is str:  # the usual item: a resource's or an element's type, known
        known = _IS_TYPE.get((path, name))
        if known is not None:
            return known
    type_name = type_name_of(*item)
    if path is LITERAL or type_name is None or type_name.startswith("System."):
        raise Unsupported  # System types: where fhirpathpy's names and FHIRPath's differ
    answer = _derives(type_name, name)
    if type_name == path and len(_IS_TYPE) < _IS_TYPE_LIMIT:
        _IS_TYPE[(path, name)] = answer
    return answer


def _derives(type_name: str, name: str) -> bool:
    """Whether ``type_name`` is ``name`` or derives from it, by the model's parents."""
    current: str | None = type_name
    while current:
        if current == name:
            return True
        current = _TYPE_PARENT.get(current) or _PATH_TO_TYPE.get(current)
    return False


# (type path, type name) -> is_type's answer for an item of that path: the walk up the model's
# parents, once per pair (ofType(Provenance) over a message's entries meets a dozen types).
_IS_TYPE: dict[tuple[str, str], bool] = {}
_IS_TYPE_LIMIT = 10_000


def values_only(coll: Coll) -> Coll:
    """The items that are not a primitive's ``_x`` half (``_values`` of ``functions``)."""
    return [item for item in coll if item[1] is LITERAL or not is_companion_pair(*item)]


def single_value(coll: Coll) -> Item | None:
    """The one item (value and ``_x`` halves counting as one), as ``_single`` does."""
    values = values_only(coll)
    if len(values) > 1:
        raise Unsupported
    if values:
        return values[0]
    return coll[0] if coll else None
