"""ValueSet resources: what their ``compose`` may say (R4 valueset.html §4.9.5, "Value Set
Composition"), checked offline against the code systems and value sets that are loaded.

Each ``compose.include`` / ``exclude`` is checked as the HL7 validator checks it:

==============================================  ======================================  =========
situation                                        rule                                    severity
==============================================  ======================================  =========
``valueSet`` not loaded / not a ValueSet          cannot be checked / wrong type          warning
several ``valueSet`` in one include               union or intersection? (FHIR-25179)     warning
``system`` not absolute (``#cs`` too)             absolute; contained systems by their    error
                                                  canonical URL
``system`` ``#id``: no contained CodeSystem       the contained resource must be one      error
system is a supplement                            include the base code system            error
system's content is example / fragment            the value set may be incomplete         warning /
                                                                                          info
concept code not in a complete loaded system      no such code                            warning
system not loaded (and not one known by name)     codes cannot be checked                 warning
concepts or filters without a system              cannot be checked                       warning
filter property unknown to a loaded system        may not be understood                   warning
filter op the property does not allow             e.g. ``regex`` on ``concept``           error
filter value not of the property's type           boolean, code, dateTime, decimal,       error
                                                  integer, Coding ``system#code``
filter value a code the system does not have      e.g. ``concept is-a X``                 error
==============================================  ======================================  =========

Filter rules follow the property: the CodeSystem's own property and filter declarations, else
the properties every code system has (``concept``, ``code``, ``status``, ``inactive``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ...terminology.value_sets import EXTERNAL_SYSTEMS
from .._issue import Issue
from .json_values import dicts, objects
from .uri import host_within, is_absolute
from .value_set_concepts import SNOMED, check_semantic_tags, check_supplements

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_value_set"]

# Properties every code system has (R4 codesystem.html#defined-props, and concept/code), with
# their value type and the operators allowed on them (empty: any).
_CONCEPT_OPS = frozenset({"=", "in", "is-a", "descendent-of", "descendent-leaf", "is-not-a",
                          "not-in"})
_COMMON: Mapping[str, tuple[str, frozenset[str], bool]] = {
    # property: (value type, operators, value must be a code of the system)
    "concept": ("code", _CONCEPT_OPS, True),
    "code": ("code", frozenset({"=", "regex"}), True),
    "status": ("code", frozenset(), False),
    "inactive": ("boolean", frozenset(), False),
    "effectiveDate": ("dateTime", frozenset(), False),
    "deprecationDate": ("dateTime", frozenset(), False),
    "retirementDate": ("dateTime", frozenset(), False),
    "notSelectable": ("boolean", frozenset(), False),
    "parent": ("code", frozenset(), True),
    "child": ("code", frozenset(), True),
    "partOf": ("code", frozenset(), True),
    "synonym": ("code", frozenset(), False),
    "itemWeight": ("decimal", frozenset(), False),
}
_KNOWN_NAMES = frozenset(_COMMON) | {"comment"}
_HIERARCHY = frozenset({"parent", "child", "partOf"})  # only where the system has a hierarchy
_DATETIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|"
    r"3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|"
    r"1[0-3]):[0-5][0-9]|14:00))?)?)?)?")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_CODING = re.compile(r"[^\s#|]+(\|[^\s#]+)?#\S+")
_EXAMPLE_HOSTS = ("example.org", "example.com", "acme.com", "acme.org")


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def check_value_set(run: Run, vs: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """The includes and excludes of a ValueSet's compose."""
    yield from check_supplements(run.schema.registry, vs, at)
    compose = vs.get("compose")
    if not isinstance(compose, Mapping):
        return
    for part in ("include", "exclude"):
        for i, include in objects(compose.get(part)):
            yield from _include(run, vs, include, f"{at}.compose.{part}[{i}]")


