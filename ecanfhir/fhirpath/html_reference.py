"""``htmlChecks()`` read by html.parser: the definition that ``html_checks``' scan of a
narrative is held to, and the reading of what the scan leaves to it (a ``<`` in text, a
``<!DOCTYPE``, CDATA, bare attributes). Imported only when such a narrative is met.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["read_narrative"]


class _NarrativeChecker(HTMLParser):
    """html.parser's reading of a narrative, for what ``html_checks``' scan leaves to it."""

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.ok = True
        self.depth = 0
        self.roots = 0
        self.content = False  # txt-2: some non-whitespace text, or an image

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)
        self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            self.roots += 1
            self.ok &= tag == "div" and self.roots == 1
        self.ok &= tag in self.allowed
        self.ok &= not any(name.startswith("on") for name, _ in attrs)
        self.ok &= not any(name in ("href", "src") and (value or "").strip().lower()
                           .startswith("javascript:") for name, value in attrs)
        self.content |= tag == "img"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1
        self.ok &= self.depth >= 0

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.content = True
            self.ok &= self.depth > 0  # text outside the root div

    def handle_decl(self, decl: str) -> None:
        self.ok = False

    def handle_pi(self, data: str) -> None:
        self.ok = False

    def unknown_decl(self, data: str) -> None:
        self.ok = False


def read_narrative(div: str, allowed: frozenset[str]) -> bool:
    """``htmlChecks()`` through html.parser, with the elements ``allowed``."""
    text = div.strip()
    if not text.startswith("<div"):
        return False
    checker = _NarrativeChecker(allowed)
    try:
        checker.feed(text)
        checker.close()
    except (AssertionError, ValueError):  # HTMLParser's way to reject broken markup
        return False
    return checker.ok and checker.depth == 0 and checker.content
