"""Cardinality of elements (ElementDefinition.min/max, R4 §2.27.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

from ...definitions.compiled import ElementNode
from .._issue import Issue

__all__ = ["check_cardinality", "from_profile"]


def check_cardinality(node: ElementNode, count: int, at: str) -> Iterator[Issue]:
    """Yield an issue when ``count`` values fall outside ``node.min..node.max``.

    When the bound comes from a profile (a constraint StructureDefinition), the message names it:
    the core may allow what the profile forbids.
    """
    if count < node.min:
        yield Issue.error("required", at, f"{node.path}: minimum required = {node.min}, but only "
                          f"found {count}{from_profile(node)}", "cardinality-min")
    if node.max is not None and count > node.max:
        yield Issue.error("structure", at, f"{node.path}: maximum allowed = {node.max}, but found "
                          f"{count}{from_profile(node)}", "cardinality-max")


def from_profile(node: ElementNode) -> str:
    """' (from URL)' when the rule comes from a profile rather than the core definitions."""
    structure = node.structure
    if structure is None or structure.derivation != "constraint":
        return ""
    return f" (from {structure.url})"