def _include(run: Run, vs: Mapping[str, Any], include: Mapping[str, Any],
             at: str) -> Iterator[Issue]:
    yield from _imports(run, include, at, own=_str(vs, "url"))
    system, version = _str(include, "system"), _str(include, "version")
    concepts = objects(include.get("concept"))
    filters = objects(include.get("filter"))
    if system is None:
        if concepts or filters:
            yield Issue.warning("business-rule", at, "concepts and filters without a system "
                                "cannot be checked", "valueset-system")
        return
    if not is_absolute(system):
        how = (" (a contained CodeSystem is named by its canonical URL, with the "
               "valueset-system extension)" if system.startswith("#") else "")
        yield Issue.error("invalid", f"{at}.system", f"the include system '{system}' must be an "
                          f"absolute URI{how}", "valueset-system")
        if system.startswith("#"):
            yield from _contained_system(vs, system, version, at)
        return
    code_system = run.schema.registry.code_system(system)
    if code_system is not None:
        yield from _system_content(code_system, system, at)
        if version is None and system not in EXTERNAL_SYSTEMS:
            yield from _several_versions(run, system, code_system, at)
    if version is not None and code_system is not None and (concepts or filters) \
            and isinstance(code_system.get("version"), str) \
            and run.schema.registry.code_system(f"{system}|{version}") is None:
        # the HL7 validator's VALUESET_UNC_SYSTEM_WARNING_VER: that version is not here
        yield Issue.warning("not-found", f"{at}.version", f"the code system '{system}' version "
                            f"'{version}' is not loaded (version {code_system.get('version')!r} "
                            "is), so its concepts and filters cannot be checked",
                            "valueset-concept")
        return
    if concepts:
        yield from _concepts(run, system, code_system, concepts, at, version=version)
    for j, flt in filters:
        yield from _filter(run, system, code_system, flt, f"{at}.filter[{j}]")


def _imports_itself(run: Run, url: str, own: str | None) -> bool:
    """Whether the value set ``url``, through its own imports, comes back to ``own``."""
    if own is None:
        return False
    seen, todo = set(), [url]
    while todo:
        current = todo.pop().split("|", 1)[0]
        if current == own:
            return True
        if current in seen:
            continue
        seen.add(current)
        compose = (run.schema.registry.value_set(current) or {}).get("compose")
        for part in ("include", "exclude"):
            for include in dicts(compose.get(part) if isinstance(compose, Mapping) else None):
                todo.extend(_strings(include.get("valueSet")))
    return False


def _imports(run: Run, include: Mapping[str, Any], at: str, *,
             own: str | None = None) -> Iterator[Issue]:
    imports = include.get("valueSet")
    urls = [(j, v) for j, v in enumerate(imports) if isinstance(v, str)] \
        if isinstance(imports, list) else []
    registry = run.schema.registry
    for j, url in urls:
        if _imports_itself(run, url, own):
            yield Issue.error("business-rule", f"{at}.valueSet[{j}]", f"importing '{url}' "
                              "leads back to this value set: its definition is circular",
                              "valueset-import")
            continue
        if registry.value_set(url) is not None:
            continue
        other = registry.get(url)
        if other is not None:
            yield Issue.warning("business-rule", f"{at}.valueSet[{j}]", f"'{url}' is a "
                                f"{other.get('resourceType')}, not a ValueSet", "valueset-import")
        else:
            yield Issue.warning("not-found", f"{at}.valueSet[{j}]", f"the value set '{url}' is "
                                "not loaded, so this import cannot be checked", "valueset-import")
    if len(urls) > 1:
        yield Issue.warning("business-rule", at, "several value sets in one include are "
                            "intersected (FHIR-25179); to unite them, put each in its own "
                            "include", "valueset-import")


def _contained_system(vs: Mapping[str, Any], system: str, version: str | None,
                      at: str) -> Iterator[Issue]:
    found = []
    for contained in dicts(vs.get("contained")):
        if f"#{contained.get('id')}" != system:
            continue
        if contained.get("resourceType") != "CodeSystem":
            yield Issue.error("invalid", f"{at}.system", f"'{system}' names a contained "
                              f"{contained.get('resourceType')}, not a CodeSystem",
                              "valueset-system")
        elif version is None or contained.get("version") == version:
            found.append(contained)
    if not found:
        yield Issue.error("invalid", f"{at}.system", f"no contained CodeSystem matches "
                          f"'{system}'" + (f" version '{version}'" if version else ""),
                          "valueset-system")
    elif len(found) > 1:
        yield Issue.error("invalid", f"{at}.system", f"several contained CodeSystems match "
                          f"'{system}'", "valueset-system")


