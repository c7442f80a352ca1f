"""A choice element given in a type its definition does not allow (``valueString`` where a
profile or an extension narrows ``value[x]`` to Quantity).

R4 §2.24.0.1 (choice elements): ``value[x]`` appears as ``value`` + the type's name, for one of
the element's types; a profile or an extension definition may narrow the types. The walker
reports the property as unrecognised; this module says why: which types the element allows
there, and which definition says so, as the HL7 validator does (``Extension_EXT_Type`` for an
extension's value, ``Extension_PROF_Type`` for a profile's element).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...definitions.compiled import JsonProperty

__all__ = ["choice_type_hint"]


def choice_type_hint(key: str, props: Mapping[str, JsonProperty]) -> str:
    """`` (value[x] allows only the types Quantity here, by <url>; found type string)``, or ""
    when ``key`` names no choice element of ``props``."""
    for prop in props.values():
        element = prop.element
        rest = key[len(element.name):]
        if not element.choice or not key.startswith(element.name) or not rest[:1].isupper():
            continue
        allowed = list(dict.fromkeys(element.type_codes()))
        source = element.structure.url if element.structure is not None else ""
        by = f", by {source}" if source else ""
        return (f" ({element.name}[x] allows only the type{'s' if len(allowed) > 1 else ''} "
                f"{', '.join(allowed)} here{by}; found type {_type_name(rest)})")
    return ""


def _type_name(suffix: str) -> str:
    """``String`` → ``string``: primitive type names start in lower case."""
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in _PRIMITIVES else suffix


_PRIMITIVES = frozenset({
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary",
    "instant", "date", "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt",
    "positiveInt", "uuid"})
