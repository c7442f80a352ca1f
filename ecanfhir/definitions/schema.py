"""StructureDefinition snapshots compiled into trees of element nodes.

A snapshot is a flat, ordered list of ElementDefinitions (FHIR R4 §2.27 ElementDefinition);
validation wants a tree: which JSON properties an object may carry, with which types and
cardinalities. :class:`Schema` compiles each StructureDefinition once (per registry
generation) into an :class:`ElementNode` tree (the records of :mod:`.compiled`).
Complex-typed elements have no children in the snapshot; their children come from the type's
own definition (``Schema.children``).

Slices (``Extension.extension:foo``) are kept on the sliced node, in snapshot order, for the
profile checks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .._exceptions import EcanfhirError, ProfileNotFound, SnapshotMissing
from .compiled import (
    Binding,
    CompiledStructure,
    Constraint,
    ElementNode,
    JsonProperty,
    Slicing,
    TypeRef,
)
from .registry import Registry
from .snapshot_cache import SnapshotCache

__all__ = ["Schema"]

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
BEST_PRACTICE_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-regex"
SYSTEM_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}
# Invariants whose published R4 expression contradicts its own human text, replaced as the HL7
# Java validator does (``FHIRPathExpressionFixer``), so both validators judge alike.
PUBLISHED_EXPRESSION_FIXES: Mapping[str, str] = {
    # que-12: "If there are more than one enableWhen, enableBehavior must be specified", but
    # 4.0.1 counts from three (R4B and R5 fixed the expression to count from two).
    "enableWhen.count() > 2 implies enableBehavior.exists()":
        "enableWhen.count() > 1 implies enableBehavior.exists()",
    # que-7: 'Boolean' is the System type, which a FHIR boolean answer is not, so every
    # 'exists' condition failed; the HL7 validator's type test ignores the case, and R4B/R5
    # spell it 'boolean'.
    "operator = 'exists' implies (answer is Boolean)":
        "operator = 'exists' implies (answer is boolean)",
    # eld-19, eld-20: FHIRPath matches() is true when part of the string matches, so these
    # path rules never failed; the HL7 validator anchors them (R5 states them so).
    **{f"path.matches('{body}')": f"path.matches('^{body}$')" for body in (
        '[^\\\\s\\\\.,:;\\\\\\\'"\\\\/|?!@#$%&*()\\\\[\\\\]{}]{1,64}(\\\\.[^\\\\s\\\\.,:;'
        '\\\\\\\'"\\\\/|?!@#$%&*()\\\\[\\\\]{}]{1,64}(\\\\[x\\\\])?(\\\\:[^\\\\s\\\\.]+)?)*',
        r"[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x])?)*",
    )},
}


MAX_VALUE_SET_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet"
# Additional bindings: R5 ElementDefinition.binding.additional, carried in R4 by extension.
ADDITIONAL_BINDING_EXTS = frozenset({
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
    "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
})


def _binding(raw: Mapping[str, Any]) -> Binding:
    if not isinstance(raw.get("valueSet"), str | None):
        raise ValueError(f"binding.valueSet {raw.get('valueSet')!r} is not a canonical")
    if not isinstance(raw.get("strength", ""), str):
        raise ValueError(f"binding.strength {raw.get('strength')!r} is not a binding strength")
    additional = []
    for ext in raw.get("extension", ()):
        if ext.get("url") not in ADDITIONAL_BINDING_EXTS:
            continue
        parts = {e.get("url"): e for e in ext.get("extension", ())}
        purpose = parts.get("purpose", {}).get("valueCode")
        vs = parts.get("valueSet", {})
        url = vs.get("valueCanonical") or vs.get("valueUri")
        if isinstance(purpose, str) and isinstance(url, str):
            additional.append((purpose, url))
    return Binding(raw.get("strength", ""), raw.get("valueSet"), tuple(additional),
                   _max_value_set(raw))


def _max_value_set(raw: Mapping[str, Any]) -> str | None:
    for ext in raw.get("extension", ()):
        if ext.get("url") == MAX_VALUE_SET_EXT:
            url = ext.get("valueCanonical") or ext.get("valueUri")
            return url if isinstance(url, str) else None
    return None


def _text(obj: Mapping[str, Any], key: str, default: str | None) -> str:
    """A string property (``default`` when absent; required when None)."""
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} {value!r} is not a string")
    return value


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    """A string property that may be absent (None)."""
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} {value!r} is not a string")
    return value


def _optional_count(obj: Mapping[str, Any], key: str) -> int | None:
    """An integer property that may be absent (None); JSON's true and false are not counts."""
    value = obj.get(key)
    if value is not None and (type(value) is not int):
        raise ValueError(f"{key} {value!r} is not an integer")
    return value