def _system_content(code_system: Mapping[str, Any], system: str, at: str) -> Iterator[Issue]:
    content = code_system.get("content")
    if content == "supplement":
        yield Issue.error("invalid", f"{at}.system", f"'{system}' is a supplement: include the "
                          f"code system it supplements ({code_system.get('supplements')}) "
                          "and name the supplement with the valueset-supplement extension",
                          "valueset-system")
    elif content == "example":
        yield Issue.warning("business-rule", f"{at}.system", f"the CodeSystem '{system}' is "
                            "only an example (content = example)", "valueset-system")
    elif content == "fragment":
        yield Issue.information("informational", f"{at}.system", f"the CodeSystem '{system}' "
                                "is a fragment (content = fragment)", "valueset-system")


def _several_versions(run: Run, system: str, code_system: Mapping[str, Any],
                      at: str) -> Iterator[Issue]:
    """An include without a version, of a code system loaded in several versions: which one
    applies is up to each implementation (the HL7 validator's
    TYPE_SPECIFIC_CHECKS_DT_CANONICAL_MULTIPLE_POSSIBLE_VERSIONS, a warning)."""
    versions = run.schema.registry.versions(system)
    if len(versions) > 1:
        yield Issue.warning("invalid", at, f"there are several versions of '{system}' "
                            f"({', '.join(versions)}): fix the version to the one meant; "
                            f"version '{code_system.get('version')}' is used here",
                            "valueset-system")



def _concepts(run: Run, system: str, code_system: Mapping[str, Any] | None,
              concepts: list[tuple[int, Mapping[str, Any]]], at: str, *,
              version: str | None = None) -> Iterator[Issue]:
    term = run.terminology
    if system == SNOMED:
        yield from check_semantic_tags(concepts, at)
    if not term.is_known_system(system):
        if code_system is None and system not in EXTERNAL_SYSTEMS:
            if host_within(system, _EXAMPLE_HOSTS):
                yield Issue.information("informational", at, f"'{system}' is an example code "
                                        "system, so its concepts were not checked",
                                        "valueset-concept")
            else:
                shown = f"'{system}' version '{version}'" if version else f"'{system}'"
                yield Issue.warning("not-found", f"{at}.system", f"the code system {shown} "
                                    "is not loaded, so its concepts cannot be checked",
                                    "valueset-concept")
        return
    with_display = 0
    for k, concept in concepts:
        code = _str(concept, "code")
        with_display += isinstance(concept.get("display"), str)
        if code is not None and term.validate_system_code(system, code):
            yield Issue.warning("business-rule", f"{at}.concept[{k}].code", f"the code '{code}' "
                                f"is not in the code system '{system}'", "valueset-concept")
    if 0 < with_display < len(concepts):
        yield Issue.information("informational", at, "some concepts have displays and some do "
                                "not: check that this is intended", "valueset-concept")


