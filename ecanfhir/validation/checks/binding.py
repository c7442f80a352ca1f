"""Terminology bindings (R4 §4.1.0 "Using codes") and codes of known code systems.

``required`` bindings are errors when the value set can be enumerated here and the code is not
in it; ``extensible`` ones are warnings; ``preferred`` ones are information, and only when no
profile was asked for (the HL7 validator's "base only" hints); ``example`` ones say nothing.
Codes from code systems ecanfhir does not ship (SNOMED CT, LOINC, ICD-10, ...) are checked for
syntax only.

An extensible binding may carry a maximum value set (R4 ``elementdefinition-maxValueSet``):
a code outside the bound value set must still be in the maximum one (an error, as in the HL7
validator), and a CodeableConcept with no code at all is an error instead of a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ...definitions.compiled import ElementNode
from ...terminology.code_syntax import check_code_syntax
from ...terminology.value_sets import EXTERNAL_SYSTEMS, CodeCheck
from .._issue import Issue
from .coding import check_coding_systems
from .concept_status import concept_status
from .display_language import has_display_in
from .json_values import dicts
from .value_set_dependencies import missing_dependencies

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_binding", "check_bound_text", "check_coded_value", "check_coding_system"]

STRENGTH_SEVERITY = {"required": "error", "extensible": "warning",
                     "preferred": "information"}


def _codings(type_code: str, value: Any) -> list[Mapping[str, Any]]:
    if type_code == "CodeableConcept":
        codings = value.get("coding") if isinstance(value, dict) else None
        return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
    if isinstance(value, dict):
        return [value]
    return []


def _vs_label(run: Run, url: str) -> str:
    vs = run.schema.registry.value_set(url)
    name = (vs or {}).get("title") or (vs or {}).get("name")
    return f"'{name}' ({url})" if name else f"'{url}'"


def check_binding(run: Run, element: ElementNode, type_code: str, value: Any,
                  at: str) -> Iterator[Issue]:
    """Check a coded value against its element's binding, and its additional bindings."""
    binding = element.binding
    if binding is None:
        return
    if not binding.value_set and (not isinstance(value, str) or type_code == "code"):
        # (for a bare code: the HL7 validator's Terminology_TX_Binding_NoSource2)
        # R4 ElementDefinition.binding.valueSet is 0..1: a binding may only describe the codes.
        yield Issue.information("code-invalid", at, "the binding of this element names no "
                                "value set, so the code cannot be checked against one",
                                "binding-no-source")
    if binding.value_set and (binding.strength != "preferred" or run.base_only):
        yield from _check_value_set(run, element, binding.strength, binding.value_set, type_code,
                                    value, at, max_value_set=binding.max_value_set)
    for purpose, vs_url in binding.additional:
        if purpose == "preferred":
            continue  # an additional binding's preferred purpose is advice, never checked
        for issue in _check_value_set(run, element, purpose, vs_url, type_code, value, at):
            yield Issue(issue.severity, issue.code, issue.expression,
                        issue.message + " (an additional binding)", issue.rule)


def check_bound_text(run: Run, element: ElementNode, type_code: str, value: str,
                     at: str) -> list[Issue]:
    """:func:`check_binding` on a primitive's text (a code, a uri...). What it finds depends on
    the binding, the text and the loaded definitions alone, so it is worked out once for each."""
    binding = element.binding
    if binding is None:
        return []
    key = ("bound-text", id(binding), run.base_only, type_code, value)
    known = run.terminology.recall(key)
    if known is None:
        known = _remember(run, key, (binding,), check_binding, run, element, type_code, value,
                          "")
    return [] if known[1] is _NOTHING else _placed(run, known[1], at)


# What checks found on a value checked on its own: the issues, located relative to the value,
# the notes of what could not be checked (Run.unchecked) and the external code systems met.
_Findings = tuple[tuple[Issue, ...], tuple[str, ...], frozenset[str]]
_NOTHING: _Findings = ((), (), frozenset())


