"""``htmlChecks()``: the narrative rules of txt-1 and txt-2 (R4 narrative.html).

The FHIRPath function FHIR adds for the core invariants txt-1 and txt-2 (R4 fhirpath.html,
"Additional functions"), on a ``Narrative.div``. The natives, the fast path and the interpreter's
function table all use :func:`html_checks`; the narrative check uses the element list.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..formats.xhtml import Markup, read_markup, read_tag, unescaped

__all__ = ["ALLOWED_ELEMENTS", "html_checks", "html_checks_reference"]

# R4 narrative.html (Narrative.div, txt-1): "only the basic html formatting elements
# described in chapters 7-11 and 15 of the HTML 4.0 standard, <a> elements (either name or
# href), images and internally contained style attributes"; no scripts, forms, frames, objects,
# base/link, head/body or event attributes. This is the element list the HL7 validator allows.
ALLOWED_ELEMENTS = frozenset({
    "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i",
    "strong", "small", "big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite",
    "blockquote", "hr", "address", "bdo", "kbd", "sub", "sup", "ul", "ol", "li", "dl", "dt",
    "dd", "pre", "table", "caption", "colgroup", "col", "thead", "tr", "tfoot", "tbody", "th",
    "td", "code", "samp", "img", "map", "area",
})


# A narrative is read as tags once (formats.xhtml.read_markup, shared with the narrative check);
# what that reading leaves (comments, a `>` in text...) is scanned here, token by token: a
# start tag with quoted attributes, an end tag, a comment. html.parser reads these exactly so;
# anything else (a `<` in text, `<!DOCTYPE`, CDATA, bare attributes) goes to html.parser itself.
_SPACE = "[ \t\n\r\f]"  # what ends a tag name for html.parser (not all of \s)
_MARKUP = re.compile(rf"""
    <([a-zA-Z][a-zA-Z0-9]*)                                             # 1: start tag
        ((?:{_SPACE}+[a-zA-Z_:][-a-zA-Z0-9_:.]*{_SPACE}*={_SPACE}*
            (?:"[^"]*"|'[^']*'))*)                                      # 2: attributes
        {_SPACE}*(/?)>                                                  # 3: "/" if empty
  | </([a-zA-Z][a-zA-Z0-9]*){_SPACE}*>                                  # 4: end tag
  | <!--.*?--\s*>                                                       # a comment
""", re.VERBOSE | re.DOTALL)
_ATTRIBUTE = re.compile(
    rf"""{_SPACE}+([a-zA-Z_:][-a-zA-Z0-9_:.]*){_SPACE}*={_SPACE}*(?:"([^"]*)"|'([^']*)')""")


@lru_cache(maxsize=4)  # txt-1 and txt-2, one after the other, share the expression
def html_checks(div: str) -> bool:
    """Whether a ``Narrative.div`` follows the narrative rules (txt-1) and has content (txt-2).

    Both core invariants have the expression ``htmlChecks()``. The check: one root ``<div>``;
    only the elements the narrative rules allow (so no ``<script>``, ``<form>``, ``<iframe>``,
    ``<object>``…); no event attributes (``onclick=``…) or ``javascript:`` links; and some
    non-whitespace text or an ``<img>``.

    >>> html_checks('<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann <b>Smith</b></p></div>')
    True
    >>> html_checks('<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script>hi</div>')
    False
    >>> html_checks('<div xmlns="http://www.w3.org/1999/xhtml" onclick="x()">hi</div>')
    False
    >>> html_checks('<div xmlns="http://www.w3.org/1999/xhtml"> </div>')
    False
    """
    text = div.strip()
    if not text.startswith("<div"):
        return False
    markup = read_markup(text)
    verdict = _scan(text) if markup is None else _verdict(markup)
    return html_checks_reference(div) if verdict is None else verdict


def _has_text(data: str) -> bool:
    """Whether text holds more than whitespace once its character references are replaced."""
    return bool((unescaped(data) if "&" in data else data).strip())


_BAD, _GOOD, _IMAGE = range(3)  # what txt-1 makes of a narrative's tags


def _verdict(markup: Markup) -> bool:
    """:func:`_scan`'s verdict on a narrative read as plain tags, with no Python step per tag.

    The first tag is the root ``<div>`` (the text starts with it), and the last closes it
    (another tag after that would be a second root or an end tag too many); the text after the
    last tag is outside the root, so must be blank; the texts between tags are inside it.
    Character references do not reach across a space (html.unescape), so the inner texts
    joined by spaces hold text exactly when one of them does.
    """
    if not markup.one_root:
        return False
    tags = _tags_kind(tuple(markup.tags))
    texts = markup.texts
    if tags == _BAD or (texts[-1] and _has_text(texts[-1])):  # texts[-1]: after the root
        return False
    return tags == _IMAGE or _has_text(" ".join(texts[:-1]))


@lru_cache(maxsize=1024)  # narratives written by one generator share their tags
def _tags_kind(bodies: tuple[str, ...]) -> int:
    """What txt-1 makes of a narrative's distinct tags (as :func:`read_tag` reads them), the
    root's first: bad, good, or good with an ``<img>``."""
    kind = _GOOD
    for i, body in enumerate(bodies):
        tag = read_tag(body)
        if tag is None or tag.depth < 0:
            continue  # end tags are only counted
        if tag.lower not in ALLOWED_ELEMENTS or not _attributes_ok(tag.raw) \
                or (i == 0 and tag.lower != "div"):
            return _BAD
        kind = _IMAGE if tag.lower == "img" else kind
    return kind


def _scan(text: str) -> bool | None:
    """:func:`html_checks_reference` in one regex pass, or None for markup it leaves to it.

    Each token is read as html.parser reads it, and text between tokens holds no ``<``, so
    the two see the same tokens; a verdict of False is final the moment it is reached.
    """
    depth = roots = 0
    content = False
    parts = _MARKUP.split(text)  # text, then per token its 4 groups and the next text
    rest = parts.pop()
    tokens = [iter(parts)] * 5
    for data, tag, attributes, empty, end_tag in zip(*tokens, strict=True):
        if data:
            if "<" in data:
                return None  # markup this scan does not read
            if _has_text(data):
                if depth == 0:
                    return False  # text outside the root div
                content = True
        if tag is not None:
            tag = tag.lower()
            if depth == 0:
                roots += 1
                if tag != "div" or roots != 1:
                    return False
            if tag not in ALLOWED_ELEMENTS or (attributes and not _attributes_ok(attributes)):
                return False
            content = content or tag == "img"
            if not empty:
                depth += 1
        elif end_tag is not None:
            depth -= 1
            if depth < 0:
                return False
    if "<" in rest:
        return None
    if _has_text(rest):
        if depth == 0:
            return False
        content = True
    return depth == 0 and content


def _attributes_ok(attributes: str) -> bool:
    for name, double, single in _ATTRIBUTE.findall(attributes):
        name = name.lower()
        if name.startswith("on"):
            return False
        if name in ("href", "src"):
            value = double or single
            if "&" in value:
                value = unescaped(value)
            if value.strip().lower().startswith("javascript:"):
                return False
    return True


def html_checks_reference(div: str) -> bool:
    """:func:`html_checks` through html.parser: the definition the fast scan is held to (in
    ``html_reference``, imported for the rare narrative the scan leaves to it)."""
    from .html_reference import read_narrative

    return read_narrative(div, ALLOWED_ELEMENTS)
