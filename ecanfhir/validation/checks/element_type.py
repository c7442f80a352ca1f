"""What an ElementDefinition of a validated StructureDefinition says about its types' values.

R4 ElementDefinition (http://hl7.org/fhir/R4/elementdefinition.html): ``type.profile`` names
a profile *of that type* (eld-?: a profile on Quantity for a Quantity, an extension
definition for ``extension``, a modifier extension for ``modifierExtension``);
``type.targetProfile`` of a Reference names resource profiles; a binding's ``valueSet`` is a
ValueSet; ``fixed[x]``, ``pattern[x]`` and ``defaultValue[x]`` are values of one of the
element's types. The HL7 Java validator checks these in
``StructureDefinitionValidator.validateElementDefinition``; so does this module, on the
elements the StructureDefinition carries:

===============================================================  ============  ==========
rule                                                             lists         level
===============================================================  ============  ==========
type.profile / targetProfile not loaded                          both          warning
a profile on another type, an extension definition that is       both          error
(not) a modifier on (modifier)extension, a targetProfile that
is not a resource profile
a binding whose valueSet is not loaded                           both          warning
a binding whose valueSet is another kind of resource             both          error (the
                                                                               canonical's
                                                                               type check)
a binding without valueSet                                       snapshot      warning
a binding on several bindable types                              both          information
a type that is not a FHIR type                                   both          error
a non-root element without type or contentReference, or whose   snapshot      error
contentReference names no element of the snapshot
fixed / pattern / defaultValue of a type the element does not    snapshot      error
have
fixed / pattern on a repeating element                           snapshot      information
(warning for primitive values, which some validators apply to
one repeat only; a fixed value of a complex type: warning)
types or profiles marked must-support (extension                 both          warning
elementdefinition-type-must-support) on an element that is not   (snapshot),
must-support itself                                              information
===============================================================  ============  ==========
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import Registry
from .._issue import Issue
from .json_values import dicts

__all__ = ["check_element_types"]

_CORE = "http://hl7.org/fhir/StructureDefinition/"
_FHIR_TYPE = _CORE + "structuredefinition-fhir-type"
_TYPE_MUST_SUPPORT = _CORE + "elementdefinition-type-must-support"
_BINDABLE = ("code", "string", "url", "uri", "Coding", "CodeableConcept", "Quantity",
             "CodeableReference")
_VALUE_PREFIXES = ("fixed", "pattern", "defaultValue")


def check_element_types(sd: Mapping[str, Any], at: str, *,
                        registry: Registry) -> Iterator[Issue]:
    """Check the types, bindings and values of each element of ``sd``'s lists."""
    for list_name in ("differential", "snapshot"):
        holder = sd.get(list_name)
        elements = holder.get("element") if isinstance(holder, Mapping) else None
        snapshot = list_name == "snapshot"
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            path = element.get("path") if isinstance(element, Mapping) else None
            if not isinstance(path, str) or not path:
                continue
            where = f"{at}.{list_name}.element[{i}]"
            yield from _check_type_profiles(element, path, where, registry)
            yield from _check_binding(element, path, where, registry, snapshot=snapshot)
            yield from _check_must_support(element, path, where, snapshot=snapshot,
                                           has_snapshot="snapshot" in sd)
            if snapshot and "." in str(element.get("id") or path):
                yield from _check_values(element, path, where, registry)
                yield from _check_content_reference(element, elements, where)


# -- type.profile and type.targetProfile -------------------------------------------------
def _check_type_profiles(element: Mapping[str, Any], path: str, at: str,
                         registry: Registry) -> Iterator[Issue]:
    for t, type_ref in enumerate(dicts(element.get("type"))):
        code = _type_code(type_ref)
        if code is None:
            continue
        if ":" not in code and registry.type_definition(code) is None:
            yield Issue.error("not-found", f"{at}.type[{t}]", f"the type '{code}' of {path} is "
                              "not a FHIR R4 type", "sd-type-profile")
            continue
        for name in ("profile", "targetProfile"):
            for p, url in enumerate(_strings(type_ref.get(name))):
                where = f"{at}.type[{t}].{name}[{p}]"
                profile = registry.structure_definition(url)
                if profile is None:
                    yield Issue.warning("not-found", where, f"the profile {url} is not loaded, "
                                        "so it was not checked", "sd-type-profile")
                elif name == "profile":
                    yield from _check_profile(profile, url, code, path, where, registry)
                elif code in ("Reference", "CodeableReference") \
                        and profile.get("kind") not in ("resource", "logical"):
                    yield Issue.error("invalid", where, f"the target profile {url} is for "
                                      f"'{profile.get('type')}', which is not a resource",
                                      "sd-type-profile")