def _remember(run: Run, key: tuple[object, ...], held: tuple[object, ...],
              check: Callable[..., Iterable[Issue]], *args: Any
              ) -> tuple[tuple[object, ...], _Findings]:
    """``check(*args)``'s findings, remembered under ``key`` for the validator's terminology.

    A key names bindings by their id (a Binding's own hash is computed in Python, on every
    look-up): ``held`` are those bindings, kept with the findings, so that no other object can
    take their id while the findings are remembered."""
    return run.terminology.remember(key, _pair, held, _detached(run, check, *args))


def _pair(held: tuple[object, ...], findings: _Findings) -> tuple[tuple[object, ...], _Findings]:
    return held, findings


def _detached(run: Run, check: Callable[..., Iterable[Issue]], *args: Any) -> _Findings:
    """``check(*args)``'s findings, with the notes it leaves on the run taken back out."""
    unchecked, external = run.unchecked, run.external_systems
    run.unchecked, run.external_systems = [], set()
    try:
        found = tuple(check(*args)), tuple(run.unchecked), frozenset(run.external_systems)
        return found if any(found) else _NOTHING
    finally:
        run.unchecked, run.external_systems = unchecked, external


def _placed(run: Run, findings: _Findings, at: str) -> list[Issue]:
    """The findings on a value at ``at``: their notes left on the run, their issues placed."""
    issues, unchecked, external = findings
    if unchecked:
        run.unchecked.extend(unchecked)
    if external:
        run.external_systems.update(external)
    return [issue.under(at) for issue in issues]


def check_coded_value(run: Run, element: ElementNode, type_code: str, value: Any, at: str, *,
                      core: ElementNode | None = None, language: Any = None) -> list[Issue]:
    """The terminology checks of a Coding, CodeableConcept or Quantity: the element's binding,
    the codes in their code systems (:func:`check_coding_system`) and the systems themselves
    (:func:`check_coding_systems`).

    ``core``: the core element whose binding a profile's ``element`` replaced, checked first
    (the core definition's walk came first). ``language``: the resource's language.

    What they find depends on the value's codings, the bindings (and whether the element has
    several types), the resource's language, the options and the loaded definitions alone, not
    on where the value is: a value like one seen before (a status, a unit) is checked once per
    validator, and what it found placed at each value."""
    language = language if isinstance(language, str) else None
    codings = _coded_key(type_code, value)
    if codings is None:  # not plain text throughout: checked as it is, not remembered
        return _placed(run, _detached(run, _coded_issues, run, element, core, type_code, value,
                                      language), at)
    binding, core_binding = element.binding, None if core is None else core.binding
    key = (type_code, codings, id(binding), len(element.types),
           None if core is None else (id(core_binding), len(core.types)), run.base_only,
           run.options.check_display, language)
    known = run.terminology.recall(key)
    if known is None:
        known = _remember(run, key, (binding, core_binding), _coded_issues, run, element, core,
                          type_code, value, language)
    return [] if known[1] is _NOTHING else _placed(run, known[1], at)


def _coded_issues(run: Run, element: ElementNode, core: ElementNode | None, type_code: str,
                  value: Any, language: str | None) -> Iterator[Issue]:
    """:func:`check_coded_value`'s checks, in the order of the walks, relative to the value."""
    if core is not None:
        yield from check_binding(run, core, type_code, value, "")
        yield from check_coding_systems(run, type_code, value, "", binding=core.binding)
    if element.binding is not None:
        yield from check_binding(run, element, type_code, value, "")
    yield from check_coding_system(run, type_code, value, "", language=language)
    yield from check_coding_systems(run, type_code, value, "", binding=element.binding)


_ABSENT = object()  # in a coding's key: the property is not there


def _coded_key(type_code: str, value: Any) -> tuple[object, ...] | None:
    """What the checks of :func:`check_coded_value` read of a value: each coding's system,
    code, display and version. None when any of them is there but not text, or a coding is
    not an object: such a value is not remembered."""
    if type(value) is not dict:
        return None
    if type_code != "CodeableConcept":
        return _coding_key(value)
    codings = value.get("coding", ())
    if type(codings) is not list:
        return () if codings == () else None
    if len(codings) == 1:  # (the usual one, without a list of keys)
        key = _coding_key(codings[0])
        return None if key is None else (key,)
    keys = tuple([_coding_key(coding) for coding in codings])
    return None if None in keys else keys


