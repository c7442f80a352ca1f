"""ValueSet expansion and code checks against the terminology we ship (FHIR R4 §4.9.5).

Bindings are checked without a terminology server: ValueSets are expanded from the Registry's
CodeSystems following the ``compose`` rules of http://hl7.org/fhir/R4/valueset.html#compose
(include/exclude, ``concept`` lists, hierarchy and property filters, ``valueSet`` imports), and
the big external code systems we cannot ship (SNOMED CT, LOINC, UCUM, ICD-10, BCP-47) get a
syntax check so that at least malformed codes are caught.

Expansions are three-valued. Each code system's share of a value set is kept as two bounds: the
codes certainly in it and the codes possibly in it ("any code" when a whole external system, an
unsupported filter or a missing import is involved). A code of an enumerable system can then be
judged ``member`` or ``not-member`` even when another part of the value set is ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..definitions.registry import Registry, split_canonical

__all__ = [
    "EXTERNAL_SYSTEMS",
    "MAX_EXPANSION",
    "CodeCheck",
    "Concept",
    "Expansion",
    "Terminology",
    "check_code_syntax",
]

MAX_EXPANSION = 100_000  # more codes than this and a value set counts as not enumerable
_MAX_IMPORT_DEPTH = 64
_INACTIVE_STATUS = frozenset({"retired", "inactive", "deprecated"})
# Concept properties the embedded core keeps (the rest were trimmed), so filters on them work.
_KEPT_PROPERTIES = frozenset({"status", "notSelectable", "abstract", "deprecated", "inactive"})
_FALSE_BY_DEFAULT = frozenset({"notSelectable", "abstract", "inactive"})

EXTERNAL_SYSTEMS: Mapping[str, str] = MappingProxyType({
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD-9-CM",
    "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICD-O-3",
    "http://unitsofmeasure.org": "UCUM",
    "urn:ietf:bcp:47": "BCP-47 language tags",
    "urn:ietf:bcp:13": "MIME types (BCP-13)",
    "urn:iso:std:iso:3166": "ISO 3166 country codes",
    "urn:iso:std:iso:3166:-2": "ISO 3166-2 subdivision codes",
    "urn:iso:std:iso:4217": "ISO 4217 currency codes",
    "urn:iso:std:iso:11073:10101": "ISO/IEEE 11073-10101",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://www.whocc.no/atc": "ATC",
    "http://nucc.org/provider-taxonomy": "NUCC provider taxonomy",
    "http://www.genenames.org": "HGNC",
    "http://varnomen.hgvs.org": "HGVS",
    "http://www.sequenceontology.org": "Sequence Ontology",
    "http://www.ncbi.nlm.nih.gov/clinvar": "ClinVar",
    "http://www.ncbi.nlm.nih.gov/projects/SNP": "dbSNP",
    "http://ncimeta.nci.nih.gov": "NCI Metathesaurus",
    "http://unstats.un.org/unsd/methods/m49/m49.htm": "UN M49 regions",
    "https://www.iana.org/time-zones": "IANA time zones",
})


@dataclass(frozen=True, slots=True)
class Concept:
    """A code as its code system defines it (or as a value set lists it)."""

    system: str
    code: str
    display: str | None = None
    version: str | None = None
    abstract: bool = False  # notSelectable/abstract: groups codes, not meant for data
    inactive: bool = False  # status retired/inactive/deprecated


@dataclass(frozen=True, slots=True)
class Expansion:
    """The complete, flat list of codes in a value set."""

    value_set: str
    contains: tuple[Concept, ...]
    case_insensitive: frozenset[str] = frozenset()  # systems whose codes ignore case
    _index: dict[tuple[str, str], Concept] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {(c.system, self._key(c.system, c.code)): c for c in self.contains}
        object.__setattr__(self, "_index", index)

    def _key(self, system: str, code: str) -> str:
        return code.lower() if system in self.case_insensitive else code

    def __len__(self) -> int:
        return len(self.contains)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.contains)

    def find(self, system: str, code: str) -> Concept | None:
        """The entry for ``system``/``code``, or None when the value set lacks it."""
        return self._index.get((system, self._key(system, code)))


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The answer to "is this code in that value set?".

    ``message`` explains not-member and unknown outcomes; for a member it is non-empty only when
    the given display differs from the code system's. ``concept`` is the matching entry.
    """

    outcome: Literal["member", "not-member", "unknown"]
    message: str = ""
    display: str | None = None  # the display the code system defines, if known
    concept: Concept | None = None


