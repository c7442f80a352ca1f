"""A deep copy of JSON data: dicts, lists and the scalars JSON has.

``copy.deepcopy`` keeps a memo of every object and looks up a copier per type; JSON has no
shared or cyclic parts and no other types, so a plain recursion copies it several times faster.
The builders copy resources of earlier messages with it, the snapshot generator elements.
"""

from __future__ import annotations

from typing import Any

__all__ = ["copy_json"]


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data (strings, numbers, booleans and None are shared: immutable)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value
