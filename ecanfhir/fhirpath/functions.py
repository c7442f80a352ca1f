"""The FHIR-specific FHIRPath functions, as a fhirpathpy ``userInvocationTable``.

FHIR adds functions to FHIRPath (R4 fhirpath.html, "Additional functions"):
``resolve()``, ``extension(url)``, ``hasValue()``, ``getValue()``, ``htmlChecks()``,
``conformsTo()``, ``memberOf()``. fhirpathpy 2.2 has none but ``extension``, which returns
only the first match. A few built-ins are replaced too: ``children()`` (which skips
``_x``-only primitives, so ``ele-1`` failed on them), ``trace()`` (which prints), and
``as``/``is``/``ofType`` (``as()`` on a collection filters, as the ``dom-3`` invariant and the
HL7 validator expect; a value with its ``_x`` half counts as one item).

Entries follow fhirpathpy's table format: ``fn(ctx, input_nodes, *params)`` plus an
``arity`` map from parameter count to parameter kinds (see
``fhirpathpy/engine/invocations/__init__.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any

from ..formats.xhtml import Markup, read_markup, read_tag
from .model import (
    ENV_KEY,
    EvalEnv,
    child_path,
    get_data,
    is_companion,
    is_primitive_value,
    is_subtype,
    make_node,
    type_info,
)

__all__ = ["CONTEXT_TYPE", "FUNCTIONS", "html_checks", "html_checks_reference"]

# The step an expression's leading type name becomes (``Patient`` in ``Patient.active``, see
# ``engine._type_steps``); not an identifier, so no expression can call it by name.
CONTEXT_TYPE = "%contextType"


def _values(coll: list[Any]) -> list[Any]:
    return [node for node in coll if not is_companion(node)]


def _single(coll: list[Any], what: str) -> Any:
    """The one item of a collection, a primitive's value and ``_x`` halves counting as one."""
    values = _values(coll)
    if len(values) > 1:
        raise ValueError(f"{what} expects a single item, got {len(values)}")
    if values:
        return values[0]
    return coll[0] if coll else None


def _env(ctx: Mapping[str, Any]) -> EvalEnv:
    env: EvalEnv = ctx[ENV_KEY]
    return env


def has_value(ctx: Any, coll: list[Any]) -> bool:
    values = _values(coll)
    return len(values) == 1 and is_primitive_value(get_data(values[0]))


def get_value(ctx: Any, coll: list[Any]) -> Any:
    values = _values(coll)
    if len(values) == 1 and is_primitive_value(get_data(values[0])):
        return get_data(values[0])
    return []


def html_checks_fn(ctx: Any, coll: list[Any]) -> Any:
    values = _values(coll)
    if len(values) != 1:
        return []
    div = get_data(values[0])
    return isinstance(div, str) and html_checks(div)


def _contained(resource: Any, resource_id: str) -> Mapping[str, Any] | None:
    for candidate in (resource.get("contained") or []) if isinstance(resource, Mapping) else []:
        if isinstance(candidate, Mapping) and candidate.get("id") == resource_id:
            return candidate
    return None


def resolve(ctx: Any, coll: list[Any]) -> list[Any]:
    env = _env(ctx)
    found = []
    for node in _values(coll):
        data = get_data(node)
        ref = data.get("reference") if isinstance(data, Mapping) else data
        if not isinstance(ref, str) or not ref:
            continue
        target = None
        if ref.startswith("#") and len(ref) > 1:  # contained (R4 references.html#contained)
            target = _contained(env.resource, ref[1:]) or _contained(env.root_resource, ref[1:])
        if target is None and env.resolve is not None:
            target = env.resolve(ref)
        if target is not None:
            found.append(make_node(target))
    return found


def conforms_to(ctx: Any, coll: list[Any], url: Any) -> Any:
    env = _env(ctx)
    node = _single(coll, "conformsTo()")
    data = get_data(node)
    if not isinstance(url, str) or env.conforms_to is None or not isinstance(data, Mapping):
        return []
    answer = env.conforms_to(data, url)
    return [] if answer is None else answer


def member_of(ctx: Any, coll: list[Any], url: Any) -> Any:
    env = _env(ctx)
    node = _single(coll, "memberOf()")
    if not isinstance(url, str) or env.member_of is None or node is None:
        return []
    answer = env.member_of(get_data(node), url)
    return [] if answer is None else answer


