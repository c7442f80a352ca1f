"""mustSupport (R4 §2.27 ElementDefinition.mustSupport): the elements a profile marks so, that
an instance leaves out, said as information when asked (``ValidationOptions.must_support``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from ...definitions.compiled import ElementNode
from .._issue import Issue

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_must_support"]


def check_must_support(run: Run, node: ElementNode, type_code: str | None,
                       present: Collection[int], path: str) -> list[Issue]:
    """mustSupport elements of a profile that this instance leaves out (on request only)."""
    out = []
    for child in run.schema.children(node, type_code).values():
        if child.must_support and id(child) not in present and child.min == 0:
            # A snapshot that repeats an element id leaves the element it hides no structure.
            source = f" in {child.structure.url}" if child.structure is not None else ""
            out.append(Issue.information("informational", f"{path}.{child.name}",
                                         f"{child.path} is mustSupport{source} but is not "
                                         "present", "must-support"))
    return out
