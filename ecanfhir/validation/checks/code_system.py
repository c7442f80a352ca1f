"""CodeSystem resources: what their content, count, supplements, properties and designations
say must agree (R4 codesystem.html), as the HL7 validator checks a CodeSystem it validates.

==================================================  =============================  ============
situation                                            rule                           severity
==================================================  =============================  ============
a supplement (``supplements``) whose content is not  content = supplement; no       error
'supplement', or with caseSensitive/hierarchyMeaning  caseSensitive/hierarchy
content 'supplement' without ``supplements``          say what it supplements        error
supplement concept the base system lacks              codes of the base              error
supplement of a system that is not loaded             cannot be checked              warning
caseSensitive / hierarchyMeaning (with nested         should be stated               warning (HL7
concepts) not stated                                                                 URL) / info
``count`` of a complete system                        the number of concepts         error
``count`` of an example or fragment                   more than the concepts given   warning
content 'not-present' with concepts                   no concepts                    error
``valueSet`` (all codes): loaded value set            one include of this system,    error
                                                      no details, expansion size
``valueSet`` of an incomplete system                  unusual                        information
property uri in hl7.org/fhir not a concept property   a known concept property       error
the same property uri or code twice                   once                           error
known property uri, other code or type                the property's code and type   error
property without uri: a known code / another code     say the uri / no meaning        warning/info
concept property: no value, another type              as declared                    error
concept property not declared                         tools cannot read it           warning
designation without use or language differing from    the display (or add a use)     warning
the display
a contained CodeSystem (outside a Questionnaire)      better not contained           information
==================================================  =============================  ============
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._issue import Issue
from .json_values import dicts, objects

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_code_system"]

PROPERTIES_URI = "http://hl7.org/fhir/concept-properties#"
# The concept properties every code system may use, with their types (codesystem.html#defined-props)
KNOWN_PROPERTIES: Mapping[str, str | None] = {
    "status": "code", "inactive": "boolean", "effectiveDate": "dateTime",
    "deprecationDate": "dateTime", "retirementDate": "dateTime", "notSelectable": "boolean",
    "parent": "code", "child": "code", "partOf": "code", "synonym": "code", "comment": "string",
    "itemWeight": "decimal",
}
_VALUE_TYPES = ("code", "Coding", "string", "integer", "boolean", "dateTime", "decimal")


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _concepts(concepts: Any, at: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every concept, nested ones included, with its location."""
    for i, concept in objects(concepts):
        where = f"{at}.concept[{i}]"
        yield where, concept
        yield from _concepts(concept.get("concept"), where)


def check_code_system(run: Run, cs: Mapping[str, Any], at: str, *,
                      contained_in: str | None = None) -> Iterator[Issue]:
    """The CodeSystem's own consistency, and its supplement, value set and properties.

    Args:
        contained_in: the resource type containing this CodeSystem, when it is contained.
    """
    concepts = list(_concepts(cs.get("concept"), at))
    yield from _meta(cs, at, len(concepts))
    yield from _supplement(run, cs, at, concepts)
    yield from _all_codes_value_set(run, cs, at, len(concepts))
    if contained_in is not None and contained_in not in ("Questionnaire", "CodeSystem"):
        yield Issue.information("informational", at, "code systems are referred to by their "
                                "canonical URL from Coding.system, so they are best not "
                                "contained", "codesystem-contained")
    declared = yield from _properties(cs, at)
    yield from _concept_properties(cs, concepts, declared)


def _meta(cs: Mapping[str, Any], at: str, count: int) -> Iterator[Issue]:
    content, url = _str(cs, "content"), _str(cs, "url") or ""
    if isinstance(cs.get("supplements"), str):
        if content != "supplement":
            yield Issue.error("business-rule", f"{at}.content", "a CodeSystem that supplements "
                              "another has content 'supplement'", "codesystem-supplement")
        for name in ("caseSensitive", "hierarchyMeaning"):
            if name in cs:
                yield Issue.error("business-rule", f"{at}.{name}", f"a supplement does not state "
                                  f"{name}: the supplemented code system does",
                                  "codesystem-supplement")
    else:
        if content == "supplement":
            yield Issue.error("business-rule", f"{at}.content", "a supplement says which code "
                              "system it supplements (CodeSystem.supplements)",
                              "codesystem-supplement")
        hl7 = "hl7.org" in url or "fhir.org" in url
        nested = any(isinstance(c.get("concept"), list) for c in dicts(cs.get("concept")))
        for name, needed in (("caseSensitive", True), ("hierarchyMeaning", nested)):
            if needed and name not in cs:
                message = f"the CodeSystem should state {name}, so users know how to read codes"
                yield (Issue.warning("business-rule", at, message, "codesystem-meta") if hl7
                       else Issue.information("informational", at, message, "codesystem-meta"))
    yield from _count(cs, at, content, count)


