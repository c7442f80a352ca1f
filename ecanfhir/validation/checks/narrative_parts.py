"""The top-level parts of a narrative's ``div``, read by html.parser, for
``narrative_source`` (imported only for a profile that asks where the parts come from)."""

from __future__ import annotations

from html.parser import HTMLParser

from ..._frozen import record

__all__ = ["NarrativeParts", "Part"]

# Elements without content or an end tag: they neither open a part nor nest.
_VOID = frozenset({"br", "hr", "img", "area", "col", "wbr"})


@record
class Part:
    """One child node of the root ``div``: an element or a run of text."""

    classes: frozenset[str] = frozenset()
    text: str = ""
    content: bool = False  # any text that is not whitespace, or a child element


class NarrativeParts(HTMLParser):
    """The child nodes of the narrative's root ``div`` (depth 1), with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Part] = []
        self.depth = 0
        self.current: Part | None = None  # the depth-1 node being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 1:
            classes = next((v or "" for k, v in attrs if k == "class"), "")
            self.current = Part(frozenset(classes.split()))
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
            self.current = Part()
            self.found.append(self.current)
        if self.depth >= 1 and self.current is not None:
            self.current.text += data
            self.current.content = self.current.content or not data.isspace()
