"""What a URI value must be beyond its regex: ``urn:uuid:`` and ``urn:oid:`` syntax, absolute
canonicals, absolute code and identifier systems.

The R4 regex of ``uri`` is ``\\S*`` (R4 §2.24.0.1, datatypes.html#uri), so the primitive check
accepts any URI without whitespace. The spec says more, and the HL7 validator checks it:

=================================  ==========================================  ==============
value                              rule                                        rule id
=================================  ==========================================  ==============
``oid:…`` / ``uuid:…``             the scheme is ``urn:oid:`` / ``urn:uuid:``  uri-scheme
``urn:uuid:X`` (any URI type)      X is a lowercase UUID (datatypes.html#uuid)  uuid-syntax
``urn:oid:X`` (any URI type)       X is an OID, and not a short top arc        oid-syntax
a ``canonical``                    absolute, or a ``#fragment`` (R4 §2.24.0.1)  canonical-absolute
a ``canonical`` naming a loaded    of a type its targetProfile admits          canonical-type
definition
``Resource.url`` of a definition   absolute (R4 §2.36 "canonical URL")         canonical-absolute
``Coding.system``                  absolute (datatypes.html#Coding: "a URI")   coding-system
``Identifier.system``              absolute (datatypes.html#Identifier)        identifier-system
``Extension.url`` (not a part's)   absolute, no ``|version``                    extension-url
``Identifier.value``, system       a full URI (identifier-registry.html)       identifier-ietf-value
``urn:ietf:rfc:3986``
=================================  ==========================================  ==============

Like the HL7 validator, an OID must have its last dot at index 5 or later (``1.2.3`` is a
valid OID but names no namespace anyone uses), except the special ``1.3.88`` and ``1.3.160``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .._issue import Issue

__all__ = ["check_identifier", "check_uri_value"]

URI_TYPES = frozenset({"uri", "url", "canonical", "oid", "uuid"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-_]*")
_SHORT_OIDS = frozenset({"1.3.88", "1.3.160"})
_CONTAINED_URL = re.compile(r"\.contained\[\d+\]\.url$")
_NESTED_EXTENSION_URL = re.compile(r"[xX]tension\[\d+\]\.extension\[\d+\]\.url$")
IETF_URI_SYSTEM = "urn:ietf:rfc:3986"


def is_absolute(uri: str) -> bool:
    """A scheme, a colon and something after it (the HL7 validator's ``isAbsoluteUrl``, read
    leniently: any letter case and ``_`` are allowed in the scheme)."""
    scheme, colon, rest = uri.partition(":")
    return bool(colon and rest and _SCHEME.fullmatch(scheme))


def host_within(uri: str, hosts: Iterable[str]) -> bool:
    """Is the host of ``uri`` one of ``hosts``, or a name under one (``terminology.example.org``)?

    >>> host_within("http://terminology.example.org/cs", ("example.org",))
    True
    >>> host_within("http://example.org.evil/cs", ("example.org",))
    False
    """
    host = uri.split("//", 1)[-1].split("/", 1)[0]
    return any(host == h or host.endswith("." + h) for h in hosts)


def check_uri_value(element_path: str, type_code: str, value: str, at: str, *,
                    defines_canonical: bool = False,
                    canonical_type: Callable[[str], str | None] | None = None,
                    targets: tuple[str, ...] = ()) -> Issue | None:
    """The first problem of a URI-typed value the regex lets through, or None.

    Args:
        element_path: the element's path in its definition (``Coding.system``, ``ValueSet.url``).
        type_code: the FHIR type (``uri``, ``canonical``...); other types are not judged.
        value: the value, already known to be a string without whitespace.
        at: the FHIRPath location of the value.
        defines_canonical: the value is the ``url`` of a resource (its canonical URL).
        canonical_type: the resource type a canonical URL names among the loaded definitions.
        targets: the resource types a ``canonical`` element admits (empty: any).

    >>> check_uri_value("Patient.identifier.system", "uri", "urn:oid:1.2.208.176.1.2", "x")
    >>> check_uri_value("Bundle.entry.fullUrl", "uri", "urn:uuid:ABC", "x").rule
    'uuid-syntax'
    """
    if type_code not in URI_TYPES:
        return None
    for scheme in ("oid:", "uuid:"):
        if value.startswith(scheme):
            return Issue.error("invalid", at, f"'{value}' is not a valid URI: an {scheme[:-1]} "
                               f"is written urn:{scheme}…", "uri-scheme")
    if value.startswith("urn:uuid:"):
        uuid = value[9:].partition("#")[0]
        if _UUID.fullmatch(uuid) is None:
            hint = " (hex digits must be lowercase)" if _UUID.fullmatch(uuid.lower()) else ""
            return Issue.error("invalid", at, f"'{uuid}' is not a valid UUID{hint}: urn:uuid: "
                               "takes 8-4-4-4-12 lowercase hex digits", "uuid-syntax")
    elif value.startswith("urn:oid:"):
        oid = value[8:]
        if _OID.fullmatch(oid) is None or (oid.rfind(".") < 5 and oid not in _SHORT_OIDS):
            return Issue.error("invalid", at, f"'{oid}' is not a valid OID for urn:oid: (digits "
                               "separated by dots, no leading zeros, not just a top-level arc)",
                               "oid-syntax")
    if element_path == "Extension.url" and "|" in value:
        return Issue.error("invalid", at, f"the extension url '{value}' must not contain a "
                           "version: an extension is identified by its url alone",
                           "extension-url")
    problem = _check_absolute(element_path, type_code, value, at, defines_canonical)
    if problem is None and type_code == "canonical" and targets and canonical_type is not None \
            and not value.startswith("#") and "Resource" not in targets:
        found = canonical_type(value)
        if found is not None and found not in targets:
            return Issue.error("invalid", at, f"the canonical '{value}' names a {found}, but "
                               f"this element admits {', '.join(targets)}", "canonical-type")
    return problem


def _check_absolute(element_path: str, type_code: str, value: str, at: str,
                    defines_canonical: bool) -> Issue | None:
    if is_absolute(value):
        return None
    if type_code == "canonical" and not value.startswith("#"):
        return Issue.error("invalid", at, f"the canonical '{value}' must be an absolute URL "
                           "(or a #fragment pointing to a contained resource)",
                           "canonical-absolute")
    if defines_canonical:
        where = "a contained resource" if _CONTAINED_URL.search(at) else "a definition"
        return Issue.error("invalid", at, f"the url '{value}' of {where} is its canonical URL, "
                           "which must be absolute", "canonical-absolute")
    if element_path == "Extension.url" and _NESTED_EXTENSION_URL.search(at) is None:
        return Issue.error("invalid", at, f"the extension url '{value}' must be absolute (only "
                           "an extension inside an extension names its part by a relative url)",
                           "extension-url")
    if element_path == "Coding.system":
        return Issue.error("code-invalid", at, f"Coding.system '{value}' must be an absolute "
                           "URI (a code system's canonical URL), not a local reference",
                           "coding-system")
    if element_path == "Identifier.system":
        return Issue.error("code-invalid", at, f"Identifier.system '{value}' must be an "
                           "absolute URI, not a local reference", "identifier-system")
    return None


def check_identifier(identifier: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """An Identifier whose system is ``urn:ietf:rfc:3986`` holds a full URI as its value."""
    value = identifier.get("value")
    if identifier.get("system") == IETF_URI_SYSTEM and isinstance(value, str) and value \
            and not is_absolute(value):
        yield Issue.error("code-invalid", f"{at}.value", f"with system {IETF_URI_SYSTEM} the "
                          f"value must be a full URI (with a scheme), not '{value}'",
                          "identifier-ietf-value")
