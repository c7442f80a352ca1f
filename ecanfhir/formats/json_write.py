"""FHIR JSON text (R4 §2.6.2) from the JSON form, with ``resourceType`` first and decimals as
written.

:func:`json.dumps` cannot do the second: a ``decimal.Decimal`` (how a reader keeps ``1.00``
or ``1E-22`` exact) is not JSON to it, and a ``float`` loses trailing zeros. This writer puts
each number's text as it is, in the shape ``json.dumps(indent=2)`` gives everything else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["to_json"]


def to_json(resource: Any, *, pretty: bool = True) -> str:
    """Serialise a resource in JSON form as FHIR JSON text (ending in a newline).

    Args:
        resource: dicts, lists, str, bool, int, float, Decimal and None.
        pretty: indent two spaces per level; ``False`` writes one compact line.

    Raises:
        ValueError: a value JSON cannot hold (NaN, infinity, a set...).

    >>> print(to_json({"id": "d", "valueDecimal": Decimal("1.00"), "resourceType": "Basic"}),
    ...       end="")
    {
      "resourceType": "Basic",
      "id": "d",
      "valueDecimal": 1.00
    }
    """
    parts: list[str] = []
    _value(parts, resource, "\n" if pretty else "", "  " if pretty else "")
    parts.append("\n")
    return "".join(parts)


def _value(parts: list[str], value: Any, newline: str, indent: str) -> None:
    if isinstance(value, Mapping):
        # R4 §2.6.2: resourceType is the first property of a resource (readers may stream).
        keys = sorted(value, key=lambda k: k != "resourceType")
        _container(parts, "{", "}", [(k, value[k]) for k in keys], newline, indent)
    elif isinstance(value, list):
        _container(parts, "[", "]", [(None, v) for v in value], newline, indent)
    else:
        parts.append(_scalar(value))


def _container(parts: list[str], start: str, end: str, items: list[tuple[str | None, Any]],
               newline: str, indent: str) -> None:
    if not items:
        parts.append(start + end)
        return
    inner = newline + indent if newline else ""
    colon = ": " if newline else ":"
    parts.append(start)
    for i, (key, item) in enumerate(items):
        parts.append(("," if i else "") + inner)
        if key is not None:
            parts.append(json.dumps(key, ensure_ascii=False) + colon)
        _value(parts, item, inner if newline else "", indent)
    parts.append(newline + end)


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return str(value)
    raise ValueError(f"{type(value).__name__} is not a JSON value")
