"""ElementDefinitions of a StructureDefinition that is validated: what each one may say.

R4 ElementDefinition (http://hl7.org/fhir/R4/elementdefinition.html) lets an element carry
constraints that only make sense for some types: a binding for coded types, ``maxLength`` for
types with a length, ``minValue``/``maxValue`` for ordered ones, ``targetProfile`` for
references; slicing only where the element repeats or is a choice. The HL7 Java validator
(``StructureDefinitionValidator.validateElementDefinition``) checks every element of the
differential and of the snapshot the StructureDefinition carries, using the types the element
itself lists (its "type characteristics"); so does this module:

=========================================================  ================  ==========
rule                                                       lists             level
=========================================================  ================  ==========
the path starts with the type's name                       both              error
slicing only on an element that repeats or is a choice     both              error
binding / maxLength / minValue / maxValue / targetProfile  both              error
/ maxDecimalPlaces / maxSize only on types that have it
meaningWhenMissing in a constraint only on extensions      differential      error
a new invariant has a key and is the profile's own         differential      warning
(``source``; an error for the HL7 validator, but copied
invariants keep their source)
a new invariant does not reuse a key of the base (or of    differential      error
the profile) for another expression
=========================================================  ================  ==========
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import Registry
from ...fhirpath.engine import FhirPathError, compile_expression
from .._issue import Issue
from .json_values import dicts

__all__ = ["check_element_definitions", "fhirpath_problems", "path_problem"]

_MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"
_MAX_DECIMALS = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
_MAX_SIZE = "http://hl7.org/fhir/StructureDefinition/maxSize"
_FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_CORE = "http://hl7.org/fhir/StructureDefinition/"

_RANGE, _LENGTH, _BIND, _TARGET = "has-range", "has-length", "can-bind", "has-target"
_CONTINUOUS, _SIZE, _UNITS = "is-continuous", "has-size", "has-units"
_QUANTITY = frozenset({_RANGE, _CONTINUOUS, _BIND, _UNITS})
# What each type allows (the HL7 validator's table, used when a type definition does not list
# its structuredefinition-type-characteristics); types not listed allow none of them.
_CHARACTERISTICS: Mapping[str, frozenset[str]] = {
    "integer": frozenset({_RANGE, _LENGTH}), "integer64": frozenset({_RANGE, _LENGTH}),
    "decimal": frozenset({_RANGE, _CONTINUOUS, _LENGTH}),
    "base64Binary": frozenset({_SIZE}),
    "instant": frozenset({_RANGE, _CONTINUOUS, _LENGTH}),
    "string": frozenset({_LENGTH, _BIND}), "uri": frozenset({_LENGTH, _BIND}),
    "date": frozenset({_RANGE, _LENGTH}),
    "dateTime": frozenset({_RANGE, _CONTINUOUS, _LENGTH}),
    "time": frozenset({_RANGE, _CONTINUOUS, _LENGTH}),
    "canonical": frozenset({_TARGET, _LENGTH}), "code": frozenset({_LENGTH, _BIND}),
    "id": frozenset({_LENGTH}), "markdown": frozenset({_LENGTH}),
    "oid": frozenset({_LENGTH, _BIND}), "positiveInt": frozenset({_RANGE, _LENGTH}),
    "unsignedInt": frozenset({_RANGE, _LENGTH}), "url": frozenset({_LENGTH, _BIND}),
    "uuid": frozenset({_LENGTH, _BIND}),
    "Age": _QUANTITY, "Distance": _QUANTITY, "Duration": _QUANTITY, "Quantity": _QUANTITY,
    "MoneyQuantity": _QUANTITY, "SimpleQuantity": _QUANTITY,
    "Attachment": frozenset({_SIZE}), "CodeableConcept": frozenset({_BIND}),
    "CodeableReference": frozenset({_TARGET, _BIND}), "Coding": frozenset({_BIND}),
    "Count": frozenset({_RANGE}), "Money": frozenset({_RANGE, _CONTINUOUS}),
    "Range": frozenset({_UNITS, _BIND}), "Ratio": frozenset({_UNITS}),
    "Reference": frozenset({_TARGET}), "Extension": frozenset({_BIND}),
}
# (what the element says, the characteristic it needs, how to name it)
_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("binding", _BIND, "a binding"), ("maxLength", _LENGTH, "maxLength"),
    ("minValue", _RANGE, "minValue"), ("maxValue", _RANGE, "maxValue"),
)
_EXTENSION_NEEDS: tuple[tuple[str, str, str], ...] = (
    (_MIN_LENGTH, _LENGTH, "the minLength extension"),
    (_MAX_DECIMALS, _CONTINUOUS, "the maxDecimalPlaces extension"),
    (_MAX_SIZE, _SIZE, "the maxSize extension"),
)


def check_element_definitions(sd: Mapping[str, Any], at: str, *, registry: Registry,
                              base: Mapping[str, Any] | None) -> Iterator[Issue]:
    """Check each element of ``sd``'s differential and snapshot (``base``: its loaded base)."""
    type_name = sd.get("type") if isinstance(sd.get("type"), str) else None
    constraint = sd.get("derivation") == "constraint"
    for list_name in ("differential", "snapshot"):
        holder = sd.get(list_name)
        elements = holder.get("element") if isinstance(holder, Mapping) else None
        if not isinstance(elements, list):
            continue
        invariants: dict[str, str] = {}
        inherited = _base_invariants(base) if list_name == "differential" else {}
        ids: dict[str, int] = {}
        for i, element in enumerate(elements):
            if not isinstance(element, Mapping):
                continue
            where = f"{at}.{list_name}.element[{i}]"
            yield from _check_id(element, where, ids, i)
            path = element.get("path")
            if not isinstance(path, str) or not path:
                if list_name == "snapshot":
                    yield Issue.error("required", where, "the snapshot element has no path",
                                      "sd-element")
                continue
            yield from _check_expressions(element, where, sd=sd)
            if list_name == "differential":
                yield from _check_path_syntax(path, where)
            if type_name and ":" not in type_name and path != type_name \
                    and not path.startswith(type_name + "."):
                yield Issue.error("not-found", where, f"the path '{path}' is not in the type "
                                  f"'{type_name}' the StructureDefinition defines", "sd-element")
            yield from _check_slicing(element, path, where, registry)
            yield from _check_characteristics(element, path, where, registry)
            if list_name == "differential" and constraint:
                yield from _check_meaning_when_missing(element, path, where)
                yield from _check_invariants(element, where, sd=sd, inherited=inherited,
                                             seen=invariants)