def _coding_key(coding: Any) -> tuple[object, ...] | None:
    if type(coding) is not dict:
        return None
    get = coding.get
    system, code = get("system", _ABSENT), get("code", _ABSENT)
    display, version = get("display", _ABSENT), get("version", _ABSENT)
    # (each part text or absent: only then is the value remembered)
    if (type(system) is str or system is _ABSENT) and (type(code) is str or code is _ABSENT) \
            and (type(display) is str or display is _ABSENT) \
            and (type(version) is str or version is _ABSENT):
        return system, code, display, version
    return None


def _check_value_set(run: Run, element: ElementNode, strength: str, vs_url: str,
                     type_code: str, value: Any, at: str, *,
                     max_value_set: str | None = None) -> Iterator[Issue]:
    severity = STRENGTH_SEVERITY.get(strength)
    if severity is None:
        return
    missing = _missing_value_set(run, vs_url, at)
    if missing is not None:
        yield missing
        return
    term = run.terminology
    if isinstance(value, str):  # code, string, uri bound directly
        result = term.check_code(vs_url, system=None, code=value)
        if result.outcome == "unknown" and strength == "required":
            run.unchecked.append(_unchecked(run, vs_url, [value]))
        if result.outcome == "unknown":
            yield from _cannot_check(run, strength, vs_url, at, [value], bare=True)
        if result.outcome == "not-member" and strength == "extensible" and max_value_set:
            # outside an extensible binding, a code must still be in its maximum value set
            # (the HL7 validator's checkMaxValueSet for a code: Terminology_TX_NoValid_11)
            if term.check_code(max_value_set, system=None, code=value).outcome == "not-member":
                yield Issue.error("code-invalid", at, f"the value '{value}' is not in the "
                                  f"maximum value set {_vs_label(run, max_value_set)}, and a "
                                  "code from it is required", "binding-max")
        elif result.outcome == "not-member":
            yield Issue(severity, "code-invalid", at,  # type: ignore[arg-type]
                        f"the value '{value}' is not in the value set {_vs_label(run, vs_url)}, "
                        f"which is {strength}", f"binding-{strength}")
        yield from _system_status(run, vs_url, [result], at)
        return
    codings = _codings(type_code, value)
    if type_code == "Quantity":
        if not isinstance(value, dict) or "code" not in value:
            return
        codings = [{"system": value.get("system"), "code": value.get("code")}]
        if len(element.types) > 1 and severity == "error":
            # A binding on a choice element is about its coded types; for a Quantity among
            # them, the HL7 validator reports a unit outside the value set as a warning.
            severity = "warning"
    if strength != "extensible":
        max_value_set = None  # the HL7 validator reads the maximum only on extensible bindings
    coded = [c for c in codings if isinstance(c.get("code"), str)]
    if not coded:
        if type_code == "CodeableConcept" and (strength == "required" or not codings):
            yield from _no_code(run, strength, vs_url, at, max_value_set=max_value_set)
        return
    verdicts = []
    for coding in coded:
        system = coding.get("system") if isinstance(coding.get("system"), str) else None
        verdicts.append((coding, term.check_code(vs_url, system=system, code=coding["code"])))
    if any(v.outcome == "member" and not _abstract(v) for _, v in verdicts):
        yield from _system_status(run, vs_url, [v for _, v in verdicts], at)
        return
    abstract = [c for c, v in verdicts if _abstract(v)]
    if abstract:
        # An abstract (notSelectable) concept groups codes; it is in the value set's
        # hierarchy, not a code to record (R4 codesystem.html#CodeSystem.concept, the HL7
        # validator's ABSTRACT_CODE_NOT_ALLOWED).
        shown = ", ".join(f"{c.get('system', '')}#{c['code']}" for c in abstract)
        yield Issue(severity, "code-invalid", at,  # type: ignore[arg-type]
                    f"the code {shown} is abstract, and not allowed in this context (the value "
                    f"set {_vs_label(run, vs_url)}, which is {strength})", f"binding-{strength}")
        return
    decided = [(c, v) for c, v in verdicts if v.outcome == "not-member"]
    if not decided or (len(decided) < len(verdicts) and type_code == "CodeableConcept"):
        # Some coding could not be judged here: it may be the one in the value set.
        if strength == "required" and len(decided) < len(verdicts):
            run.unchecked.append(_unchecked(run, vs_url, [
                f"{c.get('system', '')}#{c['code']}" for c, v in verdicts
                if v.outcome == "unknown"]))
        unknown = [f"{c.get('system', '')}#{c['code']}" for c, v in verdicts
                   if v.outcome == "unknown"]
        if unknown:
            yield from _cannot_check(run, strength, vs_url, at, unknown)
        return
    shown = ", ".join(f"{c.get('system', '')}#{c['code']}" for c, _ in decided)
    if max_value_set is not None:
        yield from _check_maximum(run, max_value_set, [c for c, _ in decided], type_code, at)
        if type_code != "CodeableConcept":
            return  # a Coding within the maximum needs no further warning (HL7 validator)
    what = {"CodeableConcept": f"none of the codes ({shown}) is"}.get(
        type_code, f"the {'unit' if type_code == 'Quantity' else 'Coding'} provided ({shown}) "
                   "is not")
    yield Issue(severity, "code-invalid", at,  # type: ignore[arg-type]
                f"{what} in the value set {_vs_label(run, vs_url)}, which is {strength}"
                f"{_unknown_systems(run, [c for c, _ in decided])}", f"binding-{strength}")