def _canonicals(type_ref: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A type's profile or targetProfile: an array of canonicals (a string alone would be
    read as its characters)."""
    values = type_ref.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"type {key} {values!r} is not an array of canonicals")
    return tuple(values)


def _type_refs(element: Mapping[str, Any]) -> tuple[TypeRef, ...]:
    refs = []
    for t in element.get("type", ()):
        code = t.get("code", "")
        if not isinstance(code, str):
            raise ValueError(f"type code {code!r} is not a type name")
        if code in SYSTEM_TYPES or code.startswith("http://hl7.org/fhirpath/"):
            fhir_type = next((e.get("valueUrl") or e.get("valueUri") for e in t.get("extension", ())
                              if e.get("url") == FHIR_TYPE_EXT), None)
            code = fhir_type or SYSTEM_TYPES.get(code, "string")
        # a type name, or a logical model's URL, whose last part names it
        if not isinstance(code, str) or not code.rsplit("/", 1)[-1]:
            raise ValueError(f"type code {code!r} is not a type name")
        profiles, targets = _canonicals(t, "profile"), _canonicals(t, "targetProfile")
        refs.append(TypeRef(code, profiles, targets, aggregation=tuple(t.get("aggregation", ()))))
    return tuple(refs)


CHOICE_PREFIXES = ("fixed", "pattern", "minValue", "maxValue")


def _choice_values(element: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """``fixed[x]``, ``pattern[x]``, ``minValue[x]`` and ``maxValue[x]`` by prefix, each as
    (JSON name, value): the first of each in the element (one pass over its keys; few have
    any)."""
    found: dict[str, tuple[str, Any]] = {}
    for key, value in element.items():
        if key.startswith(CHOICE_PREFIXES):
            for prefix in CHOICE_PREFIXES:
                if key.startswith(prefix) and key != prefix and prefix not in found:
                    found[prefix] = (key, value)
    return found


def _repeats(element: Mapping[str, Any]) -> bool:
    """Whether the JSON form is an array: decided by the base definition's max (a profile that
    narrows max to 1 does not change the representation, R4 §2.6.2)."""
    base = element.get("base")
    raw = base.get("max") if isinstance(base, Mapping) else None
    if raw is None:
        raw = element.get("max", "*")
    return raw == "*" or (str(raw).isdigit() and int(raw) > 1)


_VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
_VITAL_UNITS = "http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1"


def _published_element(sd: Mapping[str, Any], element: Mapping[str, Any]) -> Mapping[str, Any]:
    """The element as the HL7 validator reads it: R4's vitalsigns profile (and the core
    profiles on it) bind Observation.component.value[x], whatever its type, to the UCUM vital
    signs units as ``required``; the HL7 validator backs this off to ``extensible``
    (``PackageHackerR5``), so a coded component value is not an error."""
    binding = element.get("binding")
    if (element.get("path") == "Observation.component.value[x]"
            and isinstance(binding, Mapping) and binding.get("valueSet") == _VITAL_UNITS
            and binding.get("strength") == "required"
            and _VITAL_SIGNS in (sd.get("url"), sd.get("baseDefinition"))):
        return {**element, "binding": {**binding, "strength": "extensible"}}
    return element


def _expression(expression: Any) -> Any:
    """The invariant's expression, or its fix when the published one is known to be wrong."""
    return PUBLISHED_EXPRESSION_FIXES.get(expression, expression) if isinstance(
        expression, str) else expression


