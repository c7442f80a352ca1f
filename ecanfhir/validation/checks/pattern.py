"""fixed[x] and pattern[x], min/maxValue (R4 §2.27.0.1 ElementDefinition.fixed/pattern).

``fixed`` means exactly equal (every element, no more, no less); ``pattern`` means the instance
has at least what the pattern has: every property of the pattern with the same value, and for
arrays, every item of the pattern matched by some item of the instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ...definitions.compiled import ElementNode
from ...terminology.comparison import compare, compare_dates, relative_to_now
from .._issue import Issue
from .json_values import array
from .structure import from_profile as _source

__all__ = ["check_fixed_pattern", "check_min_max", "matches_pattern", "same_value"]


def same_value(instance: Any, fixed: Any) -> bool:
    """Exact equality as FHIR means it (numbers compare by value, booleans are not numbers)."""
    if isinstance(fixed, bool) or isinstance(instance, bool):
        return instance is fixed
    if isinstance(fixed, (int, float)) and isinstance(instance, (int, float)):
        return Decimal(str(instance)) == Decimal(str(fixed))
    if isinstance(fixed, dict) and isinstance(instance, dict):
        return fixed.keys() == instance.keys() and all(same_value(instance[k], fixed[k])
                                                       for k in fixed)
    if isinstance(fixed, list) and isinstance(instance, list):
        return len(fixed) == len(instance) and all(map(same_value, instance, fixed))
    return bool(instance == fixed)


def matches_pattern(instance: Any, pattern: Any) -> bool:
    """True when ``instance`` carries everything ``pattern`` has."""
    if isinstance(pattern, dict):
        if not isinstance(instance, dict):
            return False
        return all(k in instance and matches_pattern(instance[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        items = instance if isinstance(instance, list) else [instance]
        return all(any(matches_pattern(i, p) for i in items) for p in pattern)
    return same_value(instance, pattern)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 120 else text[:117] + "..."


def check_fixed_pattern(node: ElementNode, value: Any, at: str) -> Iterator[Issue]:
    if node.fixed is not None and not same_value(value, node.fixed[1]):
        fixed = node.fixed[1]
        extension_issues = list(_fixed_extensions(value, fixed, at, source=_source(node)))
        yield from extension_issues
        if not extension_issues or not same_value(_without_extensions(value),
                                                  _without_extensions(fixed)):
            yield Issue.error("value", at, f"value is {_show(value)} but must be exactly "
                              f"{_show(fixed)}{_source(node)}", "fixed")
    if node.pattern is not None and not matches_pattern(value, node.pattern[1]):
        yield Issue.error("value", at, f"value {_show(value)} does not match the pattern "
                          f"{_show(node.pattern[1])}{_source(node)}", "pattern")


def _fixed_extensions(value: Any, fixed: Any, at: str, *, source: str) -> Iterator[Issue]:
    """The extensions of a value against those of a fixed complex value, as the HL7 validator
    checks them (``InstanceValidator.checkFixedValue``): none when the fixed value has none,
    else as many, each url of the fixed value present."""
    if not isinstance(value, Mapping) or not isinstance(fixed, Mapping):
        return
    found, wanted = (array(v.get("extension")) for v in (value, fixed))
    if not wanted:
        if found:
            yield Issue.error("value", f"{at}.extension[0]", "no extensions are allowed here, as "
                              f"the fixed value has none{source}", "fixed-extension")
    elif len(found) != len(wanted):
        yield Issue.error("value", at, f"the fixed value has {len(wanted)} extension(s), but "
                          f"{len(found)} found{source}", "fixed-extension")
    else:
        urls = {e.get("url") for e in found if isinstance(e, Mapping)}
        for ext in wanted:
            url = ext.get("url") if isinstance(ext, Mapping) else None
            if url not in urls:
                yield Issue.error("value", at, f"the extension {url} of the fixed value is "
                                  f"missing{source}", "fixed-extension")


def _without_extensions(value: Any) -> Any:
    return {k: v for k, v in value.items() if k != "extension"} \
        if isinstance(value, Mapping) else value


def _order(value: Any, limit: Any) -> int | None:
    """``value`` against a min/max limit: -1, 0, 1, or None when they do not compare.

    Quantities compare in the same unit or after UCUM conversion (11000 g is above 0.5 kg),
    never by number alone (99.5 [degF] against 45 Cel is not compared); dates as ISO 8601 text.
    """
    if isinstance(value, Mapping) or isinstance(limit, Mapping):
        kinds = ["Quantity" if isinstance(v, Mapping) else "decimal" for v in (value, limit)]
        if kinds == ["decimal", "Quantity"]:  # a number against a Quantity limit: its value
            return compare("decimal", value, "decimal", limit.get("value"))
        if kinds == ["Quantity", "decimal"]:  # a Quantity against a bare number: not compared
            return None
        if any(q.get(part) is None for q in (value, limit) for part in ("value", "system", "code")):
            return None  # a part missing on either side: not compared (the HL7 validator agrees)
        return compare(kinds[0], value, kinds[1], limit)
    if isinstance(value, str) and isinstance(limit, str):
        return (value > limit) - (value < limit)
    return compare("decimal", value, "decimal", limit)


def check_min_max(node: ElementNode, value: Any, at: str, *,
                  now: datetime | None = None) -> Iterator[Issue]:
    """minValue/maxValue for numbers, Quantities and (ISO 8601, comparable as text) dates.

    A Duration limit on a date, dateTime or instant is relative to ``now`` (the current time
    when None): R4 ElementDefinition.minValue[x] "is subtracted from the current clock to
    determine the minimum allowable value", maxValue[x] "is added to the current clock to
    determine the maximum allowable value". A partial date that straddles the limit
    (``2024`` against ``2024-06-01``) is not reported.
    """
    for bound, is_min in ((node.min_value, True), (node.max_value, False)):
        if bound is None:
            continue
        limit = bound[1]
        if bound[0].endswith("Duration") and isinstance(value, str):
            limit = relative_to_now(limit, now=now or datetime.now(UTC), later=not is_min)
            if limit is None:
                continue
            order = compare_dates(value, limit)
        else:
            order = _order(value, limit)
        if order is None:
            reason = _not_compared(value, limit)
            if reason:
                which = "minimum" if is_min else "maximum"
                yield Issue.warning("business-rule", at, f"the {which} {_show(limit)} cannot be "
                                    f"checked: {reason}{_source(node)}", "min-max-unchecked")
            continue
        bad = order < 0 if is_min else order > 0
        if bad:
            word = "less than the minimum" if is_min else "greater than the maximum"
            relative = (f" ({_duration(bound[1])} {'before' if is_min else 'after'} now)"
                        if bound[0].endswith("Duration") and isinstance(value, str) else "")
            yield Issue.error("value", at, f"value {_show(value)} is {word} {_show(limit)}"
                              f"{relative}{_source(node)}", "min-value" if is_min else "max-value")


def _not_compared(value: Any, limit: Any) -> str | None:
    """Why a Quantity and a Quantity limit do not compare (the HL7 validator says so too)."""
    if isinstance(value, Mapping) and not isinstance(limit, Mapping):
        return "the profile's limit is not a Quantity"
    if not isinstance(value, Mapping) or not isinstance(limit, Mapping):
        return None
    for missing, whose in ((limit, "the profile's limit"), (value, "the quantity")):
        for part in ("value", "system", "code"):
            if missing.get(part) is None:
                return f"{whose} has no {part}"
    if value["system"] != limit["system"]:
        return f"the systems differ ({value['system']}, {limit['system']})"
    return f"the unit {value['code']} does not convert to {limit['code']}"


def _duration(duration: Mapping[str, Any]) -> str:
    unit = duration.get("code") if duration.get("code") is not None else duration.get("unit")
    return f"{duration.get('value')} {unit}"