def _check_path_syntax(path: str, at: str) -> Iterator[Issue]:
    problem = path_problem(path)
    if problem:
        yield Issue.error("invalid", at, f"illegal path '{path}': {problem}", "sd-element")


def path_problem(path: str) -> str | None:
    """What makes a differential path illegal, or None. Each name is a FHIR element name: 1 to
    64 letters, digits, ``_`` or ``-``, a choice ending in ``[x]`` (HL7 ProfileUtilities checks
    the differential so)."""
    for name in path.split("."):
        stem = name[:-3] if name.endswith("[x]") else name
        if not name:
            return "a name is missing ('..')"
        if len(name) > 64:
            return f"the name '{name[:20]}...' is longer than 64 characters"
        if any(c.isspace() for c in name):
            return f"the name '{name}' contains whitespace"
        if "[" in stem or "]" in stem:
            return f"the name '{name}' contains '[' or ']' (only a final '[x]' is allowed)"
        bad = next((c for c in stem if not (c.isalnum() or c in "_-")), None)
        if bad is not None:
            return f"the name '{name}' contains the character '{bad}'"
    return None


def _check_id(element: Mapping[str, Any], at: str, ids: dict[str, int],
              index: int) -> Iterator[Issue]:
    """Element ids are unique within a list (R4 eld-20 asks the same of the snapshot)."""
    element_id = element.get("id")
    if not isinstance(element_id, str):
        return
    if element_id in ids:
        yield Issue.error("duplicate", at, f"the id '{element_id}' is already used by element "
                          f"[{ids[element_id]}]", "sd-element")
    ids.setdefault(element_id, index)


def _check_expressions(element: Mapping[str, Any], at: str, *,
                       sd: Mapping[str, Any]) -> Iterator[Issue]:
    """An invariant this profile defines has a FHIRPath expression that compiles (HL7
    validator: ED_INVARIANT_NO_EXPRESSION, a hint; ED_INVARIANT_EXPRESSION_ERROR). Syntax errors
    are errors; an unknown function or variable a warning (it may be another engine's)."""
    url = sd.get("url")
    for c, constraint in enumerate(dicts(element.get("constraint"))):
        key, expression = constraint.get("key"), constraint.get("expression")
        source = constraint.get("source")
        if not isinstance(key, str) or not key or (
                isinstance(source, str) and source.split("|", 1)[0] != url):
            continue
        where = f"{at}.constraint[{c}]"
        if not isinstance(expression, str) or not expression:
            yield Issue.information("informational", where, f"the invariant '{key}' has no "
                                    "FHIRPath expression, so it cannot be checked",
                                    "sd-invariant")
            continue
        yield from fhirpath_problems(expression, where, what=f"the invariant '{key}'")


def fhirpath_problems(expression: str, at: str, *, what: str) -> Iterator[Issue]:
    """An error for a FHIRPath syntax error in ``expression``, a warning for what this engine
    does not know (a function or variable)."""
    try:
        compile_expression(expression)
    except FhirPathError as exc:
        syntax = "syntax error" in str(exc)
        yield Issue(("error" if syntax else "warning"), "invalid", at,
                    f"{what} has an expression that cannot be used: {exc}", "sd-fhirpath")


