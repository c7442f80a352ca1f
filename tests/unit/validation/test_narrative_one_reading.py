"""Narrative XHTML read once for both checks: the same verdicts and issues as before.

``formats.xhtml.read_markup`` reads a ``div`` into tags once; txt-1's ``html_checks`` and the
element-by-element ``check_narrative`` both use that reading. Here both are held, on
hand-written and generated narrative-like XHTML (allowed and disallowed elements, attributes
quoted both ways, entities good and bad, comments, stray brackets, unclosed tags, blocks in
paragraphs), to their oracles: html.parser (``html_checks_reference``) for the verdict, and a
frozen copy of the regex scan ``check_narrative`` used before the shared reading (below) for
the issues, byte for byte and in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from html import unescape
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecanfhir.fhirpath.html_checks import html_checks, html_checks_reference
from ecanfhir.formats.xhtml import read_markup
from ecanfhir.validation._issue import Issue
from ecanfhir.validation.checks import narrative
from ecanfhir.validation.checks.narrative import check_narrative

Problem = tuple[str, str, bool]


# -- the oracle: the scan check_narrative made before the shared reading, frozen -------------
# (It keeps the module's patterns and its rules for one element's attributes and for the
# languages, which the shared reading did not change.)

def _old_check_narrative(div: str, at: str, language: Any) -> Iterator[Issue]:
    seen: set[str] = set()
    for rule, message, warning in _old_problems(div, language):
        if message not in seen:
            seen.add(message)
            yield (Issue.warning("business-rule", f"{at}.div", message, rule) if warning
                   else Issue.error("invalid", f"{at}.div", message, rule))


def _old_problems(div: str, language: Any) -> Iterator[Problem]:
    if "<!--" in div:
        div = narrative._COMMENT.sub("", div)
    if "<!" in div and narrative._DOCTYPE.search(div):
        yield "xhtml-doctype", "the narrative has a DOCTYPE declaration, which XHTML " \
            "fragments may not have (XXE protection)", False
    tags = narrative._START_TAG.findall(div)
    if not tags:
        return
    if any(raw.count('"') % 2 or raw.count("'") % 2 for _, raw in tags if raw):
        tags = narrative._START_TAG_EXACT.findall(div)
    root, root_raw = tags[0]
    yield from _old_root(root.lower(), _old_attributes(root_raw), language)
    names = set()
    for name, raw in tags[1:]:
        names.add(name)
        if raw and raw != "/" and not raw.isspace():
            yield from narrative._element_attributes(name.lower(), _old_attributes(raw))
    for name in sorted({name.lower() for name in names} - narrative.ELEMENTS):
        yield "xhtml-element", f"<{name}> is not allowed in a narrative (only basic HTML " \
            "formatting, links, images and tables)", False
    if "<p" in div:
        paragraphs = 0
        for closing, name, raw in narrative._BLOCK_TAG.findall(div):
            if closing:
                paragraphs -= paragraphs > 0 and name == "p"
                continue
            if paragraphs:
                yield "xhtml-in-paragraph", f"<{name}> is a block and cannot be inside a " \
                    "paragraph (<p>)", False
            paragraphs += name == "p" and not raw.rstrip().endswith("/")
    for m in narrative._ENTITY.finditer(div) if "&" in div else ():
        if m.group(1) not in narrative._entity_names():
            yield "xhtml-entity", f"'&{m.group(1)};' is not an XHTML entity (use a numeric " \
                "character reference)", False


def _old_attributes(raw: str) -> dict[str, str]:
    return {a.lower(): unescape(d or s) if "&" in (d or s) else d or s
            for a, d, s in narrative._ATTRIBUTE.findall(raw) if a != "/"}


def _old_root(name: str, attrs: Mapping[str, str], language: Any) -> Iterator[Problem]:
    if name != "div":
        yield "xhtml-root", f"the narrative's root element is <{name}>: it must be a <div>", False
    if attrs.get("xmlns") != narrative.XHTML_NS:
        found = attrs.get("xmlns")
        yield "xhtml-namespace", (f"the narrative's root is in the namespace '{found}'" if found
                                  else "the narrative's root has no xmlns") + \
            f": it must be xmlns=\"{narrative.XHTML_NS}\"", False
    if isinstance(language, str) and language:
        yield from narrative._languages(language, attrs.get("lang"), attrs.get("xml:lang"))


# -- the checks against their oracles --------------------------------------------------------

def _assert_same(div: str, language: Any = None) -> None:
    assert html_checks(div) is html_checks_reference(div), div
    new = list(check_narrative({"div": div}, "Patient.text", language=language))
    assert new == list(_old_check_narrative(div, "Patient.text", language)), div


XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
DIV = f"<div {XHTML}>"

PLAIN = f"{DIV}<p>Ann <b>Smith</b><br/></p><table><tr><td>1</td></tr></table></div>"
BLOCKS_IN_PARAGRAPHS = f"{DIV}<p>one<div>two</div><p>three</p></p><ul><li>x</li></ul></div>"
COMMENTED = f"{DIV}<!-- c --><p>x</p></div>"
LONG_TAG = f'{DIV}<img src="data:image/png;base64,{"A" * 1200}"/><b x="1">y</b></div>'
HAND_WRITTEN = [
    PLAIN,
    BLOCKS_IN_PARAGRAPHS,
    f"{DIV}<p/><div>x</div><p>a</p><p>b<table/></p></div>",
    f'{DIV}<p class="x" onclick="y()">a</p><P>b</P><script>z</script><Foo/></div>',
    f'<div {XHTML} onclick="x()"><div {XHTML} onclick="x()"/><b x="1"/>hi</div>',
    f'<div {XHTML} onclick="x()"><b x="1"/><div {XHTML} onclick="x()">hi</div></div>',
    f"<div {XHTML} lang='en'><b x='1'/><div {XHTML} lang='en' foo='1'/></div>",
    f'<foo {XHTML}><p>x</p><foo/></foo>',
    "<foo><p>x</p><form/><foo>y</foo></foo>",
    f'{DIV}<a href="a b">x</a><img src="data:,"/><a href="javascript:x">y</a></div>',
    f"{DIV}&amp;&nbsp;&bogus;&#160;&apos; x</div>",
    f"{DIV}<p title=\"it's\">x</p></div>",
    COMMENTED,
    LONG_TAG,
    f"{DIV}<!DOCTYPE x><p>x</p></div>",
    f"{DIV}a < b</div>",
    f"{DIV}a > b</div>",
    f"</p>{DIV}x</div>",
    "x <b>y</b>",
    "plain text",
    "<div>x</div>trailing",
    f"{DIV}<p>unclosed</div>",
    f"{DIV}</div></div>",
    f'<div lang="de" xml:lang="en" {XHTML}>x</div>',
]


@pytest.mark.parametrize("div", HAND_WRITTEN)
@pytest.mark.parametrize("language", [None, "en", "de"])
def test_hand_written_narratives_agree(div: str, language: str | None) -> None:
    """Hand-written narratives, valid and not: same verdict, same issues in the same order."""
    _assert_same(div, language)


def test_the_shared_reading_reads_plain_narratives() -> None:
    """A plain narrative is read as tags (so the fast paths run); a comment, or a tag too long
    to keep, is not."""
    assert read_markup(PLAIN) is not None
    assert read_markup(BLOCKS_IN_PARAGRAPHS) is not None
    assert read_markup(COMMENTED) is None
    assert read_markup(LONG_TAG) is None


def test_issues_are_found_on_the_fast_path() -> None:
    """Through the shared reading, the issues carry their code, rule and location."""
    assert read_markup(BLOCKS_IN_PARAGRAPHS) is not None
    issues = list(check_narrative({"div": BLOCKS_IN_PARAGRAPHS}, "Patient.text"))
    assert [(i.code, i.rule, i.expression) for i in issues] == [
        ("invalid", "xhtml-in-paragraph", "Patient.text.div")] * 2
    assert [i.message[:10] for i in issues] == ["<div> is a", "<p> is a b"]


NAMES = ["div", "p", "b", "br", "span", "table", "td", "ul", "li", "img", "a", "pre",
         "blockquote", "ol", "P", "Div", "script", "form", "foo", "h1"]
PLAIN_ATTRIBUTES = st.sampled_from([
    f" {XHTML}", ' xmlns="urn:x"', ' class="c"', " style='color:red'", ' onclick="x()"',
    ' href="http://a.b/c d"', " href='#x'", ' href="javascript:x()"', " href='&#106;s:x'",
    ' src="data:image/png;base64,AAAA"', ' src="data:,"', ' lang="en"', " xml:lang='de'",
    ' data-x="1"', ' title="a &amp; b"', ' title="it\'s"', ' id = "i" ', " ",
])
HOSTILE_ATTRIBUTES = st.sampled_from([" title='a>b'", ' title="<i>"', " nowrap", "/x"])
PLAIN_TEXT = st.sampled_from([
    "a", "Ann Smith", " ", "\n  ", "&amp;", "&nbsp;", "&#32;", "&#xA0;", "&bogus;", "&am",
    "&", "'", '"', "\u00a0", "é", "a/b", "",
])
HOSTILE_TEXT = st.sampled_from([
    "<", ">", "a < b", "x > y", "<!-- c -->", "<!-- <p> -->", "<!DOCTYPE x>", "</>", "</ p>",
    "<br / >",
])


@st.composite
def elements(draw: st.DrawFn, depth: int = 0, *, hostile: bool = False) -> str:
    """An element, or a text, with random attributes and children, sometimes left open;
    ``hostile``: with markup the shared reading leaves to the regex scan, now and then."""
    texts, attributes = PLAIN_TEXT, PLAIN_ATTRIBUTES
    names = st.sampled_from(NAMES)
    if hostile:
        texts = st.one_of(PLAIN_TEXT, PLAIN_TEXT, HOSTILE_TEXT)
        attributes = st.one_of(PLAIN_ATTRIBUTES, PLAIN_ATTRIBUTES, HOSTILE_ATTRIBUTES)
        names = st.one_of(names, st.just("x:y"))
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(texts)
    name = draw(names)
    written = "".join(draw(st.lists(attributes, max_size=3)))
    if draw(st.integers(0, 5)) == 0:
        return f"<{name}{written}/>"
    children = "".join(draw(st.lists(elements(depth + 1, hostile=hostile), max_size=4)))
    end = draw(st.sampled_from([f"</{name}>", f"</{name}>", f"</{name} >", "", "</p>"]))
    return f"<{name}{written}>{children}{end}"


ROOTS = st.sampled_from([f"<div {XHTML}>", "<div>", f'<div {XHTML} lang="en">',
                         f"<div {XHTML} xml:lang='en' lang='en'>", "<DIV>", "<p>",
                         f' <div {XHTML} onclick="x()">', "<div/>", "<foo>"])
ENDS = st.sampled_from(["</div>", "</div>", "</div> ", "", "</div>x", "</div><div>",
                        "</div></div>"])


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(ROOTS, st.booleans().flatmap(lambda hostile: st.lists(elements(hostile=hostile),
                                                              max_size=5)),
       ENDS, st.sampled_from([None, "en", "de", 1]))
def test_generated_narratives_agree(root: str, children: list[str], end: str,
                                    language: Any) -> None:
    """Generated narrative-like XHTML: same verdict as html.parser, same issues as before."""
    div = root + "".join(children) + end
    event("read as tags" if read_markup(div.strip()) is not None else "read as written")
    _assert_same(div, language)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="<>/!-&;#a bdivp=\"'\n\u00a0", max_size=40))
def test_arbitrary_text_agrees(tail: str) -> None:
    """Arbitrary text after a root start tag: same verdict, same issues."""
    _assert_same(f"<div {XHTML}>" + tail)
