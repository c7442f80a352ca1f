"""Python equivalents of the R4 core invariants found on the most elements.

``ele-1`` is on every element of every resource and ``ext-1`` on every extension; through
fhirpathpy they would dominate validation time. One more runs on every message: the rule that
each literal reference of a message resolves to one of its entries (the pilot's ``ecan-msg-3``,
MedCom's messaging rule), which walks every descendant of the message.

Each function here computes what fhirpathpy computes for the exact expression text it is keyed
by (a profile that rewrites an expression gets the interpreter), with two deliberate
differences: a primitive's value and its
``_x`` object are one element (fhirpathpy sees two nodes, so ``reference.startsWith('#')``
fails on a reference that has an extension), and where fhirpathpy would raise on malformed
data (a list where a string belongs) the native still answers, mostly True, and leaves the
error to the structural checks. ``tests/unit/test_invariants_native.py`` holds both to agreement.

Each function takes the focus (the caller's convention, see :class:`Primitive`) and the
:class:`EvalEnv`, and assumes the focus has the type the core declares the constraint on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from ..terminology.comparison import compare
from .fast_operators import same_precision
from .html_checks import html_checks
from .model import (
    R4_MODEL,
    EvalEnv,
    Primitive,
    child_path,
    choice,
    choice_names,
    halves,
    is_primitive_value,
    is_subtype,
    member,
    navigate,
)

__all__ = ["NATIVE_INVARIANTS"]

_EXTENSION_VALUE = tuple(R4_MODEL["choiceTypePaths"]["Extension.value"])
_OBSERVATION_VALUE = tuple(R4_MODEL["choiceTypePaths"]["Observation.value"])
_EXTENSION_VALUE_NAMES = choice_names("value", _EXTENSION_VALUE)  # (as choice() reads them)


def _value(focus: Any) -> Any:
    """A primitive focus's value (None when it has only an ``_x`` object)."""
    return focus.value if isinstance(focus, Primitive) else focus


def ele_1(focus: Any, env: EvalEnv) -> bool:
    """``hasValue() or (children().count() > id.count())``: a value, or a child besides id."""
    if is_primitive_value(_value(focus)):
        return True
    items = halves(focus)
    ids = len(navigate(items, "id"))
    children = 0
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for key, value in item.items():
            if key == "resourceType":  # JSON's type marker, not an element
                continue
            if isinstance(value, list):
                children += sum(1 for child in value if child is not None)
            elif value is not None:
                children += 1
            if children > ids:
                return True
    return False


def ext_1(focus: Any, env: EvalEnv) -> bool:
    """``extension.exists() != value.exists()``: an extension has a value or extensions."""
    if type(focus) is dict:
        # What choice() and navigate() below find in one object, without their lists: the
        # value is that of the first type (in the model's order) with a non-null property.
        first = None
        for name, value in focus.items():
            rank = _EXTENSION_VALUE_NAMES.get(name)
            if rank is not None and value is not None and (first is None or rank < first):
                first = rank
        if first is None:
            has_value = False
        else:
            name = "value" + _EXTENSION_VALUE[first]
            has_value = _some(focus.get(name)) or _some(focus.get("_" + name))
        return (_some(focus.get("extension")) or _some(focus.get("_extension"))) != has_value
    items = halves(focus)
    has_value = any(choice(item, "value", _EXTENSION_VALUE) for item in items)
    return bool(navigate(items, "extension")) != has_value


def _empty(*keys: str) -> Callable[[Any, EvalEnv], bool]:
    def check(focus: Any, env: EvalEnv) -> bool:
        return not navigate(halves(focus), *keys)
    return check


def _exists(*paths: tuple[str, ...]) -> Callable[[Any, EvalEnv], bool]:
    keys = [(path[0], "_" + path[0]) for path in paths] \
        if all(len(path) == 1 for path in paths) else None
    # dom-6's one path of two steps (text.`div`): through an object that has no `_x` companion
    two = (paths[0][0], "_" + paths[0][0], paths[0][1], "_" + paths[0][1]) \
        if len(paths) == 1 and len(paths[0]) == 2 else None

    def check(focus: Any, env: EvalEnv) -> bool:
        if keys is not None and type(focus) is dict:
            # one step from a JSON object: member() finds something when the key or its `_x`
            # holds anything but null or an empty array
            return any(_some(focus.get(key)) or _some(focus.get(companion))
                       for key, companion in keys)
        if two is not None and type(focus) is dict and focus.get(two[1]) is None:
            middle = focus.get(two[0])
            if middle is None:
                return False
            if type(middle) is dict:
                return _some(middle.get(two[2])) or _some(middle.get(two[3]))
        items = halves(focus)
        return any(navigate(items, *path) for path in paths)
    return check


