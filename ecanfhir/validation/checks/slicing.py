"""Slicing: which slice each repeating value belongs to, and the per-slice rules.

R4 §2.27.0.2 (http://hl7.org/fhir/R4/profiling.html#slicing): the discriminators of
``ElementDefinition.slicing`` decide membership — ``value``/``pattern`` (the value at the path
equals the slice's fixed value or matches its pattern), ``type`` (the value's type), ``profile``
(the value conforms to the slice's profile) and ``exists`` (the path is present or absent).
Paths may use ``extension('url')``, ``resolve()``, ``ofType(T)`` and ``$this``. Then: per-slice
cardinality, ``closed`` slicing allows no other values, ``openAtEnd`` puts them last, and
``ordered`` slices come in their order.

Each discriminator gives a verdict for a value and a slice; the slice gets the value when no
verdict is False and one is True:

==========  ==========================================================================
True        the value has what the slice fixes (a value fixed below the path, inside the
            slice's own slices, counts: core ``bp``), its type, or conforms to its profile
False       it does not
None        the slice does not constrain this discriminator: it says nothing
Unknown     it cannot be decided here (a required value set that cannot be evaluated
            offline, a reference that does not resolve): not a match, a warning says what
            was not checked, and a missing slice or a closed slicing it might satisfy is a
            warning rather than an error
==========  ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from ..._frozen import frozen
from ...definitions.compiled import ElementNode, TypeRef
from .._issue import Issue
from .pattern import matches_pattern, same_value

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["SliceAssignment", "SliceMatcher", "Unknown", "assign_slices", "check_slices"]

TOKEN = re.compile(r"extension\('([^']*)'\)|extension\(\"([^\"]*)\"\)|resolve\(\)"
                   r"|ofType\(([A-Za-z]+)\)|\$this|[A-Za-z_][A-Za-z0-9_]*")
# (value, profile, type) -> (conforms?, what could not be checked on the way)
Conforms = Callable[[Any, str, str | None], tuple[bool, tuple[str, ...]]]
Resolve = Callable[[str], Mapping[str, Any] | None]
CORE = "http://hl7.org/fhir/StructureDefinition/"


@cache
def _tokens(path: str) -> tuple[str, ...]:
    """The steps of a discriminator path (a profile has few distinct ones: read each once)."""
    return tuple(m.group(0) for m in TOKEN.finditer(path))


@frozen
class Typed:
    value: Any
    type: str | None


@frozen
class Unknown:
    """A discriminator that could not be evaluated here (a value set that cannot be expanded
    offline, a reference that does not resolve): not a match, and reported as unchecked."""

    reason: str


Verdict = bool | Unknown | None


def _type_of(value: Typed) -> str | None:
    """The value's type; for a resource where the element says ``Resource``, its resourceType
    (``Bundle.entry.resource`` sliced by type)."""
    found = value.value.get("resourceType") if isinstance(value.value, Mapping) else None
    if isinstance(found, str) and value.type in (None, "Resource", "DomainResource"):
        return found
    return value.type


def _navigate(items: list[Typed], token: str, resolve: Resolve) -> list[Typed]:
    out: list[Typed] = []
    for item in items:
        value = item.value
        if token == "$this":
            out.append(item)
        elif token == "resolve()":
            ref = value.get("reference") if isinstance(value, Mapping) else None
            target = resolve(ref) if isinstance(ref, str) else None
            if target is not None:
                out.append(Typed(target, str(target.get("resourceType"))))
        elif token.startswith("ofType("):
            wanted = token[7:-1]
            actual = item.type or (value.get("resourceType") if isinstance(value, Mapping)
                                   else None)
            if actual == wanted:
                out.append(item)
        elif token.startswith("extension("):
            url = token[11:-2]
            for ext in _extensions(value):
                if isinstance(ext, dict) and ext.get("url") == url:
                    out.append(Typed(ext, "Extension"))
        elif isinstance(value, dict):
            out.extend(_child(value, token))
    return out


def _extensions(value: Any) -> list[Any]:
    """``value.extension`` when it is an array; the walker reports any other shape
    (``"extension": 1``), so slicing then just finds no extension."""
    found = value.get("extension") if isinstance(value, dict) else None
    return found if isinstance(found, list) else []


def _child(value: Mapping[str, Any], name: str) -> list[Typed]:
    if name in value:
        found = value[name]
        return [Typed(v, None) for v in (found if isinstance(found, list) else [found])]
    for key, found in value.items():  # a choice element: value → valueQuantity
        if key.startswith(name) and key[len(name):][:1].isupper():
            kind = key[len(name):]
            kind = kind if kind[0].isupper() and kind not in _LOWER else _LOWER[kind]
            return [Typed(v, kind) for v in (found if isinstance(found, list) else [found])]
    return []


_LOWER = {k[0].upper() + k[1:]: k for k in (
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary",
    "instant", "date", "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt",
    "positiveInt", "uuid")}


class SliceMatcher:
    """Finds the definition a discriminator path leads to inside a slice, and matches values."""

    def __init__(self, run: Run, resolve: Resolve, conforms: Conforms) -> None:
        self.run = run
        self.resolve = resolve
        self.conforms = conforms

    def _children(self, node: ElementNode) -> Mapping[str, ElementNode]:
        if node.children:
            return node.children
        if len(node.types) == 1 and node.types[0].profiles:
            profile = self.run.schema.find(node.types[0].profiles[0])
            if profile is not None:
                return profile.root.children
        return self.run.schema.children(node)

    def definition_at(self, node: ElementNode, path: str) -> ElementNode | None:
        current: ElementNode | None = node
        for token in _tokens(path):
            if current is None:
                return None
            if token == "$this" or token.startswith("ofType("):
                continue
            if token == "resolve()":
                targets = [p for t in current.types for p in t.target_profiles]
                profile = self.run.schema.find(targets[0]) if targets else None
                current = profile.root if profile is not None else None
            elif token.startswith("extension("):
                current = self._extension_slice(current, token[11:-2])
            else:
                current = self._children(current).get(token)
        return current

    def _extension_slice(self, node: ElementNode, url: str) -> ElementNode | None:
        sliced = self._children(node).get("extension")
        if sliced is None:
            return None
        for candidate in sliced.slices:
            if any(url in t.profiles for t in candidate.types):
                return candidate
            url_node = candidate.children.get("url")
            if url_node is not None and url_node.fixed and url_node.fixed[1] == url:
                return candidate
        return None

    def matches(self, sliced: ElementNode, slice_node: ElementNode, item: Any,
                item_type: str | None) -> Verdict:
        """True/False; None when no discriminator tells this slice apart; Unknown when one
        could not be evaluated here (not a match, but said so)."""
        slicing = sliced.slicing
        if slicing is None or not slicing.discriminators:
            return None
        decided = False
        unknown: Unknown | None = None
        for kind, path in slicing.discriminators:
            values = [Typed(item, item_type)]
            for token in _tokens(path):
                values = _navigate(values, token, self.resolve)
            verdict = self._match_one(kind, path, slice_node, values, Typed(item, item_type))
            if verdict is False:
                return False
            if isinstance(verdict, Unknown):
                unknown = unknown or verdict
            # A slice that does not constrain one of the discriminators is not told apart by
            # it: that discriminator says nothing (the HL7 validator does the same).
            decided = decided or verdict is True
        if unknown is not None:
            return unknown
        return True if decided else None

    def _match_one(self, kind: str, path: str, slice_node: ElementNode,
                   values: list[Typed], item: Typed) -> Verdict:
        tokens = _tokens(path)
        if tokens and tokens[-1] == "resolve()" and kind in ("type", "profile"):
            return self._match_target(kind, tokens[:-1], slice_node, values, item)
        definition = self.definition_at(slice_node, path)
        if kind in ("value", "pattern"):
            expected = self._expected_value(slice_node, definition, path)
            if expected is None and (typed := _type_slice_value(definition, kind, values)) \
                    is not None:
                return typed
            if expected is None:
                steps = [t for t in tokens if t != "$this"]  # $this is the identity step
                nested = self._nested_value_match(slice_node, steps, item.value)
                return nested if nested is not None else self._binding_match(definition, values)
            how, target = expected
            test = same_value if how == "fixed" and kind == "value" else matches_pattern
            return any(test(v.value, target) for v in values)
        if definition is None:
            return None
        if kind == "exists":
            if definition.min > 0:
                return bool(values)
            if definition.max == 0:
                return not values
            return None
        if kind == "type":
            allowed = set(definition.type_codes())
            return any(_type_of(v) in allowed for v in values)
        if kind == "profile":
            profiles = [p for t in definition.types for p in (t.profiles or t.target_profiles)]
            return self._conforms_to_any(values, profiles) if profiles else None
        return None

    def _match_target(self, kind: str, tokens: Sequence[str], slice_node: ElementNode,
                      targets: list[Typed], item: Typed) -> Verdict:
        """A ``type`` or ``profile`` discriminator through ``resolve()``: the slice's Reference
        names the target in its targetProfile (R4 §5.1.0.10: "profile" checks the type's
        profile or targetProfile). A reference that does not resolve cannot be told apart."""
        definition = self.definition_at(slice_node, ".".join(tokens) or "$this")
        profiles = [p for t in definition.types for p in t.target_profiles] \
            if definition is not None else []
        if not profiles:
            return None
        references = [item]
        for token in tokens:
            references = _navigate(references, token, self.resolve)
        if not targets:
            if not references:
                return False
            shown = [str(r.value.get("reference")) for r in references
                     if isinstance(r.value, Mapping) and r.value.get("reference")]
            what = f"the reference {shown[0]}" if shown else "a reference without a literal URL"
            return Unknown(f"{what} could not be resolved, so its target could not be checked "
                           f"against {' or '.join(profiles)}")
        if kind == "profile":
            return self._conforms_to_any(targets, profiles)
        allowed = {found.type if (found := self.run.schema.find(p)) is not None
                   else p.removeprefix(CORE) for p in profiles}
        return any(_type_of(v) in allowed for v in targets)

    def _conforms_to_any(self, values: list[Typed], profiles: Sequence[str]) -> Verdict:
        doubts: list[str] = []
        for value in values:
            for profile in profiles:
                if self.run.schema.find(profile) is None:
                    doubts.append(f"the profile {profile} is not loaded or not usable, so "
                                  "conformance to it could not be checked")
                    continue
                ok, unchecked = self.conforms(value.value, profile, value.type)
                if ok and not unchecked:
                    return True
                if ok:
                    doubts.append(f"its conformance to {profile} could not be fully checked: "
                                  f"{'; '.join(unchecked)}")
        return Unknown(doubts[0]) if doubts else False

    # -- value discriminators through nested slices ----------------------------------------
    # A slice may fix its discriminating value below the path, inside slices of its own: core
    # ``bp`` slices component by ``code.coding.code`` and fixes the code only in
    # ``component:SystolicBP.code.coding:SBPCode``. The value then matches when it meets those
    # fixed/pattern values the way HL7's validator tests them, as a FHIRPath
    # ``code.coding.where(system = 'http://loinc.org' and code = '8480-6').exists()``: some value
    # of each constrained child meets the child's definition and each of its required slices.

    def _nested_value_match(self, node: ElementNode, tokens: Sequence[str],
                            value: Any) -> bool | None:
        """Does ``value`` (at ``node``) meet the fixed/pattern values along ``tokens`` (the path's
        steps but ``$this``) and below? None: nothing there fixes a value, or the path is not a
        plain one."""
        if not tokens or node.fixed is not None or node.pattern is not None:
            # A fixed value or pattern on a step of the path fixes what lies below it too: a
            # slice that sets component.code to a pattern CodeableConcept is told by its
            # code.coding.code, and the value meets it as a whole, as the HL7 validator
            # tests it (code.coding.where(system = ... and code = ...).exists()).
            return self._meets_fixed(node, value)
        token, rest = tokens[0], tokens[1:]
        child = self._children(node).get(token)  # None for extension(), resolve(), ofType()
        if child is None:
            return None
        found = [t.value for t in _child(value, token)] if isinstance(value, Mapping) else []
        return _all_of(self._some_value(d, rest, found) for d in _required(child))

    def _meets_fixed(self, node: ElementNode, value: Any) -> bool | None:
        if node.fixed is not None:
            return same_value(value, node.fixed[1])
        if node.pattern is not None:
            return matches_pattern(value, node.pattern[1])
        if not node.children or not isinstance(value, Mapping):
            return None
        return _all_of(self._some_value(d, (), [t.value for t in _child(value, name)])
                       for name, child in node.children.items() for d in _required(child))

    def _some_value(self, node: ElementNode, tokens: Sequence[str],
                    values: Sequence[Any]) -> bool | None:
        if not values:
            return False if _fixes(node, tokens) else None
        verdicts = [self._nested_value_match(node, tokens, v) for v in values]
        if True in verdicts:
            return True
        return False if all(v is False for v in verdicts) else None

    def _expected_value(self, slice_node: ElementNode, definition: ElementNode | None,
                        path: str) -> tuple[str, Any] | None:
        if definition is not None and definition.fixed is not None:
            return "fixed", definition.fixed[1]
        if definition is not None and definition.pattern is not None:
            return "pattern", definition.pattern[1]
        profiles = [p for t in slice_node.types for p in t.profiles]
        if path == "url" and profiles:
            # An extension slice by url: the url is its type profile's canonical (R4 §2.17).
            return "fixed", profiles[0]
        return None

    def _binding_match(self, definition: ElementNode | None, values: list[Typed]) -> Verdict:
        binding = definition.binding if definition is not None else None
        if binding is None or binding.strength != "required" or not binding.value_set:
            return None
        verdicts = []
        for v in values:
            for coding in _codings(v.value):
                check = self.run.terminology.check_code(binding.value_set,
                                                        system=coding.get("system"),
                                                        code=str(coding.get("code")))
                verdicts.append((coding, check.outcome))
        outcomes = {outcome for _, outcome in verdicts}
        if "member" in outcomes:
            return True
        if "unknown" in outcomes:
            codes = ", ".join(f"{c.get('system', '')}#{c.get('code')}" for c, outcome in verdicts
                              if outcome == "unknown")
            return Unknown(f"the value set {binding.value_set} cannot be evaluated offline, so "
                           f"{codes} could not be checked against it")
        return False if verdicts else None


def _type_slice_value(definition: ElementNode | None, kind: str,
                      values: list[Typed]) -> bool | None:
    """A value fixed on a type slice of the choice the path ends at (``value[x]:valueCode``
    fixed to ``Single``, as snapshots write a renamed choice): the values of that type must
    have it. None when no type slice fixes a value."""
    fixing = [s for s in (definition.slices if definition is not None else ())
              if s.fixed is not None or s.pattern is not None]
    if not fixing:
        return None
    for slice_ in fixing:
        codes = set(slice_.type_codes())
        fixed = slice_.fixed is not None
        target = slice_.fixed[1] if slice_.fixed is not None else \
            slice_.pattern[1] if slice_.pattern is not None else None
        test = same_value if fixed and kind == "value" else matches_pattern
        if any(v.type in codes and test(v.value, target) for v in values):
            return True
    return False


def _required(node: ElementNode) -> tuple[ElementNode, ...]:
    """An element's definition and those of its slices every instance must fill (min > 0)."""
    return (node, *(s for s in node.slices if s.min > 0))


