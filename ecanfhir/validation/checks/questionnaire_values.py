"""The value constraints a Questionnaire item puts on its answers, and the small readers the
QuestionnaireResponse checks share.

R4 Questionnaire (http://hl7.org/fhir/R4/questionnaire.html) and the core and SDC extensions
bound an answer beyond its type: ``minValue``/``maxValue`` (and SDC's min/maxQuantity),
``maxDecimalPlaces``, ``minLength``/``maxLength``, ``regex``, ``unitOption``/``unitValueSet``,
``referenceResource``, ``mimeType`` and ``maxSize``. Each check here takes the Questionnaire
item and one answer value, and yields the issues at that value, as the HL7 Java validator's
``QuestionnaireValidator`` reports them (all errors).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ...definitions.registry import Registry
from ...terminology.comparison import compare, decimal_places, number
from ...terminology.value_sets import Terminology
from .._issue import Issue

__all__ = [
    "VALUE_TYPES",
    "chars",
    "check_attachment",
    "check_limits",
    "check_reference_type",
    "check_unit",
    "dicts",
    "extension_value",
    "extensions",
    "int_value",
    "listing",
    "show",
    "show_coding",
    "strings",
    "typed_value",
]

EXT = "http://hl7.org/fhir/StructureDefinition/"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"

# answer.value[x] (R4 QuestionnaireResponse.item.answer.value[x]) -> FHIR type name.
VALUE_TYPES: Mapping[str, str] = {
    "valueBoolean": "boolean", "valueDecimal": "decimal", "valueInteger": "integer",
    "valueDate": "date", "valueDateTime": "dateTime", "valueTime": "time",
    "valueString": "string", "valueUri": "uri", "valueAttachment": "Attachment",
    "valueCoding": "Coding", "valueQuantity": "Quantity", "valueReference": "Reference",
}


def typed_value(holder: Mapping[str, Any], prefix: str = "value") -> tuple[str, Any] | None:
    for key, fhir_type in VALUE_TYPES.items():
        name = prefix + key[5:]
        if name in holder and holder[name] is not None:
            return fhir_type, holder[name]
    return None


# -- value constraints ---------------------------------------------------------------------
def check_limits(q_item: Mapping[str, Any], fhir_type: str, value: Any,
                  where: str) -> Iterator[Issue]:
    for name, word, bad in (("minValue", "less than the minimum", -1),
                            ("maxValue", "greater than the maximum", 1)):
        quantity = "min" if name == "minValue" else "max"
        for limit in extensions(q_item, (EXT + name, SDC + f"sdc-questionnaire-{quantity}"
                                          "Quantity")):
            typed = typed_value(limit)
            if typed is None:
                continue
            if compare(fhir_type, value, typed[0], typed[1]) == bad:
                yield Issue.error("value", where, f"the answer {show(value)} is {word} "
                                  f"allowed ({show(typed[1])})", f"qr-{name[:3]}-value")
    amount = value.get("value") if fhir_type == "Quantity" and isinstance(value, Mapping) else value
    places = int_value(extension_value(q_item, (EXT + "maxDecimalPlaces",), "valueInteger"))
    if fhir_type in ("decimal", "Quantity") and places is not None:
        found = decimal_places(amount)
        if found is not None and found > places:
            yield Issue.error("value", where, f"the answer {show(amount)} has {found} decimal "
                              f"places; at most {places} are allowed", "qr-max-decimal-places")
    if isinstance(value, str) and fhir_type in ("string", "uri"):
        yield from _check_text(q_item, value, where)


def _check_text(q_item: Mapping[str, Any], value: str, where: str) -> Iterator[Issue]:
    shortest = int_value(extension_value(q_item, (EXT + "minLength",), "valueInteger"))
    if shortest is not None and len(value) < shortest:
        yield Issue.error("value", where, f"the answer {show(value)} has {chars(value)}; at "
                          f"least {shortest} are required", "qr-min-length")
    longest = int_value(q_item.get("maxLength"))
    if longest is not None and len(value) > longest:
        yield Issue.error("too-long", where, f"the answer {show(value)} has {chars(value)}; at "
                          f"most {longest} are allowed", "qr-max-length")
    pattern = extension_value(q_item, (EXT + "regex",), "valueString")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error:
            return  # a Java-only construct: not judged here
        if compiled.fullmatch(value) is None:
            yield Issue.error("value", where, f"the answer {show(value)} does not match the "
                              f"pattern '{pattern}' the Questionnaire sets", "qr-regex")


def check_unit(q_item: Mapping[str, Any], quantity: Any, where: str, *,
               terminology: Terminology, registry: Registry) -> Iterator[Issue]:
    if not isinstance(quantity, Mapping) or not isinstance(quantity.get("code"), str):
        return
    system, code = quantity.get("system"), quantity["code"]
    units = [u for u in extensions(q_item, (EXT + "questionnaire-unitOption",
                                             SDC + "sdc-questionnaire-unitOption"))
             if isinstance(u.get("valueCoding"), Mapping)]
    listed = [u["valueCoding"] for u in units]
    if listed and not any(u.get("system") == system and u.get("code") == code for u in listed):
        yield Issue.error("code-invalid", where, f"the unit {system}#{code} is not one of the "
                          f"unitOptions: expected {listing([show_coding(u) for u in listed])}",
                          "qr-unit")
    value_set = extension_value(q_item, (EXT + "questionnaire-unitValueSet",
                                          SDC + "sdc-questionnaire-unitValueSet"),
                                 "valueCanonical")
    if isinstance(value_set, str) and registry.value_set(value_set) is not None:
        result = terminology.check_code(
            value_set, system=system if isinstance(system, str) else None, code=code)
        if result.outcome == "not-member":
            yield Issue.error("code-invalid", where, f"the unit is not in the unit value set: "
                              f"{result.message}", "qr-unit")


def check_reference_type(q_item: Mapping[str, Any], reference: Any,
                          where: str) -> Iterator[Issue]:
    allowed = strings(q_item, EXT + "questionnaire-referenceResource", "valueCode")
    if not allowed or "Resource" in allowed or not isinstance(reference, Mapping):
        return
    target = reference.get("type")
    literal = reference.get("reference")
    if not isinstance(target, str) and isinstance(literal, str):
        match = re.search(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[^/]+)?$",
                          literal)
        target = match.group(1) if match else None
    if isinstance(target, str) and target not in allowed:
        yield Issue.error("structure", where, f"the reference points to a {target}, but item "
                          f"'{q_item.get('linkId')}' allows only {listing(allowed)}",
                          "qr-reference-type")


def check_attachment(q_item: Mapping[str, Any], attachment: Any,
                      where: str) -> Iterator[Issue]:
    if not isinstance(attachment, Mapping):
        return
    kinds = [k.lower() for k in strings(q_item, EXT + "mimeType", "valueCode")]
    content_type = attachment.get("contentType")
    if kinds and isinstance(content_type, str):
        base = content_type.split(";", 1)[0].strip().lower()
        if base not in kinds and not any(k.endswith("/*") and base.startswith(k[:-1])
                                         for k in kinds):
            yield Issue.error("value", f"{where}.contentType", f"the attachment is '{base}', but "
                              f"the Questionnaire allows only {listing(kinds)}", "qr-mime-type")
    most = number(extension_value(q_item, (EXT + "maxSize",), "valueDecimal"))
    size = _attachment_size(attachment)
    if most is not None and size is not None and size > most:
        yield Issue.error("value", where, f"the attachment is {size} bytes; the Questionnaire "
                          f"allows at most {show(most)}", "qr-max-size")


def _attachment_size(attachment: Mapping[str, Any]) -> int | None:
    size = attachment.get("size")
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    data = attachment.get("data")
    if isinstance(data, str):
        try:
            return len(base64.b64decode(data))
        except (binascii.Error, ValueError):
            return None
    return None


# -- readers ---------------------------------------------------------------------------
def dicts(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def extensions(element: Mapping[str, Any], urls: tuple[str, ...]) -> list[Mapping[str, Any]]:
    return [e for e in dicts(element.get("extension")) if e.get("url") in urls]


def strings(element: Mapping[str, Any], url: str, key: str) -> list[str]:
    return [v for e in extensions(element, (url,)) if isinstance(v := e.get(key), str)]


def int_value(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def extension_value(element: Mapping[str, Any], urls: tuple[str, ...], key: str) -> Any:
    return next((e.get(key) for e in extensions(element, urls) if key in e), None)


def show(value: object) -> str:
    if isinstance(value, Mapping):
        if "value" in value:  # Quantity
            return f"{value.get('value')} {value.get('unit') or value.get('code') or ''}".strip()
        if "code" in value or "system" in value:
            return show_coding(value)
        if "reference" in value:
            return str(value["reference"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    return str(value)


def chars(text: str) -> str:
    return f"{len(text)} character" + ("" if len(text) == 1 else "s")


def show_coding(coding: Mapping[str, Any]) -> str:
    system, code = coding.get("system"), coding.get("code")
    return f"{system}#{code}" if system else f"'{code}'"


def listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:10])
    return shown + (f" (and {len(items) - 10} more)" if len(items) > 10 else "")