def _node(element: Mapping[str, Any]) -> ElementNode:
    path = element["path"]
    if not isinstance(path, str) or not path:
        raise ValueError(f"path {path!r} is not an element path")
    name = path.rsplit(".", 1)[-1]
    choice = name.endswith("[x]")
    raw_max = element.get("max", "*")
    binding = element.get("binding")
    slicing = element.get("slicing")
    choices = _choice_values(element)
    return ElementNode(
        id=_optional_text(element, "id") or path,
        path=path,
        name=name[:-3] if choice else name,
        min=int(element.get("min", 0)),
        max=None if raw_max == "*" else int(raw_max),
        types=_type_refs(element),
        choice=choice,
        content_reference=_optional_text(element, "contentReference"),
        binding=_binding(binding) if binding else None,
        constraints=tuple(
            Constraint(
                _text(c, "key", None), _text(c, "severity", "error"), _text(c, "human", ""),
                _expression(c["expression"]),
                any(e.get("url") == BEST_PRACTICE_EXT and e.get("valueBoolean")
                    for e in c.get("extension", ())),
                _text(c, "source", ""),
            )
            for c in element.get("constraint", ())
            if c.get("expression")
        ),
        fixed=choices.get("fixed"),
        pattern=choices.get("pattern"),
        max_length=_optional_count(element, "maxLength"),
        min_value=choices.get("minValue"),
        max_value=choices.get("maxValue"),
        is_modifier=bool(element.get("isModifier")),
        must_support=bool(element.get("mustSupport")),
        slice_name=_optional_text(element, "sliceName"),
        slicing=_slicing(slicing) if slicing else None,
        definition=element,
        repeats=_repeats(element),
    )


def _slicing(raw: Mapping[str, Any]) -> Slicing:
    discriminators = tuple((d.get("type", ""), d.get("path", ""))
                           for d in raw.get("discriminator", ()))
    for kind, path in discriminators:
        if not isinstance(kind, str) or not isinstance(path, str):
            raise ValueError(f"slicing discriminator ({kind!r}, {path!r}) is not a type and "
                             "a path")
    rules = raw.get("rules", "open")
    if not isinstance(rules, str):
        raise ValueError(f"slicing.rules {rules!r} is not a rule")
    return Slicing(discriminators, rules, bool(raw.get("ordered")))


def _id_segments(element_id: str) -> list[str]:
    """Split an element id on '.', keeping dots inside slice names (``ext:a.b``) intact."""
    segments: list[str] = []
    for part in element_id.split("."):
        if segments and ":" in segments[-1] and ":" not in part and not part[:1].islower() \
                and "/" in segments[-1]:
            segments[-1] += "." + part
        else:
            segments.append(part)
    return segments


def compile_structure(sd: Mapping[str, Any]) -> CompiledStructure:
    """Compile a StructureDefinition's snapshot into an element tree."""
    elements = sd.get("snapshot", {}).get("element") or []
    if not elements:
        raise SnapshotMissing(f"StructureDefinition {sd.get('url')} has no snapshot")
    root = _read_node(sd, elements[0], 0)
    by_id: dict[str, ElementNode] = {root.id: root}
    for index, element in enumerate(elements[1:], 1):
        node = _read_node(sd, _published_element(sd, element), index)
        by_id[node.id] = node
        segments = _id_segments(node.id)
        last = segments[-1]
        parent_id = ".".join(segments[:-1])
        if ":" in last:
            # A slice (or a re-slice): attach to the sliced element, which shares the path.
            base_id = ".".join([*segments[:-1], last.rsplit(":", 1)[0]])
            sliced = by_id.get(base_id)
            if sliced is not None:
                sliced.slices.append(node)
                continue
        parent = by_id.get(parent_id)
        if parent is None:
            # Ids missing or odd: fall back to the path.
            parent = by_id.get(node.path.rsplit(".", 1)[0], root)
        parent.children.setdefault(node.name, node)
    try:
        url, kind = _text(sd, "url", ""), _text(sd, "kind", "")
        type_name = _text(sd, "type", root.path)
        derivation = _text(sd, "derivation", "specialization")
    except ValueError as exc:  # a profile that is not one: unusable, and says why
        raise SnapshotMissing(f"StructureDefinition {sd.get('url')!r} cannot be read ({exc})"
                              ) from None
    structure = CompiledStructure(
        url=url,
        type=type_name,
        kind=kind,
        root=root,
        by_id=by_id,
        derivation=derivation,
        abstract=bool(sd.get("abstract")),
        definition=sd,
    )
    for node in by_id.values():
        node.structure = structure
    return structure