def _some(value: Any) -> bool:
    return value is not None and value != []


def dom_4(focus: Any, env: EvalEnv) -> bool:
    meta = navigate(halves(focus), "contained", "meta")
    return not navigate(meta, "versionId") and not navigate(meta, "lastUpdated")


def _descendants(data: Any, path: str | None) -> Iterator[tuple[Any, str | None]]:
    """``descendants()`` as fhirpathpy walks it: every property, ``_x`` and nulls included."""
    stack = [(data, path)]
    while stack:
        parent, parent_path = stack.pop()
        if not isinstance(parent, Mapping):
            continue
        if isinstance(parent.get("resourceType"), str):
            parent_path = parent["resourceType"]
        for key, value in parent.items():
            key_path = child_path(parent_path, key) if parent_path is not None else ""
            if key == "extension":
                key_path = "Extension"
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping) and isinstance(item.get("resourceType"), str):
                    yield item, item["resourceType"]
                else:
                    yield item, key_path
                stack.append((item, key_path))


def _references(data: Any) -> set[str]:
    """The ``reference`` strings of every descendant of ``data``, as :func:`_descendants`
    visits them (lists nested in lists are not entered). Strings, numbers, Booleans and nulls,
    most of the values, are passed over at once."""
    found: set[str] = set()
    stack = [data]
    pop, push = stack.pop, stack.append
    while stack:
        for value in pop().values():
            kind = type(value)
            if kind in _LEAVES:
                continue
            for item in value if kind is list else (value,):
                if type(item) is dict or (type(item) not in _LEAVES
                                          and isinstance(item, Mapping)):
                    reference = item.get("reference")
                    if reference is not None:
                        for ref in reference if isinstance(reference, list) else (reference,):
                            if isinstance(ref, str):
                                found.add(ref)
                    push(item)
    return found


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _dom_3(uri_type: str, require_id: bool) -> Callable[[Any, EvalEnv], bool]:
    """dom-3: each contained resource is referenced from the container, or refers to it."""

    def check(focus: Any, env: EvalEnv) -> bool:
        contained = navigate(halves(focus), "contained")
        if not contained:
            return True
        # Usually each contained resource is the target of a Reference: that settles it
        # without the typed walk below (these references are a subset of its targets).
        references = _references(env.resource)
        if all(isinstance(resource, Mapping) and isinstance(resource.get("id"), str)
               and "#" + resource["id"] in references for resource in contained):
            return True
        targets: set[str] = set()
        for item, path in _descendants(env.resource, env.resource.get("resourceType")):
            targets.update(ref for ref in member(item, "reference") if isinstance(ref, str))
            if isinstance(item, str) and is_subtype(path, "uri"):
                targets.add(item)
        for resource in contained:
            if not isinstance(resource, Mapping):
                resource = {}
            resource_id = resource.get("id")
            if isinstance(resource_id, str):
                if "#" + resource_id in targets:
                    continue
            elif not require_id:
                continue  # '#'+id is empty, so is the where() criterion: not "unmatched"
            refers_back = any(
                member(item, "reference") == ["#"]
                or (item == "#" and is_subtype(path, uri_type))
                for item, path in _descendants(resource, resource.get("resourceType")))
            if not refers_back:
                return False
        return True

    return check


def ref_1(focus: Any, env: EvalEnv) -> bool:
    """``#id`` references point at a resource contained in ``%rootResource``."""
    if type(focus) is dict:
        ref = focus.get("reference")  # the usual one: a plain reference to elsewhere
        if type(ref) is str and ref[:1] != "#" and focus.get("_reference") is None:
            return True
    refs = [ref for ref in member(_value(focus), "reference") if isinstance(ref, str)]
    if len(refs) != 1 or not refs[0].startswith("#") or len(refs[0]) == 1:
        return True
    return refs[0][1:] in navigate(navigate([env.root_resource], "contained"), "id")


def txt(focus: Any, env: EvalEnv) -> bool:
    """``htmlChecks()`` on ``Narrative.div`` (txt-1 and txt-2 share the expression)."""
    div = _value(focus)
    return html_checks(div) if isinstance(div, str) else div is None