def _check_slicing(element: Mapping[str, Any], path: str, at: str,
                   registry: Registry) -> Iterator[Issue]:
    """Slicing needs an element that repeats or is a choice (in its type's own definition)."""
    if "slicing" not in element or "." not in path or "[x]" in path:
        return
    definition = registry.structure_definition(_CORE + path.split(".", 1)[0])
    snapshot = definition.get("snapshot") if definition is not None else None
    core = next((e for e in dicts(snapshot.get("element")) if e.get("path") == path), None) \
        if isinstance(snapshot, Mapping) else None
    if core is not None and core.get("max") == "1":
        yield Issue.error("not-found", f"{at}.slicing", f"'{path}' cannot be sliced: it does "
                          "not repeat and is not a choice", "sd-slicing")


def _check_characteristics(element: Mapping[str, Any], path: str, at: str,
                           registry: Registry) -> Iterator[Issue]:
    codes = [path] if "." not in path else [c for c in map(_type_code, dicts(element.get("type")))
                                             if c]
    known = [c for c in codes if registry.structure_definition(
        c if ":" in c else _CORE + c) is not None]
    if not known:
        return
    allowed = frozenset().union(*(_CHARACTERISTICS.get(c, frozenset()) for c in codes))
    listed = ", ".join(codes)
    needs = [(name, need, word) for name, need, word in _NEEDS if name in element
             or any(k.startswith(name) and k[len(name):len(name) + 1].isupper() for k in element)]
    urls = {e.get("url") for e in dicts(element.get("extension"))}
    needs += [(url, need, word) for url, need, word in _EXTENSION_NEEDS if url in urls]
    for _, need, word in needs:
        if need not in allowed:
            yield Issue.error("business-rule", at, f"the element has {word}, but its types "
                              f"({listed}) do not allow it", "sd-element")
    if _TARGET not in allowed and any("targetProfile" in t for t in dicts(element.get("type"))):
        yield Issue.error("business-rule", at, f"the element has a targetProfile, but its types "
                          f"({listed}) do not refer to anything", "sd-element")


def _check_meaning_when_missing(element: Mapping[str, Any], path: str,
                                at: str) -> Iterator[Issue]:
    # A profile may say what an absent extension means, nothing else (the HL7 validator).
    if "meaningWhenMissing" in element and path != "Extension" \
            and not path.endswith(".extension"):
        yield Issue.error("not-found", at, "a constraint cannot give an element a "
                          "meaningWhenMissing (only an extension's)", "sd-element")


def _check_invariants(element: Mapping[str, Any], at: str, *, sd: Mapping[str, Any],
                      inherited: Mapping[str, str], seen: dict[str, str]) -> Iterator[Issue]:
    url, version = sd.get("url"), sd.get("version")
    constraints = element.get("constraint")
    for c, constraint in enumerate(constraints if isinstance(constraints, list) else []):
        if not isinstance(constraint, Mapping):
            continue
        where = f"{at}.constraint[{c}]"
        key, expression = constraint.get("key"), constraint.get("expression")
        source = constraint.get("source")
        if not isinstance(key, str) or not key:
            yield Issue.warning("informational", where, "the invariant has no key",
                                "sd-invariant")
            continue
        if not isinstance(expression, str) or not expression:
            continue
        if isinstance(source, str) and source not in (url, f"{url}|{version}"):
            # The HL7 validator makes this an error; an invariant copied from another profile
            # with its source kept (attribution) is common and harmless, so a warning here.
            yield Issue.warning("invalid", where, f"the invariant '{key}' in the differential "
                                f"comes from '{source}', not from this profile ({url})",
                                "sd-invariant")
            continue
        theirs = inherited.get(key)
        if theirs is not None and theirs != expression:
            yield Issue.error("invalid", where, f"the key '{key}' is already used by the base "
                              f"for another expression ({theirs})", "sd-invariant")
        elif key in seen and seen[key] != expression:
            yield Issue.error("invalid", where, f"the key '{key}' is already used in this "
                              f"profile for another expression ({seen[key]})", "sd-invariant")
        seen.setdefault(key, expression)


def _base_invariants(base: Mapping[str, Any] | None) -> dict[str, str]:
    """Invariant key -> expression in the base's snapshot."""
    snapshot = base.get("snapshot") if base is not None else None
    found: dict[str, str] = {}
    if not isinstance(snapshot, Mapping):
        return found
    for element in dicts(snapshot.get("element")):
        for constraint in dicts(element.get("constraint")):
            key, expression = constraint.get("key"), constraint.get("expression")
            if isinstance(key, str) and isinstance(expression, str):
                found.setdefault(key, expression)
    return found


def _type_code(type_ref: Mapping[str, Any]) -> str | None:
    """The type's code (for FHIRPath System types, the FHIR type they stand for)."""
    for ext in dicts(type_ref.get("extension")):
        if ext.get("url") == _FHIR_TYPE and isinstance(ext.get("valueUrl") or
                                                       ext.get("valueUri"), str):
            return str(ext.get("valueUrl") or ext.get("valueUri"))
    code = type_ref.get("code")
    return code if isinstance(code, str) and code else None


