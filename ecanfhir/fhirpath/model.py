"""How FHIR JSON looks to fhirpathpy: the R4 model, primitives, navigation.

Shared by the FHIRPath functions (``functions``) and the native invariants
(``natives``), which must see the data exactly as fhirpathpy does: JSON splits a
primitive into ``"x": value`` and ``"_x": {"id": …, "extension": […]}`` (R4
json.html#primitive), and fhirpathpy turns the two halves into two nodes of the same type; a
choice element ``value[x]`` is found under ``valueString``, ``valueQuantity``… (R4
formats.html#choice).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import Any

from .._frozen import frozen

__all__ = [
    "CONTEXT_TYPE",
    "ENV_KEY",
    "FHIR_CONSTANTS",
    "FHIR_FUNCTIONS",
    "R4_MODEL",
    "EvalEnv",
    "Primitive",
    "child_path",
    "choice",
    "choice_names",
    "contained",
    "fhir_constant",
    "fhirpathpy_version",
    "halves",
    "is_companion_data",
    "is_primitive_value",
    "is_subtype",
    "member",
    "navigate",
    "type_of_path",
]



@cache
def _fhirpathpy_folder() -> str | None:
    """Where fhirpathpy's files are, found without importing it (its package imports its
    parser and engine, a tenth of a new process's start, which the fast path does without)."""
    spec = importlib.util.find_spec("fhirpathpy")
    if spec is None or not spec.submodule_search_locations:  # an unusual installation
        return None
    return next(iter(spec.submodule_search_locations))


def _r4_model() -> dict[str, Any]:
    """fhirpathpy's R4 model (choice types, paths to types, type parents), read from its files.

    ``fhirpathpy.models`` reads the models of all four FHIR versions when imported; only R4's
    are needed, and its files are found without importing fhirpathpy.
    """
    folder = _fhirpathpy_folder()
    if folder is None:
        from fhirpathpy.models import models

        found: dict[str, Any] = models["r4"]
        return found
    folder = os.path.join(folder, "models", "r4")
    model: dict[str, Any] = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                model[name[:-5]] = json.load(fh)
    return model


_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@cache
def fhirpathpy_version() -> str:
    """fhirpathpy's version, read from its package file without importing it (the user cache
    keeps its syntax trees and its function table per version)."""
    folder = _fhirpathpy_folder()
    if folder is not None:
        try:
            with open(os.path.join(folder, "__init__.py"), encoding="utf-8") as fh:
                found = _VERSION.search(fh.read())
        except OSError:
            found = None
        if found is not None:
            return found.group(1)
    import fhirpathpy

    version: str = fhirpathpy.__version__
    return version


R4_MODEL: Mapping[str, Any] = _r4_model()
ENV_KEY = "ecanfhir.env"  # where the running evaluation's EvalEnv sits in fhirpathpy's ctx

# The step an expression's leading type name becomes (``Patient`` in ``Patient.active``, see
# ``engine._type_steps``); not an identifier, so no expression can call it by name.
CONTEXT_TYPE = "%contextType"

# The FHIR additions to FHIRPath (R4 fhirpath.html, "Additional functions") and the built-ins
# ecanfhir replaces (see ``functions``), with their arities in fhirpathpy's format: parameter
# count -> parameter kinds; None for a function without parameters.
FHIR_FUNCTIONS: Mapping[str, Mapping[int, list[str]] | None] = MappingProxyType({
    "hasValue": None,
    "getValue": None,
    "htmlChecks": None,
    "resolve": None,
    "conformsTo": {1: ["String"]},
    "memberOf": {1: ["String"]},
    "extension": {1: ["String"]},
    "trace": {0: [], 1: ["String"], 2: ["String", "Expr"]},
    "children": None,
    "as": {1: ["TypeSpecifier"]},
    "is": {1: ["TypeSpecifier"]},
    "asOp": {2: ["Any", "TypeSpecifier"]},
    "isOp": {2: ["Any", "TypeSpecifier"]},
    "ofType": {1: ["TypeSpecifier"]},
    CONTEXT_TYPE: {1: ["String"]},
})
_PRIMITIVE_KEYS = frozenset({"id", "extension"})
FHIR_CONSTANTS: Mapping[str, str] = MappingProxyType({
    # FHIR-defined environment variables (R4 fhirpath.html, "Variables").
    "ucum": "http://unitsofmeasure.org",
    "sct": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
})


