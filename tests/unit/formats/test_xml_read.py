"""Reading FHIR XML into the FHIR JSON form (R4 §2.6.1 ↔ §2.6.2), and the XML structure errors
reported at the FHIRPath location the JSON form would have, with line and column.

All resources are small synthetic ones written for these tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, Validator
from ecanfhir.formats import looks_like_xml, parse_xml, read_resource
from ecanfhir.formats.xml_read import read_xml

NS = 'xmlns="http://hl7.org/fhir"'
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'


def one(issues: list[Issue], expression: str) -> Issue:
    found = [i for i in issues if i.expression == expression]
    assert len(found) == 1, issues
    return found[0]


# -- the mapping -----------------------------------------------------------------------------
def test_primitives_become_json_values_of_their_kind() -> None:
    """value attributes become booleans, numbers (as json.loads reads them) and strings."""
    resource, issues = parse_xml(
        f'<Observation {NS}><status value="final"/><code><text value="t"/></code>'
        '<valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity>'
        '<component><code><text value="c"/></code><valueInteger value="-7"/></component>'
        '<component><code><text value="d"/></code><valueBoolean value="false"/></component>'
        '</Observation>')
    assert issues == []
    assert resource == {
        "resourceType": "Observation", "status": "final", "code": {"text": "t"},
        "valueQuantity": {"value": 1.5, "unit": "mg"},
        "component": [{"code": {"text": "c"}, "valueInteger": -7},
                      {"code": {"text": "d"}, "valueBoolean": False}],
    }
    assert type(resource["component"][0]["valueInteger"]) is int


def test_id_and_extensions_of_primitives_become_null_padded_companions() -> None:
    """A repeating primitive's id/extension go to the `_name` array, aligned with null."""
    resource, issues = parse_xml(
        f'<Patient {NS}><name><given value="Ann"/>'
        '<given id="g2"><extension url="http://example.org/ext"><valueCode value="x"/>'
        '</extension></given><given value="May"/></name>'
        '<birthDate id="b" value="1970-01-01"/></Patient>')
    assert issues == []
    assert resource["name"] == [{
        "given": ["Ann", None, "May"],
        "_given": [None, {"id": "g2", "extension": [{"url": "http://example.org/ext",
                                                      "valueCode": "x"}]}, None],
    }]
    assert resource["birthDate"] == "1970-01-01" and resource["_birthDate"] == {"id": "b"}


def test_contained_and_bundled_resources_and_the_narrative() -> None:
    """Nested resources sit in wrapper elements; the div stays XHTML text with its namespace."""
    resource, issues = parse_xml(
        f'<Bundle {NS}><type value="collection"/><entry><fullUrl value="urn:uuid:'
        '0c3a6e0e-6b8f-4a43-9d0a-3f2a3e7c1b21"/><resource><Patient><id value="p"/>'
        f'<text><status value="generated"/><div {XHTML}><p>A &amp; B<br/></p></div></text>'
        '<contained><Organization><id value="o"/><name value="Org"/></Organization></contained>'
        '<managingOrganization><reference value="#o"/></managingOrganization>'
        '</Patient></resource></entry></Bundle>')
    assert issues == []
    patient = resource["entry"][0]["resource"]
    assert next(iter(patient)) == "resourceType" and patient["resourceType"] == "Patient"
    assert patient["text"]["div"] == f'<div {XHTML}><p>A &amp; B<br/></p></div>'
    assert patient["contained"] == [{"resourceType": "Organization", "id": "o", "name": "Org"}]


def test_datatype_ids_and_extension_urls_are_attributes() -> None:
    resource, _ = parse_xml(f'<Patient {NS}><extension url="http://example.org/e">'
                            '<valueString value="v"/></extension>'
                            '<name id="n1"><family value="F"/></name></Patient>')
    assert resource["extension"] == [{"url": "http://example.org/e", "valueString": "v"}]
    assert resource["name"] == [{"id": "n1", "family": "F"}]


