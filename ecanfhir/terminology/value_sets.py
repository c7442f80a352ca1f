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

This module holds the service, :class:`Terminology` (expansion, membership, displays); the
CodeSystem index and filters are in ``code_systems``, the three-valued code sets and their
algebra in ``code_sets``, the syntax of external codes in ``code_syntax``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from .._frozen import frozen
from ..definitions.registry import Registry, split_canonical
from .code_sets import (
    EMPTY,
    CodeSet,
    Part,
    active_only,
    difference,
    exact_part,
    intersect_part,
    intersection,
    open_part,
    open_set,
    union,
)
from .code_syntax import check_code_syntax
from .code_systems import (
    CodeSystemIndex,
    Concept,
    dicts,
    filter_keys,
    index_code_system,
    strings,
    text,
)

__all__ = [
    "EXTERNAL_SYSTEMS",
    "CodeCheck",
    "Expansion",
    "Terminology",
]

_MAX_IMPORT_DEPTH = 64

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



@frozen
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


_REMEMBERED = 65_536  # facts remember() keeps per Terminology (check_code answers among them)
_T = TypeVar("_T")


@frozen
class CodeCheck:
    """The answer to "is this code in that value set?".

    ``message`` explains not-member and unknown outcomes; for a member it is non-empty only when
    the given display differs from the code system's. ``concept`` is the matching entry.
    """

    outcome: Literal["member", "not-member", "unknown"]
    message: str = ""
    display: str | None = None  # the display the code system defines, if known
    concept: Concept | None = None




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
        self._sets: dict[str, CodeSet] = {}
        self._expansions: dict[str, Expansion | None] = {}
        self._systems: dict[tuple[str, str | None], CodeSystemIndex | None] = {}
        self._facts: dict[Hashable, Any] = {}  # remember(): check_code answers and others

    def _sync(self) -> None:
        if self._generation != self.registry.generation:
            self._generation = self.registry.generation
            self._sets.clear()
            self._expansions.clear()
            self._systems.clear()
            self._facts.clear()

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
        # A validation asks again and again about the same few codes (a status, a gender),
        # and the answer depends on the loaded definitions only.
        return self.remember(("check_code", value_set, system, code, display),
                             self._check_code, value_set, system, code, display)

    def _check_code(self, value_set: str, system: str | None, code: str,
                    display: str | None) -> CodeCheck:
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

    def remember(self, key: Hashable, compute: Callable[..., _T], *args: Any) -> _T:
        """``compute(*args)``, a fact that depends on the loaded definitions alone, computed
        once per ``key`` until the registry changes (a check's verdict on a code system, say).
        The arguments are passed rather than bound beforehand, so a fact already known costs
        no new object."""
        if self._generation != self.registry.generation:
            self._sync()
        try:
            return self._facts[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        if len(self._facts) >= _REMEMBERED:
            self._facts.clear()  # a bound on memory for streams of ever new codes
        fact = self._facts[key] = compute(*args)
        return fact

    def recall(self, key: Hashable) -> Any:
        """The fact :meth:`remember` keeps under ``key``, or None when there is none (yet):
        for a caller that would rather not pass the arguments of its computation each time."""
        if self._generation != self.registry.generation:
            self._sync()
        return self._facts.get(key)

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

    def _check_bare(self, value_set: str, codes: CodeSet, code: str,
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

    def _hint(self, system: str, code: str, part: Part) -> str:
        assert part.upper is not None
        folded = [c.code for c in part.upper.values() if c.code.lower() == code.lower()]
        if folded:
            return f" (did you mean '{folded[0]}'? codes of this system are case-sensitive)"
        if self.validate_system_code(system, code):
            return " (the code system does not define it either)"
        return ""

    @staticmethod
    def _expected(codes: CodeSet) -> str:
        known = [c.code for p in codes.parts.values() for c in (p.upper or {}).values()]
        if codes.exact and len(known) <= 12:
            return f"expected one of {_quoted(known)}" if known else "the value set is empty"
        systems = " or ".join(_label(s) for s, p in codes.parts.items()
                              if p.upper is None or p.upper) or "another value set"
        if codes.exact:
            return f"expected one of its {len(known):,} codes from {systems}"
        return f"expected a code from {systems}"

    # -- expansion -------------------------------------------------------------------------
    def _value_set_codes(self, canonical: str, stack: tuple[str, ...]) -> CodeSet:
        cached = self._sets.get(canonical)
        if cached is not None:
            return cached
        if canonical in stack:  # not cached: the result depends on where the cycle was entered
            return open_set(f"the value set '{canonical}' includes itself (circular import)")
        if len(stack) > _MAX_IMPORT_DEPTH:
            return open_set(f"value set imports are nested more than {_MAX_IMPORT_DEPTH} deep")
        resource = (self.registry.value_set(canonical)
                    or self.registry.value_set(split_canonical(canonical)[0]))
        if resource is None:
            result = open_set(f"the value set '{canonical}' is not available (neither in the FHIR "
                              "core nor in a loaded package)")
        else:
            result = self._evaluate(resource, (*stack, canonical))
        self._sets[canonical] = result
        return result

    def _evaluate(self, value_set: Mapping[str, Any], stack: tuple[str, ...]) -> CodeSet:
        compose = value_set.get("compose")
        result: CodeSet | None = None
        if isinstance(compose, dict):
            result = EMPTY
            for include in dicts(compose.get("include")):
                result = union(result, self._include(include, stack))
            for exclude in dicts(compose.get("exclude")):
                result = difference(result, self._include(exclude, stack))
            if compose.get("inactive") is False:
                result = active_only(result)
            if result.exact:
                return result
        stored = self._stored_expansion(value_set.get("expansion"))
        if stored is not None:
            return stored
        if result is not None:
            return result
        return open_set(f"the value set '{value_set.get('url')}' has neither compose nor expansion")

    def _include(self, include: Mapping[str, Any], stack: tuple[str, ...]) -> CodeSet:
        """One ``compose.include``/``exclude``: the intersection of its imports and system part."""
        sets = [self._value_set_codes(vs, stack) for vs in strings(include.get("valueSet"))]
        system = text(include.get("system"))
        if system:
            url = split_canonical(system)[0]
            if sets and not include.get("concept") and not include.get("filter"):
                # "all of system X that is in value set Y": Y's codes from X, even when X is
                # external and we cannot list it.
                merged = sets[0]
                for more in sets[1:]:
                    merged = intersection(merged, more)
                return CodeSet({url: merged.part(url)})
            sets.append(CodeSet({url: self._system_part(include, system)}))
        if not sets:
            return EMPTY
        result = sets[0]
        for more in sets[1:]:
            result = intersection(result, more)
        return result

    def _system_part(self, include: Mapping[str, Any], system: str) -> Part:
        url = split_canonical(system)[0]
        version = text(include.get("version"))
        cs = self._code_system(system, version)
        sensitive = cs.case_sensitive if cs is not None else True
        parts: list[Part] = []
        listed = dicts(include.get("concept"))
        if listed:
            entries: dict[str, Concept] = {}
            for item in listed:
                code = text(item.get("code"))
                if code is None:
                    continue
                key = code if sensitive else code.lower()
                known = cs.concepts.get(key) if cs is not None else None
                entries[key] = known or Concept(url, code, text(item.get("display")), version)
            parts.append(exact_part(entries, sensitive))
        filters = dicts(include.get("filter"))
        if filters:
            parts.append(self._filter_part(cs, url, filters))
        if not parts:
            parts.append(self._whole_system(cs, url))
        result = parts[0]
        for more in parts[1:]:
            result = intersect_part(result, more)
        return result

    def _filter_part(self, cs: CodeSystemIndex | None, url: str,
                     filters: list[dict[str, Any]]) -> Part:
        if cs is None or not cs.complete:
            return open_part(self._unavailable(cs, url))
        keys: set[str] | None = None
        for flt in filters:
            selected = filter_keys(cs, flt)
            if selected is None:
                return open_part(f"the filter '{flt.get('property')} {flt.get('op')} "
                                 f"{flt.get('value')}' on {_label(url)} cannot be evaluated "
                                 "here", cs.case_sensitive)
            keys = selected if keys is None else keys & selected
        chosen = keys or set()
        entries = {k: c for k, c in cs.concepts.items() if k in chosen}
        return exact_part(entries, cs.case_sensitive)

    def _whole_system(self, cs: CodeSystemIndex | None, url: str) -> Part:
        if cs is not None and cs.complete:
            return exact_part(cs.concepts, cs.case_sensitive)
        if cs is not None and cs.content in ("fragment", "example"):
            # The codes we have are certainly in it; others may be as well.
            return Part(cs.case_sensitive, cs.concepts, None,
                        f"only part of the code system {_label(url)} is available "
                        f"(content: {cs.content})")
        return open_part(self._unavailable(cs, url))

    @staticmethod
    def _unavailable(cs: CodeSystemIndex | None, url: str) -> str:
        if cs is None:
            return f"the code system {_label(url)} is not available here"
        return f"the code system {_label(url)} is not available here (content: {cs.content})"

    def _stored_expansion(self, expansion: object) -> CodeSet | None:
        """A pre-computed ``ValueSet.expansion``, when it is present and complete."""
        if not isinstance(expansion, dict):
            return None
        by_system: dict[str, dict[str, Concept]] = {}
        todo = list(reversed(dicts(expansion.get("contains"))))
        count = 0
        while todo:
            item = todo.pop()
            todo.extend(reversed(dicts(item.get("contains"))))
            system, code = text(item.get("system")), text(item.get("code"))
            if system is None or code is None:
                continue  # a grouping entry, not a code
            url = split_canonical(system)[0]
            cs = self._code_system(url, None)
            key = code if cs is None or cs.case_sensitive else code.lower()
            by_system.setdefault(url, {})[key] = Concept(
                url, code, text(item.get("display")), text(item.get("version")),
                item.get("abstract") is True, item.get("inactive") is True)
            count += 1
        total, offset = expansion.get("total"), expansion.get("offset")
        if (isinstance(offset, int) and offset > 0) or (isinstance(total, int) and total > count):
            return None
        if not by_system and "contains" not in expansion:
            return None
        return CodeSet({s: exact_part(entries, self._sensitive(s))
                        for s, entries in by_system.items()})

    def _sensitive(self, system: str) -> bool:
        cs = self._code_system(system, None)
        return cs is None or cs.case_sensitive

    def _code_system(self, system: str, version: str | None) -> CodeSystemIndex | None:
        self._sync()
        key = (system, version)
        if key not in self._systems:
            url, pinned = split_canonical(system)
            resource = self._find_code_system(url, version or pinned)
            self._systems[key] = None if resource is None else index_code_system(url, resource)
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
        versioned = registry.core.versioned(url)
        return registry.core.load(versioned[-1]) if versioned else None
