"""JSON values as the checks of whole resources read them: arrays and objects where FHIR says
so, or nothing.

The walker has reported every property of the wrong JSON kind by the time a resource's rules
run (``_resource_rules``); a rule reads such a property as absent, so that a malformed
resource gets the walker's issues and never an exception (R4 json.html: repeating elements
are arrays, complex ones objects).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["array", "dicts", "objects"]


def array(value: Any) -> list[Any]:
    """The items of a JSON array; [] for anything else."""
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON array (other items are the walker's)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) \
        else []


def objects(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The objects of a JSON array, each with its index (other items are the walker's)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]
