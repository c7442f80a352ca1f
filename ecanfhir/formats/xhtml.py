"""Narrative XHTML read as a row of tags (R4 narrative.html, ``Narrative.div``).

Both narrative checks read the same ``div``: txt-1/txt-2's ``htmlChecks()``
(``fhirpath.functions``) and the element-by-element check (``validation.checks.narrative``).
This module reads it once for both (:func:`read_markup` keeps the last few readings).

The reading takes the plain form XHTML writers produce, in which every ``<`` opens a tag and
the next ``>`` closes it: a start tag with quoted attributes, an empty-element tag, an end tag.
Anything else (a ``<`` or ``>`` in text, a comment, ``<!DOCTYPE``, a ``>`` inside an attribute
value, a bare attribute) makes the reading ``None``, and the checks read such a narrative their
own, slower, way. A narrative has a few dozen tags but only a few distinct ones, so the work is
done by string methods over the whole text and per distinct tag, not by a regex or a Python
step per tag.

>>> markup = read_markup('<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann<br/></p></div>')
>>> markup.bodies
['div xmlns="http://www.w3.org/1999/xhtml"', 'p', 'br/', '/p', '/div']
>>> markup.texts
['', 'Ann', '', '', '']
>>> [(tag.name, tag.depth) for tag in markup.tags.values()]
[('div', 1), ('p', 1), ('br', 0), ('p', -1), ('div', -1)]
>>> markup.one_root
True
>>> read_markup('<div>a > b</div>') is None
True
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple, cast

__all__ = ["LONGEST_TAG", "Markup", "Tag", "read_markup", "read_tag", "unescaped"]

LONGEST_TAG = 1000  # characters; the readings of shorter tags are kept for the next narrative
SPACE = "[ \t\n\r\f]"  # what ends a tag name for html.parser (not all of \s)
# What follows the name in a start tag: attributes with quoted values, then '/' if empty.
_START = re.compile(rf"""([a-zA-Z][a-zA-Z0-9]*)
    ((?:{SPACE}+[a-zA-Z_:][-a-zA-Z0-9_:.]*{SPACE}*={SPACE}*(?:"[^"]*"|'[^']*'))*{SPACE}*/?)
""", re.VERBOSE)
_END = re.compile(rf"/([a-zA-Z][a-zA-Z0-9]*){SPACE}*")

# The tags' brackets, in UTF-8 (where bytes 0xFE and 0xFF never occur): the "<" of "</" becomes
# 0xFE and the ">" of "/>" 0xFF, then every other byte goes, leaving a pair per tag if every
# "<" and ">" is a tag's: "<>" a start tag, 0xFE ">" an end tag, "<" 0xFF an empty-element tag.
# (Replacing bytes by as many bytes, and deleting bytes, are fast in CPython.)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"<>\xfe\xff")
_AS_WRITTEN = bytes.maketrans(b"\xfe\xff", b"<>")


class Tag(NamedTuple):
    """One tag: ``<name raw>``, ``<name raw/>`` or ``</name>``."""

    name: str  # as written
    lower: str  # the name in lower case, as html.parser reports it
    raw: str  # a start tag's attributes as written, then "/" if the element is empty
    depth: int  # what the tag adds to the nesting depth: 1 start, 0 empty, -1 end


class Markup(NamedTuple):
    """A narrative read as tags: ``lead``, then each tag followed by its text (shared by the
    checks through :func:`read_markup`'s cache, so read, never changed)."""

    lead: str  # the text before the first tag
    bodies: list[str]  # each tag as written between its '<' and '>', in order
    texts: list[str]  # the text after each tag, up to the next one
    tags: dict[str, Tag]  # each distinct body, read, in the order of first appearance
    one_root: bool  # the first tag opens an element the last tag closes, all between nest


@lru_cache(maxsize=4096)  # the same few dozen tags make up most narratives
def read_tag(body: str) -> Tag | None:
    """A tag written as ``<{body}>``, or None if it is not a plain start, empty or end tag.

    >>> read_tag('img src="a.png" /')
    Tag(name='img', lower='img', raw=' src="a.png" /', depth=0)
    >>> read_tag('/P ')
    Tag(name='P', lower='p', raw='', depth=-1)
    >>> read_tag('!-- a comment --') is None
    True
    """
    if body[:1] == "/":
        end = _END.fullmatch(body)
        return None if end is None else Tag(end[1], end[1].lower(), "", -1)
    start = _START.fullmatch(body)
    if start is None:
        return None
    name, raw = start.groups()
    return Tag(name, name.lower(), raw, 0 if raw.endswith("/") else 1)


@lru_cache(maxsize=8)  # txt-1, txt-2 and the narrative check read each div in turn
def read_markup(text: str) -> Markup | None:
    """``text`` read as tags and the texts between them, or None if it is not plain markup."""
    pairs = text.encode("utf-8", "surrogatepass").replace(b"</", b"\xfe/") \
        .replace(b"/>", b"/\xff").translate(None, _NOT_BRACKETS)
    if pairs.translate(_AS_WRITTEN) != b"<>" * (len(pairs) // 2):
        return None  # a '<' or '>' that is not a tag's
    parts = text.replace(">", "<").split("<")
    bodies = parts[1::2]
    distinct = tuple(dict.fromkeys(bodies))
    if len(text) > LONGEST_TAG and max(map(len, distinct), default=0) > LONGEST_TAG:
        return None  # (an image's data: URL, say: not kept by the caches here and after)
    tags = _read_tags(distinct)
    if tags is None:
        return None
    one_root = pairs[:2] == b"<>" and pairs[-2:] == b"\xfe>" and _nest(pairs[2:-2])
    return Markup(parts[0], bodies, parts[2::2], tags, one_root)


@lru_cache(maxsize=1024)  # narratives written by one generator share their tags
def _read_tags(bodies: tuple[str, ...]) -> dict[str, Tag] | None:
    """Each distinct tag body read (:func:`read_tag`), or None if one is not a plain tag."""
    tags = dict(zip(bodies, map(read_tag, bodies), strict=True))
    return cast("dict[str, Tag]", tags) if all(tags.values()) else None


def _nest(pairs: bytes) -> bool:
    """Whether the tags (as bracket pairs) close all the elements they open, and no more: each
    round takes away the innermost elements."""
    brackets = pairs.replace(b"<\xff", b"").replace(b"<>", b"(").replace(b"\xfe>", b")")
    for _ in range(32):
        inner = brackets.replace(b"()", b"")  # (not `in`: bytes try a number first, and raise)
        if len(inner) == len(brackets):
            return not inner
        brackets = inner
    depth = 0  # nested deeper than that: count
    for bracket in brackets:
        depth += 1 if bracket == ord("(") else -1
        if depth < 0:
            return False
    return depth == 0


def unescaped(text: str) -> str:
    """``html.unescape(text)``: the character references replaced. html's entity table is
    imported at the first call, so a run whose narratives have no ``&`` never reads it."""
    from html import unescape

    return unescape(text)
