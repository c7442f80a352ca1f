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
from collections.abc import Iterator, Mapping
from html import unescape
from html.entities import name2codepoint
from typing import Any

from ...fhirpath.functions import _ALLOWED_ELEMENTS as ELEMENTS
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
ENTITIES = frozenset(name2codepoint) | {"apos"}
# Characters a URL may hold as they are (RFC 3986 unreserved, reserved and '%'); letters and
# digits of any script too, as the HL7 validator allows.
_URL_CHARS = frozenset(";?:@&=+$.,/%-_~#[]!'()*|")

# Narratives are scanned with a few regexes rather than parsed (this runs on every resource):
# the start tags (with what follows their name), and the tags that open or close a paragraph or
# a block. A '>' inside a quoted attribute value ends a tag early for these patterns, so
# when that happens the tags are read again with _START_TAG_EXACT.
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


def _problems(div: str, language: Any) -> Iterator[tuple[str, str, bool]]:
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
    yield from _root(root.lower(), _attributes(root_raw), language)
    names = set()
    for name, raw in tags[1:]:
        names.add(name)
        if raw and raw != "/" and not raw.isspace():
            yield from _element_attributes(name.lower(), _attributes(raw))
    for name in sorted({name.lower() for name in names} - ELEMENTS):
        yield "xhtml-element", f"<{name}> is not allowed in a narrative (only basic HTML " \
            "formatting, links, images and tables)", False
    if "<p" in div:
        yield from _blocks_in_paragraphs(div)
    for m in _ENTITY.finditer(div) if "&" in div else ():
        if m.group(1) not in ENTITIES:
            yield "xhtml-entity", f"'&{m.group(1)};' is not an XHTML entity (use a numeric " \
                "character reference)", False


def _blocks_in_paragraphs(div: str) -> Iterator[tuple[str, str, bool]]:
    """A block (or another paragraph) opened while a <p> is open: XHTML closes every <p>."""
    paragraphs = 0
    for closing, name, raw in _BLOCK_TAG.findall(div):
        if closing:
            paragraphs -= paragraphs > 0 and name == "p"
            continue
        if paragraphs:
            yield "xhtml-in-paragraph", f"<{name}> is a block and cannot be inside a " \
                "paragraph (<p>)", False
        paragraphs += name == "p" and not raw.rstrip().endswith("/")


def _attributes(raw: str) -> dict[str, str]:
    return {a.lower(): unescape(d or s) if "&" in (d or s) else d or s
            for a, d, s in _ATTRIBUTE.findall(raw) if a != "/"}


def _root(name: str, attrs: Mapping[str, str], language: Any) -> Iterator[tuple[str, str, bool]]:
    if name != "div":
        yield "xhtml-root", f"the narrative's root element is <{name}>: it must be a <div>", False
    if attrs.get("xmlns") != XHTML_NS:
        found = attrs.get("xmlns")
        yield "xhtml-namespace", (f"the narrative's root is in the namespace '{found}'" if found
                                  else "the narrative's root has no xmlns") + \
            f": it must be xmlns=\"{XHTML_NS}\"", False
    if isinstance(language, str) and language:
        yield from _languages(language, attrs.get("lang"), attrs.get("xml:lang"))


def _languages(language: str, lang: str | None,
               xml_lang: str | None) -> Iterator[tuple[str, str, bool]]:
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


def _element_attributes(name: str, attrs: Mapping[str, str]) -> Iterator[tuple[str, str, bool]]:
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
