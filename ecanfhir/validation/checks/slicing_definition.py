"""Slicings a validated profile defines: do its slices fit its discriminators?

R4 profiling (http://hl7.org/fhir/R4/profiling.html#slicing, §5.1.0.14 discriminators): each
slice must be told apart by the discriminators, so a slice must constrain what each
discriminator looks at. The HL7 Java validator finds the problems below while it generates
the snapshot (``ProfileUtilities``) or when it first matches an instance against the slicing
(``InstanceValidator.sliceMatches``); here they are checked on the snapshot of each
StructureDefinition that is validated, for the slicings its differential touches:

=======================================================  =====================================
problem                                                  where (error unless said)
=======================================================  =====================================
``exists`` discriminator, a slice constraining the       the slice
element to neither min >= 1 nor max = 0
``type`` discriminator, a slice with no type or several  the slice
at the path
``profile`` discriminator, a slice with no type or        the slice
several types at the path (one type without profile is
matched by its type, as the HL7 validator does)
type slicing of a choice (``value[x]``): one             the slicing
discriminator, ``type`` on ``$this``, not ordered
a type slice with several types, or not named after its  the slice
type (``valueQuantity`` is a Quantity)
several type slices, one of them required (min 1)        the slice
slices of the base listed in another order               the differential element
=======================================================  =====================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ...definitions.registry import Registry
from .._issue import Issue
from .discriminator_path import discriminator_path_issues
from .json_values import dicts
from .slicing_values import check_discriminator_values

__all__ = ["check_slicing_definitions"]


def check_slicing_definitions(differential: Sequence[Mapping[str, Any]],
                              snapshot: Sequence[Mapping[str, Any]], at: str, *,
                              base_snapshot: Sequence[Mapping[str, Any]],
                              registry: Registry) -> Iterator[Issue]:
    """Check the slicings of ``snapshot`` that ``differential`` declares or adds slices to.

    Locations are the differential elements (``at.differential.element[i]``) that declare the
    slicing or the slice.
    """
    located = {str(e.get("id")): i for i, e in enumerate(differential)
               if isinstance(e.get("id"), str)}
    by_id = {str(e.get("id")): e for e in snapshot if isinstance(e.get("id"), str)}
    for sliced in snapshot:
        slicing, sliced_id = sliced.get("slicing"), sliced.get("id")
        if not isinstance(slicing, Mapping) or not isinstance(sliced_id, str):
            continue
        slices = _slices(sliced_id, snapshot)
        if sliced_id not in located and not any(s.get("id") in located for s in slices):
            continue
        here = f"{at}.differential.element[{located[sliced_id]}]" \
            if sliced_id in located else None
        if sliced_id.endswith("[x]"):
            yield from _check_type_slicing(sliced_id, slicing, slices, here, located, at,
                                           differential=differential)
        for slice_ in slices:
            index = located.get(str(slice_.get("id")))
            if index is not None:
                yield from _check_slice(slice_, slicing, by_id,
                                        f"{at}.differential.element[{index}]",
                                        snapshot=snapshot, registry=registry)
    yield from _check_base_order(differential, base_snapshot, at)


def _slices(sliced_id: str, snapshot: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The slices of the element ``sliced_id`` (``sliced_id:name``, not re-slices)."""
    return [e for e in snapshot if isinstance(e.get("id"), str)
            and str(e["id"]).startswith(sliced_id + ":")
            and "." not in str(e["id"])[len(sliced_id) + 1:]
            and "/" not in str(e["id"])[len(sliced_id) + 1:]]