def test_content_reference_elements_read_like_their_target() -> None:
    """Questionnaire.item.item is defined by contentReference to Questionnaire.item."""
    resource, issues = parse_xml(
        f'<Questionnaire {NS}><status value="draft"/><item><linkId value="1"/>'
        '<type value="group"/><item><linkId value="1.1"/><type value="string"/></item>'
        '</item></Questionnaire>')
    assert issues == []
    assert resource["item"][0]["item"] == [{"linkId": "1.1", "type": "string"}]


def test_text_that_is_not_a_number_stays_text_for_the_type_checks() -> None:
    """As with JSON, a decimal of '1,5' is reported by the type checks at its location."""
    result = Validator().validate(f'<Observation {NS}><status value="final"/><code><text '
                                  'value="t"/></code><valueQuantity><value value="1,5"/>'
                                  '</valueQuantity></Observation>')
    issue = one(list(result.issues), "Observation.value.ofType(Quantity).value")
    assert (issue.severity, issue.code) == ("error", "structure")
    assert "line 1, column 110" in issue.message


# -- structure errors ------------------------------------------------------------------------
def test_unknown_element_is_reported_where_json_would_report_it() -> None:
    _, issues = parse_xml(f'<Patient {NS}>\n  <gender value="male"/>\n  <colour value="x"/>\n'
                          '</Patient>')
    issue = one(issues, "Patient.colour")
    assert (issue.severity, issue.code, issue.rule) == ("error", "structure", "unknown-element")
    assert "line 3, column 3" in issue.message


@pytest.mark.parametrize(("body", "expression", "code", "rule", "fragments"), [
    pytest.param('<gender value="male"/><active value="true"/>', "Patient.active", "invalid",
                 "xml-order", ("line 1, column 60",), id="out-of-definition-order"),
    pytest.param('\n  <active value="true"/> stray\n', "Patient", "structure", "xml-text",
                 ("'stray'", "line 2, column 26"), id="text-between-elements"),
    pytest.param('<active xmlns="http://example.org" value="true"/>', "Patient.active",
                 "invalid", "xml-namespace", (), id="outside-the-fhir-namespace"),
    pytest.param('<gender value="male"/><gender value="female"/>', "Patient.gender",
                 "structure", "xml-repeated", ("line 1, column 60",), id="non-repeating-twice"),
    pytest.param('<contained><Colour><id value="c"/></Colour></contained>',
                 "Patient.contained[0]", "structure", "xml-resource", ("unknown name 'Colour'",),
                 id="wrapper-without-a-resource"),
])
def test_one_structure_error_where_json_would_have_it(body: str, expression: str, code: str,
                                                      rule: str, fragments: tuple[str, ...]
                                                      ) -> None:
    """An XML structure error inside a Patient: one issue at its FHIRPath location, with its
    code, rule and (where given) position."""
    _, issues = parse_xml(f'<Patient {NS}>{body}</Patient>')
    issue = one(issues, expression)
    assert (issue.code, issue.rule) == (code, rule)
    assert all(fragment in issue.message for fragment in fragments), issue.message


def test_repeated_elements_out_of_order_are_reported_once_each() -> None:
    """given, family, given: family comes after a given, although it is defined before it."""
    resource, issues = parse_xml(f'<Patient {NS}><name><given value="A"/><family value="F"/>'
                                 '<given value="B"/></name></Patient>')
    assert [i.expression for i in issues if i.rule == "xml-order"] == ["Patient.name[0].family"]
    assert resource["name"][0]["given"] == ["A", "B"]


def test_undefined_attributes() -> None:
    """Only the definitions' xmlAttr elements are attributes; Resource.id is an element."""
    _, issues = parse_xml(f'<Patient {NS} id="p1"><active value="true" kind="x"/></Patient>')
    assert {(i.expression, i.rule) for i in issues} == {
        ("Patient", "xml-attribute"), ("Patient.active", "xml-attribute")}
    assert all(i.code == "structure" for i in issues)