# -- code systems ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _CodeSystem:
    url: str
    version: str | None
    content: str
    case_sensitive: bool
    concepts: dict[str, Concept]  # key (code, lower-cased if case-insensitive) -> concept
    children: dict[str, list[str]]
    parents: dict[str, list[str]]
    properties: dict[str, dict[str, tuple[str, ...]]]
    designations: dict[str, tuple[str, ...]]
    declared: frozenset[str]  # property codes the CodeSystem defines

    @property
    def complete(self) -> bool:
        return self.content == "complete"

    def key(self, code: str) -> str:
        return code if self.case_sensitive else code.lower()

    def related(self, key: str, links: dict[str, list[str]]) -> list[str]:
        """Keys reachable from ``key`` through ``links`` (children or parents), without it."""
        seen, found, todo = {key}, [], [key]
        while todo:
            for nxt in links.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    found.append(nxt)
                    todo.append(nxt)
        return found


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _property_values(concept: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for prop in _dicts(concept.get("property")):
        name = _text(prop.get("code"))
        for k, value in prop.items():
            if name is None or not k.startswith("value"):
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dict):  # valueCoding
                value = value.get("code")
            if isinstance(value, str | int | float):
                found[name] = (*found.get(name, ()), str(value))
    return found


def _index_code_system(url: str, resource: Mapping[str, Any]) -> _CodeSystem:
    case_sensitive = resource.get("caseSensitive") is not False  # absent: treat as sensitive
    version = _text(resource.get("version"))
    cs = _CodeSystem(
        url, version, _text(resource.get("content")) or "complete", case_sensitive, {}, {}, {},
        {}, {}, frozenset(p["code"] for p in _dicts(resource.get("property"))
                          if isinstance(p.get("code"), str)))

    def link(parent: str, child: str) -> None:
        if child not in cs.children.setdefault(parent, []):
            cs.children[parent].append(child)
            cs.parents.setdefault(child, []).append(parent)

    todo: list[tuple[dict[str, Any], str | None]] = [
        (c, None) for c in reversed(_dicts(resource.get("concept")))]
    while todo:
        raw, parent = todo.pop()
        code = _text(raw.get("code"))
        if code is None:
            continue
        key = cs.key(code)
        props = _property_values(raw)
        if key not in cs.concepts:
            cs.concepts[key] = Concept(
                url, code, _text(raw.get("display")), version,
                abstract="true" in props.get("notSelectable", ()) + props.get("abstract", ()),
                inactive=bool(_INACTIVE_STATUS.intersection(props.get("status", ())))
                or "true" in props.get("inactive", ()))
            cs.properties[key] = props
            cs.designations[key] = tuple(d["value"] for d in _dicts(raw.get("designation"))
                                         if isinstance(d.get("value"), str))
        if parent is not None:
            link(parent, key)
        # Hierarchies may also be given by properties (R4 CodeSystem §4.8.10 "parent"/"child").
        for up in props.get("parent", ()) + props.get("subsumedBy", ()):
            link(cs.key(up), key)
        for down in props.get("child", ()):
            link(key, cs.key(down))
        todo.extend((c, key) for c in reversed(_dicts(raw.get("concept"))))
    return cs


def _concept_filter(cs: _CodeSystem, op: str, value: str) -> set[str] | None:
    key = cs.key(value)
    known = key in cs.concepts
    if op == "is-a":
        return {key, *cs.related(key, cs.children)} if known else set()
    if op == "descendent-of":
        return set(cs.related(key, cs.children))
    if op == "is-not-a":
        return set(cs.concepts) - {key, *cs.related(key, cs.children)}
    if op == "generalizes":
        return {key, *cs.related(key, cs.parents)} if known else set()
    if op == "=":
        return {key} if known else set()
    if op in ("in", "not-in"):
        listed = {cs.key(v.strip()) for v in value.split(",")} & cs.concepts.keys()
        return listed if op == "in" else set(cs.concepts) - listed
    if op == "regex":
        try:
            pattern = re.compile(value)
        except re.error:
            return None
        return {k for k, c in cs.concepts.items() if pattern.fullmatch(c.code)}
    return None


def _property_filter(cs: _CodeSystem, prop: str, op: str, value: str) -> set[str] | None:
    if op not in ("=", "in", "not-in", "exists", "regex"):
        return None
    try:
        pattern = re.compile(value) if op == "regex" else None
    except re.error:
        return None
    wanted = {v.strip() for v in value.split(",")} if op in ("in", "not-in") else {value}

    def match(key: str) -> bool:
        found = cs.properties[key].get(prop, ())
        if op == "exists":
            return bool(found) == (value == "true")
        # Boolean flags such as notSelectable are false on concepts that do not state them.
        found = found or (("false",) if prop in _FALSE_BY_DEFAULT else ())
        if pattern is not None:
            return any(pattern.fullmatch(v) for v in found)
        return bool(wanted.intersection(found)) != (op == "not-in")

    return {key for key in cs.concepts if match(key)}


