"""Cross-version extensions: ``http://hl7.org/fhir/{version}/StructureDefinition/extension-{Path}``.

The R4 page "Managing Multiple FHIR Versions" (http://hl7.org/fhir/R4/versions.html#extensions)
lets an R4 instance carry an element of another FHIR version as an extension whose URL names the
version and the element's path. No StructureDefinition is published for them: like the HL7
validator (``XVerExtensionManager`` in hapifhir/org.hl7.fhir.core), ecanfhir synthesises one
from the element tables of the package ``hl7.fhir.xver-extensions`` (``data/xver-paths.zip``,
built by ``scripts/build_defaults.py``). Each table maps a path to its ``types``, its child
``elements`` or nothing, and a ``modifier`` flag:

==========================  ===========  ===============================================
the path in the table       status       the synthesised definition
==========================  ===========  ===============================================
has ``types``               valid        a simple extension, ``value[x]`` of those types
has ``elements``            valid        a complex extension, one sub-extension per child
neither                     unchanged    none: the element is the same in R4, use it
absent (also with ``[x]``)  unknown      none: not an element of that version
no table, a FHIR release    not-shipped  none (FHIR 4.3, 6.0: not in the package)
not a FHIR release          bad-version  none
==========================  ===========  ===============================================

A type marked ``!`` existed in R4 under that name and is left out, as the reference does; the
types and reference targets that do not exist in R4 are dropped too. When nothing is left,
``value[x]`` keeps every type of the base Extension. The context is the element's parent path
where R4 has it, else ``Element``.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol

__all__ = ["XVER_URL", "XverStatus", "cross_version_definition", "status", "url_parts"]

XVER_URL = re.compile(r"^http://hl7\.org/fhir/(\d\.\d)/StructureDefinition/extension-(.+)$")
XverStatus = Literal["valid", "unchanged", "unknown", "bad-version", "not-shipped"]


class Types(Protocol):
    """What the synthesis asks of the R4 definitions (a :class:`~.registry.Registry` answers)."""

    fhir_version: str

    def type_definition(self, type_code: str) -> dict[str, Any] | None: ...

    def is_resource_type(self, name: str) -> bool: ...

    def is_type(self, name: str) -> bool: ...


# FHIR releases with no table in the package: their extensions cannot be checked offline.
RELEASES = frozenset({"1.0", "1.4", "3.0", "4.0", "4.3", "5.0", "6.0"})
EXTENSION_BASE = "http://hl7.org/fhir/StructureDefinition/Extension"
REFERENCING = ("Reference", "canonical", "CodeableReference")


@cache
def _tables() -> zipfile.ZipFile:
    path = resources.files("ecanfhir") / "data" / "xver-paths.zip"
    with resources.as_file(path) as real:
        return zipfile.ZipFile(str(real))


@cache
def _table(version: str) -> Mapping[str, Any] | None:
    try:
        data = _tables().read(f"{version}.json")
    except KeyError:
        return None
    table: dict[str, Any] = json.loads(data)
    return table


def url_parts(url: str) -> tuple[str, str] | None:
    """``(version, path)`` of a cross-version extension URL, or None for any other URL."""
    match = XVER_URL.match(url)
    return (match.group(1), match.group(2)) if match else None


def _entry(version: str, path: str) -> Mapping[str, Any] | None:
    table = _table(version)
    if table is None:
        return None
    found = table.get(path)
    if found is None:
        found = table.get(path + "[x]")
    return found if isinstance(found, dict) else None


def status(url: str) -> XverStatus | None:
    """What the element tables say of a cross-version URL (None: not such a URL).

    >>> status("http://hl7.org/fhir/5.0/StructureDefinition/extension-DeviceRequest.doNotPerform")
    'valid'
    >>> status("http://hl7.org/fhir/5.0/StructureDefinition/extension-Patient.nonsense")
    'unknown'
    """
    parts = url_parts(url)
    if parts is None:
        return None
    version, path = parts
    if _table(version) is None:
        return "not-shipped" if version in RELEASES else "bad-version"
    entry = _entry(version, path)
    if entry is None:
        return "unknown"
    return "valid" if "types" in entry or "elements" in entry else "unchanged"


def cross_version_definition(url: str, registry: Types) -> dict[str, Any] | None:
    """The Extension StructureDefinition (with a differential) for a valid cross-version URL."""
    parts = url_parts(url)
    if parts is None or status(url) != "valid":
        return None
    version, path = parts
    entry = _entry(version, path)
    assert entry is not None
    table = _table(version)
    assert table is not None
    elements: list[dict[str, Any]] = []
    if entry.get("modifier") is True:
        elements.append({"id": "Extension", "path": "Extension", "isModifier": True,
                         "isModifierReason": f"{path} is a modifier element in FHIR {version}"})
    _content(elements, table, path, entry, "Extension", "Extension", url, registry)
    return {
        "resourceType": "StructureDefinition", "url": url, "version": registry.fhir_version,
        "name": f"Extension_{version.replace('.', '')}_{re.sub(r'[^A-Za-z0-9]', '_', path)}",
        "title": f"Extension Definition for {path} for Version {version}", "status": "active",
        "kind": "complex-type", "abstract": False, "type": "Extension",
        "fhirVersion": registry.fhir_version, "derivation": "constraint",
        "baseDefinition": EXTENSION_BASE,
        "context": [{"type": "element", "expression": _context(path, registry)}],
        "differential": {"element": elements},
    }


def _content(elements: list[dict[str, Any]], table: Mapping[str, Any], path: str,
             entry: Mapping[str, Any], element_id: str, element_path: str, url: str,
             registry: Types) -> None:
    """The differential of one (sub-)extension: a value, or one slice per child element."""
    if "types" in entry:
        elements.append({"id": f"{element_id}.extension", "path": f"{element_path}.extension",
                         "max": "0"})
        elements.append({"id": f"{element_id}.url", "path": f"{element_path}.url",
                         "fixedUri": url})
        value: dict[str, Any] = {"id": f"{element_id}.value[x]",
                                 "path": f"{element_path}.value[x]", "min": 1}
        types = _types(entry.get("types") or [], registry)
        if types:
            value["type"] = types
        elements.append(value)
        return
    for child in entry.get("elements") or []:
        child_entry = table.get(f"{path}.{child}")
        if not isinstance(child, str) or not isinstance(child_entry, dict) or not (
                "types" in child_entry or "elements" in child_entry):
            continue  # id, extension, modifierExtension and unchanged children are not listed
        name = child.replace("[x]", "")
        slice_id = f"{element_id}.extension:{name}"
        elements.append({"id": slice_id, "path": f"{element_path}.extension",
                         "sliceName": name})
        _content(elements, table, f"{path}.{child}", child_entry, slice_id,
                 f"{element_path}.extension", name, registry)
    elements.append({"id": f"{element_id}.url", "path": f"{element_path}.url", "fixedUri": url})
    elements.append({"id": f"{element_id}.value[x]", "path": f"{element_path}.value[x]",
                     "max": "0"})


def _types(listed: list[Any], registry: Types) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for raw in listed:
        if not isinstance(raw, str) or raw.startswith("!"):
            continue  # "!": the type is R4's own, so the R4 element carries it
        code, _, targets = raw.partition("(")
        if not registry.is_type(code) or any(t["code"] == code for t in out):
            continue
        ref: dict[str, Any] = {"code": code}
        if code in REFERENCING and targets:
            names = re.split(r"[|,]", targets.rstrip(")"))
            profiles = [f"http://hl7.org/fhir/StructureDefinition/{'Resource' if n == 'Any' else n}"
                        for n in names if n == "Any" or registry.is_resource_type(n)]
            if profiles:  # none left (targets R4 does not have): any target, as HL7 does
                ref["targetProfile"] = profiles
        out.append(ref)
    return out


def _context(path: str, registry: Types) -> str:
    parent = path.rsplit(".", 1)[0] if "." in path else path
    definition = registry.type_definition(parent.split(".", 1)[0])
    if definition is None:
        return "Element"
    paths = {e.get("path") for e in definition.get("snapshot", {}).get("element", [])}
    return parent if parent in paths else "Element"