def _check_slice(slice_: Mapping[str, Any], slicing: Mapping[str, Any],
                 by_id: Mapping[str, Mapping[str, Any]], at: str, *,
                 snapshot: Sequence[Mapping[str, Any]], registry: Registry) -> Iterator[Issue]:
    name = slice_.get("sliceName")
    for discriminator in dicts(slicing.get("discriminator")):
        kind, path = discriminator.get("type"), discriminator.get("path")
        if not isinstance(path, str):
            continue
        problems = list(discriminator_path_issues(path, slice_, snapshot, at,
                                                  registry=registry))
        yield from problems
        if problems or "(" in path:
            continue  # resolve(), extension('url'), ofType(): decided against targets
        target = slice_ if path == "$this" else by_id.get(f"{slice_.get('id')}.{path}")
        if target is None:
            continue
        if kind == "exists" and not (_min(target) >= 1 or target.get("max") == "0"):
            yield Issue.error("business-rule", at, f"the discriminator on {path} is based on "
                              f"existence, but the slice '{name}' neither sets min >= 1 nor "
                              "max = 0 there", "sd-slice-discriminator")
        elif kind in ("type", "profile"):
            types = dicts(target.get("type"))
            if not types or len(types) > 1:
                yield Issue.error("business-rule", at, f"the discriminator on {path} is based "
                                  f"on {kind}, but the slice '{name}' has "
                                  f"{'no type' if not types else 'several types'} there",
                                  "sd-slice-discriminator")
    yield from _check_slice_values(slice_, slicing, by_id, snapshot, at)
    yield from check_discriminator_values(slice_, slicing, by_id, at)


def _check_slice_values(slice_: Mapping[str, Any], slicing: Mapping[str, Any],
                        by_id: Mapping[str, Mapping[str, Any]],
                        snapshot: Sequence[Mapping[str, Any]], at: str) -> Iterator[Issue]:
    """A slicing by value or pattern only: the slice gives at least one discriminator a value
    (fixed[x] or pattern[x] at, above or below its path, or a required binding at it), else no
    item can ever match it (HL7 validator: "Could not match discriminator ... does not have
    fixed value, binding or existence assertions"). Slices typed by a profile take their
    values from it, and paths through functions or choices are not judged."""
    discriminators = dicts(slicing.get("discriminator"))
    paths = [d.get("path") for d in discriminators]
    slice_id = str(slice_.get("id"))
    if not discriminators or any(d.get("type") not in ("value", "pattern")
                                 for d in discriminators) \
            or any(not isinstance(p, str) or "(" in p or "[x]" in p for p in paths) \
            or any(t.get("profile") for t in dicts(slice_.get("type"))) \
            or ("url" in paths and str(slice_.get("path")).endswith("xtension")):
        return  # a sub-extension's slice name is its url (R4 extensibility.html, complex)
    parts = slice_id.split(".")
    if any(t.get("profile") for i in range(1, len(parts))
           for t in dicts(by_id.get(".".join(parts[:i]), {}).get("type"))):
        return  # inside a profiled type: the slice may come from it, with its values
    targets = [slice_id if p == "$this" else f"{slice_id}.{p}" for p in paths]
    if any(t not in by_id for t in targets):
        targets = [slice_id]  # not all unfolded: any value anywhere in the slice will do
    if any(_has_value(target, snapshot, slice_id) for target in targets):
        return
    yield Issue.error("business-rule", at, f"the slice '{slice_.get('sliceName')}' gives none "
                      f"of the discriminators ({', '.join(map(str, paths))}) a fixed value, "
                      "a pattern or a required binding, so nothing can match it",
                      "sd-slice-discriminator")


def _has_value(target: str, snapshot: Sequence[Mapping[str, Any]], slice_id: str) -> bool:
    for element in snapshot:
        element_id = str(element.get("id"))
        on_path = element_id == target or (target.startswith(element_id + ".")
                                           and element_id.startswith(slice_id))
        below = element_id.startswith(target + ".") or element_id.startswith(target + ":")
        if not (on_path or below):
            continue
        if any(k.startswith(p) and k[len(p):len(p) + 1].isupper()
               for k in element for p in ("fixed", "pattern")):
            return True
        binding = element.get("binding")
        if element_id == target and isinstance(binding, Mapping) \
                and binding.get("strength") == "required" and binding.get("valueSet"):
            return True
        if any(t.get("profile") for t in dicts(element.get("type"))) and (on_path or below):
            return True  # a profile below fixes what it fixes
    return False


