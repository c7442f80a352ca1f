"""Narrative XHTML, element by element (R4 §2.4, narrative.html: Narrative.div).

The core invariant txt-1 (``htmlChecks()``) already says yes or no for a whole ``div``; this
check says *what* is wrong, as the HL7 validator does, and checks what txt-1 does not:

=============================================  ===========================  =================
rule (R4 narrative.html, and the HL7 validator)  what is wrong                rule id
=============================================  ===========================  =================
the root is a ``div`` in the XHTML namespace   another root, or no xmlns    xhtml-root,
                                                                             xhtml-namespace
only the basic HTML formatting elements        ``<script>``, ``<form>``…    xhtml-element
only their attributes (no event handlers,      ``onclick``, ``data-x``…     xhtml-attribute
``data-``, ``style`` is allowed)
no blocks inside a paragraph                   ``<p><div>…``                xhtml-in-paragraph
no document type declaration                   ``<!DOCTYPE …>``             xhtml-doctype
entities are XHTML's (HTML 4 names, numeric)   ``&unknown;``                xhtml-entity
``a/@href`` and ``img/@src`` are URLs          spaces, ``data:`` w/o data   xhtml-url
``lang`` and ``xml:lang`` on the root match    missing or different         xhtml-lang
``Resource.language`` (i18n best practice)     (warnings)
=============================================  ===========================  =================

The element list is the one txt-1 uses (``fhirpath.functions``); the attribute lists are the
HL7 validator's. The root's own attributes are not judged here (txt-1 rejects event handlers
on it), as in the HL7 validator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, lru_cache
from typing import Any

from ..._frozen import frozen
from ...fhirpath.html_checks import ALLOWED_ELEMENTS as ELEMENTS
from ...formats.xhtml import Tag, read_markup, read_tag, unescaped
from .._issue import Issue

__all__ = ["check_narrative"]

XHTML_NS = "http://www.w3.org/1999/xhtml"
ATTRIBUTES = frozenset({
    "title", "style", "class", "id", "lang", "xml:lang", "dir", "accesskey", "tabindex",
    "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope",
    "rowspan", "colspan",
    "xml:space",  # the HL7 validator only hints at it
})
ELEMENT_ATTRIBUTES = frozenset({
    "a.href", "a.name", "a.charset", "a.type", "a.hreflang", "a.rel", "a.rev", "a.shape",
    "a.coords", "img.src", "img.border", "img.alt", "img.longdesc", "img.height", "img.width",
    "img.usemap", "img.ismap", "div.xmlns", "blockquote.cite", "q.cite", "map.name",
    "area.shape", "area.coords", "area.href", "area.nohref", "area.alt", "table.summary",
    "table.width", "table.border", "table.frame", "table.rules", "table.cellspacing",
    "table.cellpadding", "pre.space", "td.nowrap",
})
BLOCKS = frozenset({"div", "blockquote", "table", "ol", "ul", "p"})
# Characters a URL may hold as they are (RFC 3986 unreserved, reserved and '%'); letters and
# digits of any script too, as the HL7 validator allows.
_URL_CHARS = frozenset(";?:@&=+$.,/%-_~#[]!'()*|")

Problem = tuple[str, str, bool]  # rule id, message, whether it is only a warning

# Narratives are read once, as tags, by formats.xhtml.read_markup (the reading txt-1 uses too).
# A narrative it does not read (a comment, a DOCTYPE, a '<' in text...) is scanned with a few
# regexes instead: the start tags (with what follows their name), and the tags that open or
# close a paragraph or a block. A '>' inside a quoted attribute value ends a tag early for
# these patterns, so when that happens the tags are read again with _START_TAG_EXACT.
_START_TAG = re.compile(r"<([A-Za-z][\w:.\-]*)([\s/][^>]*)?>")
_START_TAG_EXACT = re.compile(
    r"""<([A-Za-z][\w:.\-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*\s*/?)>""")
_BLOCK_TAG = re.compile(r"<(/?)(p|div|blockquote|table|ol|ul)([\s/][^>]*)?>")
_DOCTYPE = re.compile(r"<!doctype", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?""")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
# RFC 2397 data: URLs: data:[<mediatype>][;base64],<data>, mediatype per RFC 2045 (tokens).
_TOKEN = r"[A-Za-z0-9!#$&^_.+\-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(;{_TOKEN}=(\S+))*")
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]*=?=?\s*")


def check_narrative(narrative: Mapping[str, Any], at: str, *,
                    language: Any = None) -> Iterator[Issue]:
    """What is wrong with a Narrative's ``div``, one issue per distinct problem.

    Args:
        narrative: the Narrative (``Resource.text``, ``Composition.section.text``...).
        at: its FHIRPath location; issues are at ``{at}.div``.
        language: the resource's ``language`` when this is the resource's own text.
    """
    div = narrative.get("div")
    if not isinstance(div, str) or not div.strip():
        return
    where = f"{at}.div"
    seen: set[str] = set()
    for rule, message, warning in _problems(div, language):
        if message not in seen:
            seen.add(message)
            yield (Issue.warning("business-rule", where, message, rule) if warning
                   else Issue.error("invalid", where, message, rule))


