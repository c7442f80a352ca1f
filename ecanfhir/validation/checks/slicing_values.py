"""Discriminator values a validated profile gives its slices: can they be evaluated?

A ``value`` or ``pattern`` discriminator (R4 profiling.html §5.1.0.14) tells slices apart by the
fixed[x] or pattern[x] each slice sets at the discriminator's path. The HL7 Java validator turns
that value into a FHIRPath test (``InstanceValidator.buildFixedExpression`` /
``buildPattternExpression``, ``buildCodeableConceptExpression``, ``buildIdentifierExpression``)
and can do so only for some values; for any other it reports "Slicing cannot be evaluated" on
every instance it checks against the profile. ecanfhir matches any value, so here these are
warnings on the profile, at the slice, saying what the HL7 validator will not evaluate:

=============================================  ============================================
value at the discriminator path                 the HL7 validator cannot evaluate it when
=============================================  ============================================
fixed[x] of a primitive type                    not a string, code, id, markdown, uri, url,
                                                canonical, oid, uuid, integer, positiveInt,
                                                unsignedInt, decimal or boolean
fixed[x] of a complex type                      not a CodeableConcept, Coding or Identifier
pattern[x]                                      a complex type other than CodeableConcept,
                                                Coding and Identifier
CodeableConcept (fixed or pattern)              it has text, no coding, or extensions
Identifier (fixed or pattern)                   it has extensions, properties other than
                                                system, value, use and type, or none of those
=============================================  ============================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._issue import Issue
from .json_values import dicts

__all__ = ["check_discriminator_values"]

_RULE = "sd-slice-discriminator-value"
# Primitive types whose Java classes derive from StringType, UriType, IntegerType, DecimalType
# or BooleanType: the ones buildFixedExpression writes as FHIRPath constants.
_FIXED_PRIMITIVES = frozenset({
    "String", "Code", "Id", "Markdown", "Uri", "Url", "Canonical", "Oid", "Uuid", "Integer",
    "PositiveInt", "UnsignedInt", "Decimal", "Boolean"})
_OTHER_PRIMITIVES = frozenset({"Date", "DateTime", "Instant", "Time", "Base64Binary"})
_CODED = frozenset({"CodeableConcept", "Coding", "Identifier"})
_IDENTIFIER_PROPERTIES = frozenset({"system", "value", "use", "type"})


def check_discriminator_values(slice_: Mapping[str, Any], slicing: Mapping[str, Any],
                               by_id: Mapping[str, Mapping[str, Any]],
                               at: str) -> Iterator[Issue]:
    """Warnings for the slice's values at ``value``/``pattern`` discriminator paths that the
    HL7 validator cannot turn into a slice test."""
    name = str(slice_.get("sliceName"))
    for discriminator in dicts(slicing.get("discriminator")):
        path = discriminator.get("path")
        if discriminator.get("type") not in ("value", "pattern") or not isinstance(path, str) \
                or "(" in path:
            continue
        target = slice_ if path == "$this" else by_id.get(f"{slice_.get('id')}.{path}")
        found = _fixed_or_pattern(target) if target is not None else None
        if found is None:
            continue
        how, type_name, value = found
        problem = _problem(how, type_name, value)
        if problem is not None:
            yield Issue.warning("not-supported", at, f"the slice '{name}' is told apart by the "
                                f"{how} value at '{path}', but {problem}: the HL7 validator "
                                "cannot evaluate this discriminator, so it reports the slicing "
                                "as not evaluable on instances", _RULE)


def _problem(how: str, type_name: str, value: Any) -> str | None:
    """Why the HL7 validator cannot build a slice test from this value (None: it can)."""
    if type_name == "CodeableConcept":
        return _codeable_concept_problem(value)
    if type_name == "Identifier":
        return _identifier_problem(value)
    if type_name == "Coding":
        return None
    if type_name in _FIXED_PRIMITIVES:
        return None
    if type_name in _OTHER_PRIMITIVES:
        return None if how == "pattern" else f"a fixed {_lower(type_name)} is not supported"
    return f"a {how} {type_name} is not supported (only CodeableConcept, Coding, Identifier " \
        "and simple values are)"


def _codeable_concept_problem(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None  # reported as a malformed value elsewhere
    if "text" in value:
        return "a CodeableConcept with text is not supported"
    codings = value.get("coding")
    if not isinstance(codings, list) or not codings:
        return "a CodeableConcept must have at least one coding"
    if "extension" in value or any(isinstance(c, Mapping) and "extension" in c
                                   for c in codings):
        return "a CodeableConcept with extensions is not supported"
    return None


def _identifier_problem(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    if "extension" in value:
        return "an Identifier with extensions is not supported"
    other = sorted(k for k in value if k not in _IDENTIFIER_PROPERTIES and not k.startswith("_"))
    if other:
        return f"the Identifier property '{other[0]}' is not supported"
    if not any(k in value for k in _IDENTIFIER_PROPERTIES):
        return "the Identifier has none of system, value, use and type"
    return None


def _fixed_or_pattern(element: Mapping[str, Any]) -> tuple[str, str, Any] | None:
    """("fixed" | "pattern", the type as written in the key, the value)."""
    for key, value in element.items():
        for how in ("fixed", "pattern"):
            rest = key[len(how):]
            if key.startswith(how) and rest[:1].isupper():
                return how, rest, value
    return None


def _lower(type_name: str) -> str:
    return type_name[:1].lower() + type_name[1:]