def _all_of(verdicts: Iterable[bool | None]) -> bool | None:
    """False if any is False, else True if any is True, else None (nothing decided)."""
    decided = None
    for verdict in verdicts:
        if verdict is False:
            return False
        decided = decided or verdict
    return decided


def _fixes(node: ElementNode, tokens: Sequence[str]) -> bool:
    """Whether a fixed or pattern value sits along ``tokens`` (inline children only) or below."""
    if not tokens:
        return node.fixed is not None or node.pattern is not None or any(
            _fixes(d, ()) for child in node.children.values() for d in _required(child))
    child = node.children.get(tokens[0])
    return child is not None and any(_fixes(d, tokens[1:]) for d in _required(child))


def _codings(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, str):
        return [{"code": value}]
    if isinstance(value, Mapping):
        if "coding" in value and isinstance(value["coding"], list):
            return [c for c in value["coding"] if isinstance(c, Mapping) and "code" in c]
        if "code" in value:
            return [value]
    return []


@frozen
class SliceAssignment:
    """Which slice each value of a sliced element belongs to."""

    chosen: list[ElementNode | None]  # per value: its slice, None for none
    undecided: list[tuple[ElementNode, ...]]  # per value: slices it may belong to, unchecked
    issues: list[Issue]


def assign_slices(matcher: SliceMatcher, element: ElementNode,
                  items: Sequence[tuple[str, Any, TypeRef | None]]) -> SliceAssignment:
    """The slice of each item, and issues for ambiguous or unchecked matches.

    A slice the matcher cannot decide for a value (Unknown) does not get the value; a warning
    says what could not be checked.
    """
    issues: list[Issue] = []
    chosen: list[ElementNode | None] = []
    undecided: list[tuple[ElementNode, ...]] = []
    for at, value, type_ref in items:
        hits = []
        doubts: list[tuple[ElementNode, str]] = []
        for slice_node in _top_slices(element):
            verdict = matcher.matches(element, slice_node, value,
                                      type_ref.code if type_ref else None)
            if verdict is True:
                hits.append(_reslice_of(matcher, element, slice_node, value, type_ref))
            elif isinstance(verdict, Unknown):
                doubts.append((slice_node, verdict.reason))
        if len(hits) > 1:
            names = ", ".join(str(h.slice_name) for h in hits)
            issues.append(Issue.error("structure", at, f"this value matches more than one slice "
                                      f"of {element.path} ({names})", "slice-ambiguous"))
        for slice_node, reason in doubts:
            issues.append(Issue.warning("not-supported", at, f"this value was not counted in "
                                        f"slice '{slice_node.slice_name}' of {element.path}: "
                                        f"{reason}", "slice-unchecked"))
        if not hits and not doubts and matcher.run.options.advice:
            issues.extend(_unmatched_hint(element, at))
        chosen.append(hits[0] if hits else None)
        undecided.append(tuple(node for node, _ in doubts))
    return SliceAssignment(chosen, undecided, issues)