def _filter_keys(cs: _CodeSystem, flt: Mapping[str, Any]) -> set[str] | None:
    """The keys a compose filter selects, or None when it cannot be evaluated here."""
    prop, op, value = _text(flt.get("property")), _text(flt.get("op")), _text(flt.get("value"))
    if prop is None or op is None or value is None:
        return None
    if prop in ("concept", "code"):
        return _concept_filter(cs, op, value)
    if prop in _KEPT_PROPERTIES or prop in cs.declared:
        return _property_filter(cs, prop, op, value)
    return None


# -- three-valued code sets -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Part:
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


@dataclass(frozen=True, slots=True)
class _CodeSet:
    parts: dict[str, _Part]
    other: str | None = None  # set when systems not in ``parts`` may have members: why

    def part(self, system: str) -> _Part:
        found = self.parts.get(system)
        if found is not None:
            return found
        return _Part(True, {}, {} if self.other is None else None, self.other or "")

    @property
    def exact(self) -> bool:
        return self.other is None and all(p.exact for p in self.parts.values())


_EMPTY = _CodeSet({})


def _open(reason: str) -> _CodeSet:
    return _CodeSet({}, reason)


def _open_part(reason: str, case_sensitive: bool = True) -> _Part:
    return _Part(case_sensitive, {}, None, reason)


def _exact_part(entries: dict[str, Concept], case_sensitive: bool) -> _Part:
    if len(entries) > MAX_EXPANSION:
        return _open_part(f"it has more than {MAX_EXPANSION:,} codes", case_sensitive)
    return _Part(case_sensitive, entries, entries)


def _folded(p: _Part) -> _Part:
    if not p.case_sensitive:
        return p
    upper = None if p.upper is None else {k.lower(): v for k, v in p.upper.items()}
    return _Part(False, {k.lower(): v for k, v in p.lower.items()}, upper, p.reason)


def _union_part(x: _Part, y: _Part) -> _Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    if x.upper is None or y.upper is None:
        return _Part(x.case_sensitive, {**y.lower, **x.lower}, None, x.reason or y.reason)
    if x.exact and y.exact:
        return _exact_part({**y.upper, **x.upper}, x.case_sensitive)
    upper = {**y.upper, **x.upper}
    if len(upper) > MAX_EXPANSION:
        return _open_part(f"it has more than {MAX_EXPANSION:,} codes", x.case_sensitive)
    return _Part(x.case_sensitive, {**y.lower, **x.lower}, upper, x.reason or y.reason)


def _intersect_part(x: _Part, y: _Part) -> _Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    lower = {k: v for k, v in x.lower.items() if k in y.lower}
    if x.upper is None and y.upper is None:
        upper = None
    elif x.upper is None or y.upper is None:
        upper = dict(x.upper if x.upper is not None else y.upper or {})
    else:
        upper = {k: v for k, v in x.upper.items() if k in y.upper}
    return _Part(x.case_sensitive, lower, upper, x.reason or y.reason)


def _minus_part(x: _Part, y: _Part) -> _Part:
    if x.case_sensitive != y.case_sensitive:
        x, y = _folded(x), _folded(y)
    y_upper = y.upper
    lower = {} if y_upper is None else {k: v for k, v in x.lower.items() if k not in y_upper}
    upper = None if x.upper is None else {k: v for k, v in x.upper.items() if k not in y.lower}
    return _Part(x.case_sensitive, lower, upper, x.reason or y.reason)


def _combine(a: _CodeSet, b: _CodeSet, op: Callable[[_Part, _Part], _Part],
             other: str | None) -> _CodeSet:
    systems = dict.fromkeys([*a.parts, *b.parts])
    return _CodeSet({s: op(a.part(s), b.part(s)) for s in systems}, other)


def _union(a: _CodeSet, b: _CodeSet) -> _CodeSet:
    return _combine(a, b, _union_part, a.other or b.other)


def _intersection(a: _CodeSet, b: _CodeSet) -> _CodeSet:
    return _combine(a, b, _intersect_part, a.other if a.other and b.other else None)


def _difference(a: _CodeSet, b: _CodeSet) -> _CodeSet:
    return _combine(a, b, _minus_part, a.other)