def _name_matches(focus: Any, env: EvalEnv) -> bool:
    names = [n for n in member(_value(focus), "name") if is_primitive_value(n)]
    if len(names) != 1 or not isinstance(names[0], str):
        return True
    return re.search(r"[A-Z]([A-Za-z0-9_]){0,254}", names[0], re.DOTALL) is not None


def obs_6(focus: Any, env: EvalEnv) -> bool:
    items = halves(focus)  # (the usual Observation has no dataAbsentReason: asked first)
    return not navigate(items, "dataAbsentReason") \
        or not any(choice(item, "value", _OBSERVATION_VALUE) for item in items)


def obs_7(focus: Any, env: EvalEnv) -> bool:
    items = halves(focus)  # (the usual Observation has no component: asked first)
    codes = navigate(items, "component", "code")
    if not codes or not any(choice(item, "value", _OBSERVATION_VALUE) for item in items):
        return True
    resource_codings = navigate([env.resource], "code", "coding")
    return not any(coding == other
                   for code in codes
                   for coding in member(code, "coding")
                   for other in resource_codings)


def vs_2(focus: Any, env: EvalEnv) -> bool:
    items = halves(focus)
    if navigate(items, "component") or navigate(items, "hasMember"):
        return True
    return bool(navigate(items, "dataAbsentReason")) or any(
        choice(item, "value", _OBSERVATION_VALUE) for item in items)


def vs_3(focus: Any, env: EvalEnv) -> bool:
    items = halves(focus)
    return any(choice(item, "value", _OBSERVATION_VALUE) for item in items) or bool(
        navigate(items, "dataAbsentReason"))


def vs_1(focus: Any, env: EvalEnv) -> bool:
    """``($this as dateTime).toString().length() >= 8``: a dateTime to the day at least."""
    value = _value(focus)
    return len(value) >= 8 if isinstance(value, str) else True


def qty_3(focus: Any, env: EvalEnv) -> bool:
    items = halves(focus)
    return not navigate(items, "code") or bool(navigate(items, "system"))


def rng_2(focus: Any, env: EvalEnv) -> bool:
    """rng-2 ``low.empty() or high.empty() or (low <= high)``.

    A deliberate difference: fhirpathpy cannot compare two Quantities from JSON and raises on
    every Range with both ends; FHIRPath compares them in the same unit, or after UCUM
    conversion, and gives empty (so the invariant holds) when the units are not comparable
    (http://hl7.org/fhirpath/N1/#comparison and #quantity-equality).
    """
    low, high = (focus.get(k) if isinstance(focus, Mapping) else None for k in ("low", "high"))
    if not isinstance(low, Mapping) or not isinstance(high, Mapping):
        return True
    order = compare("Quantity", low, "Quantity", high)
    return order is None or order <= 0


_DOM_3_R4 = (
    "contained.where((('#'+id in (%resource.descendants().reference | "
    "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
    "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()"
)

# ecan-msg-3 (profiles/StructureDefinition/ecan-message.json and ecan-acknowledgement.json).
_MESSAGE_REFERENCES = (
    "(entry.resource.where(($this is Provenance).not()).descendants() | "
    "entry.resource.ofType(Provenance).agent.who).select(reference).where(startsWith('#')"
    ".not()).all(iif($this in %resource.entry.fullUrl, true, $this in %resource.entry.fullUrl"
    ".select(replaceMatches('^.*/([A-Z][A-Za-z]+/[A-Za-z0-9.-]{1,64})$', '$1'))))"
)
_REST_ENDING = re.compile(r"^.*/([A-Z][A-Za-z]+/[A-Za-z0-9.-]{1,64})$")


def message_references(focus: Any, env: EvalEnv) -> bool:
    """Each literal reference in the message's entries (a Provenance: its ``agent.who`` only)
    is an entry's ``fullUrl``, or the ``Type/id`` ending of a RESTful one."""
    resources = [r for r in navigate(halves(focus), "entry") if isinstance(r, Mapping)]
    resources = [r for r in navigate(resources, "resource") if isinstance(r, Mapping)]
    references: set[str] = set()
    for resource in resources:
        if resource.get("resourceType") != "Provenance":
            references |= _references(resource)
            continue
        for who in navigate(navigate([resource], "agent"), "who"):
            references.update(r for r in member(who, "reference") if isinstance(r, str))
    references = {r for r in references if not r.startswith("#")}
    if not references:
        return True
    urls = [u for u in navigate(navigate([env.resource], "entry"), "fullUrl")
            if isinstance(u, str)]
    known = {*urls, *(_REST_ENDING.sub(r"\1", u) for u in urls)}
    return references <= known