def _problems(div: str, language: Any) -> Iterator[Problem]:
    markup = read_markup(div.strip())  # the reading txt-1's htmlChecks() made of this div
    tags = _tags_report(tuple(markup.tags)) if markup is not None and markup.tags else None
    if markup is None or tags is None \
            or (tags.root_again and markup.bodies.count(markup.bodies[0]) > 1):
        yield from _problems_as_written(div, language)  # (a rare shape of narrative)
        return
    root = tags.root
    yield from _known_root(root.lower, root.raw, _language(language))
    yield from tags.problems
    blocks = tags.blocks
    if blocks and "P" in "".join(map(blocks.__getitem__, markup.bodies)).replace("Pp", ""):
        # some paragraph is not closed right after it is opened
        yield from _blocks_in_paragraphs((blocks[body], markup.tags[body].name)
                                         for body in markup.bodies if blocks[body])
    if "&" in div:
        yield from _entities(div)


@frozen
class _TagsReport:
    """What the narrative rules find in a narrative's distinct tags (the root's first)."""

    root: Tag
    root_again: bool  # the root's own tag, if written again, has problems of its own
    problems: tuple[Problem, ...]  # those of the other tags' attributes and names
    blocks: dict[str, str] | None  # each tag's block kind, if some tag opens a paragraph


@lru_cache(maxsize=1024)  # narratives written by one generator share their tags
def _tags_report(bodies: tuple[str, ...]) -> _TagsReport | None:
    """None if the first tag is not a start tag (the narrative is then read as written)."""
    tags = [tag for tag in map(read_tag, bodies) if tag is not None]
    root = tags[0]
    if root.depth < 0:
        return None
    starts = [tag for tag in tags[1:] if tag.depth >= 0]
    problems = [problem for tag in starts for problem in _element(tag.lower, tag.raw)]
    problems += _disallowed({tag.lower for tag in starts})
    blocks = {body: _block_kind(tag) for body, tag in zip(bodies, tags, strict=True)}
    return _TagsReport(root, bool(_element(root.lower, root.raw)) or root.lower not in ELEMENTS,
                       tuple(problems), blocks if "P" in blocks.values() else None)


def _problems_as_written(div: str, language: Any) -> Iterator[Problem]:
    """:func:`_problems` for a div :func:`read_markup` does not read (comments, a DOCTYPE, a
    ``<`` in text...): the tags are found with regexes in the text as written."""
    if "<!--" in div:
        div = _COMMENT.sub("", div)
    if "<!" in div and _DOCTYPE.search(div):
        yield "xhtml-doctype", "the narrative has a DOCTYPE declaration, which XHTML " \
            "fragments may not have (XXE protection)", False
    tags = _START_TAG.findall(div)
    if not tags:
        return
    if any(raw.count('"') % 2 or raw.count("'") % 2 for _, raw in tags if raw):
        tags = _START_TAG_EXACT.findall(div)
    root, root_raw = tags[0]
    yield from _root(root.lower(), root_raw, _language(language))
    names = set()
    for name, raw in tags[1:]:
        names.add(name.lower())
        yield from _element(name.lower(), raw)
    yield from _disallowed(names)
    if "<p" in div:
        yield from _blocks_in_paragraphs(_written_blocks(div))
    if "&" in div:
        yield from _entities(div)


def _language(language: Any) -> str | None:
    return language if isinstance(language, str) and language else None


def _element(name: str, raw: str) -> tuple[Problem, ...]:
    if not raw or raw == "/" or raw.isspace():
        return ()
    return tuple(_element_attributes(name, _attributes(raw)))


def _disallowed(names: set[str]) -> Iterator[Problem]:
    for name in sorted(names - ELEMENTS):
        yield "xhtml-element", f"<{name}> is not allowed in a narrative (only basic HTML " \
            "formatting, links, images and tables)", False


def _entities(div: str) -> Iterator[Problem]:
    for m in _ENTITY.finditer(div):
        if m.group(1) not in _entity_names():
            yield "xhtml-entity", f"'&{m.group(1)};' is not an XHTML entity (use a numeric " \
                "character reference)", False


@cache
def _entity_names() -> frozenset[str]:
    """The XHTML entities (HTML 4's and ``apos``); html's table is read at the first ``&``."""
    from html.entities import name2codepoint

    return frozenset(name2codepoint) | {"apos"}


def _written_blocks(div: str) -> Iterator[tuple[str, str]]:
    """The block tags of a div as written, as :func:`_blocks_in_paragraphs` takes them
    (``_BLOCK_TAG`` matches the names in lower case, so does :func:`_block_kind`)."""
    for closing, name, raw in _BLOCK_TAG.findall(div):
        if not closing:
            yield "B" if name != "p" or raw.rstrip().endswith("/") else "P", name
        elif name == "p":
            yield "p", name