# What reading JSON of the wrong shape raises (a number where an array or object belongs...).
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def _read_node(sd: Mapping[str, Any], element: Any, index: int) -> ElementNode:
    """A snapshot element compiled, or SnapshotMissing naming what in it cannot be read (a
    max that is neither a number nor "*", a constraint without key, an extension that is no
    object...): a profile whose snapshot is malformed cannot be used, and says why."""
    try:
        return _node(element)
    except _MALFORMED as exc:
        name = element.get("id") or element.get("path") if isinstance(element, Mapping) \
            else None
        raise SnapshotMissing(
            f"StructureDefinition {sd.get('url')}: its snapshot element {index}"
            f"{f' ({name})' if isinstance(name, str) else ''} cannot be read "
            f"({type(exc).__name__}: {exc})") from None


_ABSENT_MAX = 4096  # canonicals remembered as not loaded, at most


class Schema:
    """Compiled StructureDefinitions of one registry, each compiled once."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._compiled: dict[str, CompiledStructure] = {}
        # Why a canonical cannot be compiled: its message, raised anew each time (an exception
        # raised again keeps each raise's traceback, and the frames' locals with it).
        self._failed: dict[str, str] = {}
        self._absent: set[str] = set()  # canonicals nothing loaded has (for find())
        self._generation = registry.generation
        self._snapshots = SnapshotCache(registry)
        # One compilation per canonical, even with many threads validating (a server): the
        # walker matches elements by identity, so two trees of one profile must never mix.
        self._lock = threading.RLock()

    def _check_generation(self) -> None:
        if self._generation != self.registry.generation:
            self._compiled.clear()
            self._failed.clear()
            self._absent.clear()
            self._generation = self.registry.generation

    def structure(self, canonical: str) -> CompiledStructure:
        """The compiled StructureDefinition a canonical (or type name) names.

        Raises:
            ProfileNotFound: nothing loaded has that URL.
        """
        hit = self._compiled.get(canonical)
        if hit is not None and self._generation == self.registry.generation:
            return hit
        with self._lock:
            return self._compile(canonical)

    def _compile(self, canonical: str) -> CompiledStructure:
        self._check_generation()
        hit = self._compiled.get(canonical)
        if hit is not None:
            return hit
        failed = self._failed.get(canonical)
        if failed is not None:
            raise SnapshotMissing(failed)
        sd = self.registry.structure_definition(canonical)
        if sd is None:
            raise ProfileNotFound(f"no StructureDefinition '{canonical}' is loaded")
        # A type name and its canonical URL ("Patient", ".../StructureDefinition/Patient") name
        # one definition: compiled once, under both.
        url = sd.get("url")
        alias = url if isinstance(url, str) and url != canonical and "|" not in canonical \
            and self.registry.structure_definition(url) is sd else None
        if alias is not None and alias in self._compiled:
            compiled = self._compiled[canonical] = self._compiled[alias]
            return compiled
        if not sd.get("snapshot", {}).get("element"):
            # Most hand-written profiles carry only a differential: generate the snapshot as the
            # HL7 tools do (see ``snapshot``), or read it from the user cache.
            try:
                sd, generated = self._snapshots.generate(canonical, sd)
                errors = tuple(i for i in generated if i.is_error)
            except EcanfhirError as exc:
                failed = f"StructureDefinition {sd.get('url')}: {exc}"
                self._failed[canonical] = failed
                raise SnapshotMissing(failed) from exc
            except _MALFORMED as exc:  # a differential or base the generator cannot read
                failed = (f"StructureDefinition {sd.get('url')}: its snapshot cannot be "
                          f"generated from what it holds ({type(exc).__name__}: {exc})")
                self._failed[canonical] = failed
                raise SnapshotMissing(failed) from None
        else:
            errors = ()
        try:
            compiled = compile_structure(sd)
        except SnapshotMissing as exc:
            self._failed[canonical] = str(exc)
            raise
        compiled.snapshot_errors = errors
        self._compiled[canonical] = compiled
        if alias is not None:
            self._compiled[alias] = compiled
        return compiled

    def find(self, canonical: str) -> CompiledStructure | None:
        """Like :meth:`structure`, but None when it is not loaded or has no usable snapshot."""
        hit = self._compiled.get(canonical)
        if self._generation == self.registry.generation:
            if hit is not None:
                return hit
            if canonical in self._absent:  # a profile claimed by every message, not loaded
                return None
        try:
            return self.structure(canonical)
        except ProfileNotFound:
            with self._lock:
                if self._generation == self.registry.generation:
                    if len(self._absent) >= _ABSENT_MAX:  # the URLs come from the instances
                        self._absent.clear()
                    self._absent.add(canonical)
            return None
        except SnapshotMissing:
            return None

    def problem(self, canonical: str) -> str | None:
        """Why :meth:`find` gives None for a canonical (None when it does not)."""
        try:
            self.structure(canonical)
        except (ProfileNotFound, SnapshotMissing) as exc:
            return str(exc)
        return None

    def type_root(self, type_code: str) -> ElementNode | None:
        """The root node of a datatype or resource's core definition."""
        found = self.find(type_code)
        return found.root if found else None

    def children(self, node: ElementNode, type_code: str | None = None) -> dict[str, ElementNode]:
        """The child elements of a node: inline (backbone), by contentReference, or its type's."""
        if node.children:
            return node.children
        if node.content_reference:
            target = self.content_target(node)
            if target is not None:
                return target.children
        code = type_code or (node.types[0].code if len(node.types) == 1 else None)
        if code:
            root = self.type_root(code)
            if root is not None:
                return root.children
        return {}

    def content_target(self, node: ElementNode) -> ElementNode | None:
        """The element a contentReference points to (``#Questionnaire.item``)."""
        ref = node.content_reference or ""
        url, _, element_id = ref.partition("#")
        structure = node.structure if not url else self.find(url)
        return structure.by_id.get(element_id) if structure else None

    def json_properties(self, node: ElementNode,
                        type_code: str | None = None) -> dict[str, JsonProperty]:
        """Every JSON property name an object of this node may carry (R4 JSON §2.6.2)."""
        hit = node.props_cache.get(type_code)
        if hit is not None:
            return hit
        props: dict[str, JsonProperty] = {}
        for child in self.children(node, type_code).values():
            types = child.types
            if child.content_reference and not types:
                target = self.content_target(child)
                types = target.types if target else ()
            if child.choice:
                for t in types:
                    # A logical model as a choice type: named by its URL's last part.
                    code = t.code.rsplit("/", 1)[-1]
                    name = child.name + code[0].upper() + code[1:]
                    props[name] = JsonProperty(child, t)
                    if t.is_primitive:
                        props["_" + name] = JsonProperty(child, t, primitive_extension=True)
            else:
                single = types[0] if len(types) == 1 else None
                leaf = single is not None and single.is_primitive and not child.repeats \
                    and not child.slices and child.min <= 1 and child.max != 0
                whole = single is None or not single.is_primitive
                one = whole and not child.repeats and not child.slices and child.min <= 1 \
                    and child.max != 0
                objects = whole and child.repeats and not child.slices
                items = single is not None and single.is_primitive and child.repeats \
                    and not child.slices
                props[child.name] = JsonProperty(child, single, leaf=leaf, whole=whole, one=one,
                                                 objects=objects, items=items,
                                                 companion="_" + child.name if leaf or items
                                                 else "")
                if single is not None and single.is_primitive:
                    props["_" + child.name] = JsonProperty(child, single,
                                                           primitive_extension=True)
        node.props_cache[type_code] = props
        return props

    def required(self, node: ElementNode, type_code: str | None = None
                 ) -> tuple[tuple[ElementNode, tuple[str, ...]], ...]:
        """The children checked when absent from an object (min > 0, or a slice with
        min > 0), each with the JSON properties that carry it (:meth:`json_properties`): the
        child is absent when the object has none of them."""
        hit = node.required_cache.get(type_code)
        if hit is None:
            props = self.json_properties(node, type_code)
            hit = tuple((c, tuple(key for key, prop in props.items() if prop.element is c))
                        for c in self.children(node, type_code).values()
                        if c.min > 0 or any(s.min > 0 for s in c.slices))
            node.required_cache[type_code] = hit
        return hit