def _active_only(codes: _CodeSet) -> _CodeSet:
    def keep(entries: dict[str, Concept]) -> dict[str, Concept]:
        return {k: c for k, c in entries.items() if not c.inactive}

    return _CodeSet({s: _Part(p.case_sensitive, keep(p.lower),
                              None if p.upper is None else keep(p.upper), p.reason)
                     for s, p in codes.parts.items()}, codes.other)


def _label(system: str) -> str:
    name = EXTERNAL_SYSTEMS.get(system)
    return f"'{system}' ({name})" if name else f"'{system}'"


def _quoted(codes: list[str]) -> str:
    return ", ".join(f"'{c}'" for c in codes)


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


# -- the service ----------------------------------------------------------------------------
class Terminology:
    """Expands value sets and checks codes using the CodeSystems of a :class:`Registry`.

    Results are cached per canonical until the registry changes (``registry.generation``).

    >>> tx = Terminology(Registry())
    >>> gender = "http://hl7.org/fhir/ValueSet/administrative-gender"
    >>> tx.check_code(gender, system="http://hl7.org/fhir/administrative-gender", code="male")
    CodeCheck(outcome='member', message='', display='Male', concept=...)
    >>> tx.check_code(gender, system=None, code="mal").outcome
    'not-member'
    >>> tx.check_code("http://hl7.org/fhir/ValueSet/condition-code",
    ...               system="http://snomed.info/sct", code="22298006").outcome
    'unknown'
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._generation = registry.generation
        self._sets: dict[str, _CodeSet] = {}
        self._expansions: dict[str, Expansion | None] = {}
        self._systems: dict[tuple[str, str | None], _CodeSystem | None] = {}

    def _sync(self) -> None:
        if self._generation != self.registry.generation:
            self._generation = self.registry.generation
            self._sets.clear()
            self._expansions.clear()
            self._systems.clear()

    # -- public API ------------------------------------------------------------------------
    def expand(self, value_set: str) -> Expansion | None:
        """The value set's codes, or None when it cannot be fully enumerated here."""
        self._sync()
        if value_set not in self._expansions:
            codes = self._value_set_codes(value_set, ())
            expansion = None
            if codes.exact:
                expansion = Expansion(
                    value_set, tuple(c for p in codes.parts.values() for c in p.lower.values()),
                    frozenset(s for s, p in codes.parts.items() if not p.case_sensitive))
            self._expansions[value_set] = expansion
        return self._expansions[value_set]

    def check_code(self, value_set: str, *, system: str | None, code: str,
                   display: str | None = None) -> CodeCheck:
        """Whether ``system``/``code`` is in the value set; ``system`` None matches any system.

        A None system is how the bare ``code`` datatype is bound.
        """
        self._sync()
        codes = self._value_set_codes(value_set, ())
        if system is None:
            return self._check_bare(value_set, codes, code, display)
        url = split_canonical(system)[0]
        part = codes.part(url)
        key = code if part.case_sensitive else code.lower()
        hit = part.lower.get(key)
        if hit is not None:
            return self._member(hit, display)
        found = f"The code '{code}' from {_label(url)}"
        if part.upper is None or key in part.upper:
            return CodeCheck("unknown", f"{found} cannot be checked against the value set "
                                        f"'{value_set}': {part.reason}")
        if not part.upper:
            systems = [s for s, p in codes.parts.items() if p.upper is None or p.upper]
            expected = " or ".join(_label(s) for s in systems) or "no code system at all"
            return CodeCheck("not-member", f"{found} is not in the value set '{value_set}', "
                                           f"which has codes from {expected}")
        return CodeCheck("not-member", f"{found} is not in the value set '{value_set}'"
                         f"{self._hint(url, code, part)}; {self._expected(codes)}")

    def lookup(self, system: str, code: str, *, version: str | None = None) -> Concept | None:
        """The concept ``code`` of a complete, loaded code system; None when unknown."""
        cs = self._code_system(system, version)
        if cs is None or not cs.complete:
            return None
        return cs.concepts.get(cs.key(code))

    def is_known_system(self, system: str) -> bool:
        """True when the code system is loaded with all its codes (``content = complete``)."""
        cs = self._code_system(system, None)
        return cs is not None and cs.complete

    def check_display(self, system: str, code: str, display: str) -> str | None:
        """A message when ``display`` is not what the code system says; None if OK or unknown."""
        known = self._displays(system, code)
        if known is None or _normalised(display) in {_normalised(d) for d in known[1]}:
            return None
        return (f"Wrong display '{display}' for the code '{code}' in {_label(known[0])}: "
                f"the code system's display is {known[2]}")

    def check_display_whitespace(self, system: str, code: str, display: str) -> str | None:
        """A message when ``display`` is one of the code system's displays (ignoring case)
        only once its whitespace is normalised: the HL7 validator's Display_Name_WS_* warning.
        :meth:`check_display` accepts such a display."""
        known = self._displays(system, code)
        if known is None or display.casefold() in {d.casefold() for d in known[1]} \
                or _normalised(display) not in {_normalised(d) for d in known[1]}:
            return None
        return (f"Wrong whitespace in the display '{display}' for the code '{code}' in "
                f"{_label(known[0])}: the code system's display is {known[2]}")

    def _displays(self, system: str, code: str) -> tuple[str, tuple[str, ...], str] | None:
        """(code system url, valid displays, those displays quoted) of a code, if known."""
        cs = self._code_system(system, None)
        key = cs.key(code) if cs is not None else code
        concept = cs.concepts.get(key) if cs is not None else None
        if cs is None or concept is None or concept.display is None:
            return None
        valid = (concept.display, *cs.designations[key])
        return cs.url, valid, " or ".join(f"'{d}'" for d in dict.fromkeys(valid))

    def validate_system_code(self, system: str, code: str) -> str | None:
        """A message when a complete, loaded code system lacks ``code``; None otherwise."""
        cs = self._code_system(system, None)
        if cs is None or not cs.complete or cs.key(code) in cs.concepts:
            return None
        version = f" version '{cs.version}'" if cs.version else ""
        return f"Unknown code '{code}' in the CodeSystem '{cs.url}'{version}"

    def missing_from_fragment(self, system: str, code: str) -> str | None:
        """A message when a loaded code system that is only a fragment (``content =
        fragment``) lacks ``code``: the code may be in another fragment, so it is a warning."""
        cs = self._code_system(system, None)
        if cs is None or cs.content != "fragment" or cs.key(code) in cs.concepts:
            return None
        return (f"Unknown code '{code}' in the CodeSystem '{cs.url}': the code system is only "
                "a fragment (content = fragment), so the code may be valid in another fragment")

    # -- checks ----------------------------------------------------------------------------
    def _member(self, hit: Concept, display: str | None) -> CodeCheck:
        cs = self._code_system(hit.system, None)
        defined = cs.concepts.get(cs.key(hit.code)) if cs is not None else None
        message = self.check_display(hit.system, hit.code, display) if display else None
        return CodeCheck("member", message or "",
                         defined.display if defined is not None else None, hit)

    def _check_bare(self, value_set: str, codes: _CodeSet, code: str,
                    display: str | None) -> CodeCheck:
        reason = codes.other
        for system, part in codes.parts.items():
            key = code if part.case_sensitive else code.lower()
            hit = part.lower.get(key)
            if hit is not None:
                return self._member(hit, display)
            if part.upper is None and check_code_syntax(system, code) is not None:
                continue  # not a code of that system at all, so not in its share either
            if part.upper is None or key in part.upper:
                reason = reason or part.reason
        if reason is not None:
            return CodeCheck("unknown", f"The code '{code}' cannot be checked against the value "
                                        f"set '{value_set}': {reason}")
        return CodeCheck("not-member", f"The code '{code}' is not in the value set "
                                       f"'{value_set}'; {self._expected(codes)}")

    def _hint(self, system: str, code: str, part: _Part) -> str:
        assert part.upper is not None
        folded = [c.code for c in part.upper.values() if c.code.lower() == code.lower()]
        if folded:
            return f" (did you mean '{folded[0]}'? codes of this system are case-sensitive)"
        if self.validate_system_code(system, code):
            return " (the code system does not define it either)"
        return ""

    @staticmethod
    def _expected(codes: _CodeSet) -> str:
        known = [c.code for p in codes.parts.values() for c in (p.upper or {}).values()]
        if codes.exact and len(known) <= 12:
            return f"expected one of {_quoted(known)}" if known else "the value set is empty"
        systems = " or ".join(_label(s) for s, p in codes.parts.items()
                              if p.upper is None or p.upper) or "another value set"
        if codes.exact:
            return f"expected one of its {len(known):,} codes from {systems}"
        return f"expected a code from {systems}"

    # -- expansion -------------------------------------------------------------------------
    def _value_set_codes(self, canonical: str, stack: tuple[str, ...]) -> _CodeSet:
        cached = self._sets.get(canonical)
        if cached is not None:
            return cached
        if canonical in stack:  # not cached: the result depends on where the cycle was entered
            return _open(f"the value set '{canonical}' includes itself (circular import)")
        if len(stack) > _MAX_IMPORT_DEPTH:
            return _open(f"value set imports are nested more than {_MAX_IMPORT_DEPTH} deep")
        resource = (self.registry.value_set(canonical)
                    or self.registry.value_set(split_canonical(canonical)[0]))
        if resource is None:
            result = _open(f"the value set '{canonical}' is not available (neither in the FHIR "
                           "core nor in a loaded package)")
        else:
            result = self._evaluate(resource, (*stack, canonical))
        self._sets[canonical] = result
        return result

    def _evaluate(self, value_set: Mapping[str, Any], stack: tuple[str, ...]) -> _CodeSet:
        compose = value_set.get("compose")
        result: _CodeSet | None = None
        if isinstance(compose, dict):
            result = _EMPTY
            for include in _dicts(compose.get("include")):
                result = _union(result, self._include(include, stack))
            for exclude in _dicts(compose.get("exclude")):
                result = _difference(result, self._include(exclude, stack))
            if compose.get("inactive") is False:
                result = _active_only(result)
            if result.exact:
                return result
        stored = self._stored_expansion(value_set.get("expansion"))
        if stored is not None:
            return stored
        if result is not None:
            return result
        return _open(f"the value set '{value_set.get('url')}' has neither compose nor expansion")

    def _include(self, include: Mapping[str, Any], stack: tuple[str, ...]) -> _CodeSet:
        """One ``compose.include``/``exclude``: the intersection of its imports and system part."""
        sets = [self._value_set_codes(vs, stack) for vs in _strings(include.get("valueSet"))]
        system = _text(include.get("system"))
        if system:
            url = split_canonical(system)[0]
            if sets and not include.get("concept") and not include.get("filter"):
                # "all of system X that is in value set Y": Y's codes from X, even when X is
                # external and we cannot list it.
                merged = sets[0]
                for more in sets[1:]:
                    merged = _intersection(merged, more)
                return _CodeSet({url: merged.part(url)})
            sets.append(_CodeSet({url: self._system_part(include, system)}))
        if not sets:
            return _EMPTY
        result = sets[0]
        for more in sets[1:]:
            result = _intersection(result, more)
        return result

    def _system_part(self, include: Mapping[str, Any], system: str) -> _Part:
        url = split_canonical(system)[0]
        version = _text(include.get("version"))
        cs = self._code_system(system, version)
        sensitive = cs.case_sensitive if cs is not None else True
        parts: list[_Part] = []
        listed = _dicts(include.get("concept"))
        if listed:
            entries: dict[str, Concept] = {}
            for item in listed:
                code = _text(item.get("code"))
                if code is None:
                    continue
                key = code if sensitive else code.lower()
                known = cs.concepts.get(key) if cs is not None else None
                entries[key] = known or Concept(url, code, _text(item.get("display")), version)
            parts.append(_exact_part(entries, sensitive))
        filters = _dicts(include.get("filter"))
        if filters:
            parts.append(self._filter_part(cs, url, filters))
        if not parts:
            parts.append(self._whole_system(cs, url))
        result = parts[0]
        for more in parts[1:]:
            result = _intersect_part(result, more)
        return result

    def _filter_part(self, cs: _CodeSystem | None, url: str,
                     filters: list[dict[str, Any]]) -> _Part:
        if cs is None or not cs.complete:
            return _open_part(self._unavailable(cs, url))
        keys: set[str] | None = None
        for flt in filters:
            selected = _filter_keys(cs, flt)
            if selected is None:
                return _open_part(f"the filter '{flt.get('property')} {flt.get('op')} "
                                  f"{flt.get('value')}' on {_label(url)} cannot be evaluated "
                                  "here", cs.case_sensitive)
            keys = selected if keys is None else keys & selected
        chosen = keys or set()
        entries = {k: c for k, c in cs.concepts.items() if k in chosen}
        return _exact_part(entries, cs.case_sensitive)

    def _whole_system(self, cs: _CodeSystem | None, url: str) -> _Part:
        if cs is not None and cs.complete:
            return _exact_part(cs.concepts, cs.case_sensitive)
        if cs is not None and cs.content in ("fragment", "example"):
            # The codes we have are certainly in it; others may be as well.
            return _Part(cs.case_sensitive, cs.concepts, None,
                         f"only part of the code system {_label(url)} is available "
                         f"(content: {cs.content})")
        return _open_part(self._unavailable(cs, url))

    @staticmethod
    def _unavailable(cs: _CodeSystem | None, url: str) -> str:
        if cs is None:
            return f"the code system {_label(url)} is not available here"
        return f"the code system {_label(url)} is not available here (content: {cs.content})"

    def _stored_expansion(self, expansion: object) -> _CodeSet | None:
        """A pre-computed ``ValueSet.expansion``, when it is present and complete."""
        if not isinstance(expansion, dict):
            return None
        by_system: dict[str, dict[str, Concept]] = {}
        todo = list(reversed(_dicts(expansion.get("contains"))))
        count = 0
        while todo:
            item = todo.pop()
            todo.extend(reversed(_dicts(item.get("contains"))))
            system, code = _text(item.get("system")), _text(item.get("code"))
            if system is None or code is None:
                continue  # a grouping entry, not a code
            url = split_canonical(system)[0]
            cs = self._code_system(url, None)
            key = code if cs is None or cs.case_sensitive else code.lower()
            by_system.setdefault(url, {})[key] = Concept(
                url, code, _text(item.get("display")), _text(item.get("version")),
                item.get("abstract") is True, item.get("inactive") is True)
            count += 1
        total, offset = expansion.get("total"), expansion.get("offset")
        if (isinstance(offset, int) and offset > 0) or (isinstance(total, int) and total > count):
            return None
        if not by_system and "contains" not in expansion:
            return None
        return _CodeSet({s: _exact_part(entries, self._sensitive(s))
                         for s, entries in by_system.items()})

    def _sensitive(self, system: str) -> bool:
        cs = self._code_system(system, None)
        return cs is None or cs.case_sensitive

    def _code_system(self, system: str, version: str | None) -> _CodeSystem | None:
        self._sync()
        key = (system, version)
        if key not in self._systems:
            url, pinned = split_canonical(system)
            resource = self._find_code_system(url, version or pinned)
            self._systems[key] = None if resource is None else _index_code_system(url, resource)
        return self._systems[key]

    def _find_code_system(self, url: str, version: str | None) -> dict[str, Any] | None:
        registry = self.registry
        if version is not None:
            found = (registry.code_system(f"{url}|{version}")
                     # R4 core ships a few v2 tables whose url itself carries "|version".
                     or registry.core.load(f"{url}|{version}"))
            if found is not None:
                return found
        found = registry.code_system(url)  # version mismatch: use what we have
        if found is not None:
            return found
        versioned = sorted(u for u in registry.core.entries if u.startswith(url + "|"))
        return registry.core.load(versioned[-1]) if versioned else None