def _check_profile(profile: Mapping[str, Any], url: str, code: str, path: str, at: str,
                   registry: Registry) -> Iterator[Issue]:
    """HL7 validator validateTypeProfile: the profile constrains ``code`` (or a type
    specialising it); an extension definition is a modifier exactly on modifierExtension."""
    profiled = profile.get("type")
    if not isinstance(profiled, str) or not profiled:
        yield Issue.error("invalid", at, f"the profile {url} has no type it applies to",
                          "sd-type-profile")
        return
    if not _is_instance_of(profiled, code, registry):
        yield Issue.error("invalid", at, f"the profile {url} is for type '{profiled}', but "
                          f"the element {path} has type '{code}'", "sd-type-profile")
        return
    if profiled != "Extension":
        return
    modifier = any(e.get("path") == "Extension" and e.get("isModifier") is True
                   for e in dicts((profile.get("snapshot") or {}).get("element")))
    on_modifier = path.endswith(".modifierExtension")
    if modifier and not on_modifier:
        yield Issue.error("invalid", at, f"the extension {url} is a modifier extension, but "
                          f"{path} is not a modifierExtension", "sd-type-profile")
    elif on_modifier and not modifier and "snapshot" in profile:
        yield Issue.error("invalid", at, f"the extension {url} is not a modifier extension, "
                          f"but {path} is a modifierExtension", "sd-type-profile")


def _is_instance_of(type_name: str, code: str, registry: Registry) -> bool:
    """Whether ``type_name`` is ``code`` or specialises it (Age is a Quantity, Patient a
    Resource), following the type definitions' baseDefinition."""
    seen: set[str] = set()
    current: str | None = type_name
    while current and current not in seen:
        if current == code or current == code.rsplit("/", 1)[-1]:
            return True
        seen.add(current)
        definition = registry.type_definition(current) if ":" not in current \
            else registry.structure_definition(current)
        base = definition.get("baseDefinition") if definition is not None else None
        if definition is None:
            return True  # a type not loaded: cannot tell, so not an error
        current = base.rsplit("/", 1)[-1] if isinstance(base, str) \
            and base.startswith(_CORE) else None
    return False


# -- bindings ------------------------------------------------------------------------------
def _check_binding(element: Mapping[str, Any], path: str, at: str, registry: Registry, *,
                   snapshot: bool) -> Iterator[Issue]:
    binding = element.get("binding")
    if not isinstance(binding, Mapping):
        return
    where = f"{at}.binding"
    codes = [c for c in map(_type_code, dicts(element.get("type"))) if c]
    bindable = [c for c in codes if c in _BINDABLE]
    if len(bindable) > 1:
        yield Issue.information("business-rule", where, f"the element {path} has a binding and "
                                f"several types that take one ({', '.join(bindable)}): it "
                                "applies to all of them", "sd-binding")
    reference = binding.get("valueSet")
    if not isinstance(reference, str) or not reference:
        if snapshot:
            yield Issue.warning("business-rule", where, f"the element {path} has a binding "
                                "without a value set", "sd-binding")
        return
    url = reference.split("|", 1)[0]
    if registry.value_set(reference) is not None or registry.value_set(url) is not None:
        return
    if registry.get(url) is None:  # another kind of resource: the canonical check says so
        yield Issue.warning("not-found", f"{where}.valueSet", f"the value set {reference} bound "
                            f"to {path} is not loaded, so it was not checked", "sd-binding")


