"""ConceptMap resources: the codes a map translates from and to (R4 conceptmap.html), checked
against the source and target code systems of each group when they are loaded, as the HL7
validator checks them:

=================================================  ===================================  ========
situation                                          rule                                 severity
=================================================  ===================================  ========
group without ``source`` / ``target``              its codes cannot be checked          warning
source / target code system not loaded             its codes cannot be checked          warning
source / target only an example or fragment        its codes cannot be checked          warning
``element.code`` / ``target.code`` not in the      a code of the group's system         error
complete source / target code system
their ``display`` not the code's display           the system's display                 warning
=================================================  ===================================  ========
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._issue import Issue
from .json_values import objects

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_concept_map"]


def check_concept_map(run: Run, cm: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """Each group's source and target systems, and the codes mapped between them."""
    for g, group in objects(cm.get("group")):
        where = f"{at}.group[{g}]"
        issues: list[Issue] = []
        source = _system(run, group, "source", where, issues)
        target = _system(run, group, "target", where, issues)
        yield from issues
        for e, element in objects(group.get("element")):
            element_at = f"{where}.element[{e}]"
            yield from _code(run, source, element, element_at, "source")
            for t, mapped in objects(element.get("target")):
                yield from _code(run, target, mapped, f"{element_at}.target[{t}]", "target")


def _system(run: Run, group: Mapping[str, Any], side: str, at: str,
            issues: list[Issue]) -> str | None:
    """The group's source or target system when its codes can be checked, else None."""
    system = group.get(side)
    if not isinstance(system, str):
        issues.append(Issue.warning("required", at, f"the group has no {side} code system, so "
                                    f"its {side} codes cannot be checked", "conceptmap-system"))
        return None
    cs = run.schema.registry.code_system(system)
    if cs is None:
        issues.append(Issue.warning("not-found", f"{at}.{side}", f"the {side} code system "
                                    f"'{system}' is not loaded, so its codes cannot be checked",
                                    "conceptmap-system"))
        return None
    content = cs.get("content")
    if content in ("example", "fragment"):
        issues.append(Issue.warning("not-found", f"{at}.{side}", f"the {side} code system "
                                    f"'{system}' is only a {content}, so its codes cannot be "
                                    "checked", "conceptmap-system"))
        return None
    return system if run.terminology.is_known_system(system) else None


def _code(run: Run, system: str | None, item: Mapping[str, Any], at: str,
          side: str) -> Iterator[Issue]:
    code, display = item.get("code"), item.get("display")
    if system is None or not isinstance(code, str):
        return
    term = run.terminology
    if term.validate_system_code(system, code):
        yield Issue.error("code-invalid", f"{at}.code", f"the {side} code '{code}' is not in the "
                          f"code system '{system}'", "conceptmap-code")
    elif isinstance(display, str):
        problem = term.check_display(system, code, display)
        if problem:
            yield Issue.warning("invalid", f"{at}.display", problem, "conceptmap-code")