# -- syntax of external code systems --------------------------------------------------------
# Verhoeff tables (dihedral group D5), as in SNOMED CT's "6.3 Check-digit Computation".
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)


def _verhoeff_permutations() -> tuple[tuple[int, ...], ...]:
    rows = [tuple(range(10)), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)]
    while len(rows) < 8:  # row i applies the permutation of row 1 i times
        rows.append(tuple(rows[-1][j] for j in rows[1]))
    return tuple(rows)


_VERHOEFF_P = _verhoeff_permutations()
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _verhoeff_digit(digits: str) -> int:
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[(i + 1) % 8][int(digit)]]
    return _VERHOEFF_INV[check]


def _luhn_digit(digits: str) -> int:
    # LOINC's mod-10 algorithm: double the digits in odd positions counted from the right, add
    # up the digits of everything, and take the distance to the next multiple of ten.
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 == 0 else 1)
        total += value // 10 + value % 10
    return -total % 10


def _snomed_syntax(code: str) -> str | None:
    # Post-coordinated expressions are allowed in Coding.code: check the identifiers in them.
    if re.search(r"[^\d]", code):
        bare = re.sub(r"\|[^|]*\|", "", code)  # drop |terms|
        ids = re.findall(r"\d+", bare)
        if not ids or not re.fullmatch(r"[\d\s:=,{}()+.<>!*^#\"-]+", bare):
            return f"'{code}' is neither a SNOMED CT concept id nor an expression"
        return next(filter(None, map(_snomed_syntax, ids)), None)
    if not 6 <= len(code) <= 18 or code.startswith("0"):
        return (f"'{code}' is not a SNOMED CT concept id: expected 6 to 18 digits without a "
                "leading zero")
    expected = _verhoeff_digit(code[:-1])
    if int(code[-1]) != expected:
        return (f"'{code}' is not a valid SNOMED CT id: its check digit is {code[-1]}, "
                f"the Verhoeff check digit should be {expected}")
    if code[-3:-1] not in ("00", "10"):  # partition: 01/11 descriptions, 02/12 relationships
        return f"'{code}' is a SNOMED CT description or relationship id, not a concept id"
    return None