def _unknown_systems(run: Run, codings: list[Mapping[str, Any]]) -> str:
    """What the HL7 validator adds when a code is not in a value set's expansion and its code
    system is not known either (CODESYSTEM_CS_UNK_EXPANSION)."""
    registry = run.schema.registry
    unknown = dict.fromkeys(s for c in codings if isinstance(s := c.get("system"), str)
                            and s not in EXTERNAL_SYSTEMS and registry.code_system(s) is None)
    return "".join(f"; the code system '{s}' could not be found" for s in unknown)


_STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"


def _status(resource: Mapping[str, Any]) -> tuple[str | None, str | None, bool]:
    """(status, standards status, experimental) of a canonical resource."""
    standards = next((e.get("valueCode") for e in dicts(resource.get("extension"))
                      if e.get("url") == _STANDARDS_STATUS), None)
    status = resource.get("status")
    return (status if isinstance(status, str) else None,
            standards if isinstance(standards, str) else None,
            resource.get("experimental") is True)


def _system_status(run: Run, vs_url: str, verdicts: list[CodeCheck],
                   at: str) -> Iterator[Issue]:
    """What the HL7 validator notes of a code system a value set drew a code from: deprecated,
    withdrawn or retired, or experimental or draft where the value set is not (information)."""
    for system in dict.fromkeys(v.concept.system for v in verdicts
                                if v.outcome == "member" and v.concept is not None):
        note = run.terminology.remember(("code-system-status", vs_url, system),
                                        _status_note, run, vs_url, system)
        if note is not None:
            yield Issue.information("expired", at, note, "code-system-status")


def _status_note(run: Run, vs_url: str, system: str) -> str | None:
    """:func:`_system_status`'s note on one code system of a value set, or None."""
    registry = run.schema.registry
    cs = registry.code_system(system)
    if cs is None:
        return None
    status, standards, experimental = _status(cs)
    s_status, s_standards, s_experimental = _status(registry.value_set(vs_url) or {})
    if standards in ("deprecated", "withdrawn"):
        state = standards
    elif status == "retired":
        state = "retired"
    elif experimental and not s_experimental:
        state = "experimental"
    elif "draft" in (status, standards) and "draft" not in (s_status, s_standards):
        state = "draft"
    else:
        return None
    version = cs.get("version")
    shown = f"{system}|{version}" if isinstance(version, str) else system
    return (f"Reference to {state} item {shown} (the code system of the code, in the value set "
            f"'{vs_url}')")


