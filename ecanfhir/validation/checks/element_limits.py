"""Limits a profile puts on an element through ElementDefinition extensions, and the content an
Attachment should carry.

* ``http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces`` (valueInteger): "Identifies the
  maximum number of decimal places that may be specified for the data element" - a decimal
  with more places is an error;
* ``http://hl7.org/fhir/StructureDefinition/maxSize`` (valueDecimal): "For attachment answers,
  indicates the maximum size an attachment can be" in bytes - a base64Binary, or an
  Attachment's inline ``data``, that decodes to more bytes is an error;
* ``http://hl7.org/fhir/StructureDefinition/minLength`` (valueInteger): "The minimum number of
  characters that must be present in the simple data type to be considered a 'valid'
  instance" - a shorter string-typed value is an error (R5 has ElementDefinition.minLength);
* an Attachment with neither ``data`` nor ``url`` says nothing of its content: it SHOULD at
  least carry ``contentType`` or ``language`` (a warning, as the HL7 validator gives);
* base64Binary with whitespace: the R4 lexical form allows it, RFC 4648 §3.3 says
  implementations MUST reject data with characters outside the alphabet, so the HL7 validator
  warns for R4 (a warning here too).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from ...definitions.compiled import ElementNode
from ...terminology.comparison import decimal_places, number
from .._issue import Issue
from .json_values import dicts

__all__ = ["check_attachment_content", "check_base64_whitespace", "check_element_limits",
           "has_limits"]

_MAX_DECIMALS = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
_MAX_SIZE = "http://hl7.org/fhir/StructureDefinition/maxSize"
_MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"


def has_limits(element: ElementNode) -> bool:
    """Whether the element's definition carries extensions at all (a cheap gate)."""
    return bool(element.definition.get("extension"))


def _extension(element: ElementNode, url: str, key: str) -> Any:
    for ext in dicts(element.definition.get("extension")):
        if ext.get("url") == url:
            return ext.get(key)
    return None


def _decoded_size(data: object) -> int | None:
    if not isinstance(data, str):
        return None
    try:
        return len(base64.b64decode("".join(data.split()), validate=True))
    except (binascii.Error, ValueError):
        return None  # the base64Binary check reports it


def check_element_limits(element: ElementNode, code: str | None, value: Any,
                         at: str) -> Iterator[Issue]:
    """minLength on a string-typed value, maxDecimalPlaces on a decimal, maxSize on a
    base64Binary or an Attachment's data."""
    if isinstance(value, str):
        least = _extension(element, _MIN_LENGTH, "valueInteger")
        if isinstance(least, int) and not isinstance(least, bool) and len(value) < least:
            shown = value if len(value) <= 40 else value[:37] + "..."
            yield Issue.error("value", at, f"value '{shown}' is shorter than the minimum length "
                              f"of {least} characters (minLength)", "min-length")
    if code == "decimal":
        places = _extension(element, _MAX_DECIMALS, "valueInteger")
        found = decimal_places(value)
        if isinstance(places, int) and not isinstance(places, bool) and found is not None \
                and found > places:
            yield Issue.error("value", at, f"value has {found} decimal places, more than the "
                              f"{places} allowed (maxDecimalPlaces)", "max-decimal-places")
        return
    if code not in ("base64Binary", "Attachment"):
        return
    limit = number(_extension(element, _MAX_SIZE, "valueDecimal"))
    if limit is None:
        return
    where, data = at, value
    if code == "Attachment":
        where, data = f"{at}.data", value.get("data") if isinstance(value, Mapping) else None
    size = _decoded_size(data)
    if size is not None and Decimal(size) > limit:
        yield Issue.error("value", where, f"the data is {size} bytes, more than the limit of "
                          f"{limit} bytes (maxSize)", "max-size")


def check_attachment_content(value: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """An Attachment without data or url SHOULD say at least its contentType or language."""
    if any(value.get(k) is not None for k in ("data", "url", "contentType", "language")):
        return
    yield Issue.warning("business-rule", at, "the attachment has neither data nor url, and "
                        "no contentType or language either: it says nothing of its content",
                        "attachment-content")


def check_base64_whitespace(value: object, at: str) -> Issue | None:
    """Whitespace inside a (valid) base64Binary value: allowed by R4, not by RFC 4648."""
    if isinstance(value, str) and any(c.isspace() for c in value):
        return Issue.warning("value", at, "base64Binary content contains whitespace; RFC 4648 "
                             "§3.3 does not allow it and some readers reject it",
                             "base64-whitespace")
    return None
