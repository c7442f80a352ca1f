"""Reading FHIR XML blank-free (``_xml_tree``): the blank text between FHIR elements left out,
text handed over in one piece, and the exact reading taken whenever an issue must say where a
text stands. ``read_xml`` must give what reading the document as written gives, always.

All resources are small synthetic ones written for these tests.
"""

from __future__ import annotations

import pytest

from ecanfhir.formats import xml_read
from ecanfhir.formats._xml_tree import (
    Document,
    Node,
    Text,
    parse_document,
    prefixes_declared_inside,
)
from ecanfhir.formats.xml_read import FHIR_NS, XmlRead, read_xml

NS = 'xmlns="http://hl7.org/fhir"'
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'

PATIENT = (f'<Patient {NS}>\n  <id value="p1"/>\n  <text>\n    <status value="generated"/>\n'
           f'    <div {XHTML}>\n      <p>Ann <b>Smith</b></p>\n    </div>\n  </text>\n'
           '  <active value="true"/>\n  <name>\n    <family value="Smith"/>\n'
           '    <given value="Ann"/>\n  </name>\n</Patient>\n')


def exactly(data: str | bytes) -> XmlRead:
    """The document read as written (every text, with its place)."""
    return xml_read._read(parse_document(data), None)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """From now on in the test, each reading of a document: blank-free (FHIR's namespace) or
    as written (None)."""
    reads: list[str | None] = []
    real = xml_read._read

    def counted(document: Document, parse_float: None) -> XmlRead:
        reads.append(document.blank_free)
        return real(document, parse_float)

    monkeypatch.setattr(xml_read, "_read", counted)
    return reads


def same(one: XmlRead, other: XmlRead) -> None:
    assert one.resource == other.resource
    assert [repr(i) for i in one.issues] == [repr(i) for i in other.issues]
    assert dict(one.positions) == dict(other.positions)


def test_blank_text_between_fhir_elements_is_left_out() -> None:
    root = parse_document(PATIENT, blank_free=FHIR_NS).root
    assert not root.mixed
    assert root.elements() == root.content
    assert [n.name for n in root.elements()] == ["id", "text", "active", "name"]
    assert root.texts() == []
    name = root.elements()[3]
    assert not name.mixed and name.content == name.elements()
    assert [n.name for n in name.elements()] == ["family", "given"]
    # read as written, the same elements have their blank text between them
    exact = parse_document(PATIENT).root
    assert exact.mixed and len(exact.content) > 4
    assert [n.name for n in exact.elements()] == ["id", "text", "active", "name"]


def test_the_narrative_is_kept_as_written_not_as_nodes() -> None:
    """Read blank-free, the narrative's div keeps none of its content (the mapping takes it as
    written); read as written, it keeps all of its text."""
    document = parse_document(PATIENT, blank_free=FHIR_NS)
    div = document.root.elements()[1].elements()[1]
    assert div.name == "div" and div.opaque and div.self_contained
    assert div.content == [] and not div.mixed
    assert document.source(div) == PATIENT[PATIENT.index("<div"):PATIENT.index("</div>") + 6]
    exact = parse_document(PATIENT).root.elements()[1].elements()[1]
    assert not exact.opaque and exact.mixed
    assert [c.value for c in exact.content if isinstance(c, Text)] == ["\n      ", "\n    "]
    p = exact.elements()[0]
    assert [c.value if isinstance(c, Text) else c.name for c in p.content] == ["Ann ", "b"]


@pytest.mark.parametrize("div, contained", [
    (f'<div {XHTML}><p>x</p></div>', True),
    (f'<div {XHTML}><x:p xmlns:x="urn:x">x</x:p></div>', True),
    (f'<div {XHTML} xml:lang="en"><p xml:lang="en">x</p></div>', True),
    (f'<div {XHTML}><p x:a="1">x</p></div>', False),  # x: declared outside the div
    (f'<div {XHTML}><x:p>x</x:p></div>', False),
    (f'<div {XHTML}><q xmlns:x="urn:x"/><p x:a="1">x</p></div>', False),  # out of scope
])
def test_an_opaque_narrative_knows_whether_its_prefixes_are_its_own(div: str,
                                                                    contained: bool) -> None:
    data = (f'<Basic {NS} xmlns:x="urn:x"><text><status value="generated"/>{div}</text>'
            '<code><text value="t"/></code></Basic>')
    node = parse_document(data, blank_free=FHIR_NS).root.elements()[0].elements()[1]
    assert node.opaque and node.self_contained is contained
    exact = parse_document(data).root.elements()[0].elements()[1]
    assert prefixes_declared_inside(exact) is contained
    same(read_xml(data), exactly(data))


@pytest.mark.parametrize("div", [
    f'<div {XHTML}><p>one</p><br/></div>',  # content that ends with an empty-element tag
    f'<div {XHTML}>\n</div>',
    f'<div {XHTML}></div>',
    f'<div {XHTML}/>',
    f'<div {XHTML}><!-- a note --><p>x</p></div>',
    f'<div {XHTML}><p>a &amp; b &#xD; c</p></div>',
])
def test_narratives_of_every_shape_read_as_when_read_as_written(div: str) -> None:
    data = (f'<Basic {NS}><text><status value="generated"/>{div}</text>'
            '<code><text value="t"/></code></Basic>')
    same(read_xml(data), exactly(data))
    same(read_xml(data.encode()), exactly(data.encode()))


