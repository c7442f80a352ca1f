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
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from ..._frozen import record
from .._issue import Issue
from .json_values import dicts

if TYPE_CHECKING:
    from ...definitions.schema import ElementNode
    from .._issue import Severity

__all__ = ["SOURCE_CONTROL", "check_narrative_source"]

SOURCE_CONTROL = "http://hl7.org/fhir/StructureDefinition/narrative-source-control"
SOURCES = frozenset({"generated", "boilerplate", "original"})
LEVELS: dict[str, Severity] = {"fatal": "fatal", "error": "error", "warning": "warning",
                               "information": "information",
                               "hint": "information"}  # the HL7 validator's name for it
# Elements without content or an end tag: they neither open a part nor nest.
_VOID = frozenset({"br", "hr", "img", "area", "col", "wbr"})


def check_narrative_source(element: ElementNode, narrative: Mapping[str, Any],
                           at: str) -> Iterator[Issue]:
    """Each top-level part of the narrative without a source class, when the element's
    definition asks for one (at the level it names).

    >>> from ecanfhir.definitions.schema import ElementNode
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
    parts = _Parts()
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


@record
class _Part:
    """One child node of the root ``div``: an element or a run of text."""

    classes: frozenset[str] = frozenset()
    text: str = ""
    content: bool = False  # any text that is not whitespace, or a child element


class _Parts(HTMLParser):
    """The child nodes of the narrative's root ``div`` (depth 1), with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[_Part] = []
        self.depth = 0
        self.current: _Part | None = None  # the depth-1 node being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 1:
            classes = next((v or "" for k, v in attrs if k == "class"), "")
            self.current = _Part(frozenset(classes.split()))
            self.found.append(self.current)
        elif self.depth > 1 and self.current is not None:
            self.current.content = True
        if tag not in _VOID:
            self.depth += 1
        elif self.depth == 1:
            self.current = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        depth = self.depth
        self.handle_starttag(tag, attrs)
        self.depth = depth
        if depth == 1:
            self.current = None

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        self.depth = max(self.depth - 1, 0)
        if self.depth == 1:
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.depth == 1 and self.current is None:
            self.current = _Part()
            self.found.append(self.current)
        if self.depth >= 1 and self.current is not None:
            self.current.text += data
            self.current.content = self.current.content or not data.isspace()
