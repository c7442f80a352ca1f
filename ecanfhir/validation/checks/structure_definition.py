"""StructureDefinition resources checked as profiles: what their differential may say.

R4 profiling (http://hl7.org/fhir/R4/profiling.html, "Profiling Resources") lets a constraint
only restrict its base: its elements are the base's (by path, in the base's order), it may
narrow cardinalities, types and bindings, and add fixed and pattern values, but never contradict
one the base already fixes. An SD's own definition (StructureDefinition.sdf-*) checks little of
that; the HL7 Java validator (``StructureDefinitionValidator``) generates the snapshot of every
StructureDefinition it validates and reports what goes wrong. The same here, for each
StructureDefinition that is validated (not for those only loaded as definitions):

==============================================  ==============================================
problem                                          issue
==============================================  ==============================================
base not loaded                                  warning, and nothing else is checked
constraint on another type, or another kind      error at ``StructureDefinition``
differential the snapshot generator rejects      error at the differential element (unknown
                                                 path, loosened cardinality/type/binding, ...)
fixed[x] or pattern[x] against the base's         error at the differential element (e.g. an
fixed[x] or pattern[x]                           extension profile changing the fixed url)
slicing on the root element                      error at the differential element
binding on an element none of whose types can    error at the differential element
be bound
extension usable on any Element                  warning at the context
inherit-obligations naming a profile that is    error at that extension
not an obligation profile, or whose base
differs from this one's
==============================================  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..._exceptions import SnapshotMissing
from ...definitions.registry import Registry
from ...definitions.snapshot import ensure_snapshot, snapshot_issues
from .._issue import Issue
from .element_definition import check_element_definitions, fhirpath_problems, path_problem
from .element_type import check_element_types
from .json_values import array, dicts
from .slicing_definition import check_slicing_definitions

__all__ = ["check_structure_definition"]

_CHOICE_PREFIXES = ("fixed", "pattern")
_CORE = "http://hl7.org/fhir/StructureDefinition/"
# Abstract types of R5 that R4 extension definitions (HL7's extension pack) use as contexts.
_R5_ABSTRACT = frozenset({"Base", "DataType", "PrimitiveType", "BackboneType",
                          "CanonicalResource", "MetadataResource"})
_EXTENSION = _CORE + "Extension"
_INHERIT_OBLIGATIONS = _CORE + "inherit-obligations"
_OBLIGATION_PROFILE = _CORE + "obligation-profile"


def check_structure_definition(sd: Mapping[str, Any], at: str, *,
                               registry: Registry) -> Iterator[Issue]:
    """Check a StructureDefinition's differential against its base.

    >>> profile = {"resourceType": "StructureDefinition", "url": "http://example.org/p",
    ...     "name": "P", "status": "draft", "kind": "resource", "abstract": False,
    ...     "type": "Patient", "derivation": "constraint",
    ...     "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    ...     "differential": {"element": [{"id": "Patient.shoeSize", "path": "Patient.shoeSize"}]}}
    >>> [(i.code, i.expression) for i in check_structure_definition(
    ...     profile, "StructureDefinition", registry=Registry())]
    [('structure', 'StructureDefinition.differential.element[0]')]
    """
    yield from _check_context(sd, at, registry)
    yield from _check_context_elements(sd, at, registry)
    yield from _check_inherited_obligations(sd, at, registry)
    yield from check_element_types(sd, at, registry=registry)
    base_url = sd.get("baseDefinition")
    if not isinstance(base_url, str) or not base_url:
        return
    if "derivation" not in sd:
        yield Issue.error("required", at, f"the StructureDefinition has a baseDefinition "
                          f"({base_url}), so it must say its derivation", "sd-base")
    base = registry.structure_definition(base_url)
    if base is None or base_url == sd.get("url"):
        yield Issue.warning("not-found", at, f"the base {base_url} is not loaded, so the "
                            "differential was not checked against it", "sd-base")
        return
    if sd.get("derivation") == "specialization" and sd.get("type") == base.get("type"):
        # a specialization defines a new type (HL7 StructureDefinitionValidator:
        # SD_SPECIALIZED_TYPE_MATCHES)
        yield Issue.error("invalid", f"{at}.type", f"a specialization of {base_url} defines a "
                          f"new type, so its type cannot be '{sd.get('type')}' as well",
                          "sd-base")
    if sd.get("derivation") != "constraint":
        return
    if sd.get("type") != base.get("type"):
        yield Issue.error("invalid", f"{at}.type", f"a constraint on {base_url} must have its "
                          f"type '{base.get('type')}', not '{sd.get('type')}'", "sd-base")
        return
    if not base.get("abstract") and sd.get("kind") != base.get("kind"):
        yield Issue.error("invalid", f"{at}.kind", f"a constraint on {base_url} must have its "
                          f"kind '{base.get('kind')}', not '{sd.get('kind')}'", "sd-base")
    differential = _differential(sd)
    where = _locator(differential, at)
    try:
        problems = snapshot_issues(sd, registry)
        base_snapshot = _snapshot(ensure_snapshot(base, registry))
        own_snapshot = _snapshot(ensure_snapshot(sd, registry))
    except SnapshotMissing as exc:
        yield Issue.error("exception", at, f"the snapshot cannot be generated: {exc}",
                          "sd-snapshot")
        return
    # an illegal path is reported as such (element_definition), not as what it breaks
    illegal = {f"{at}.differential.element[{i}]" for i, e in enumerate(differential)
               if isinstance(e.get("path"), str) and path_problem(e["path"])}
    for problem in problems:
        if where(problem.expression) in illegal:
            continue
        yield Issue(problem.severity, problem.code, where(problem.expression),
                    f"the snapshot cannot be generated as the differential says: "
                    f"{problem.message}", "sd-snapshot")
    base_by_id = {str(e.get("id") or e.get("path")): e for e in base_snapshot}
    root = str(base.get("type") or "")
    for i, element in enumerate(differential):
        element_at = f"{at}.differential.element[{i}]"
        yield from _check_root_slicing(element, element_at, root=root)
        yield from _check_fixed(element, element_at, base_by_id, base_url=base_url)
        yield from _check_slicing_against_base(element, element_at, base_by_id)
        yield from _check_is_summary(element, element_at, base_by_id)
        yield from _check_target_profiles(element, element_at, base_by_id, registry)
    yield from _check_order(differential, at, base_snapshot)
    yield from check_slicing_definitions(differential, own_snapshot, at,
                                         base_snapshot=base_snapshot, registry=registry)
    yield from check_element_definitions(sd, at, registry=registry, base=base)
    yield from _check_extension_url(sd, at, base_url=base_url)


# -- the parts -------------------------------------------------------------------------------
def _check_inherited_obligations(sd: Mapping[str, Any], at: str,
                                 registry: Registry) -> Iterator[Issue]:
    """Extension inherit-obligations (FHIR extensions pack): the profile it names brings its
    obligations into this one, so it must be an obligation profile (extension
    obligation-profile = true) constraining the same base."""
    for i, ext in enumerate(array(sd.get("extension"))):
        if not isinstance(ext, Mapping) or ext.get("url") != _INHERIT_OBLIGATIONS:
            continue
        url, where = ext.get("valueCanonical"), f"{at}.extension[{i}]"
        other = registry.structure_definition(url) if isinstance(url, str) else None
        if other is None:
            yield Issue.warning("not-found", where, f"the obligation profile {url} is not "
                                "loaded, so what this profile inherits was not checked",
                                "sd-obligations")
        elif not any(isinstance(e, Mapping) and e.get("url") == _OBLIGATION_PROFILE
                     and e.get("valueBoolean") is True for e in array(other.get("extension"))):
            yield Issue.error("business-rule", where, f"the profile '{url}' is not marked as an "
                              "obligation profile (extension obligation-profile)",
                              "sd-obligations")
        elif other.get("baseDefinition") != sd.get("baseDefinition"):
            yield Issue.error("business-rule", where, f"the profile '{url}' has the base "
                              f"'{other.get('baseDefinition')}', not this profile's "
                              f"'{sd.get('baseDefinition')}'", "sd-obligations")


def _check_context(sd: Mapping[str, Any], at: str, registry: Registry) -> Iterator[Issue]:
    if sd.get("type") != "Extension":
        # Only extensions have a context (R4 sdf-5 says an extension needs one; the HL7
        # validator also forbids it elsewhere).
        for name in ("context", "contextInvariant"):
            given = sd.get(name)
            for i, _ in enumerate(given if isinstance(given, list) else []):
                yield Issue.error("invalid", f"{at}.{name}[{i}]", f"only an extension has a "
                                  f"{name}, not a {sd.get('type')}", "sd-context")
        return
    invariants = sd.get("contextInvariant")
    for i, invariant in enumerate(invariants if isinstance(invariants, list) else []):
        if isinstance(invariant, str) and invariant:
            yield from fhirpath_problems(invariant, f"{at}.contextInvariant[{i}]",
                                         what="the context invariant")
    for i, context in enumerate(dicts(sd.get("context"))):
        expression = context.get("expression")
        if context.get("type") == "fhirpath" and isinstance(expression, str) \
                and _element_exists(expression, registry) is True:
            yield Issue.warning("business-rule", f"{at}.context[{i}]", f"the context "
                                f"'{expression}' is an element: its type should be 'element', "
                                "not 'fhirpath'", "sd-context")
        if context.get("type") == "element" and context.get("expression") == "Element":
            yield Issue.warning("business-rule", f"{at}.context[{i}]", "the extension may be "
                                "used on any element (context 'Element'): make sure that is "
                                "intended", "sd-context")


def _check_context_elements(sd: Mapping[str, Any], at: str,
                            registry: Registry) -> Iterator[Issue]:
    """An element context names an element of R4 (HL7 validator:
    SD_CONTEXT_SHOULD_ELEMENT_NOT_FOUND); contexts for other FHIR versions are not judged."""
    if sd.get("type") != "Extension":
        return
    for i, context in enumerate(dicts(sd.get("context"))):
        expression = context.get("expression")
        if context.get("type") != "element" or not isinstance(expression, str) \
                or any("version-specific" in str(e.get("url"))
                       for e in dicts(context.get("extension"))):
            continue
        if _element_exists(expression, registry) is False:
            yield Issue.error("invalid", f"{at}.context[{i}]", f"the context '{expression}' "
                              "is not an element of FHIR R4", "sd-context")


def _element_exists(path: str, registry: Registry) -> bool | None:
    """Whether ``Type.child.grandchild`` names an element (None: cannot tell)."""
    if ":" in path or "#" in path or not path:
        return None
    parts = path.split(".")
    if parts[0] in _R5_ABSTRACT:
        return None
    definition = registry.structure_definition(_CORE + parts[0])
    if definition is None:
        return None if parts[0][:1].islower() or len(parts) > 1 else False
    prefix = parts[0]
    for depth, part in enumerate(parts[1:], start=1):
        elements = {e.get("path"): e for e in _snapshot(definition)}
        element = elements.get(f"{prefix}.{part}")
        if element is None and not part.endswith("[x]"):
            element = elements.get(f"{prefix}.{part}[x]")
            if element is None and any(
                    isinstance(p, str) and p.endswith("[x]") and part.startswith(
                        p[len(prefix) + 1:-3]) and part[len(p) - len(prefix) - 4:][:1].isupper()
                    for p in elements if isinstance(p, str) and p.startswith(prefix + ".")):
                return None  # a choice named by its type (valueQuantity): not judged
        if element is None:
            return False
        if depth == len(parts) - 1:
            return True
        reference = element.get("contentReference")
        if isinstance(reference, str) and reference.startswith("#"):
            prefix = reference[1:]
            continue
        codes = [t.get("code") for t in dicts(element.get("type"))]
        if codes in (["BackboneElement"], ["Element"]) or not codes:
            prefix = f"{prefix}.{part}"
            continue
        if len(codes) != 1 or not isinstance(codes[0], str):
            return None
        definition = registry.structure_definition(_CORE + codes[0])
        if definition is None:
            return None
        prefix = codes[0]
    return True


def _check_extension_url(sd: Mapping[str, Any], at: str, *, base_url: str) -> Iterator[Issue]:
    """An extension defined on Extension fixes Extension.url to its own canonical URL."""
    url = sd.get("url")
    if sd.get("type") != "Extension" or base_url != _EXTENSION or not isinstance(url, str):
        return
    fixed = next((e.get("fixedUri") for e in _differential(sd)
                  if e.get("path") == "Extension.url"), None)
    if fixed is None:
        yield Issue.error("invalid", at, f"the extension {url} does not fix Extension.url to "
                          "its URL", "sd-extension-url")
    elif fixed != url:
        yield Issue.error("invalid", at, f"the extension {url} fixes Extension.url to "
                          f"'{fixed}', not its own URL", "sd-extension-url")


def _check_order(differential: Sequence[Mapping[str, Any]], at: str,
                 base_snapshot: Sequence[Mapping[str, Any]]) -> Iterator[Issue]:
    """Differential elements come in the order of the snapshot (R4 profiling.html: "the
    differential ... in the same order as the snapshot"; the HL7 generator walks both together
    and cannot place an element that comes too late). Compared: elements whose path the base
    snapshot has, outside slices (a slice starts its own sequence).

    A warning, although the HL7 validator reports the element it cannot place as an error: the
    generator here places such elements by path, so the snapshot is still the intended one.
    """
    position: dict[str, int] = {}
    for index, element in enumerate(base_snapshot):
        path = element.get("path")
        if isinstance(path, str):
            position.setdefault(path, index)
    last: tuple[int, str] | None = None
    for i, element in enumerate(differential):
        path, element_id = element.get("path"), element.get("id")
        if not isinstance(path, str) or (isinstance(element_id, str) and ":" in element_id) \
                or "sliceName" in element:
            last = None  # slices and their content are placed by their slice
            continue
        where = position.get(path)
        if where is None:
            continue
        if last is not None and where < last[0]:
            yield Issue.warning("structure", f"{at}.differential.element[{i}]", f"'{path}' comes "
                              f"after '{last[1]}' in the differential but before it in the "
                              "base: differential elements follow the snapshot's order",
                              "sd-order")
            continue
        last = (where, path)


def _check_slicing_against_base(element: Mapping[str, Any], at: str,
                                base_by_id: Mapping[str, Mapping[str, Any]]) -> Iterator[Issue]:
    """A profile may restate its base's slicing, not change it (HL7 ProfileUtilities: order,
    discriminators and a looser rule are errors), and cannot add a slice where the base closed
    the slicing."""
    element_id = element.get("id")
    if not isinstance(element_id, str):
        return
    base = base_by_id.get(element_id)
    mine, theirs = element.get("slicing"), base.get("slicing") if base is not None else None
    if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
        if "ordered" in mine and "ordered" in theirs and mine["ordered"] != theirs["ordered"]:
            yield _slicing_issue(at, "ordered", mine, theirs)
        discriminators = _discriminators(mine)
        inherited = _discriminators(theirs)
        if discriminators and inherited and discriminators[:len(inherited)] != inherited:
            yield _slicing_issue(at, "discriminator", mine, theirs)
        looser = {"closed": ("open", "openAtEnd"), "openAtEnd": ("open",)}
        if not element_id.endswith("[x]") \
                and mine.get("rules") in looser.get(str(theirs.get("rules")), ()):
            yield _slicing_issue(at, "rules", mine, theirs)
    slice_name = element.get("sliceName")
    if base is None and isinstance(slice_name, str) and element_id.endswith(":" + slice_name):
        sliced = base_by_id.get(element_id[:-len(slice_name) - 1])
        slicing = sliced.get("slicing") if sliced is not None else None
        if isinstance(slicing, Mapping) and slicing.get("rules") == "closed":
            yield Issue.error("business-rule", at, f"the base closes the slicing of "
                              f"{element_id[:-len(slice_name) - 1]}, so the slice "
                              f"'{slice_name}' cannot be added", "sd-slicing")


def _check_is_summary(element: Mapping[str, Any], at: str,
                      base_by_id: Mapping[str, Mapping[str, Any]]) -> Iterator[Issue]:
    """isSummary belongs to the base resource's definition: a profile cannot change it (HL7
    ProfileUtilities: "Base isSummary = ..., derived isSummary = ...")."""
    mine = element.get("isSummary")
    base = _base_element(element, base_by_id)
    theirs = base.get("isSummary", False) if base is not None else None
    if isinstance(mine, bool) and isinstance(theirs, bool) and mine != theirs:
        yield Issue.error("business-rule", f"{at}.isSummary", f"a profile cannot change "
                          f"isSummary (the base says {theirs}, this profile {mine})", "sd-base")


def _check_target_profiles(element: Mapping[str, Any], at: str,
                           base_by_id: Mapping[str, Mapping[str, Any]],
                           registry: Registry) -> Iterator[Issue]:
    """A Reference's targetProfile narrows the base's: each is one of the base's targets or a
    profile derived from one (a target that is not loaded, or whose ancestry is not, is not
    judged)."""
    base = _base_element(element, base_by_id)
    allowed = {url.split("|", 1)[0] for t in dicts(base.get("type") if base else None)
               if t.get("code") == "Reference" for url in array(t.get("targetProfile"))
               if isinstance(url, str)}
    if not allowed or _CORE + "Resource" in allowed:
        return
    for t, type_ref in enumerate(dicts(element.get("type"))):
        targets = type_ref.get("targetProfile") if type_ref.get("code") == "Reference" else None
        for p, url in enumerate(targets if isinstance(targets, list) else []):
            if isinstance(url, str) and _derives_from(url, allowed, registry) is False:
                yield Issue.error("business-rule", f"{at}.type[{t}].targetProfile[{p}]",
                                  f"the target profile {url} is not a constraint on the base's "
                                  f"targets ({', '.join(sorted(allowed))})", "sd-base")


def _derives_from(url: str, allowed: set[str], registry: Registry) -> bool | None:
    """Whether the profile ``url`` is one of ``allowed`` or derives from one (None: unknown)."""
    seen: set[str] = set()
    current = url.split("|", 1)[0]
    while current not in seen:
        if current in allowed:
            return True
        seen.add(current)
        definition = registry.structure_definition(current)
        if definition is None:
            return None
        base = definition.get("baseDefinition")
        if not isinstance(base, str) or definition.get("derivation") == "specialization":
            return False
        current = base.split("|", 1)[0]
    return False


def _discriminators(slicing: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return [(d.get("type"), d.get("path")) for d in dicts(slicing.get("discriminator"))]


def _slicing_issue(at: str, what: str, mine: Mapping[str, Any],
                   theirs: Mapping[str, Any]) -> Issue:
    def said(slicing: Mapping[str, Any]) -> str:
        return _show(_discriminators(slicing) if what == "discriminator" else slicing.get(what))

    return Issue.error("business-rule", f"{at}.slicing", f"the slicing's {what} differs from the "
                       f"base's ({said(mine)} here, {said(theirs)} in the base)", "sd-slicing")


def _check_root_slicing(element: Mapping[str, Any], at: str, *, root: str) -> Iterator[Issue]:
    if element.get("path") == root and "slicing" in element:
        yield Issue.error("invalid", at, "slicing is not allowed on the root element of a "
                          "profile", "sd-slicing")


def _check_fixed(element: Mapping[str, Any], at: str,
                 base_by_id: Mapping[str, Mapping[str, Any]], *,
                 base_url: str) -> Iterator[Issue]:
    """A fixed or pattern value must agree with what the base fixes or patterns there."""
    mine = _choice_values(element)
    if not mine:
        return
    base = _base_element(element, base_by_id)
    if base is None:
        return
    for (kind, name), value in mine.items():
        for (base_kind, base_name), base_value in _choice_values(base).items():
            if base_name != name:
                continue
            agrees = (value == base_value if base_kind == "fixed"
                      else _matches_pattern(value, base_value))
            if not agrees:
                yield Issue.error("value", at, f"{kind}{name} {_show(value)} contradicts the "
                                  f"{base_kind} value {_show(base_value)} of {base_url}",
                                  "sd-fixed")


# -- helpers ---------------------------------------------------------------------------------
def _differential(sd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    differential = sd.get("differential")
    elements = differential.get("element") if isinstance(differential, Mapping) else None
    return [e if isinstance(e, Mapping) else {} for e in elements] \
        if isinstance(elements, list) else []


def _snapshot(sd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    snapshot = sd.get("snapshot")
    elements = snapshot.get("element") if isinstance(snapshot, Mapping) else None
    return dicts(elements)


def _locator(differential: Sequence[Mapping[str, Any]], at: str) -> Any:
    """Map an issue expression of the snapshot generator (a differential element's id, or a
    path in the StructureDefinition) to a location in the validated resource."""
    index: dict[str, int] = {}
    for i, element in enumerate(differential):
        key = element.get("id") or element.get("path")
        if isinstance(key, str):
            index.setdefault(key, i)

    def where(expression: str) -> str:
        if expression in index:
            return f"{at}.differential.element[{index[expression]}]"
        if expression.startswith("StructureDefinition."):
            return at + expression[len("StructureDefinition"):]
        return at

    return where


def _base_element(element: Mapping[str, Any],
                  base_by_id: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The base element a differential element constrains: the same id, else (a slice the
    base does not have) the element it slices."""
    key = element.get("id") if isinstance(element.get("id"), str) else element.get("path")
    if not isinstance(key, str):
        return None
    return base_by_id.get(key) or base_by_id.get(
        ".".join(part.split(":", 1)[0] for part in key.split(".")))


def _types(element: Mapping[str, Any]) -> list[str]:
    return [t["code"] for t in dicts(element.get("type")) if isinstance(t.get("code"), str)]


def _choice_values(element: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """{("fixed", "Uri"): value, ...} for the element's fixed[x] and pattern[x]."""
    found: dict[tuple[str, str], Any] = {}
    for key, value in element.items():
        for prefix in _CHOICE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix):len(prefix) + 1].isupper():
                found[(prefix, key[len(prefix):])] = value
    return found


def _matches_pattern(value: Any, pattern: Any) -> bool:
    """R4 ElementDefinition.pattern[x]: every value the pattern has, the value has as well."""
    if isinstance(pattern, Mapping):
        return isinstance(value, Mapping) and all(
            k in value and _matches_pattern(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(
            any(_matches_pattern(item, p) for item in value) for p in pattern)
    return bool(value == pattern)


def _show(value: Any) -> str:
    text = f"'{value}'" if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


