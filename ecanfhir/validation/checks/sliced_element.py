"""What a profile says on a sliced element's children holds in every slice.

R4 profiling.html ("Slicing"): the slices of an element are further constraints on it, so a
constraint the profile puts on the sliced element itself, say ``Parameters.parameter.extension``
``max 0``, applies to each ``Parameters.parameter:param1`` as well. The HL7 validator checks
an item against its slice and against the sliced element; ecanfhir's snapshots copy a slice's
children from the base definition (as R4's published snapshots do), so the cardinalities the
sliced element tightens are checked here, for the items a slice took.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.compiled import ElementNode
from .._issue import Issue
from .structure import check_cardinality

__all__ = ["check_sliced_element_limits"]


def check_sliced_element_limits(sliced: ElementNode, slice_node: ElementNode, item: Any,
                                at: str) -> Iterator[Issue]:
    """The children the sliced element bounds more tightly than the slice does, counted in
    ``item`` (a value the slice took) against the sliced element's bounds."""
    if not isinstance(item, Mapping):
        return
    for name, tighter in _tighter_children(sliced, slice_node):
        value = item.get(name, item.get("_" + name))
        count = 0 if value is None else len(value) if isinstance(value, list) else 1
        yield from check_cardinality(tighter, count, f"{at}.{name}")


def _tighter_children(sliced: ElementNode,
                      slice_node: ElementNode) -> list[tuple[str, ElementNode]]:
    found = []
    for name, child in sliced.children.items():
        if child.choice:
            continue
        mine = slice_node.children.get(name)
        if mine is None:
            continue
        looser_max = child.max is not None and (mine.max is None or mine.max > child.max)
        if looser_max or mine.min < child.min:
            found.append((name, child))
    return found