def _filter(run: Run, system: str, code_system: Mapping[str, Any] | None,
            flt: Mapping[str, Any], at: str) -> Iterator[Issue]:
    prop, op, value = _str(flt, "property"), _str(flt, "op"), _str(flt, "value")
    if prop is None or op is None or value is None:
        return
    declared = _declared(code_system, prop)
    known = _KNOWN_NAMES if code_system is None or "hierarchyMeaning" in code_system \
        else _KNOWN_NAMES - _HIERARCHY
    if code_system is not None and declared is None and prop not in known:
        yield Issue.warning("invalid", f"{at}.property", f"the property '{prop}' is not defined "
                            f"by the code system '{system}'", "valueset-filter")
        return
    if code_system is None and system not in EXTERNAL_SYSTEMS and prop not in known:
        # the HL7 validator's VALUESET_UNKNOWN_FILTER_PROPERTY_NO_CS (a hint)
        yield Issue.information("invalid", f"{at}.property", f"no definition of the code system "
                                f"'{system}' is loaded, and '{prop}' is not a property every "
                                "code system has, so the filter may not be understood (those: "
                                f"{', '.join(sorted(known))})", "valueset-filter")
        return
    rules: tuple[str | None, frozenset[str], bool] = \
        declared or _COMMON.get(prop) or (None, frozenset(), False)
    kind, ops, must_exist = rules
    if ops and op not in ops:
        yield Issue.error("invalid", f"{at}.op", f"the operator '{op}' is not allowed for the "
                          f"property '{prop}' (allowed: {', '.join(sorted(ops))})",
                          "valueset-filter")
    if op == "regex":
        if prop == "concept":
            yield Issue.error("invalid", f"{at}.op", "a regex filter applies to codes or a named "
                              "property, not to 'concept'", "valueset-filter")
        problem = _regex_problem(value)
        if problem:
            yield Issue.warning("invalid", f"{at}.value", f"the value '{value}' of a regex "
                                f"filter should be a valid regular expression ({problem})",
                                "valueset-filter")
        return
    if op == "exists":
        kind, must_exist = "boolean", False
    elif op not in ("in", "not-in") and "," in value:
        yield Issue.information("informational", f"{at}.value", f"the value has a comma, but "
                                f"the operator '{op}' takes one value: the comma is part of it",
                                "valueset-filter")
    values = value.split(",") if op in ("in", "not-in") else [value]
    for one in values:
        problem = _value_problem(kind, one)
        if problem:
            yield Issue.error("invalid", f"{at}.value", f"the value '{one}' of a filter on "
                              f"'{prop}' must be {problem}", "valueset-filter")
        elif kind == "code" and must_exist and run.terminology.validate_system_code(system, one):
            yield Issue.error("invalid", f"{at}.value", f"the value '{one}' of a filter on "
                              f"'{prop}' is not a code of '{system}'", "valueset-filter")
        elif kind == "Coding":
            head, _, coded = one.partition("#")  # system(|version)#code
            problem = run.terminology.validate_system_code(head.split("|", 1)[0], coded)
            if problem:  # the HL7 validator's VALUESET_BAD_FILTER_VALUE_CODED_INVALID
                yield Issue.error("invalid", f"{at}.value", f"the value '{one}' of a filter on "
                                  f"'{prop}' is not a valid code ({problem})", "valueset-filter")


# Constructs of other regex dialects (Java's, XML Schema's) that Python's re rejects: a value
# using them is not judged.
_OTHER_DIALECTS = ("\\p", "\\P", "(?<", "\\Q", "\\z", "[[", "&&", "\\i", "\\c")


def _regex_problem(value: str) -> str | None:
    if any(mark in value for mark in _OTHER_DIALECTS):
        return None
    try:
        re.compile(value)
    except re.error as err:
        return str(err)
    return None


def _declared(code_system: Mapping[str, Any] | None,
              prop: str) -> tuple[str | None, frozenset[str], bool] | None:
    """The value type and operators a CodeSystem declares for a filter property, if it does."""
    if code_system is None:
        return None
    ops = frozenset(op for f in dicts(code_system.get("filter")) if f.get("code") == prop
                    for op in _strings(f.get("operator")))
    for p in dicts(code_system.get("property")):
        if p.get("code") == prop:
            kind = p.get("type")
            # a 'code' property is often a code of another list, so only its form is checked
            return (kind if isinstance(kind, str) and kind != "string" else None), ops, False
    return (None, ops, False) if ops else None


def _value_problem(kind: str | None, value: str) -> str | None:
    if kind == "boolean" and value not in ("true", "false"):
        return "'true' or 'false'"
    if kind == "code" and value.strip() != value:
        return "a code (no leading or trailing whitespace)"
    if kind == "dateTime" and _DATETIME.fullmatch(value) is None:
        return "a date or dateTime"
    if kind == "decimal" and _DECIMAL.fullmatch(value) is None:
        return "a decimal"
    if kind == "integer" and _INTEGER.fullmatch(value) is None:
        return "an integer"
    if kind == "Coding" and _CODING.fullmatch(value) is None:
        return "a coding written system(|version)#code"
    return None