# -- fixed, pattern and default values ------------------------------------------------------
def _check_values(element: Mapping[str, Any], path: str, at: str,
                  registry: Registry) -> Iterator[Issue]:
    codes = [c for c in map(_type_code, dicts(element.get("type"))) if c]
    if not codes:
        if "contentReference" not in element:
            yield Issue.error("structure", at, f"the element {path} has no type and no "
                              "contentReference", "sd-element-value")
        return
    repeating = element.get("max") not in ("0", "1")
    for key in element:
        prefix = next((p for p in _VALUE_PREFIXES if key.startswith(p)
                       and key[len(p):len(p) + 1].isupper()), None)
        if prefix is None:
            continue
        value_type = key[len(prefix):]
        value_type = value_type[0].lower() + value_type[1:] \
            if registry.is_type(value_type[0].lower() + value_type[1:]) \
            and not registry.is_type(value_type) else value_type
        where = f"{at}.{key}"
        if not any(_is_instance_of(code, value_type, registry) for code in codes):
            yield Issue.error("structure", where, f"the element {path} has a {prefix} value of "
                              f"type '{value_type}', which is not one of its types "
                              f"({', '.join(codes)})", "sd-element-value")
            continue
        if prefix == "defaultValue" or not repeating:
            continue
        primitive = value_type[:1].islower()
        if primitive:
            yield Issue.warning("business-rule", where, f"the repeating element {path} has a "
                                f"{prefix} primitive value: it applies to every repeat (some "
                                "validators apply it to one only)", "sd-element-value")
        else:
            yield Issue.information("business-rule", where, f"the repeating element {path} has "
                                    f"a {prefix} value: it applies to every repeat",
                                    "sd-element-value")
        if prefix == "fixed" and not primitive:
            yield Issue.warning("business-rule", where, f"a fixed {value_type} also forbids "
                                "every property it does not have; a pattern is usually meant",
                                "sd-element-value")


def _check_content_reference(element: Mapping[str, Any], elements: Any,
                             at: str) -> Iterator[Issue]:
    """A local contentReference (``#id``) names an element of the same snapshot."""
    reference = element.get("contentReference")
    if not isinstance(reference, str) or not reference.startswith("#"):
        return
    target = reference[1:]
    if not any(isinstance(e, Mapping) and target in (e.get("id"), e.get("path"))
               for e in elements):
        yield Issue.error("not-found", f"{at}.contentReference", f"the contentReference "
                          f"'{reference}' names no element of this snapshot", "sd-element-value")


# -- must-support ------------------------------------------------------------------------------
def _check_must_support(element: Mapping[str, Any], path: str, at: str, *, snapshot: bool,
                        has_snapshot: bool) -> Iterator[Issue]:
    if element.get("mustSupport") is True or not any(
            _marked_must_support(type_ref) for type_ref in dicts(element.get("type"))):
        return
    message = (f"the element {path} has types, profiles or targets marked must-support, "
               "but is not must-support itself")
    if snapshot:
        yield Issue.warning("business-rule", at, message, "sd-must-support")
    elif not has_snapshot:
        yield Issue.information("business-rule", at, message + ": the inner marks are "
                                "ignored unless it inherits must-support", "sd-must-support")


def _marked_must_support(type_ref: Mapping[str, Any]) -> bool:
    holders: list[Mapping[str, Any]] = [type_ref]
    for name in ("_profile", "_targetProfile"):
        holders += dicts(type_ref.get(name))
    return any(e.get("url") == _TYPE_MUST_SUPPORT and e.get("valueBoolean") is True
               for holder in holders for e in dicts(holder.get("extension")))


# -- helpers -----------------------------------------------------------------------------------
def _type_code(type_ref: Mapping[str, Any]) -> str | None:
    """The type's code (for FHIRPath System types, the FHIR type they stand for)."""
    for ext in dicts(type_ref.get("extension")):
        value = ext.get("valueUrl") or ext.get("valueUri")
        if ext.get("url") == _FHIR_TYPE and isinstance(value, str):
            return value
    code = type_ref.get("code")
    return code if isinstance(code, str) and code else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


