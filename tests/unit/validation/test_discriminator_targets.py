"""Discriminator paths through resolve() and into types: several target profiles, a type
without code (checks/discriminator_path.py). All profiles are synthetic."""

from __future__ import annotations

from typing import Any

from test_discriminator_paths import path_issues, sliced
from test_structure_definition import CORE, DIFF, check


def entries(path: str, *targets: str) -> dict[str, Any]:
    return sliced(path, "List.entry", {
        "id": "List.entry:a.item", "path": "List.entry.item",
        "type": [{"code": "Reference", "targetProfile": list(targets)}]}, type_="List")


def test_path_after_resolve_with_several_target_profiles() -> None:
    """After resolve() the path needs one target to go on in; resolve() at the end does not."""
    assert path_issues(check(entries("item.resolve().gender", CORE + "Patient",
                                     CORE + "Practitioner"))) == [
        ("error", "invalid", f"{DIFF}[2]")]
    assert path_issues(check(entries("item.resolve().gender", CORE + "Patient"))) == []


def test_path_into_a_type_without_code() -> None:
    """A type without code gives the path nothing to go into."""
    sd = sliced("value.unit", "Observation.component", {
        "id": "Observation.component:a.value[x]", "path": "Observation.component.value[x]",
        "type": [{"extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type",
            "valueUrl": "Quantity"}]}]})
    assert path_issues(check(sd)) == [("error", "invalid", f"{DIFF}[2]")]