def _missing_value_set(run: Run, vs_url: str, at: str) -> Issue | None:
    """A binding whose value set is not loaded cannot be checked (a warning, as in the HL7
    validator); one naming a CodeSystem instead of a ValueSet is a mistake of the profile."""
    registry = run.schema.registry
    if registry.value_set(vs_url) is not None \
            or registry.value_set(vs_url.split("|", 1)[0]) is not None:
        return None
    if registry.code_system(vs_url.split("|", 1)[0]) is not None:
        return Issue.warning("not-found", at, f"the binding names the CodeSystem '{vs_url}' "
                             "where a ValueSet belongs, so the code cannot be checked",
                             "binding-value-set")
    return Issue.warning("not-found", at, f"the value set '{vs_url}' of the binding is not "
                         "loaded, so the code cannot be checked against it", "binding-value-set")


def _abstract(verdict: CodeCheck) -> bool:
    return verdict.outcome == "member" and verdict.concept is not None \
        and verdict.concept.abstract


def _no_code(run: Run, strength: str, vs_url: str, at: str, *,
             max_value_set: str | None) -> Iterator[Issue]:
    """A bound CodeableConcept with no coding that has a code (text only, say)."""
    label = _vs_label(run, vs_url)
    if strength == "required":
        yield Issue.error("code-invalid", at, "no code provided, and a code is required from "
                          f"the value set {label}", "binding-required")
    elif strength == "extensible" and max_value_set is not None:
        yield Issue.error("code-invalid", at, "no code provided, and a code must be provided "
                          f"from the value set {label} (maximum value set "
                          f"{_vs_label(run, max_value_set)})", "binding-max")
    elif strength == "extensible":
        # Text alone where an extensible binding asks for a code: the HL7 validator's
        # Terminology_TX_Code_ValueSet_Ext warning (R4 terminologies.html#extensible: "if no
        # suitable code exists, alternate codes may be provided", but some code should be).
        yield Issue.warning("code-invalid", at, "no code provided, and a code should be "
                            f"provided from the value set {label}", "binding-extensible")


def _check_maximum(run: Run, max_value_set: str, codings: list[Mapping[str, Any]],
                   type_code: str, at: str) -> Iterator[Issue]:
    """Codes outside an extensible binding's value set must be in its maximum value set."""
    verdicts = [run.terminology.check_code(
        max_value_set, system=c.get("system") if isinstance(c.get("system"), str) else None,
        code=c["code"]) for c in codings]
    if not any(v.outcome == "member" for v in verdicts) \
            and any(v.outcome == "unknown" for v in verdicts):
        yield from _cannot_check(run, "extensible", max_value_set, at, [
            f"{c.get('system', '')}#{c['code']}" for c in codings], maximum=True)
    if not verdicts or any(v.outcome != "not-member" for v in verdicts):
        return  # in the maximum, or not decidable here
    shown = ", ".join(f"{c.get('system', '')}#{c['code']}" for c in codings)
    what = "none of the codes" if type_code == "CodeableConcept" else "the code"
    yield Issue.error("code-invalid", at, f"{what} ({shown}) is not in the maximum value set "
                      f"{_vs_label(run, max_value_set)}, and a code from it is required",
                      "binding-max")


def _cannot_check(run: Run, strength: str, vs_url: str, at: str, codes: list[str], *,
                  bare: bool = False, maximum: bool = False) -> Iterator[Issue]:
    """A bound code that cannot be checked because its value set needs a code system or value
    set that is not loaded (HL7 validator: Terminology_TX_NoValid_15A for a bare code,
    UNABLE_TO_CHECK_IF_THE_PROVIDED_CODES_ARE_IN_THE_VALUE_SET_CS / _VS, wrapped as
    Terminology_TX_Confirm_5 / _6 by an extensible / preferred binding and as
    Terminology_TX_NoValid_7 / _9 for a maximum value set). Code systems known by name only
    get the report's tx-offline note."""
    missing = missing_dependencies(run.schema.registry, vs_url)
    if not missing:
        return
    becauses = []
    if missing.code_systems:
        becauses.append("the code system " + ", ".join(f"'{s}'" for s in missing.code_systems))
    if missing.value_sets:
        becauses.append("the value set " + ", ".join(f"'{v}'" for v in missing.value_sets))
    because = " and ".join(becauses) + " could not be found"
    label = _vs_label(run, vs_url)
    if bare:
        message = f"the value '{codes[0]}' could not be validated against the value set {label}"
    elif maximum:
        message = (f"the code provided ({', '.join(codes)}) could not be validated against the "
                   f"maximum value set {label}")
    else:
        message = (f"unable to check whether the code provided ({', '.join(codes)}) is in the "
                   f"value set {label}, which is {strength}")
    severity = "information" if strength == "preferred" else "warning"
    yield Issue(severity, "not-found", at, f"{message}: {because}",  # type: ignore[arg-type]
                "binding-unchecked")