def fhir_constant(name: str) -> str | None:
    """The value of ``%name``: ``%ucum``, ``%sct``, ``%loinc``, ``%`vs-x``` or ``%`ext-x```."""
    if name in FHIR_CONSTANTS:
        return FHIR_CONSTANTS[name]
    if name.startswith("vs-"):  # %`vs-name`: a core value set (R4 fhirpath.html)
        return "http://hl7.org/fhir/ValueSet/" + name[3:]
    if name.startswith("ext-"):
        return "http://hl7.org/fhir/StructureDefinition/" + name[4:]
    return None


@frozen
class Primitive:
    """A primitive element as a FHIRPath focus: its JSON value and its ``_x`` object.

    ``{"birthDate": "1970", "_birthDate": {"extension": [...]}}`` is one element, the focus
    ``Primitive("1970", {"extension": [...]})``. Either half may be None (an element with only
    extensions has no value). A bare JSON value as focus means ``Primitive(value)``.

    >>> Primitive.of({"given": ["Ann", None], "_given": [None, {"id": "g2"}]}, "given", 1)
    Primitive(value=None, element={'id': 'g2'})
    """

    value: Any = None
    element: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, parent: Mapping[str, Any], name: str, index: int | None = None) -> Primitive:
        """The primitive ``name`` of a JSON object; ``index`` picks one of a repeating one."""
        value, element = parent.get(name), parent.get("_" + name)
        if index is not None:
            value = value[index] if isinstance(value, list) and index < len(value) else None
            element = (element[index]
                       if isinstance(element, list) and index < len(element) else None)
        return cls(value, element if isinstance(element, Mapping) else None)


def is_primitive_value(data: Any) -> bool:
    return data is not None and not isinstance(data, Mapping | list)


def type_of_path(path: str | None) -> str | None:
    """The FHIR type name fhirpathpy gives a node of this path (as ``get_type_info``)."""
    if path is None or path.startswith("System."):
        return path
    return "BackboneElement" if "." in path else path


def is_subtype(path: str | None, base: str) -> bool:
    """Whether a node of ``path`` passes ``is(base)`` for an unqualified FHIR type ``base``."""
    name = type_of_path(path)
    if name is None:
        return False
    if name.startswith("System."):
        return name[7:] == base
    while name:
        if name == base:
            return True
        name = R4_MODEL["type2Parent"].get(name) or R4_MODEL["path2Type"].get(name)
    return False


def is_companion_data(data: Any, path: Any) -> bool:
    """:func:`is_companion` for a node's data and type path: an id/extension-only object of
    a primitive type."""
    if not isinstance(data, dict):
        return False
    keys = data.keys()
    if not keys or not keys <= _PRIMITIVE_KEYS:
        return False
    name = type_of_path(path)
    if name is None:
        return list(keys) == ["extension"]  # fhirpathpy's own rule when it knows no type
    return name.startswith("System.") or name[:1].islower()


def contained(resource: Any, resource_id: str) -> Mapping[str, Any] | None:
    """The contained resource of ``resource`` with this id (``#id`` references, R4
    references.html#contained), or None."""
    for candidate in (resource.get("contained") or []) if isinstance(resource, Mapping) else []:
        if isinstance(candidate, Mapping) and candidate.get("id") == resource_id:
            return candidate
    return None


def child_path(parent: str | None, key: str) -> str | None:
    """The type path fhirpathpy gives child ``key`` of a node of path ``parent``."""
    if key == "extension":
        return "Extension"
    if parent is None:
        return None
    path = f"{parent}.{key}"
    path = R4_MODEL["pathsDefinedElsewhere"].get(path, path)
    typed: str = R4_MODEL["path2Type"].get(path, path)
    return typed