# -- Bundle (bdl-3, bdl-4, bdl-5, bdl-7, bdl-8): checked on every Bundle and each entry ------
# These read only plain data (objects where objects belong, strings where strings do, no "_x"
# companions); on anything else they answer None and the expression is evaluated as written.
_BATCH_LIKE = frozenset({"batch", "transaction", "history"})
_RESPONSE_LIKE = frozenset({"batch-response", "transaction-response", "history"})


def _plain_type(bundle: Mapping[str, Any]) -> str | None:
    """Bundle.type, when it is a plain string (else None: not the plain shape)."""
    kind = bundle.get("type")
    return kind if isinstance(kind, str) and "_type" not in bundle else None


def _plain_entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    return entries


def _entries_match_type(part: str, types: frozenset[str]) -> Callable[[Any, EvalEnv], bool | None]:
    """bdl-3 / bdl-4: ``entry.all(request.exists() = (%resource.type = 'batch' or ...))``:
    entries have a ``request`` (a ``response``) exactly when the Bundle's type is one of
    ``types``."""

    def check(focus: Any, env: EvalEnv) -> bool | None:
        if not isinstance(focus, dict) or env.resource is not focus:
            return None
        kind, entries = _plain_type(focus), _plain_entries(focus)
        if kind is None or entries is None:
            return None
        wanted = kind in types
        for entry in entries:
            value = entry.get(part)
            if isinstance(value, list) or "_" + part in entry:
                return None
            if (value is not None) != wanted:
                return False
        return True

    return check


def bdl_7(focus: Any, env: EvalEnv) -> bool | None:
    """``(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl &
    resource.meta.versionId).isDistinct()``: no two entries share a fullUrl (and version)."""
    if not isinstance(focus, dict):
        return None
    kind, entries = _plain_type(focus), _plain_entries(focus)
    if kind is None or entries is None:
        return None
    if kind == "history":
        return True
    seen = set()
    for entry in entries:
        url = entry.get("fullUrl")
        if url is None and "_fullUrl" not in entry:
            continue
        resource = entry.get("resource", {})
        meta = resource.get("meta", {}) if isinstance(resource, dict) else None
        if not isinstance(url, str) or "_fullUrl" in entry or not isinstance(meta, dict) \
                or "_versionId" in meta:
            return None
        version = meta.get("versionId", "")
        if not isinstance(version, str):
            return None
        key = url + version  # FHIRPath &: the two strings joined, an empty one as ""
        if key in seen:
            return False
        seen.add(key)
    return True


def bdl_8(focus: Any, env: EvalEnv) -> bool | None:
    """``fullUrl.contains('/_history/').not()``: a fullUrl names no version."""
    if not isinstance(focus, dict) or "_fullUrl" in focus:
        return None
    url = focus.get("fullUrl")
    if url is None:
        return True
    return "/_history/" not in url if isinstance(url, str) else None


def per_1(focus: Any, env: EvalEnv) -> bool | None:
    """per-1 ``start.hasValue().not() or end.hasValue().not() or (start <= end)`` on two
    dateTimes written to the same precision and zone, which order as strings (as the fast path
    compares them); any other pair is evaluated as written."""
    if not isinstance(focus, dict) or "_start" in focus or "_end" in focus:
        return None
    start, end = focus.get("start"), focus.get("end")
    if start is None or end is None:
        return True
    if not isinstance(start, str) or not isinstance(end, str) or not same_precision(start, end):
        return None
    return start <= end


# gln-modulus-10 as the pilot's Organization profile states it on the Identifier (DK-core's rule,
# written otherwise there, on Identifier.value): a 13-digit GLN ends with its GS1 check digit,
# the weights 1 and 3 alternating over the first twelve digits.
_GLN_MODULUS_10 = (
    "value.matches('^[0-9]{13}$') implies ((10 - ((" + " + ".join(
        f"value.substring({i}, 1).toInteger() * {3 if i % 2 else 1}" for i in range(12))
    + ") mod 10)) mod 10) = value.substring(12, 1).toInteger()"
)
_THIRTEEN_DIGITS = re.compile("^[0-9]{13}$", re.DOTALL)  # searched, as fhirpathpy's matches()