def _unchecked(run: Run, vs_url: str, codes: list[str]) -> str:
    """What a required binding could not decide: the value set cannot be evaluated here."""
    return (f"the value set {_vs_label(run, vs_url)} cannot be evaluated offline, so "
            f"{', '.join(codes)} could not be checked against it")


def check_coding_system(run: Run, type_code: str, value: Any, at: str, *,
                        language: str | None = None) -> Iterator[Issue]:
    """Codes must exist in the code systems that are loaded; others get a syntax check.

    ``language``: the resource's language, in which a display is expected."""
    codings = _codings(type_code, value)
    if type_code == "Quantity":
        return
    term = run.terminology
    language = language if isinstance(language, str) else None
    for i, coding in enumerate(codings):
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        display = coding.get("display")
        display = display if run.options.check_display and isinstance(display, str) else None
        # The findings depend on the loaded definitions alone: worked out once per coding.
        findings = term.remember(("coding", system, code, display, language),
                                 _code_findings, run, system, code, display, language)
        for issue in findings:
            yield issue.under(f"{at}.coding[{i}]" if type_code == "CodeableConcept" else at)
        if system in EXTERNAL_SYSTEMS and not term.is_known_system(system):
            run.external_systems.add(system)


def _code_findings(run: Run, system: str, code: str, display: str | None,
                   language: str | None) -> tuple[Issue, ...]:
    """:func:`check_coding_system`'s issues on one coding, located relative to it."""
    return tuple(_code_issues(run, system, code, display, language))


def _code_issues(run: Run, system: str, code: str, display: str | None,
                 language: str | None) -> Iterator[Issue]:
    term = run.terminology
    if term.is_known_system(system):
        message = term.validate_system_code(system, code)
        if message:
            yield Issue.error("code-invalid", ".code", message, "code-unknown")
            return
        yield from _concept_status(run, system, code, ".code")
        if display is not None:
            problem = term.check_display(system, code, display) \
                or term.check_display_whitespace(system, code, display)
            if problem and language is not None and not has_display_in(
                    run.schema.registry.code_system(system), code, language):
                # the HL7 validator's NO_VALID_DISPLAY_FOUND: no display in that language
                problem = (f"No valid display names found for {system}#{code} in the "
                           f"language {language} (the display is '{display}')")
            if problem:
                yield Issue.warning("invalid", ".display", problem, "display")
    else:
        fragment = term.missing_from_fragment(system, code)
        if fragment:
            yield Issue.warning("code-invalid", ".code", fragment, "code-unknown")
        syntax = check_code_syntax(system, code)
        if syntax is not None:
            yield Issue.error("code-invalid", ".code", syntax, "code-syntax")


def _concept_status(run: Run, system: str, code: str, at: str) -> Iterator[Issue]:
    """What the code system says of a code it defines: written in another case (a
    case-insensitive system), or no longer active (status retired/deprecated/inactive)."""
    concept = run.terminology.lookup(system, code)
    if concept is None:
        return
    if concept.code != code:
        yield Issue.information("business-rule", at, f"the code '{code}' differs from the "
                                f"code system's '{concept.code}' by case ({system})",
                                "code-case")
    if concept.inactive and concept_status(run.schema.registry.code_system(system),
                                           concept.code) == "deprecated":
        # deprecated: still active, but discouraged (the HL7 validator's STATUS_CODE_HINT_CODE)
        yield Issue.information("business-rule", at, f"the code '{concept.code}' is "
                                f"deprecated in {system}", "code-deprecated")
    elif concept.inactive:
        yield Issue.information("business-rule", at, f"the code '{concept.code}' is valid but "
                                f"is not active in {system}", "code-inactive")