def _unmatched_hint(element: ElementNode, at: str) -> Iterator[Issue]:
    """A value in none of the slices of an open slicing: allowed, but worth a look (the HL7
    validator's hint "This element does not match any known slice ... (this may not be a
    problem, but you should check that it's not intended to match a slice)", with "Does not
    match slice 'x'" for each slice), given with the ``advice`` option. Not for extensions,
    which are sliced by url and are expected to include others; a closed slicing reports the
    value as an error instead."""
    slicing = element.slicing
    if slicing is None or slicing.rules == "closed" or element.name in _EXTENSIONS:
        return
    source = f" defined in the profile {element.structure.url}" \
        if element.structure is not None else ""
    names = ", ".join(f"'{s.slice_name}'" for s in _top_slices(element))
    yield Issue.information("informational", at, f"this value does not match any known slice "
                            f"of {element.path}{source} (this may not be a problem, but check "
                            f"that it is not meant to match one): it does not match slice "
                            f"{names}", "slice-unmatched")


_EXTENSIONS = frozenset({"extension", "modifierExtension"})


def _parent_slice(element: ElementNode, slice_node: ElementNode) -> ElementNode | None:
    """The slice ``a`` that a re-slice ``a/b`` re-slices, when the element has it."""
    parent = str(slice_node.slice_name or "").rpartition("/")[0]
    return next((s for s in element.slices if s.slice_name == parent), None) if parent else None


