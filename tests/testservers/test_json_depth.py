"""``json_depth``: the nesting depth the centre refuses a body for (``max_json_depth``), as a
recursive definition gives it, on hand-picked and generated JSON."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from testservers.national_centre._fhirio import json_depth


def _depth(value: Any) -> int:
    """The definition: a scalar 0, an object or array one more than its deepest member."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_hand_picked() -> None:
    cases: list[tuple[Any, int]] = [
        ("text", 0), (None, 0), (3.5, 0), ({}, 1), ([], 1), ([[], {}], 2),
        ({"a": [1, {"b": {"c": []}}], "d": "x"}, 5), ([1, 2, [3, [4, [5]]]], 4)]
    for value, depth in cases:
        assert json_depth(value) == depth == _depth(value)


def test_deep_without_recursion() -> None:
    value: Any = "leaf"
    for _ in range(5000):   # deeper than Python's recursion limit
        value = {"a": [value]}
    assert json_depth(value) == 10_000


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=40)


@given(JSON)
def test_as_the_definition_says(value: Any) -> None:
    assert json_depth(value) == _depth(value)
