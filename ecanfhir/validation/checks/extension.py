"""Extensions: resolved by URL, used where their context allows, modifier or not as defined.

R4 §2.17 (http://hl7.org/fhir/R4/extensibility.html): an extension's ``url`` names its
StructureDefinition; ``StructureDefinition.context`` says which elements it may extend; an
extension whose definition is a modifier (``isModifier`` on its root element) SHALL be sent as
a ``modifierExtension`` and a regular one SHALL NOT. Like the HL7 validator, an extension whose
definition cannot be found is an error (it cannot be checked), except for example URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._exceptions import EcanfhirError
from ...definitions.compiled import CompiledStructure, ElementNode
from ...definitions.xver import status as cross_version_status
from ...fhirpath.engine import compile_expression
from .._issue import Issue
from .json_values import dicts

if TYPE_CHECKING:
    from .._context import Frame, Run

__all__ = ["base_types", "context_names", "definition_path", "resolve_extension"]

EXAMPLE_URL = re.compile(r"^https?://([^/]*\.)?example\.(org|com|net)(/|$)|^urn:example:")
INDEX = re.compile(r"\[\d+\]|\.ofType\([A-Za-z]+\)")


def definition_path(location: str, resource_path: str, resource_type: str) -> str:
    """``Bundle.entry[0].resource.name[1].family`` → ``Patient.name.family``."""
    relative = location[len(resource_path):] if location.startswith(resource_path) else ""
    return resource_type + INDEX.sub("", relative)


def base_types(run: Run, code: str) -> list[str]:
    """The types a type derives from, nearest first (Age: Quantity, Element; SimpleQuantity:
    Quantity, Element): an element context naming one of them admits the type, as the HL7
    validator follows baseDefinition (InstanceValidator.checkExtensionContext)."""
    out: list[str] = []
    structure = run.schema.find(code)
    while structure is not None and len(out) < 8:  # R4's deepest chain has 3 steps
        base = structure.definition.get("baseDefinition")
        structure = run.schema.find(base) if isinstance(base, str) else None
        if structure is not None:
            out.append(structure.type)
    return out


def resolve_extension(run: Run, extension: Mapping[str, Any], *, modifier: bool,
                      hosts: Sequence[str], at: str,
                      host: tuple[Mapping[str, Any], Frame] | None = None
                      ) -> tuple[CompiledStructure | None, list[Issue]]:
    """The definition of an extension instance, and the issues about its use here (``host``:
    the element it extends, with its resource's frame, when known)."""
    url = extension.get("url")
    if not isinstance(url, str) or not url:
        return None, []  # Extension.url 1..1 reports it
    if ":" not in url:
        # A relative url names a part of a complex extension (R4 §2.17.1.1): the enclosing
        # extension's definition must declare it (the slices of its Extension.extension).
        return None, list(_undeclared_part(run, url, hosts, at))
    structure = run.schema.find(url.split("|", 1)[0]) if "|" not in url else run.schema.find(url)
    if structure is None:
        if EXAMPLE_URL.match(url):
            return None, []
        return None, list(_unknown(run, url, at))
    if structure.type != "Extension":
        return None, [Issue.error("structure", at, f"'{url}' is a {structure.type} definition, not "
                                  "an extension", "extension-not-extension")]
    return structure, list(_use_issues(structure, modifier=modifier, hosts=hosts, at=at,
                                       url=url, host=host))


def _unknown(run: Run, url: str, at: str) -> Iterator[Issue]:
    """Issues for an extension whose definition is not found (see the module's table)."""
    xver = cross_version_status(url)
    path = url.rsplit("/extension-", 1)[-1]
    if xver == "unknown":
        yield Issue.error("structure", at, f"'{url}': '{path}' is not a valid cross-version "
                          "extension path (no such element in that FHIR version)",
                          "extension-xver-path")
    elif xver == "unchanged":
        yield Issue.error("structure", at, f"'{url}': '{path}' is the same in R4, so the R4 "
                          "element must be used, not a cross-version extension",
                          "extension-xver-unchanged")
    elif xver == "bad-version":
        yield Issue.error("structure", at, f"'{url}' is not a valid cross-version extension: "
                          "its version is not a FHIR release", "extension-xver-version")
    elif xver == "not-shipped":
        yield Issue.warning("not-supported", at, f"cross-version extensions of this FHIR release "
                            f"are not known offline, so '{url}' was not checked",
                            "extension-xver-unchecked")
        return
    options = run.options
    if options.allow_any_extensions or any(url.startswith(d)
                                           for d in options.allow_extension_domains):
        yield Issue.information("informational", at, f"the extension '{url}' is unknown; it is "
                                "accepted unchecked (extensions from this domain are allowed)",
                                "extension-unknown-allowed")
    elif xver in (None, "valid"):  # valid: its definition is off (Registry(defaults=False))
        yield Issue.error("structure", at, f"the extension '{url}' could not be found, so it is "
                          "not allowed here (load its package: --ig on the command line, "
                          "load_ig() from Python; or allow it with --allow-any-extensions / "
                          "--allow-extension-domain)", "extension-unknown")


def _undeclared_part(run: Run, url: str, hosts: Sequence[str], at: str) -> Iterator[Issue]:
    enclosing = next((h for h in reversed(hosts) if ":" in h), None)
    structure = run.schema.find(enclosing) if enclosing else None
    if structure is None or structure.type != "Extension":
        return
    sliced = structure.root.children.get("extension")
    if sliced is None or not sliced.slices:
        return  # a simple extension: Extension.extension max 0 reports it
    declared = [s.children["url"].fixed[1] for s in sliced.slices
                if "url" in s.children and s.children["url"].fixed is not None]
    if url not in declared:
        yield Issue.error("invalid", at, f"the sub-extension '{url}' is not defined by the "
                          f"extension {enclosing} (it declares {', '.join(declared)})",
                          "extension-part-unknown")


def _use_issues(structure: CompiledStructure, *, modifier: bool, hosts: Sequence[str], at: str,
                url: str, host: tuple[Mapping[str, Any], Frame] | None) -> Iterator[Issue]:
    is_modifier = structure.root.is_modifier
    if is_modifier and not modifier:
        yield Issue.error("structure", at, f"the extension '{url}' is a modifier extension, so it "
                          "must be sent as a modifierExtension", "extension-modifier")
    elif modifier and not is_modifier:
        yield Issue.error("structure", at, f"the extension '{url}' is not a modifier extension, so "
                          "it must not be sent as a modifierExtension", "extension-modifier")
    contexts = dicts(structure.definition.get("context"))
    if not contexts or not hosts:
        return
    allowed = []
    for context in contexts:
        expression = str(context.get("expression", ""))
        kind = context.get("type")
        allowed.append(expression)
        if kind in ("element", "extension") and _context_matches(expression, hosts):
            yield from _context_invariants(structure, host, at=at, url=url)
            return
        if kind == "fhirpath" and _fhirpath_context_matches(expression, host):
            yield from _context_invariants(structure, host, at=at, url=url)
            return
        if kind not in ("element", "extension", "fhirpath"):
            # R4 ExtensionContextType has three codes; the HL7 validator stops on any other
            # (InstanceValidator.checkExtensionContext: "Unrecognised extension context")
            yield Issue.error("invalid", at, f"the definition of the extension '{url}' has a "
                              f"context of unrecognised type '{kind}' (not element, extension "
                              "or fhirpath)", "extension-context")
    # A context naming a child of this element is not this element either (the HL7 validator:
    # humanname-mothers-family, for HumanName.family, on a HumanName). R4 core's own misplaced
    # contexts (structuredefinition-fhir-type) are corrected in the extension pack, which the
    # registry prefers, as the HL7 validator does.
    yield Issue.error("structure", at, f"the extension '{url}' is not allowed here (this is "
                      f"{', '.join(hosts[:2])}; its context allows {', '.join(allowed)})",
                      "extension-context")


def _fhirpath_context_matches(expression: str,
                              host: tuple[Mapping[str, Any], Frame] | None) -> bool:
    """A FHIRPath context (R4 §2.17.0.1): the extended element must be among the nodes the
    expression selects in its resource. Accepted when that cannot be told (a primitive's
    extension, an expression that does not run here)."""
    env = host[1].env if host is not None else None
    if host is None or env is None:
        return True
    element, frame = host
    try:
        found = compile_expression(expression).evaluate(frame.resource, env)
    except EcanfhirError:
        return True
    return any(node is element for node in found)


def _context_invariants(structure: CompiledStructure,
                        host: tuple[Mapping[str, Any], Frame] | None, *, at: str,
                        url: str) -> Iterator[Issue]:
    """StructureDefinition.contextInvariant: each must hold on the extended element."""
    invariants = structure.definition.get("contextInvariant") or ()
    env = host[1].env if host is not None else None
    if host is None or env is None or not invariants:
        return
    element, frame = host
    hint = frame.resource_type if element is frame.resource else None
    for invariant in invariants:
        if not isinstance(invariant, str):
            continue
        try:
            holds = compile_expression(invariant, type_hint=hint).test(element, env)
        except EcanfhirError:
            continue  # the StructureDefinition checks report expressions that do not compile
        if not holds:
            yield Issue.error("structure", at, f"the extension '{url}' is not allowed here: its "
                              f"context invariant '{invariant}' does not hold",
                              "extension-context-invariant")


def _context_matches(expression: str, hosts: Sequence[str]) -> bool:
    expression = expression.replace("[x]", "")
    if expression in ("Element", "Base"):
        return True
    return expression in hosts


def context_names(run: Run, obj: Mapping[str, Any], node: ElementNode, type_code: str | None,
                  path: str, frame: Frame, is_resource: bool) -> tuple[str, ...]:
    """What an object is, in the terms of StructureDefinition.context (R4 §2.17.0.4)."""
    names = [definition_path(path, frame.path, frame.resource_type), node.path, node.base_path]
    if node.content_reference:
        # Questionnaire.item.item is defined by contentReference #Questionnaire.item: it is a
        # Questionnaire.item for extension contexts too (the HL7 validator adds the referenced
        # element's path to the logical paths of the node).
        target = run.schema.content_target(node)
        if target is not None:
            names.append(target.path)
    if is_resource:
        names += ["Resource", "DomainResource", "CanonicalResource"]
    codes = [type_code] if type_code else list(node.type_codes())
    for code in codes:
        names.append(code)
        names += base_types(run, code)
    if node.path == "Extension" or "Extension" in codes:
        url = obj.get("url")
        if isinstance(url, str):
            names.append(url)
    return tuple(dict.fromkeys(n for n in names if n))