# -- navigation on plain JSON, the way fhirpathpy's member invocation does it ------------


def halves(focus: Any) -> list[Any]:
    """The JSON items a focus stands for (a Primitive is up to two: value, then ``_x``)."""
    if focus is None:
        return []
    if isinstance(focus, Primitive):
        return [half for half in (focus.value, focus.element) if half is not None]
    if isinstance(focus, list):
        return [half for item in focus for half in halves(item)]
    return [focus]


def _some(value: Any) -> bool:
    return value is not None and not (isinstance(value, list) and not value)


def _items(value: Any) -> Iterator[Any]:
    if _some(value):
        yield from (value if isinstance(value, list) else (value,))


def member(data: Any, key: str) -> list[Any]:
    """``data.key``: the values of ``key`` then those of ``_key`` (list items, nulls kept)."""
    kind = type(data)  # JSON's own types first: an ABC check costs more than the rest here
    if kind is not dict and (kind in _JSON_SCALARS or not isinstance(data, Mapping)):
        return []
    value, element = data.get(key), data.get("_" + key)
    if element is None:  # the common case: no `_key` companion
        if value is None:
            return []
        return value[:] if isinstance(value, list) else [value]
    return [*_items(value), *_items(element)]


_JSON_SCALARS = frozenset({str, int, float, bool, list, type(None)})


def choice(data: Any, key: str, types: tuple[str, ...]) -> list[Any]:
    """``data.key`` for a choice element: the first ``key<Type>`` (or ``_key<Type>``) present."""
    if not isinstance(data, Mapping):
        return []
    names = choice_names(key, types)
    found = [names[name] for name, value in data.items() if name in names and value is not None]
    if not found:
        return []
    name = key + types[min(found)]  # fhirpathpy tries the types in the model's order
    return [*_items(data.get(name)), *_items(data.get("_" + name))]


@cache
def choice_names(key: str, types: tuple[str, ...]) -> Mapping[str, int]:
    """A choice element's JSON names (``valueString``, ``_valueString``...) to the rank of
    their type in ``types``."""
    return {f"{prefix}{key}{type_name}": rank
            for rank, type_name in enumerate(types) for prefix in ("", "_")}


def navigate(items: Sequence[Any], *keys: str) -> list[Any]:
    """``items.k1.k2…`` for keys that are not choice elements."""
    current = list(items)
    for key in keys:
        current = [found for item in current for found in member(item, key)]
    return current


@frozen
class EvalEnv:
    """What an expression can see beyond its focus.

    Attributes:
        resource: ``%resource``, the resource holding the focus; for a focus inside a
            contained resource, the contained resource.
        root_resource: ``%rootResource``, the container of ``resource`` when it is contained,
            else ``resource`` itself (R4 fhirpath.html, "Variables"). For a resource inside a
            Bundle entry that is the entry's resource, as in the HL7 validator.
        resolve: maps a reference string (``Patient/1``, ``urn:uuid:…``, ``#p1``) to the
            resource it names, or None; ``resolve()`` drops what this cannot resolve. Without
            it, ``resolve()`` finds only contained resources (``#id``).
        member_of: ``(coding, code or CodeableConcept; value set url) -> bool``, None when
            unknown (then ``memberOf()`` is empty).
        conforms_to: ``(resource, profile url) -> bool``, None when unknown.
    """

    resource: Mapping[str, Any]
    root_resource: Mapping[str, Any]
    resolve: Callable[[str], Mapping[str, Any] | None] | None = None
    member_of: Callable[[Any, str], bool | None] | None = None
    conforms_to: Callable[[Mapping[str, Any], str], bool | None] | None = None

    @classmethod
    def for_resource(cls, resource: Mapping[str, Any], **kwargs: Any) -> EvalEnv:
        """The environment of a resource that is not contained (``%rootResource`` is itself)."""
        return cls(resource, resource, **kwargs)