def test_an_element_without_content() -> None:
    resource, issues = parse_xml(f'<Patient {NS}><name><given/><given value="A"/></name>'
                                 '</Patient>')
    issue = one(issues, "Patient.name[0].given[0]")
    assert (issue.code, issue.rule) == ("invalid", "xml-empty")
    assert resource["name"] == [{"given": ["A"]}]


@pytest.mark.parametrize(("gender", "fragment"), [
    ('value=""', "empty string"),
    ('id="g1"', "ele-1"),
])
def test_primitive_values_empty_or_missing(gender: str, fragment: str) -> None:
    """value="" and a primitive with an id but no value are errors, at the element's path."""
    result = Validator().validate(f'<Patient {NS}>\n<gender {gender}/></Patient>')
    issues = [i for i in result.issues if i.expression == "Patient.gender" and i.is_error]
    assert issues and any(fragment in i.message for i in issues), result.issues
    assert all("line 2, column 1" in i.message for i in issues)


def test_a_narrative_div_outside_the_xhtml_namespace() -> None:
    result = Validator().validate(f'<Patient {NS}><text><status value="generated"/>'
                                  '<div>Plain</div></text></Patient>')
    issue = one([i for i in result.issues if i.is_error], "Patient.text.div")
    assert issue.rule == "xhtml-namespace"


@pytest.mark.parametrize(("xml", "fragment"), [
    ('<Patient xmlns="http://example.org/fhir"/>', "wrong namespace 'http://example.org/fhir'"),
    ("<Patient/>", "wrong namespace ''"),
    (f"<Colour {NS}/>", "unknown name 'Colour'"),
    (f"<HumanName {NS}/>", "unknown name 'HumanName'"),
])
def test_a_root_that_is_not_a_fhir_resource_is_fatal(xml: str, fragment: str) -> None:
    resource, issues = parse_xml(xml)
    assert resource is None and len(issues) == 1
    assert (issues[0].severity, issues[0].rule) == ("fatal", "xml-not-fhir")
    assert fragment in issues[0].message


def test_xml_that_is_not_well_formed_is_fatal_with_its_position() -> None:
    resource, issues = parse_xml(f'<Patient {NS}>\n<active value="true">\n</Patient>')
    assert resource is None
    assert (issues[0].severity, issues[0].code, issues[0].rule) == ("fatal", "structure",
                                                                   "xml-syntax")
    assert "mismatched tag" in issues[0].message and "line 3" in issues[0].message


# -- by content --------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "xml"), [
    (b'<?xml version="1.0"?><Patient/>', True),
    (b"\xef\xbb\xbf\n <Patient/>", True),
    ("\ufeff<Patient/>", True),
    ("<Patient/>".encode("utf-16"), True),
    (b'{"resourceType": "Patient"}', False),
    (b"  [1]", False),
    (b"", False),
])
def test_looks_like_xml(data: str | bytes, xml: bool) -> None:
    assert looks_like_xml(data) is xml


def test_read_resource_picks_the_format_by_content() -> None:
    assert read_resource(f'<Basic {NS}><code><text value="x"/></code></Basic>') == (
        {"resourceType": "Basic", "code": {"text": "x"}}, [], "xml")
    resource, issues, form = read_resource(b'{"resourceType": ')
    assert (resource, form, issues[0].severity) == (None, "json", "fatal")


def test_xml_and_json_of_one_resource_validate_alike() -> None:
    """The same content read from XML or JSON gives the same issues (XML adds positions)."""
    json_form: dict[str, Any] = {"resourceType": "Patient", "gender": "mal",
                                 "birthDate": "1970-13-01"}
    xml = f'<Patient {NS}><gender value="mal"/><birthDate value="1970-13-01"/></Patient>'
    from_json = Validator().validate(json_form).issues
    from_xml = Validator().validate(xml.encode()).issues
    assert [(i.severity, i.code, i.expression, i.rule) for i in from_json] == [
        (i.severity, i.code, i.expression, i.rule) for i in from_xml]
    assert one(list(from_xml), "Patient.birthDate").message.endswith("(line 1, column 59)")


