"""Tiny hand-written profiles for the validation tests: differential elements and constraints."""

from __future__ import annotations

from typing import Any

from ecanfhir import Registry, ValidationResult, Validator

CORE = "http://hl7.org/fhir/StructureDefinition/"
EXAMPLE = "http://example.org/fhir/StructureDefinition/"


def element(element_id: str, **properties: Any) -> dict[str, Any]:
    """A differential element: the path is the id without slice names."""
    path = ".".join(part.split(":", 1)[0] for part in element_id.split("."))
    return {"id": element_id, "path": path, **properties}


def constraint(name: str, resource_type: str, *elements: dict[str, Any]) -> dict[str, Any]:
    """A resource profile ``EXAMPLE + name`` on ``resource_type`` with this differential."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": resource_type, "derivation": "constraint",
        "baseDefinition": CORE + resource_type, "differential": {"element": list(elements)},
    }


def profile_of(name: str, of: str, *elements: dict[str, Any], kind: str = "resource"
               ) -> dict[str, Any]:
    """A differential-only profile ``EXAMPLE + name`` of ``of`` (an element's id is its path
    unless given)."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": kind, "abstract": False, "type": of,
        "derivation": "constraint", "baseDefinition": CORE + of,
        "differential": {"element": [{"id": e["path"], **e} for e in elements]},
    }


def validate_against(resource: dict[str, Any], *resources: dict[str, Any]) -> ValidationResult:
    """Validate ``resource`` with ``resources`` loaded, against the first of them."""
    registry = Registry()
    for r in resources:
        registry.add(r)
    return Validator(registry).validate(resource, profiles=[resources[0]["url"]])


def logical_model(url: str, name: str, *elements: dict[str, Any]) -> dict[str, Any]:
    """A logical model at ``url`` based on Base, with these elements (paths relative to it)."""
    return {
        "resourceType": "StructureDefinition", "id": name, "url": url, "name": name,
        "status": "draft", "fhirVersion": "4.0.1", "kind": "logical", "abstract": False,
        "type": url, "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Base",
        "derivation": "specialization",
        "differential": {"element": [{"id": name, "path": name}, *(
            {"id": f"{name}.{e['path']}", **e, "path": f"{name}.{e['path']}"}
            for e in elements)]}}