def _count(cs: Mapping[str, Any], at: str, content: str | None, count: int) -> Iterator[Issue]:
    stated = cs.get("count")
    if isinstance(stated, int) and not isinstance(stated, bool):
        if content == "complete" and stated != count:
            yield Issue.error("value", f"{at}.count", f"the code system is complete, but it has "
                              f"{count} concepts, not the {stated} stated", "codesystem-count")
        elif content in ("example", "fragment") and count >= stated:
            yield Issue.warning("value", f"{at}.count", f"the code system is a {content}, but "
                                f"its {count} concepts reach the stated total of {stated}",
                                "codesystem-count")
    if content == "not-present" and stated == 0 and not isinstance(stated, bool):
        yield Issue.warning("value", f"{at}.count", "the content is 'not-present' and the stated "
                            "total is 0: if the code system really has no concepts, it is "
                            "complete; otherwise state its size or leave count out",
                            "codesystem-count")
    if content == "not-present" and count:
        yield Issue.error("business-rule", f"{at}.concept[0]", "the content is 'not-present', "
                          "so no concepts are given", "codesystem-count")


def _supplement(run: Run, cs: Mapping[str, Any], at: str,
                concepts: list[tuple[str, Mapping[str, Any]]]) -> Iterator[Issue]:
    supplements = _str(cs, "supplements")
    if supplements is None or not concepts:
        return
    base = supplements.split("|", 1)[0]
    term = run.terminology
    if not term.is_known_system(base):
        yield Issue.warning("not-found", at, f"the supplemented CodeSystem {supplements} is not "
                            "loaded, so the supplement's concepts cannot be checked",
                            "codesystem-supplement")
        return
    base_cs = run.schema.registry.code_system(base) or {}
    stated, base_count = cs.get("count"), base_cs.get("count")
    if isinstance(stated, int) and isinstance(base_count, int) and stated != base_count:
        yield Issue.warning("value", f"{at}.count", f"the supplement states {stated} concepts, "
                            f"but the supplemented code system states {base_count}",
                            "codesystem-count")
    base_displays = {c.get("code"): c.get("display")
                     for _, c in _concepts(base_cs.get("concept"), "")}
    for where, concept in concepts:
        code = _str(concept, "code")
        if code is None:
            continue
        if term.validate_system_code(base, code):
            yield Issue.error("business-rule", f"{where}.code", f"the code '{code}' is not in "
                              f"the supplemented CodeSystem {supplements}",
                              "codesystem-supplement")
            continue
        display, base_display = _str(concept, "display"), base_displays.get(code)
        if display and isinstance(base_display, str) and display.lower() != base_display.lower() \
                and cs.get("language") == base_cs.get("language"):
            yield Issue.information("informational", f"{where}.display", f"the display "
                                    f"'{display}' differs from the base code system's "
                                    f"'{base_display}' in the same language",
                                    "codesystem-supplement")


def _all_codes_value_set(run: Run, cs: Mapping[str, Any], at: str,
                         count: int) -> Iterator[Issue]:
    vs_url, url = _str(cs, "valueSet"), _str(cs, "url")
    if vs_url is None or url is None:
        return
    if cs.get("content") == "supplement":
        base = _str(cs, "supplements")
        base_cs = run.schema.registry.code_system(base.split("|", 1)[0]) if base else None
        base_vs = base_cs.get("valueSet") if base_cs is not None else None
        words = (f", and this one is not the base code system's ({base_vs})"
                 if base_cs is not None and base_vs != vs_url else "")
        yield Issue.warning("business-rule", f"{at}.valueSet", "a supplement should not name "
                            "an 'all codes' value set; if it does, it must be the supplemented "
                            f"code system's{words}", "codesystem-valueset")
        return
    if cs.get("content") not in ("complete", "supplement"):
        yield Issue.information("informational", f"{at}.valueSet", "an incomplete code system "
                                "usually has no 'all codes' value set", "codesystem-valueset")
    vs = run.schema.registry.value_set(vs_url)
    if vs is None:
        return
    compose = vs.get("compose")
    includes = objects(compose.get("include")) if isinstance(compose, Mapping) else []
    where = f"{at}.valueSet"
    if len(includes) != 1:
        yield Issue.error("business-rule", where, f"the 'all codes' value set {vs_url} has no "
                          "single include", "codesystem-valueset")
        return
    include = includes[0][1]
    if include.get("system") != url:
        yield Issue.error("business-rule", where, f"the 'all codes' value set {vs_url} includes "
                          f"{include.get('system')}, not this code system",
                          "codesystem-valueset")
    elif any(key in include for key in ("valueSet", "concept", "filter")):
        yield Issue.error("business-rule", where, f"the 'all codes' value set {vs_url} selects "
                          "codes (concepts, filters or value sets) instead of including them "
                          "all", "codesystem-valueset")
    else:
        expansion = vs.get("expansion")
        contains = expansion.get("contains") if isinstance(expansion, Mapping) else None
        if isinstance(contains, list) and len(contains) != count:
            yield Issue.error("business-rule", where, f"the expansion of the 'all codes' value "
                              f"set {vs_url} has {len(contains)} codes, not {count}",
                              "codesystem-valueset")