def _top_slices(element: ElementNode) -> list[ElementNode]:
    return [s for s in element.slices if _parent_slice(element, s) is None]


def _in_slice(element: ElementNode, chosen: ElementNode | None, slice_node: ElementNode) -> bool:
    """Whether a value given to ``chosen`` (a slice or a re-slice of one) is in ``slice_node``:
    a re-slice's values are values of the slice it re-slices (R4 profiling.html §5.1.0.11)."""
    while chosen is not None:
        if chosen is slice_node:
            return True
        chosen = _parent_slice(element, chosen)
    return False


def _reslice_of(matcher: SliceMatcher, element: ElementNode, slice_node: ElementNode,
                value: Any, type_ref: TypeRef | None) -> ElementNode:
    """The deepest re-slice of ``slice_node`` the value matches (by the slice's own slicing,
    else the element's discriminators), else ``slice_node`` itself."""
    owner = slice_node if slice_node.slicing is not None else element
    for reslice in element.slices:
        if _parent_slice(element, reslice) is slice_node and matcher.matches(
                owner, reslice, value, type_ref.code if type_ref else None) is True:
            return _reslice_of(matcher, element, reslice, value, type_ref)
    return slice_node


def _closed_reslicing(element: ElementNode, chosen: Sequence[ElementNode | None],
                      locations: Sequence[str], source: str) -> Iterator[Issue]:
    """A slice re-sliced with closed rules takes only values of its re-slices."""
    for where, node in zip(locations, chosen, strict=False):
        if node is not None and node.slicing is not None and node.slicing.rules == "closed" \
                and any(_parent_slice(element, s) is node for s in element.slices):
            yield Issue.error("structure", where, f"this value of slice '{node.slice_name}' "
                              f"matches none of its re-slices, and its slicing is closed"
                              f"{source}", "slice-closed")