def _check_type_slicing(sliced_id: str, slicing: Mapping[str, Any],
                        slices: Sequence[Mapping[str, Any]], here: str | None,
                        located: Mapping[str, int], at: str, *,
                        differential: Sequence[Mapping[str, Any]]) -> Iterator[Issue]:
    """A choice element is sliced by type only: one ``type`` discriminator on ``$this``,
    unordered (HL7 ProfileUtilities: type slicing); each slice is one of its types, named
    after it (``valueQuantity``). A slice that states no type takes it from its name, which
    must then name a type (ProfileUtilities.determineFixedType)."""
    discriminators = dicts(slicing.get("discriminator"))
    if here is not None and discriminators:
        said = [(d.get("type"), d.get("path")) for d in discriminators]
        if len(said) > 1:
            yield _type_slicing_issue(here, f"{len(said)} discriminators, not one")
        elif said[0][0] != "type":
            yield _type_slicing_issue(here, f"a '{said[0][0]}' discriminator, not 'type'")
        elif said[0][1] != "$this":
            yield _type_slicing_issue(here, f"the discriminator path '{said[0][1]}', not "
                                      "'$this'")
        if slicing.get("ordered") is True:
            yield _type_slicing_issue(here, "ordered = true")
    stem = sliced_id.rsplit(".", 1)[-1][:-3]
    for slice_ in slices:
        index = located.get(str(slice_.get("id")))
        if index is None:
            continue
        where, name = f"{at}.differential.element[{index}]", str(slice_.get("sliceName"))
        codes = [str(t.get("code")) for t in dicts(slice_.get("type"))]
        if not dicts(differential[index].get("type")) and len(codes) > 1 \
                and name not in {stem + c[:1].upper() + c[1:] for c in codes}:
            yield Issue.error("business-rule", where, f"the type slice '{name}' states no type, "
                              f"and its name does not name one of the types of {sliced_id} "
                              f"(a type slice of {stem}[x] is named {stem} + the type)",
                              "sd-type-slice")
            continue
        if len(codes) > 1:
            yield Issue.error("business-rule", where, f"the type slice '{name}' has more than "
                              f"one type ({', '.join(codes)})", "sd-type-slice")
        elif len(codes) == 1 and name != stem + codes[0][:1].upper() + codes[0][1:]:
            expected = stem + codes[0][:1].upper() + codes[0][1:]
            named = name.startswith(stem) and name[len(stem):len(stem) + 1].isupper()
            yield Issue.error("business-rule", where, f"the type slice '{name}' has the type "
                              f"'{codes[0]}', not the one its name says" if named else
                              f"the type slice '{name}' must be named '{expected}'",
                              "sd-type-slice")
        if _min(slice_) >= 1 and len(slices) > 1:
            yield Issue.error("business-rule", where, f"the type slice '{name}' is required "
                              f"(min {_min(slice_)}), so the other slices of {sliced_id} "
                              "cannot exist", "sd-type-slice")


def _type_slicing_issue(at: str, what: str) -> Issue:
    return Issue.error("business-rule", f"{at}.slicing", f"type slicing of a choice needs one "
                       f"'type' discriminator on '$this', unordered; found {what}",
                       "sd-type-slice")


def _check_base_order(differential: Sequence[Mapping[str, Any]],
                      base_snapshot: Sequence[Mapping[str, Any]], at: str) -> Iterator[Issue]:
    """Slices the base defines come in the differential in the base's order (HL7
    ProfileUtilities: "Named items are out of order in the slice")."""
    position = {str(e.get("id")): i for i, e in enumerate(base_snapshot)
                if isinstance(e.get("sliceName"), str) and isinstance(e.get("id"), str)}
    last: dict[str, int] = {}
    for i, element in enumerate(differential):
        element_id = element.get("id")
        where = position.get(element_id) if isinstance(element_id, str) else None
        if where is None or not isinstance(element_id, str):
            continue
        sliced = element_id.rsplit(":", 1)[0]
        if last.get(sliced, -1) > where:
            yield Issue.error("structure", f"{at}.differential.element[{i}]", f"the slice "
                              f"'{element.get('sliceName')}' comes before it in the base's "
                              f"slicing of {sliced}: named slices are out of order",
                              "sd-slice-order")
        last[sliced] = max(last.get(sliced, -1), where)


def _min(element: Mapping[str, Any]) -> int:
    value = element.get("min")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