def test_positions_name_each_element() -> None:
    read = read_xml(f'<Patient {NS}>\n <name>\n  <given value="A"/>\n </name>\n</Patient>')
    assert read.positions["Patient.name[0].given[0]"] == (3, 3)
    issue = Issue.error("value", "Patient.name[0].given[0].extension[2]", "m")
    assert read.locate(issue).message == "m (line 3, column 3)"


def test_a_narrative_that_declares_its_namespace_is_kept_as_written() -> None:
    """Entities, empty elements and spacing stay as they were (JSON → XML → JSON is the
    identity on the div); a div in another encoding, or namespaced from outside, is
    serialised with its namespace declared on it."""
    div = f'<div {XHTML}>Say &quot;hi&quot;<p></p>\n  <br/></div>'
    text = f'<Basic {NS}><text><status value="generated"/>{div}</text></Basic>'
    assert parse_xml(text)[0]["text"]["div"] == div
    latin = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + text.replace("Say", "S\xe6y")
             ).encode("latin-1")
    assert parse_xml(latin)[0]["text"]["div"] == (f'<div {XHTML}>S\xe6y "hi"<p/>\n  <br/></div>')
    outside = (f'<Basic {NS} xmlns:h="http://www.w3.org/1999/xhtml"><text><status '
               'value="generated"/><h:div>A</h:div></text></Basic>')
    assert parse_xml(outside)[0]["text"]["div"] == (
        '<h:div xmlns:h="http://www.w3.org/1999/xhtml">A</h:div>')


def test_an_empty_resource_element() -> None:
    resource, issues = parse_xml(f"<Patient {NS}/>")
    assert resource == {"resourceType": "Patient"}
    assert [(i.severity, i.code, i.expression, i.rule) for i in issues] == [
        ("error", "invalid", "Patient", "xml-empty")]


def test_processing_instructions_and_cdata_are_not_allowed() -> None:
    _, issues = parse_xml(f'<?xml-stylesheet href="s.xsl"?><Patient {NS}>'
                          '<active value="true"/><![CDATA[x]]></Patient>')
    assert sorted((i.expression, i.code, i.rule) for i in issues) == [
        ("Patient", "invalid", "xml-content"), ("Patient", "structure", "xml-text")]


@pytest.mark.parametrize("div", [f"<div {XHTML}></div>", f"<div {XHTML}/>"])
def test_an_empty_narrative_is_kept_as_written(div: str) -> None:
    text = f'<Basic {NS}><text><status value="generated"/>{div}</text></Basic>'
    assert parse_xml(text)[0]["text"]["div"] == div


@pytest.mark.parametrize(("data", "fragment"), [
    ('<?xml version="1.0" encoding="ISO-8859-1"?>'
     f'<Patient {NS}><active value="true"/></Patient>'.encode("latin-1"),
     "the XML declaration states the encoding 'ISO-8859-1'"),
    (f'<Patient {NS}><active value="true"/></Patient>'.encode("utf-16"),
     "the XML is encoded in UTF-16"),
], ids=["stated", "utf-16"])
def test_an_encoding_other_than_utf8_is_an_error(data: bytes, fragment: str) -> None:
    """FHIR XML is UTF-8 (http.html): another stated or actual encoding is read, and an error."""
    resource, issues = parse_xml(data)
    assert resource == {"resourceType": "Patient", "active": True}
    issue = one(issues, "Patient")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "xml-encoding")
    assert fragment in issue.message and "must be UTF-8" in issue.message


@pytest.mark.parametrize("data", [
    f'<?xml version="1.0" encoding="UTF-8"?><Patient {NS}><active value="true"/></Patient>',
    f'<Patient {NS}><active value="true"/></Patient>'.encode("utf-8-sig"),
], ids=["stated", "bom"])
def test_utf8_stated_or_with_its_mark_is_fine(data: str | bytes) -> None:
    assert parse_xml(data)[1] == []