def test_a_narrative_written_out_again_takes_the_exact_reading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A narrative that cannot be quoted as written (prefixes declared outside it, a document
    not in UTF-8) is written out from its nodes: read blank-free, it has none, so read_xml
    reads the document again as written."""
    reads = _count_reads(monkeypatch)
    div = f'<div {XHTML}><p x:a="1">x</p></div>'
    data = (f'<Basic {NS} xmlns:x="urn:x"><text><status value="generated"/>{div}</text>'
            '<code><text value="t"/></code></Basic>')
    read = read_xml(data)
    assert reads == [FHIR_NS, None]
    assert read.resource is not None and 'xmlns:x="urn:x"' in read.resource["text"]["div"]
    reads.clear()
    utf16 = PATIENT.replace('<Patient ', '<?xml version="1.0" encoding="UTF-16"?><Patient ', 1)
    read = read_xml(utf16.encode("utf-16"))
    assert reads == [FHIR_NS, None]
    assert read.resource is not None and read.resource["text"]["div"].startswith("<div")


def test_fhir_elements_inside_another_namespace_keep_their_blank_text() -> None:
    """Under an element of another namespace (an error, or XHTML), nothing is left out: what
    is written there may be written out again (the narrative's serialisation)."""
    data = (f'<Basic {NS}><code><x xmlns="urn:other"><y {NS}> <z/> </y></x></code>'
            '<code> </code></Basic>')
    root = parse_document(data, blank_free=FHIR_NS).root
    x = root.elements()[0].elements()[0]
    y = x.elements()[0]
    assert y.ns == FHIR_NS and y.mixed
    assert [c.value for c in y.content if isinstance(c, Text)] == [" ", " "]
    assert root.elements()[1].content == []  # (back in FHIR's namespace: left out again)


def test_text_read_blank_free_has_no_place() -> None:
    data = f'<Basic {NS}><code>stray<text value="t"/></code><!-- a note --></Basic>'
    root = parse_document(data, blank_free=FHIR_NS).root
    code = root.elements()[0]
    assert code.mixed
    stray = code.texts()[0]
    assert (stray.value, stray.line, stray.column) == ("stray", 0, 0)
    note = root.texts()[0]  # a comment is an event of its own: its place is known
    assert note.kind == "comment" and (note.line, note.column) == (1, data.index("<!--") + 1)
    exact = parse_document(data).root.elements()[0].texts()[0]
    assert (exact.line, exact.column) == (1, data.index("stray") + 1)


@pytest.mark.parametrize("insert, fragment", [
    ("stray text", "text should not be present ('stray text') (line 9, column 3)"),
    ("<![CDATA[x]]>", "CDATA is not allowed (line 9, column"),
    ("<?pi data?>", "processing instructions are not allowed in resources (line 9, column 3)"),
])
def test_an_issue_about_a_text_has_its_exact_place(insert: str, fragment: str) -> None:
    """Such an issue makes read_xml read the document as written: the place is the text's."""
    data = PATIENT.replace('\n  <active', f'\n  {insert}<active')
    read = read_xml(data)
    assert any(fragment in issue.message for issue in read.issues), read.issues
    same(read, exactly(data))


def test_the_exact_reading_is_taken_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _count_reads(monkeypatch)
    read_xml(PATIENT)
    assert reads == [FHIR_NS]
    reads.clear()
    read_xml(PATIENT.replace("<active", "oops<active"))
    assert reads == [FHIR_NS, None]


_VARIANTS = [
    ("", ""),
    ("\n  ", " \t\r\n "),
    ("<!-- c -->", ""),
    ("", "<!-- c -->"),
    ("&#32;", ""),  # a blank written as a character reference
    ("x", ""),
    ("", "x"),
    ("<![CDATA[ ]]>", ""),
    ("<?pi?>", ""),
]


@pytest.mark.parametrize("before, inside", _VARIANTS)
@pytest.mark.parametrize("as_text", [False, True])
def test_read_xml_gives_what_the_reading_as_written_gives(before: str, inside: str,
                                                          as_text: bool) -> None:
    data = (f'<Bundle {NS}>{before}<type value="collection"/><entry><fullUrl value="urn:x"/>'
            f'<resource>{inside}' + PATIENT.replace("<name>", f"<name>{inside}") +
            f'</resource>{before}</entry></Bundle>')
    source: str | bytes = data if as_text else data.encode()
    same(read_xml(source), exactly(source))


def test_an_element_with_only_blank_text_has_no_content() -> None:
    data = f'<Patient {NS}><active>   </active><name>\n</name></Patient>'
    read = read_xml(data)
    assert [i.expression for i in read.issues] == ["Patient.active", "Patient.name[0]"]
    assert all("element must have some content" in i.message for i in read.issues)
    same(read, exactly(data))


def test_a_value_attribute_alone_and_with_more() -> None:
    """A primitive with its value alone is read on the short way; with an id, extension or
    text beside it, on the long one: both as the mapping says."""
    data = (f'<Patient {NS}><active value="nope"/><gender value="female"/>'
            '<birthDate id="b" value="1970-01-01"/><multipleBirthInteger value="2"/></Patient>')
    read = read_xml(data)
    assert read.resource == {"resourceType": "Patient", "active": "nope", "gender": "female",
                             "birthDate": "1970-01-01", "_birthDate": {"id": "b"},
                             "multipleBirthInteger": 2}
    assert read.issues == []
    same(read, exactly(data))


def test_nodes_say_whether_their_content_is_elements_only() -> None:
    node = Node("urn:x", "a", "a", [], 1, 1)
    assert not node.mixed and node.elements() == [] and node.texts() == []