def _block_kind(tag: Tag) -> str:
    """"P" for a paragraph's start tag, "p" for its end tag, "B" for another block's (or an
    empty paragraph's) start tag, "" for any other tag."""
    if tag.name not in BLOCKS:
        return ""
    if tag.depth < 0:
        return "p" if tag.name == "p" else ""
    return "P" if tag.name == "p" and tag.depth else "B"


def _blocks_in_paragraphs(blocks: Iterable[tuple[str, str]]) -> Iterator[Problem]:
    """A block (or another paragraph) opened while a <p> is open: XHTML closes every <p>.

    ``blocks`` are (kind, name) as :func:`_block_kind` names the kinds, in the order written.
    """
    paragraphs = 0
    for kind, name in blocks:
        if kind == "p":
            paragraphs -= paragraphs > 0
            continue
        if paragraphs:
            yield "xhtml-in-paragraph", f"<{name}> is a block and cannot be inside a " \
                "paragraph (<p>)", False
        paragraphs += kind == "P"


def _attributes(raw: str) -> dict[str, str]:
    return {a.lower(): unescaped(d or s) if "&" in (d or s) else d or s
            for a, d, s in _ATTRIBUTE.findall(raw) if a != "/"}


def _root(name: str, raw: str, language: str | None) -> tuple[Problem, ...]:
    return tuple(_root_problems(name, _attributes(raw), language))


# Most narratives have the same root tag; read_markup's tags are short, so they are kept.
_known_root = lru_cache(maxsize=256)(_root)


def _root_problems(name: str, attrs: Mapping[str, str],
                   language: str | None) -> Iterator[Problem]:
    if name != "div":
        yield "xhtml-root", f"the narrative's root element is <{name}>: it must be a <div>", False
    if attrs.get("xmlns") != XHTML_NS:
        found = attrs.get("xmlns")
        yield "xhtml-namespace", (f"the narrative's root is in the namespace '{found}'" if found
                                  else "the narrative's root has no xmlns") + \
            f": it must be xmlns=\"{XHTML_NS}\"", False
    if language:
        yield from _languages(language, attrs.get("lang"), attrs.get("xml:lang"))


def _languages(language: str, lang: str | None,
               xml_lang: str | None) -> Iterator[Problem]:
    """W3C i18n (www.w3.org/TR/i18n-html-tech-lang): the resource's language is stated on the
    narrative as both lang and xml:lang."""
    if lang is None and xml_lang is None:
        yield "xhtml-lang", f"the resource's language is {language}, but the narrative has no " \
            "lang or xml:lang attribute (it should have both)", True
        return
    for attribute, value in (("lang", lang), ("xml:lang", xml_lang)):
        if value is None:
            yield "xhtml-lang", f"the narrative has no {attribute} attribute (the resource's " \
                f"language is {language}; it should have both lang and xml:lang)", True
        elif value != language:
            yield "xhtml-lang", f"the narrative's {attribute} is '{value}', but the resource's " \
                f"language is '{language}'", True


def _element_attributes(name: str, attrs: Mapping[str, str]) -> Iterator[Problem]:
    for attribute, value in attrs.items():
        if attribute == "xmlns":
            if value != XHTML_NS:
                yield "xhtml-namespace", f"<{name}> declares the namespace '{value}': narrative " \
                    f"content is in {XHTML_NS}", False
        elif not attribute.startswith("xmlns") and attribute not in ATTRIBUTES \
                and f"{name}.{attribute}" not in ELEMENT_ATTRIBUTES:
            yield "xhtml-attribute", f"the attribute '{attribute}' is not allowed on <{name}> " \
                "in a narrative", False
    url = attrs.get("href") if name == "a" else attrs.get("src") if name == "img" else None
    problem = None if url is None else _url_problem(url)
    if problem:
        yield "xhtml-url", f"the URL '{url}' of <{name}> is not valid: {problem}", False


def _url_problem(url: str) -> str | None:
    if not url:
        return "it is empty"
    if url.startswith("data:"):
        parts = url[5:].rstrip(",").split(",")
        if len(parts) < 2:
            return "a data: URL needs data after the comma"
        if len(parts) > 2:
            return "the data of a data: URL cannot contain a comma"
        if parts[0].endswith(";base64") and _BASE64.fullmatch(parts[1]) is None:
            return "the data is not valid base64"
        media = parts[0].removesuffix(";base64")
        if media and _MEDIA_TYPE.fullmatch(media) is None:
            return f"the media type '{media}' of a data: URL is not type/subtype[;name=value]"
        return None
    bad = sorted({c for c in url if not (c.isalnum() or c in _URL_CHARS)})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"it contains {shown}, which must be percent-encoded"
    return None
