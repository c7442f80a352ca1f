"""Laying one differential element over its snapshot element (HL7 updateFromDefinition).

Cardinality, types, binding, fixed[x]/pattern[x], invariants, texts and the rest of a
differential element are merged onto the element its base defines, as FHIR R4 profiling.html
§5.1.0.9 and HL7's ``ProfileUtilities`` do; a loosened constraint (a lower min, a higher max,
a type the base does not allow, a weaker required binding) is reported as an issue.
:class:`ElementMerge` is mixed into the snapshot generator, which gives it the registry, the
profile's and the base's urls, and the snapshot trees of profiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .snapshot_elements import MAX_DEPTH, Definitions, Node, Tree, is_extension_path, working_code

if TYPE_CHECKING:  # imported when needed: validation imports the schema, which imports us
    from ..validation._issue import Issue, IssueCode

__all__ = ["ElementMerge"]

PROFILE_ELEMENT_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element"

CHOICE_PROPERTIES = ("fixed", "pattern", "minValue", "maxValue")
BINDABLE = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})


def _choice_key(element: Mapping[str, Any], prefix: str) -> str | None:
    return next((k for k in element if k.startswith(prefix) and k != prefix), None)


def _max_value(value: Any) -> float:
    return float("inf") if value == "*" else float(str(value)) if str(value).isdigit() else 0.0


class ElementMerge:
    """The merge steps of :class:`~.snapshot_generator.SnapshotGenerator`."""

    registry: Definitions
    issues: list[Issue]
    url: str  # the profile's
    base_url: str
    _tree: Callable[[Mapping[str, Any]], Tree | None]  # a profile's snapshot tree

    def _issue(self, code: IssueCode, where: str, message: str, *,
               warning: bool = False) -> None:
        from ..validation._issue import Issue

        make = Issue.warning if warning else Issue.error
        self.issues.append(make(code, where, f"{self.url}: {message}", "snapshot"))

    @staticmethod
    def _type_slicing(choice: Node) -> None:
        # The type slicing a renamed choice (or a type slice without slicing) implies: closed
        # and unordered, as the R4 publication has it (bodyheight's value[x]).
        choice.element["slicing"] = {"discriminator": [{"type": "type", "path": "$this"}],
                                     "ordered": False, "rules": "closed"}

    def _merge(self, node: Node, diff: Mapping[str, Any], where: str) -> None:
        """Lay a differential element over its snapshot element (HL7 updateFromDefinition)."""
        self._template(node, diff)
        el = node.element
        if diff.get("slicing"):
            self._merge_slicing(node, diff["slicing"])
        for prop in ("short", "definition", "comment", "requirements", "label"):
            if prop in diff:
                text = str(diff[prop])
                el[prop] = f"{el.get(prop, '')}\r\n{text[3:]}" if text.startswith("...") \
                    and prop in ("definition", "comment", "requirements") else text
        self._merge_cardinality(node, diff, where)
        for prefix in CHOICE_PROPERTIES:
            found = _choice_key(diff, prefix)
            if found is not None:
                for old in [k for k in el if k.startswith(prefix) and k != prefix]:
                    del el[old]
                el[found] = diff[found]
        for prop in ("maxLength", "mustSupport", "isSummary"):
            if prop in diff:
                el[prop] = diff[prop]
        if is_extension_path(el["path"]) or el["path"] == "Extension":
            # Profiles cannot change isModifier, but extensions say whether they modify.
            for prop in ("isModifier", "isModifierReason"):
                if prop in diff:
                    el[prop] = diff[prop]
        for prop in ("alias", "condition", "code", "example", "mapping"):
            if diff.get(prop):
                have = list(el.get(prop, ()))
                el[prop] = have + [v for v in diff[prop] if v not in have]
        if diff.get("binding"):
            self._merge_binding(el, diff["binding"], where)
        if diff.get("type"):
            self._merge_type(el, diff["type"], where)
            # A binding only makes sense on a bindable type (HL7 drops it: task 8477).
            if el.get("binding") and not any(working_code(t) in BINDABLE for t in el["type"]):
                del el["binding"]
        if any("source" not in c for c in el.get("constraint", ())):
            # Inherited invariants name where they come from (HL7: the base's url).
            el["constraint"] = [c if "source" in c else {**c, "source": self.base_url}
                                for c in el["constraint"]]
        if diff.get("constraint"):
            keys = {c.get("key") for c in el.get("constraint", ()) if isinstance(c.get("key"), str)}
            added = [{**c, "source": c.get("source") or self.url}
                     for c in diff["constraint"] if c.get("key") not in keys]
            el["constraint"] = [*el.get("constraint", ()), *added]
        if diff.get("extension"):
            urls = {e.get("url") for e in diff["extension"]}
            el["extension"] = [e for e in el.get("extension", ()) if e.get("url") not in urls]
            el["extension"] += list(diff["extension"])
        node.touched = True

    def _template(self, node: Node, diff: Mapping[str, Any]) -> None:
        """A single profiled type (not Reference) makes the profile's root the starting point,
        overwritten by what the base says (HL7 overWriteWithCurrent)."""
        types: Sequence[Any] = diff.get("type") or ()
        if node.touched or len(types) != 1 or types[0].get("code") == "Reference" \
                or not types[0].get("profile") or node.appended:
            return
        profile = types[0]["profile"][0]
        sd = self.registry.structure_definition(str(profile))
        tree = self._tree(sd) if sd is not None else None
        if tree is None:
            return
        src = tree.root
        # The profile may name one of its elements (JSON: an extension on _profile[0]).
        profile_extras = types[0].get("_profile") or [None]
        for ext in (profile_extras[0] or {}).get("extension", ()):
            if ext.get("url") == PROFILE_ELEMENT_EXT:
                src = tree.by_id.get(str(ext.get("valueString")), src)
        template = dict(src.element)
        usage = node.source.element if node.source is not None else node.element
        for prop in ("label", "definition", "short", "comment", "requirements", "min", "max",
                     "maxLength", "mustSupport", "binding"):
            if prop in usage:
                template[prop] = usage[prop]
        for prefix in (*CHOICE_PROPERTIES, "example"):
            if _choice_key(usage, prefix) is not None or prefix in usage:
                for old in [k for k in template if k.startswith(prefix)]:
                    del template[old]
                template.update({k: v for k, v in usage.items() if k.startswith(prefix)})
        for prop in ("code", "alias"):
            template[prop] = [*template.get(prop, ()), *usage.get(prop, ())]
            if not template[prop]:
                del template[prop]
        keys = {c.get("key") for c in template.get("constraint", ())}
        template["constraint"] = [*template.get("constraint", ()), *(
            c for c in usage.get("constraint", ()) if c.get("key") not in keys)]
        for prop in ("id", "path", "base", "sliceName"):
            template.pop(prop, None)
            if prop in node.element:
                template[prop] = node.element[prop]
        template.pop("slicing", None)
        node.element = template

    def _merge_slicing(self, node: Node, slicing: Mapping[str, Any]) -> None:
        el = node.element
        current = el.get("slicing")
        if node.source is None or not node.source.element.get("slicing") or not current:
            el["slicing"] = dict(slicing)
        else:
            merged = dict(current)
            discriminators = list(merged.get("discriminator", ()))
            merged["discriminator"] = discriminators + [
                d for d in slicing.get("discriminator", ()) if d not in discriminators]
            for prop in ("ordered", "rules", "description"):
                if prop in slicing:
                    merged[prop] = slicing[prop]
            el["slicing"] = merged
        # A renamed choice (valueQuantity) made the closed R4 type slicing; an explicit type
        # slicing keeps the differential's rules: ``open`` leaves the types without a slice
        # allowed and unconstrained (HL7's IG tools publish IPS MedicationStatement.effective[x]
        # so; the validator does not force it closed either).
        if node.type_shortcut:
            self._type_slicing(node)

    def _merge_cardinality(self, node: Node, diff: Mapping[str, Any], where: str) -> None:
        el = node.element
        if "min" in diff:
            if isinstance(diff["min"], int) and diff["min"] < int(el.get("min", 0)) \
                    and node.slice_name is None:
                self._issue("business-rule", where, f"min {diff['min']} is lower than the "
                            f"base min {el.get('min')}")
            el["min"] = diff["min"]
        if "max" in diff:
            if _max_value(diff["max"]) > _max_value(el.get("max", "*")):
                self._issue("business-rule", where, f"max {diff['max']} is higher than the "
                            f"base max {el.get('max')}")
            el["max"] = diff["max"]

    def _merge_type(self, el: dict[str, Any], types: list[Any], where: str) -> None:
        allowed = {working_code(t) for t in el.get("type", ())}
        if allowed and types != el.get("type"):
            for t in types:
                code = working_code(t)
                if code not in allowed and not self._specializes(code, allowed):
                    self._issue("business-rule", where, f"type {code} is not allowed by the "
                                f"base ({', '.join(sorted(allowed))})")
        el["type"] = list(types)

    def _specializes(self, code: str, allowed: set[str]) -> bool:
        """True when type ``code`` derives from one of ``allowed`` (Age from Quantity, a
        resource from Resource)."""
        sd = self.registry.type_definition(code)
        for _ in range(MAX_DEPTH):
            base = sd.get("baseDefinition") if sd is not None else None
            if not isinstance(base, str):
                return False
            sd = self.registry.structure_definition(base)
            if sd is not None and (sd.get("type") in allowed or sd.get("id") in allowed):
                return True
        return False

    def _merge_binding(self, el: dict[str, Any], binding: Mapping[str, Any], where: str) -> None:
        current = el.get("binding")
        if current == binding:
            return
        strength = binding.get("strength")
        if current and current.get("strength") == "required" and strength \
                and strength != "required":
            self._issue("business-rule", where, f"binding strength {strength} weakens the "
                        "base's required binding")
        merged = {k: v for k, v in (current or {}).items()
                  if k not in ("extension", "description")}
        merged.update(binding)
        el["binding"] = merged
