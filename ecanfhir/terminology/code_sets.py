"""Three-valued code sets: a value set's codes as bounds, and their algebra.

Each code system's share of a value set (a :class:`Part`) is kept as two bounds: the codes
certainly in it and the codes possibly in it (None: "possibly any code", with the reason). A
:class:`CodeSet` maps systems to parts; ``union``, ``intersection`` and ``difference`` combine
them as ``compose.include``, imports and ``compose.exclude`` do (FHIR R4 §4.9.5), keeping each
bound right, so a code can be judged ``member`` or ``not-member`` even when another part is open.
"""

from __future__ import annotations

from collections.abc import Callable

from .._frozen import frozen
from .code_systems import Concept

__all__ = ["EMPTY", "MAX_EXPANSION", "CodeSet", "Part", "active_only", "difference",
           "exact_part", "intersect_part", "intersection", "open_part", "open_set", "union"]

MAX_EXPANSION = 100_000  # more codes than this and a value set counts as not enumerable


@frozen
class Part:
    """One system's share of a value set: codes surely in it, and codes possibly in it.

    ``upper`` None means "possibly any code" and ``reason`` says why. Never mutated once built.
    """

    case_sensitive: bool
    lower: dict[str, Concept]
    upper: dict[str, Concept] | None
    reason: str = ""

    @property
    def exact(self) -> bool:
        return self.upper is not None and len(self.upper) == len(self.lower)


@frozen
class CodeSet:
    parts: dict[str, Part]
    other: str | None = None  # set when systems not in ``parts`` may have members: why

    def part(self, system: str) -> Part:
        found = self.parts.get(system)
        if found is not None:
            return found
        return Part(True, {}, {} if self.other is None else None, self.other or "")

    @property
    def exact(self) -> bool:
        return self.other is None and all(p.exact for p in self.parts.values())


EMPTY = CodeSet({})


def open_set(reason: str) -> CodeSet:
    return CodeSet({}, reason)


def open_part(reason: str, case_sensitive: bool = True) -> Part:
    return Part(case_sensitive, {}, None, reason)


def exact_part(entries: dict[str, Concept], case_sensitive: bool) -> Part:
    if len(entries) > MAX_EXPANSION:
        return open_part(f"it has more than {MAX_EXPANSION:,} codes", case_sensitive)
    return Part(case_sensitive, entries, entries)


def _folded(p: Part) -> Part:
    if not p.case_sensitive:
        return p
    upper = None if p.upper is None else {k.lower(): v for k, v in p.upper.items()}
    return Part(False, {k.lower(): v for k, v in p.lower.items()}, upper, p.reason)


def _union_part(x: Part, y: Part) -> Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    if x.upper is None or y.upper is None:
        return Part(x.case_sensitive, {**y.lower, **x.lower}, None, x.reason or y.reason)
    if x.exact and y.exact:
        return exact_part({**y.upper, **x.upper}, x.case_sensitive)
    upper = {**y.upper, **x.upper}
    if len(upper) > MAX_EXPANSION:
        return open_part(f"it has more than {MAX_EXPANSION:,} codes", x.case_sensitive)
    return Part(x.case_sensitive, {**y.lower, **x.lower}, upper, x.reason or y.reason)


def intersect_part(x: Part, y: Part) -> Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    lower = {k: v for k, v in x.lower.items() if k in y.lower}
    if x.upper is None and y.upper is None:
        upper = None
    elif x.upper is None or y.upper is None:
        upper = dict(x.upper if x.upper is not None else y.upper or {})
    else:
        upper = {k: v for k, v in x.upper.items() if k in y.upper}
    return Part(x.case_sensitive, lower, upper, x.reason or y.reason)


def _minus_part(x: Part, y: Part) -> Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    y_upper = y.upper
    lower = {} if y_upper is None else {k: v for k, v in x.lower.items() if k not in y_upper}
    upper = None if x.upper is None else {k: v for k, v in x.upper.items() if k not in y.lower}
    return Part(x.case_sensitive, lower, upper, x.reason or y.reason)


def _combine(a: CodeSet, b: CodeSet, op: Callable[[Part, Part], Part],
             other: str | None) -> CodeSet:
    systems = dict.fromkeys([*a.parts, *b.parts])
    return CodeSet({s: op(a.part(s), b.part(s)) for s in systems}, other)


def union(a: CodeSet, b: CodeSet) -> CodeSet:
    return _combine(a, b, _union_part, a.other or b.other)


def intersection(a: CodeSet, b: CodeSet) -> CodeSet:
    return _combine(a, b, intersect_part, a.other if a.other and b.other else None)


def difference(a: CodeSet, b: CodeSet) -> CodeSet:
    return _combine(a, b, _minus_part, a.other)


def active_only(codes: CodeSet) -> CodeSet:
    def keep(entries: dict[str, Concept]) -> dict[str, Concept]:
        return {k: c for k, c in entries.items() if not c.inactive}

    return CodeSet({s: Part(p.case_sensitive, keep(p.lower),
                            None if p.upper is None else keep(p.upper), p.reason)
                    for s, p in codes.parts.items()}, codes.other)