def _loinc_syntax(code: str) -> str | None:
    if re.fullmatch(r"L[PALG]\d+-\d", code):  # parts, answers, answer lists, groups
        return None
    match = re.fullmatch(r"(\d{1,7})-(\d)", code)  # 6-digit numbers exist since 2021
    if match is None:
        return f"'{code}' is not a LOINC code: expected digits, a hyphen and a check digit"
    expected = _luhn_digit(match[1])
    if int(match[2]) != expected:
        return f"'{code}' is not a valid LOINC code: the check digit should be {expected}"
    return None


def _ucum_syntax(code: str) -> str | None:
    if not code or re.search(r"[^\x21-\x7e]", code):
        return f"'{code}' is not a UCUM unit: it must be non-empty printable ASCII, no spaces"
    closing = {"(": ")", "[": "]", "{": "}"}
    expected: list[str] = []
    for char in code:
        if expected and expected[-1] == "}":
            if char == "}":
                expected.pop()
            elif char == "{":
                return f"'{code}' is not a UCUM unit: annotations ({{...}}) cannot nest"
        elif char in closing:
            expected.append(closing[char])
        elif char in ")]}" and (not expected or expected.pop() != char):
            return f"'{code}' is not a UCUM unit: unbalanced '{char}'"
    if expected:
        return f"'{code}' is not a UCUM unit: '{expected[-1]}' is missing"
    return None