def _properties(cs: Mapping[str, Any],
                at: str) -> Generator[Issue, None, dict[str, str | None]]:
    """Issues of the property definitions; returns the declared property types by code."""
    declared: dict[str, str | None] = {}
    seen: set[str] = set()
    for i, prop in objects(cs.get("property")):
        where = f"{at}.property[{i}]"
        uri, code, kind = _str(prop, "uri"), _str(prop, "code"), _str(prop, "type")
        known_by_uri = None
        if uri is not None:
            if uri in seen:
                yield Issue.error("business-rule", where, f"a property is already defined with "
                                  f"the uri '{uri}'", "codesystem-property")
            seen.add(uri)
            if "hl7.org/fhir" in uri:
                known_by_uri = uri[len(PROPERTIES_URI):] if uri.startswith(PROPERTIES_URI) \
                    and uri[len(PROPERTIES_URI):] in KNOWN_PROPERTIES else None
                if known_by_uri is None:
                    yield Issue.error("business-rule", where, f"'{uri}' is not a concept "
                                      "property HL7 defines; a property of your own does not "
                                      "take an HL7 uri", "codesystem-property")
        if code is not None:
            if code in declared:
                yield Issue.error("business-rule", where, f"a property is already defined with "
                                  f"the code '{code}'", "codesystem-property")
            else:
                declared[code] = kind
        yield from _property_meaning(code, kind, uri, known_by_uri, where)
    return declared


def _property_meaning(code: str | None, kind: str | None, uri: str | None,
                      known_by_uri: str | None, where: str) -> Iterator[Issue]:
    known_by_code = code if code in KNOWN_PROPERTIES else None
    if known_by_uri is not None:
        if known_by_code is not None and known_by_code != known_by_uri:
            yield Issue.error("business-rule", where, f"the uri '{uri}' is the property "
                              f"'{known_by_uri}'; the code '{code}' will confuse filters",
                              "codesystem-property")
        if kind is not None and kind != KNOWN_PROPERTIES[known_by_uri]:
            yield Issue.error("business-rule", where, f"the uri '{uri}' names a property of type "
                              f"{KNOWN_PROPERTIES[known_by_uri]}, not {kind}",
                              "codesystem-property")
    elif uri is None and code is not None:
        if known_by_code is None:
            yield Issue.information("informational", where, f"the property '{code}' has no uri, "
                                    "so it has no defined meaning outside this code system",
                                    "codesystem-property")
        else:
            yield Issue.warning("business-rule", where, f"the property '{code}' is a standard "
                                f"one: give its uri {PROPERTIES_URI}{code}", "codesystem-property")
            if kind is not None and kind != KNOWN_PROPERTIES[code]:
                yield Issue.warning("business-rule", where, f"the property '{code}' has the type "
                                    f"{KNOWN_PROPERTIES[code]}, not {kind}", "codesystem-property")


def _concept_properties(cs: Mapping[str, Any], concepts: list[tuple[str, Mapping[str, Any]]],
                        declared: dict[str, str | None]) -> Iterator[Issue]:
    language = cs.get("language")
    codes = {code for _, concept in concepts if isinstance(code := concept.get("code"), str)}
    for where, concept in concepts:
        for i, prop in objects(concept.get("property")):
            code, at = _str(prop, "code"), f"{where}.property[{i}]"
            if code is None:
                continue
            synonym = prop.get("valueCode")
            if code == "synonym" and not (isinstance(synonym, str) and synonym in codes):
                # a synonym declares equivalence to another code of this system (R4
                # codesystem-concept-properties: synonym), so it must be one: the HL7
                # validator's CODESYSTEM_PROPERTY_SYNONYM_CHECK
                yield Issue.warning("business-rule", at, f"the synonym '{synonym}'"
                                    " is not also defined in the code system",
                                    "codesystem-property")
            if code not in declared:
                yield Issue.warning("business-rule", at, f"the property '{code}' is not defined "
                                    "in CodeSystem.property, so tools will not know what it "
                                    "means", "codesystem-property")
                continue
            found = [t for t in _VALUE_TYPES if f"value{t[0].upper()}{t[1:]}" in prop]
            if not found:
                yield Issue.error("business-rule", at, f"the property '{code}' has no value",
                                  "codesystem-property")
            elif declared[code] is not None and found[0] != declared[code]:
                yield Issue.error("business-rule", at, f"the property '{code}' is of type "
                                  f"{declared[code]}, not {found[0]}", "codesystem-property")
        yield from _designations(concept, where, language)


def _designations(concept: Mapping[str, Any], where: str, language: Any) -> Iterator[Issue]:
    display = _str(concept, "display")
    for i, designation in objects(concept.get("designation")):
        value, lang = _str(designation, "value"), designation.get("language")
        if "use" in designation or "additionalUse" in designation or display is None \
                or value is None or value == display:
            continue
        if (language is None and lang is None) or (language is not None
                                                    and lang in (None, language)):
            yield Issue.warning("business-rule", f"{where}.designation[{i}]", f"the designation "
                                f"'{value}' has no use and the display's language, so it differs "
                                f"from the display '{display}' without saying why",
                                "codesystem-designation")