def check_slices(element: ElementNode, chosen: Sequence[ElementNode | None],
                 locations: Sequence[str], at: str, *,
                 undecided: Sequence[tuple[ElementNode, ...]] = ()) -> Iterator[Issue]:
    """Per-slice cardinality, closed/openAtEnd rules and order.

    Values whose slice could not be decided (``undecided``) make a missing slice a warning
    when they could fill it, and are no error under closed slicing: what could not be checked
    is not reported as wrong.
    """
    slicing = element.slicing
    source = f" (from {element.structure.url})" if element.structure is not None else ""
    for slice_node in element.slices:
        n = sum(1 for c in chosen if _in_slice(element, c, slice_node))
        if n < slice_node.min:
            maybe = sum(1 for c, u in zip(chosen, undecided, strict=False)
                        if c is None and slice_node in u)
            message = (f"slice '{slice_node.slice_name}' of {element.path}: minimum required = "
                       f"{slice_node.min}, but only found {n}{source}")
            if n + maybe >= slice_node.min:
                yield Issue.warning("required", at, f"{message}; {maybe} value(s) could not be "
                                    "checked against it", "slice-cardinality")
            else:
                yield Issue.error("required", at, message, "slice-cardinality")
        if slice_node.max is not None and n > slice_node.max:
            yield Issue.error("structure", at, f"slice '{slice_node.slice_name}' of "
                              f"{element.path}: maximum allowed = {slice_node.max}, but found "
                              f"{n}{source}", "slice-cardinality")
    yield from _closed_reslicing(element, chosen, locations, source)
    if slicing is None:
        return
    order = {id(s): i for i, s in enumerate(element.slices)}
    last_index = -1
    seen_unsliced = False
    unsure = [bool(u) for u in undecided] or [False] * len(chosen)
    for where, chosen_node, doubt in zip(locations, chosen, unsure, strict=True):
        if chosen_node is None:
            if slicing.rules == "closed" and not doubt:
                yield Issue.error("structure", where, f"this value does not match any slice of "
                                  f"{element.path}, and the slicing is closed{source}",
                                  "slice-closed")
            seen_unsliced = True
            continue
        slice_node = chosen_node
        if slicing.rules == "openAtEnd" and seen_unsliced:
            yield Issue.error("structure", where, f"slice '{slice_node.slice_name}' comes after "
                              f"values that match no slice; {element.path} is open at the end "
                              f"only{source}", "slice-open-at-end")
        index = order[id(slice_node)]
        if slicing.ordered and index < last_index:
            yield Issue.error("structure", where, f"slice '{slice_node.slice_name}' is out of "
                              f"order: {element.path} slices are ordered{source}", "slice-order")
        last_index = max(last_index, index)
