"""Where a narrative's parts come from: the ``narrative-source-control`` extension.

A profile puts the extension ``http://hl7.org/fhir/StructureDefinition/narrative-source-control``
(FHIR Extensions Pack) on the ElementDefinition of a Narrative (``Patient.text``, say) to ask
that each top-level part of the ``div`` say in its ``class`` where it came from:

==============  ==================================================================
class           the part is
==============  ==================================================================
``generated``   generated from the resource's data
``boilerplate`` fixed text of the application or the document kind
``original``    written by a person (the data may say less than it does)
==============  ==================================================================

The extension's value is an issue severity (``error``, ``warning``, ``information``): the level
at which each top-level part with content and none of these classes is reported, at the
Narrative, as the HL7 validator reports it (``InstanceValidator.checkNarrative``, rule
``XHTML_CONTROL_NO_SOURCE``). Text directly in the ``div`` is such a part too; whitespace between
parts is not.

One difference: the HL7 validator's ``switch`` over the level has no ``break``, so ``warning``
and ``information`` fall through to an error as well. ecanfhir reports at the level the profile
asks for, which is what the extension's definition says its value is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._issue import Issue
from .json_values import dicts

if TYPE_CHECKING:
    from ...definitions.compiled import ElementNode
    from .._issue import Severity

__all__ = ["SOURCE_CONTROL", "check_narrative_source"]

SOURCE_CONTROL = "http://hl7.org/fhir/StructureDefinition/narrative-source-control"
SOURCES = frozenset({"generated", "boilerplate", "original"})
LEVELS: dict[str, Severity] = {"fatal": "fatal", "error": "error", "warning": "warning",
                               "information": "information",
                               "hint": "information"}  # the HL7 validator's name for it


def check_narrative_source(element: ElementNode, narrative: Mapping[str, Any],
                           at: str) -> Iterator[Issue]:
    """Each top-level part of the narrative without a source class, when the element's
    definition asks for one (at the level it names).

    >>> from ecanfhir.definitions.compiled import ElementNode
    >>> control = {"url": SOURCE_CONTROL, "valueCode": "warning"}
    >>> text = ElementNode("Patient.text", "Patient.text", "text", 0, 1, (),
    ...                    definition={"extension": [control]})
    >>> div = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Seen</p></div>'
    >>> [(i.severity, i.expression) for i in check_narrative_source(text, {"div": div},
    ...                                                             "Patient.text")]
    [('warning', 'Patient.text')]
    """
    level = _level(element.definition)
    div = narrative.get("div")
    if level is None or not isinstance(div, str):
        return
    from .narrative_parts import NarrativeParts  # (html.parser: only for such a profile)

    parts = NarrativeParts()
    parts.feed(div)
    parts.close()
    for part in parts.found:
        if part.content and SOURCES.isdisjoint(part.classes):
            text = " ".join(part.text.split())
            shown = text if len(text) <= 30 else text[:30] + "..."
            yield Issue(level, "business-rule", at, f"the narrative's part '{shown}' has no class "
                        "saying where it comes from (generated, boilerplate or original), which "
                        "the profile asks for (narrative-source-control)", "narrative-source")


def _level(definition: Mapping[str, Any]) -> Severity | None:
    for ext in dicts(definition.get("extension")):
        if ext.get("url") == SOURCE_CONTROL:
            code = ext.get("valueCode")
            return LEVELS.get(code) if isinstance(code, str) else None
    return None