def extension(ctx: Any, coll: list[Any], url: Any) -> list[Any]:
    found = []
    for node in coll:
        data = get_data(node)
        exts = data.get("extension") if isinstance(data, Mapping) else None
        for ext in exts if isinstance(exts, list) else ():
            if isinstance(ext, Mapping) and ext.get("url") == url:
                found.append(make_node(ext, "Extension"))
    return found


def trace(ctx: Any, coll: list[Any], *_: Any) -> list[Any]:
    return coll  # a validator has no console to trace to


def children(ctx: Any, coll: list[Any]) -> list[Any]:
    """Child nodes: every JSON property but ``resourceType``, ``_x`` halves included."""
    found = []
    for node in coll:
        parent = make_node(node)
        if not isinstance(parent.data, Mapping):
            continue
        for key, value in parent.data.items():
            if key == "resourceType":
                continue
            path = child_path(parent.path, key.removeprefix("_"))
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    found.append(make_node(item, path))
    return found


def _is(node: Any, wanted: Any) -> bool:
    info = type_info(node)
    return info is not None and bool(info.is_(wanted))


def as_fn(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    return [node for node in _values(coll) if _is(node, wanted)]


def as_op(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    node = _single(coll, "as")
    return [node] if node is not None and _is(node, wanted) else []


def is_op(ctx: Any, coll: list[Any], wanted: Any) -> Any:
    node = _single(coll, "is")
    return [] if node is None else _is(node, wanted)


def of_type(ctx: Any, coll: list[Any], wanted: Any) -> list[Any]:
    return [node for node in coll if _is(node, wanted)]


def context_type(ctx: Any, coll: list[Any], name: Any) -> list[Any]:
    """The items of type ``name`` or a subtype of it (a type name as first step, FHIRPath
    §4.1): ``Patient`` keeps a Patient, ``DomainResource`` any resource but Bundle, Binary and
    Parameters; an item of unknown type is dropped."""
    return [node for node in coll if is_subtype(getattr(node, "path", None), name)]


FUNCTIONS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "hasValue": {"fn": has_value},
    "getValue": {"fn": get_value},
    "htmlChecks": {"fn": html_checks_fn},
    "resolve": {"fn": resolve},
    "conformsTo": {"fn": conforms_to, "arity": {1: ["String"]}},
    "memberOf": {"fn": member_of, "arity": {1: ["String"]}},
    "extension": {"fn": extension, "arity": {1: ["String"]}},
    "trace": {"fn": trace, "arity": {0: [], 1: ["String"], 2: ["String", "Expr"]}},
    "children": {"fn": children},
    "as": {"fn": as_fn, "arity": {1: ["TypeSpecifier"]}},
    "is": {"fn": is_op, "arity": {1: ["TypeSpecifier"]}},
    "asOp": {"fn": as_op, "arity": {2: ["Any", "TypeSpecifier"]}},
    "isOp": {"fn": is_op, "arity": {2: ["Any", "TypeSpecifier"]}},
    "ofType": {"fn": of_type, "arity": {1: ["TypeSpecifier"]}},
    CONTEXT_TYPE: {"fn": context_type, "arity": {1: ["String"]}},
})


# -- htmlChecks(): the narrative rules -------------------------------------------------------

# R4 narrative.html (Narrative.div, txt-1): "only the basic html formatting elements
# described in chapters 7-11 and 15 of the HTML 4.0 standard, <a> elements (either name or
# href), images and internally contained style attributes"; no scripts, forms, frames, objects,
# base/link, head/body or event attributes. This is the element list the HL7 validator allows.
_ALLOWED_ELEMENTS = frozenset({
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
    return bool((unescape(data) if "&" in data else data).strip())


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
        if tag.lower not in _ALLOWED_ELEMENTS or not _attributes_ok(tag.raw) \
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
            if tag not in _ALLOWED_ELEMENTS or (attributes and not _attributes_ok(attributes)):
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
                value = unescape(value)
            if value.strip().lower().startswith("javascript:"):
                return False
    return True


class _NarrativeChecker(HTMLParser):
    """html.parser's reading of a narrative, for what :func:`_scan` leaves to it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
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
        self.ok &= tag in _ALLOWED_ELEMENTS
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


def html_checks_reference(div: str) -> bool:
    """:func:`html_checks` through html.parser: the definition the fast scan is held to."""
    text = div.strip()
    if not text.startswith("<div"):
        return False
    checker = _NarrativeChecker()
    try:
        checker.feed(text)
        checker.close()
    except (AssertionError, ValueError):  # HTMLParser's way to reject broken markup
        return False
    return checker.ok and checker.depth == 0 and checker.content