_BCP47 = re.compile(r"""
    (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})      # language, extended language
    (?:-[a-z]{4})?                                   # script
    (?:-(?:[a-z]{2}|\d{3}))?                         # region
    (?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*              # variants
    (?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*                # extensions
    (?:-x(?:-[a-z\d]{1,8})+)?                        # private use
    | x(?:-[a-z\d]{1,8})+
    | i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)
    | en-gb-oed | sgn-(?:be-fr|be-nl|ch-de)
    """, re.IGNORECASE | re.VERBOSE)


def _syntax(pattern: str | re.Pattern[str], what: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def check(code: str) -> str | None:
        return None if compiled.fullmatch(code) else f"'{code}' is not {what}"

    return check


_SYNTAX: Mapping[str, Callable[[str], str | None]] = MappingProxyType({
    "http://snomed.info/sct": _snomed_syntax,
    "http://loinc.org": _loinc_syntax,
    "http://unitsofmeasure.org": _ucum_syntax,
    "urn:ietf:bcp:47": _syntax(_BCP47, "a BCP-47 language tag (e.g. 'en-GB')"),
    "http://hl7.org/fhir/sid/icd-10": _syntax(
        r"[A-Z]\d[\dA-Z](?:\.?[\dA-Z]{1,4})?[+*†]?|[A-Z]\d\d-[A-Z]\d\d",
        "an ICD-10 code (e.g. 'C50.9')"),
    "http://hl7.org/fhir/sid/icd-10-cm": _syntax(
        r"[A-Z]\d[\dA-Z](?:\.?[\dA-Z]{1,4})?", "an ICD-10-CM code (e.g. 'C50.911')"),
    "http://terminology.hl7.org/CodeSystem/icd-o-3": _syntax(
        r"\d{4}/\d|C\d\d(?:\.?\d)?", "an ICD-O-3 code (morphology '8140/3' or site 'C50.9')"),
    "urn:iso:std:iso:3166": _syntax(r"[A-Z]{2,3}|\d{3}", "an ISO 3166 country code"),
    "urn:iso:std:iso:3166:-2": _syntax(r"[A-Z]{2}-[A-Z0-9]{1,3}",
                                       "an ISO 3166-2 subdivision code (e.g. 'DK-84')"),
    "http://unstats.un.org/unsd/methods/m49/m49.htm": _syntax(
        r"\d{3}", "a UN M49 area code (three digits, e.g. '150')"),
    "urn:iso:std:iso:4217": _syntax(r"[A-Z]{3}", "an ISO 4217 currency code"),
    "http://www.nlm.nih.gov/research/umls/rxnorm": _syntax(r"\d{1,9}", "an RxNorm RXCUI"),
})


def check_code_syntax(system: str, code: str) -> str | None:
    """A message when ``code`` cannot be a code of the external ``system``; None otherwise.

    Only the form is checked (check digits included); whether the code exists is not.

    >>> check_code_syntax("http://loinc.org", "8480-6") is None
    True
    >>> check_code_syntax("http://loinc.org", "8480-5")
    "'8480-5' is not a valid LOINC code: the check digit should be 6"
    >>> check_code_syntax("http://snomed.info/sct", "22298007")
    "'22298007' is not a valid SNOMED CT id: its check digit is 7, the Verhoeff ..."
    """
    check = _SYNTAX.get(split_canonical(system)[0])
    return None if check is None else check(code)
