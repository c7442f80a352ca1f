"""Tiny hand-written profiles for the validation tests: differential elements and constraints."""

from __future__ import annotations

from typing import Any

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