def gln_modulus_10(focus: Any, env: EvalEnv) -> bool | None:
    """:data:`_GLN_MODULUS_10` on an Identifier: a value that is not 13 digits holds (the
    implication's premise is false, or empty without a value); anything but a plain string
    value is evaluated as written."""
    if type(focus) is not dict or focus.get("_value") is not None:
        return None
    value = focus.get("value")
    if value is None:
        return True
    if type(value) is not str:
        return None
    if _THIRTEEN_DIGITS.search(value) is None:
        return True
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(value[:12]))
    return (10 - total % 10) % 10 == int(value[12])


_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def con_3(focus: Any, env: EvalEnv) -> bool | None:
    """con-3 ``clinicalStatus.exists() or verificationStatus.coding.where(system='...'
    and code = 'entered-in-error').exists() or category.select($this='problem-list-item')
    .empty()``, as evaluated: ``$this`` is a CodeableConcept, never equal to a string, so the
    last part holds only for a Condition without a category."""
    if not isinstance(focus, dict):
        return None
    items = [focus]
    codings = navigate(items, "verificationStatus", "coding")
    categories = navigate(items, "category")
    if not all(isinstance(c, dict) and "_system" not in c and "_code" not in c
               and isinstance(c.get("system", ""), str) and isinstance(c.get("code", ""), str)
               for c in codings) or not all(isinstance(c, dict) for c in categories):
        return None
    return bool(navigate(items, "clinicalStatus")) or any(
        c.get("system") == _VERIFICATION and c.get("code") == "entered-in-error"
        for c in codings) or not categories


_DOM_3_LATER = (
    "contained.where(((id.exists() and ('#'+id in (%resource.descendants().reference | "
    "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
    "%resource.descendants().as(url)))) or descendants().where(reference = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists() or "
    "descendants().where(as(uri) = '#').exists()).not()).trace('unmatched', id).empty()"
)

NATIVE_INVARIANTS: Mapping[str, Callable[[Any, EvalEnv], bool | None]] = MappingProxyType({
    "hasValue() or (children().count() > id.count())": ele_1,  # ele-1
    "extension.exists() != value.exists()": ext_1,  # ext-1
    "contained.contained.empty()": _empty("contained", "contained"),  # dom-2
    _DOM_3_R4: _dom_3("canonical", require_id=False),  # dom-3
    _DOM_3_LATER: _dom_3("uri", require_id=True),  # dom-3 as SubscriptionStatus states it
    "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()": dom_4,
    "contained.meta.security.empty()": _empty("contained", "meta", "security"),  # dom-5
    "text.`div`.exists()": _exists(("text", "div")),  # dom-6
    "htmlChecks()": txt,  # txt-1, txt-2
    "reference.startsWith('#').not() or "
    "(reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": ref_1,
    "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')": _name_matches,  # cpb-0, sdf-0, vsd-0…
    "dataAbsentReason.empty() or value.empty()": obs_6,
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists())"
    ".empty()": obs_7,
    "low.exists() or high.exists() or text.exists()": _exists(("low",), ("high",), ("text",)),
    "low.empty() or high.empty() or (low <= high)": rng_2,
    "value.exists() or dataAbsentReason.exists()": vs_3,
    "code.empty() or system.exists()": qty_3,  # qty-3, vsd-10
    "(component.empty() and hasMember.empty()) implies "
    "(dataAbsentReason.exists() or value.exists())": vs_2,
    "($this as dateTime).toString().length() >= 8": vs_1,
    "comparator.empty()": _empty("comparator"),  # sqty-1
    "emptyReason.empty() or entry.empty()": lambda focus, env: (  # cmp-2, lst-1
        not navigate(halves(focus), "emptyReason") or not navigate(halves(focus), "entry")),
    _MESSAGE_REFERENCES: message_references,  # ecan-msg-3
    _GLN_MODULUS_10: gln_modulus_10,  # the pilot's gln-modulus-10
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' "
    "or %resource.type = 'history'))": _entries_match_type("request", _BATCH_LIKE),  # bdl-3
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
    "'transaction-response' or %resource.type = 'history'))": _entries_match_type(
        "response", _RESPONSE_LIKE),  # bdl-4
    "resource.exists() or request.exists() or response.exists()": _exists(
        ("resource",), ("request",), ("response",)),  # bdl-5
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
    ".isDistinct()": bdl_7,
    "fullUrl.contains('/_history/').not()": bdl_8,
    "start.hasValue().not() or end.hasValue().not() or (start <= end)": per_1,
    "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7"
    ".org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or "
    "category.select($this='problem-list-item').empty()": con_3,
})
