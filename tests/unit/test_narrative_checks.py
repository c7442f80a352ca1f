"""htmlChecks(): the one-pass scan agrees with html.parser (ecanfhir.fhirpath.html_checks).

``html_checks`` scans narrative markup with one regex and leaves what it does not read to
``html_checks_reference``, the html.parser implementation it replaced. On hand-written and
generated XHTML — valid narratives, scripts, event attributes, ``javascript:`` links, unknown
elements, nesting, entities, CDATA, comments, empty tags, broken markup — both must agree.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecanfhir.fhirpath.html_checks import _scan, html_checks, html_checks_reference

XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
DIV = f"<div {XHTML}>"

HAND_WRITTEN = [
    f"{DIV}<p>Ann <b>Smith</b><br/></p><table><tr><td>1</td></tr></table></div>",
    f'{DIV}<img src="x.png" alt=""/></div>',
    f"{DIV}<a href='#x'>link</a> &amp; text</div>",
    f"{DIV}<script>alert(1)</script>hi</div>",
    f"{DIV}<SCRIPT>alert('</div>')</SCRIPT>hi</div>",
    f"{DIV}<style>p {{}}</style>hi</div>",
    f'{DIV}<p onclick="x()">hi</p></div>',
    f'{DIV}<p ONMOUSEOVER="x()">hi</p></div>',
    f'{DIV}<a href="javascript:x()">hi</a></div>',
    f'{DIV}<a href=" JavaScript:x()">hi</a></div>',
    f'{DIV}<a href="&#106;avascript:x()">hi</a></div>',
    f'{DIV}<img src="javascript:x"/>hi</div>',
    f'{DIV}<a name="javascript:x">hi</a></div>',
    f"{DIV}<form><input/></form>hi</div>",
    f"{DIV}<iframe src='x'></iframe>hi</div>",
    f"{DIV}<blink>hi</blink></div>",
    f"{DIV}   </div>",
    f"{DIV}&nbsp;</div>",
    f"{DIV}&#32;&#x20;</div>",
    f"{DIV}&#3</div>",
    f"{DIV}&am</div>",
    f"{DIV}&unknown;</div>",
    f"{DIV}</div>",
    f"{DIV}<img/></div>",
    "<p>not a div</p>",
    "<div/>",
    "<div />",
    "  <div>x</div>  ",
    "<divx>x</divx>",
    "<DIV>x</DIV>",
    f"{DIV}a</div><div>b</div>",
    f"{DIV}a</div>trailing",
    f"{DIV}a</div>&nbsp;",
    f"{DIV}a</div><!-- after -->",
    f"{DIV}a</div></div>",
    f"{DIV}<p>unclosed</div>",
    f"{DIV}<p>mismatched</b></div>",
    f"{DIV}<div><div><p>deep</p></div></div></div>",
    f"{DIV}<!-- a comment -->x</div>",
    f"{DIV}<!-- <script> -->x</div>",
    f"{DIV}<!-- unterminated x</div>",
    f"{DIV}<!---->x</div>",
    f"{DIV}<!-- a -- >x</div>",
    f"{DIV}<![CDATA[x]]></div>",
    f"{DIV}<!DOCTYPE html>x</div>",
    f"{DIV}<?php x ?>x</div>",
    f"{DIV}<!bogus>x</div>",
    f"{DIV}a < b</div>",
    f"{DIV}a <</div>",
    f"{DIV}a > b</div>",
    f"{DIV}<p title='a > b'>x</p></div>",
    f'{DIV}<p title="<b>">x</p></div>',
    f"{DIV}<td nowrap>x</td></div>",
    f"{DIV}<p class=x>x</p></div>",
    f'{DIV}<p class="a"id="b">x</p></div>',
    f'{DIV}<p\u00a0class="a">x</p></div>',
    f'{DIV}<p\x0bclass="a">x</p></div>',
    f'{DIV}<p class = "a" >x</p ></div>',
    f"{DIV}<br / >x</div>",
    f"{DIV}<p:x>x</p:x></div>",
    f"{DIV}</ p>x</div>",
    f"{DIV}</>x</div>",
    f"{DIV}<é>x</é></div>",
    "<div",
    "<div>",
    "<div>x",
    "",
]


@pytest.mark.parametrize("div", HAND_WRITTEN)
def test_scan_agrees_on_hand_written_markup(div: str) -> None:
    """Hand-written narratives, valid and not: the same verdict as html.parser."""
    assert html_checks(div) is html_checks_reference(div)


def test_scan_reads_ordinary_narratives_itself() -> None:
    """A generated narrative is scanned, not handed to html.parser."""
    assert _scan(f'{DIV}<p>Ann <b class="x">Smith</b> &amp; co<br/></p><!-- c --></div>')
    assert _scan(f"{DIV}<p>a < b</p></div>") is None


FRAGMENTS = st.sampled_from([
    "a", "Smith", " ", "\n  ", "&amp;", "&nbsp;", "&#32;", "&#x41;", "&am", "&", "&#3",
    "<p>", "</p>", "<b>", "</b>", "<div>", "</div>", "<br/>", "<br />", "<img/>",
    '<img src="x.png" alt=""/>', "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>",
    '<a href="#x">', '<a href="javascript:x()">', "<a href='&#106;avascript:x'>", "</a>",
    '<span onclick="x()">', '<span class="c" style="color:red">', "</span>",
    "<script>", "</script>", "<style>", "</style>", "<blink>", "</blink>", "<form>",
    "<P>", "</P>", "<Img Src='a'/>", "<!-- c -->", "<!-- <b> -->", "<!--", "-->",
    "<![CDATA[x]]>", "<!DOCTYPE x>", "<?pi?>", "<", ">", "</>", "</ p>", "<td nowrap>",
    "<p class=x>", '<p a="1"b="2">', "<p\u00a0class='a'>", "<br / >", "<x:y>", "'", '"',
    "<p title='a>b'>", '<p title="<i>">',
])
ROOTS = st.sampled_from([f"<div {XHTML}>", "<div>", "<DIV>", "<div/>", "<p>", " <div>"])
ENDS = st.sampled_from(["</div>", "</DIV>", "</div >", "", "</div> ", "</div>x", "</div><div>"])


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(ROOTS, st.lists(FRAGMENTS, max_size=12), ENDS)
def test_scan_agrees_on_generated_markup(root: str, parts: list[str], end: str) -> None:
    """Generated markup from valid and hostile fragments: the same verdict as html.parser."""
    div = root + "".join(parts) + end
    event("scanned" if _scan(div.strip()) is not None else "html.parser")
    assert html_checks(div) is html_checks_reference(div), div


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="<>/!-?&;#a bdivp=\"'\n\u00a0", max_size=40))
def test_scan_agrees_on_arbitrary_text(tail: str) -> None:
    """Arbitrary text after a root start tag: the same verdict as html.parser."""
    div = "<div>" + tail
    assert html_checks(div) is html_checks_reference(div), div