def test_a_processing_instruction_inside_an_element() -> None:
    """Only elements, text and comments may be inside a FHIR element (the HL7 validator's
    "node type 7 is not allowed")."""
    _, issues = parse_xml(f'<Patient {NS}><name><?app x?><family value="F"/></name></Patient>')
    issue = one(issues, "Patient.name[0]")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "xml-content")
    assert "line 1, column 44" in issue.message


def test_control_characters_in_attribute_values_are_fatal() -> None:
    """A control character (even as a character reference) is not XML 1.0: not well-formed."""
    resource, issues = parse_xml(f'<Patient {NS}><name><family value="a&#x1;b"/></name>'
                                 '</Patient>')
    assert resource is None
    assert [(i.severity, i.rule) for i in issues] == [("fatal", "xml-syntax")]
    assert "invalid character" in issues[0].message and "line 1, column 60" in issues[0].message


def test_parse_float_reads_decimals_as_json_loads_would() -> None:
    """parse_float=Decimal keeps 1.00 as written; integers stay int; the default is float."""
    from decimal import Decimal

    text = (f'<Observation {NS}><valueQuantity><value value="1.00"/></valueQuantity>'
            '<component><valueInteger value="7"/></component></Observation>')
    exact = parse_xml(text, parse_float=Decimal)[0]
    assert str(exact["valueQuantity"]["value"]) == "1.00"
    assert exact["component"][0]["valueInteger"] == 7
    assert type(exact["component"][0]["valueInteger"]) is int
    assert parse_xml(text)[0]["valueQuantity"]["value"] == 1.0
    assert type(parse_xml(text)[0]["valueQuantity"]["value"]) is float
    assert read_resource(text.encode(), parse_float=Decimal)[0] == exact
    as_json = '{"resourceType": "Basic", "extension": [{"url": "u", "valueDecimal": 1.00}]}'
    assert str(read_resource(as_json, parse_float=Decimal)[0]["extension"][0]["valueDecimal"]
               ) == "1.00"


OUTCOME = ('<OperationOutcome><issue><severity value="information"/><code value="informational"/>'
           '</issue></OperationOutcome>')


def test_an_element_typed_with_a_resource_type_wraps_the_resource() -> None:
    """Bundle.entry.response.outcome holds an OperationOutcome inside its element, as the
    resources of Resource-typed elements are held; JSON → XML → JSON gives it back."""
    from ecanfhir.formats import to_xml

    text = (f'<Bundle {NS}><type value="batch-response"/><entry><response><status value="200"/>'
            f'<outcome>{OUTCOME}</outcome></response></entry></Bundle>')
    resource, issues = parse_xml(text)
    assert issues == []
    outcome = resource["entry"][0]["response"]["outcome"]
    assert outcome == {"resourceType": "OperationOutcome",
                       "issue": [{"severity": "information", "code": "informational"}]}
    assert parse_xml(to_xml(resource)) == (resource, [])


def test_a_resource_of_another_type_than_the_element_allows() -> None:
    """Where the definitions type the element with one resource type, another is an error;
    R4 types Bundle.entry.response.outcome Resource (any resource), some redistributions
    OperationOutcome: the reader follows the core definitions it has."""
    from dataclasses import replace

    from ecanfhir.formats._xml_model import child_model, type_model

    entry = type_model("Bundle").child("entry")  # type: ignore[union-attr]
    response = child_model(entry).child("response")  # type: ignore[union-attr]
    outcome = child_model(response).child("outcome")  # type: ignore[union-attr]
    assert replace(outcome, types=("OperationOutcome",)).holds_resource
    assert not replace(outcome, types=("Quantity",)).holds_resource
    _, issues = parse_xml(f'<Bundle {NS}><type value="batch-response"/><entry><response>'
                          '<status value="200"/><outcome><Basic><code><text value="x"/></code>'
                          '</Basic></outcome></response></entry></Bundle>')
    if outcome.types == ("Resource",):
        assert issues == []
        return
    issue = one(issues, "Bundle.entry[0].response.outcome")
    assert (issue.severity, issue.code, issue.rule) == ("error", "structure", "xml-resource")
    assert f"'outcome' may hold {outcome.types[0]}, not Basic" in issue.message
