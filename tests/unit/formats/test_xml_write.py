"""FHIR JSON → XML (R4 §2.6.1): definition order, value attributes, ``_x`` companions, xmlAttr
elements, XHTML narrative, nested resources, decimals as written, escaping, and refusals that
name the FHIRPath location."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest

from ecanfhir.formats.xml_write import XmlWriteError, to_xml

F = "{http://hl7.org/fhir}"
H = "{http://www.w3.org/1999/xhtml}"


def tree(resource: dict[str, Any], *, pretty: bool = True) -> ET.Element:
    return ET.fromstring(to_xml(resource, pretty=pretty).encode("utf-8"))


def names(element: ET.Element) -> list[str]:
    return [child.tag.removeprefix(F) for child in element]


def refusal(resource: dict[str, Any]) -> XmlWriteError:
    with pytest.raises(XmlWriteError) as caught:
        to_xml(resource)
    return caught.value


def test_root_is_the_resource_type_in_the_fhir_namespace() -> None:
    """resourceType becomes the root element's name; the document starts with a declaration."""
    text = to_xml({"resourceType": "Patient", "id": "p1"})
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Patient xmlns="http://hl7.org/'
                           'fhir">')
    root = ET.fromstring(text.encode())
    assert root.tag == f"{F}Patient"
    assert root.find(f"{F}id").attrib == {"value": "p1"}  # type: ignore[union-attr]


def test_children_follow_definition_order_not_json_order() -> None:
    """XML orders elements as the StructureDefinition does, whatever the JSON key order."""
    root = tree({"resourceType": "Patient", "birthDate": "1970-01-01", "gender": "female",
                 "name": [{"given": ["Ann"], "family": "Ng", "use": "official"}],
                 "active": True, "id": "p1"})
    assert names(root) == ["id", "active", "name", "gender", "birthDate"]
    assert names(root.find(f"{F}name")) == ["use", "family", "given"]  # type: ignore[arg-type]


def test_primitives_are_value_attributes_of_their_json_kind() -> None:
    """Booleans, integers and strings are written as their JSON value's text."""
    root = tree({"resourceType": "Patient", "active": False, "multipleBirthInteger": 2})
    assert root.find(f"{F}active").attrib == {"value": "false"}  # type: ignore[union-attr]
    assert root.find(f"{F}multipleBirthInteger").attrib == {"value": "2"}  # type: ignore[union-attr]


def test_primitive_companion_gives_id_attribute_and_extension_children() -> None:
    """``_birthDate`` is the same element's id attribute and extension children (R4 §2.6.2.4)."""
    ext = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
           "valueDateTime": "1970-01-01T10:00:00Z"}
    root = tree({"resourceType": "Patient", "birthDate": "1970-01-01",
                 "_birthDate": {"extension": [ext], "id": "b1"}})
    birth = root.find(f"{F}birthDate")
    assert birth is not None and birth.attrib == {"id": "b1", "value": "1970-01-01"}
    extension = birth.find(f"{F}extension")
    assert extension is not None and extension.attrib == {"url": ext["url"]}
    assert extension.find(f"{F}valueDateTime").attrib == {  # type: ignore[union-attr]
        "value": "1970-01-01T10:00:00Z"}


def test_repeating_primitives_align_values_and_companions_through_nulls() -> None:
    """In arrays, null pads a value with no companion and a companion with no value."""
    ext = {"url": "http://example.org/x", "valueString": "y"}
    root = tree({"resourceType": "Patient", "name": [
        {"given": ["Ann", None, "May"], "_given": [None, {"extension": [ext]}, {"id": "g3"}]}]})
    given = root.findall(f"{F}name/{F}given")
    assert [g.attrib for g in given] == [{"value": "Ann"}, {}, {"id": "g3", "value": "May"}]
    assert given[1].find(f"{F}extension") is not None


def test_datatype_id_and_extension_url_are_attributes_but_resource_id_an_element() -> None:
    """``representation: xmlAttr`` applies to Element.id and Extension.url, not Resource.id."""
    root = tree({"resourceType": "Patient", "id": "p1", "extension": [
        {"url": "http://example.org/e", "id": "e1", "valueBoolean": True}],
        "name": [{"id": "n1", "family": "Ng"}]})
    assert names(root) == ["id", "extension", "name"]
    assert root.find(f"{F}extension").attrib == {  # type: ignore[union-attr]
        "id": "e1", "url": "http://example.org/e"}
    assert root.find(f"{F}name").attrib == {"id": "n1"}  # type: ignore[union-attr]


def test_choice_elements_carry_their_type_in_the_name_at_the_choice_position() -> None:
    """``valueQuantity`` sits where value[x] is defined, between effective[x] and dataAbsent."""
    root = tree({"resourceType": "Observation", "status": "final", "code": {"text": "w"},
                 "note": [{"text": "n"}], "valueQuantity": {"unit": "kg", "value": 70},
                 "effectiveDateTime": "2020"})
    assert names(root) == ["status", "code", "effectiveDateTime", "valueQuantity", "note"]
    assert names(root.find(f"{F}valueQuantity")) == ["value", "unit"]  # type: ignore[arg-type]


def test_backbone_elements_and_content_references_are_ordered_by_their_definition() -> None:
    """Questionnaire.item.item (#Questionnaire.item) takes the children of Questionnaire.item."""
    root = tree({"resourceType": "Questionnaire", "status": "draft", "item": [
        {"type": "group", "linkId": "1", "item": [
            {"text": "Q", "type": "string", "linkId": "1.1", "required": True}]}]})
    inner = root.find(f"{F}item/{F}item")
    assert inner is not None and names(inner) == ["linkId", "text", "type", "required"]


def test_decimals_are_written_exactly_as_parsed() -> None:
    """A Decimal keeps its digits (1.00, 1E-22); a small float is written without an exponent,
    a large one with it (not as an integer of 246 digits)."""
    root = tree({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                 "component": [{"code": {"text": "a"}, "valueQuantity": {"value": v}}
                               for v in (Decimal("1.00"), Decimal("1E-22"), 0.00001, 1.5, 3,
                                         -1e245, 1.5e16)]})
    values = [q.attrib["value"] for q in root.iter(f"{F}value") if "value" in q.attrib]
    assert values == ["1.00", "1E-22", "0.00001", "1.5", "3", "-1e245", "1.5e16"]


@pytest.mark.parametrize("number", [-1e245, 1.5e16, 1e-05, 2.5e-300, 0.1])
def test_float_json_to_xml_to_json_is_the_identity(number: float) -> None:
    """The number read back is the same float (not an int of equal value)."""
    from ecanfhir.formats import parse_xml

    resource = {"resourceType": "Basic", "code": {"text": "x"},
                "extension": [{"url": "http://example.org/n", "valueDecimal": number}]}
    back, issues = parse_xml(to_xml(resource))
    assert issues == [] and back == resource
    assert type(back["extension"][0]["valueDecimal"]) is float


def test_carriage_returns_in_the_narrative_survive() -> None:
    """\r in the div's text and attribute values is written &#xD; (a written \r would be read
    as \n, XML 1.0 §2.11); it reads back as \r, so JSON → XML → JSON is the identity."""
    from ecanfhir.formats import parse_xml

    div = '<div xmlns="http://www.w3.org/1999/xhtml">a\r\nb<p title="x\ry">c\rd</p></div>'
    resource = {"resourceType": "Basic", "code": {"text": "x"},
                "text": {"status": "generated", "div": div}}
    text = to_xml(resource)
    assert "\r" not in text
    assert 'a&#xD;\nb<p title="x&#xD;y">c&#xD;d</p>' in text
    xhtml = ET.fromstring(text.encode()).find(f"{F}text/{H}div")
    assert xhtml is not None and xhtml.text == "a\r\nb"
    assert parse_xml(text) == (resource, [])


def test_special_characters_survive_a_reader() -> None:
    """Markup characters, quotes, tabs and line ends are escaped so a reader gets them back."""
    text = 'a < b & "c" > d\n\tsecond line\r\n'
    root = tree({"resourceType": "Patient", "name": [{"text": text}]})
    assert root.find(f"{F}name/{F}text").attrib["value"] == text  # type: ignore[union-attr]


def test_narrative_div_is_xhtml_kept_as_written() -> None:
    """The div's markup is re-emitted in the XHTML namespace with its own whitespace."""
    div = ('<div xmlns="http://www.w3.org/1999/xhtml">\n  <p class="x">Ann &amp; <b>May</b>'
           '</p><br/></div>')
    text = to_xml({"resourceType": "Patient", "text": {"status": "generated", "div": div}})
    assert div in text
    root = ET.fromstring(text.encode())
    xhtml = root.find(f"{F}text/{H}div")
    assert xhtml is not None and xhtml.find(f"{H}p/{H}b").text == "May"  # type: ignore[union-attr]


def test_narrative_without_namespace_declaration_is_put_in_the_xhtml_namespace() -> None:
    """A div without xmlns would otherwise land in the FHIR namespace."""
    root = tree({"resourceType": "Patient", "text": {"status": "generated",
                                                     "div": "<div><p>x</p></div>"}})
    assert root.find(f"{F}text/{H}div/{H}p") is not None


@pytest.mark.parametrize(("div", "says"), [
    ("<div xmlns='http://www.w3.org/1999/xhtml'><p>x</div>", "not well-formed"),
    ('<!DOCTYPE div [<!ENTITY a "b">]><div xmlns="http://www.w3.org/1999/xhtml">&a;</div>',
     "DTD"),
    ('<p xmlns="http://www.w3.org/1999/xhtml">x</p>', "<div>"),
    ("<div>&nbsp;</div>", "not well-formed"),
])
def test_bad_narrative_is_refused_at_the_div(div: str, says: str) -> None:
    """Narrative that is not one well-formed XHTML div, or declares a DTD, has no XML form."""
    error = refusal({"resourceType": "Patient", "text": {"status": "generated", "div": div}})
    assert error.expression == "Patient.text.div"
    assert says in str(error)


def test_contained_and_bundled_resources_are_wrapped_in_their_element() -> None:
    """``<contained><Patient>`` and ``<resource><Patient>``, the FHIR namespace inherited."""
    patient = {"resourceType": "Patient", "id": "p1", "active": True}
    root = tree({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Observation", "status": "final",
                                               "code": {"text": "x"}, "contained": [patient]}}]})
    entry = root.find(f"{F}entry")
    assert entry is not None and names(entry) == ["fullUrl", "resource"]
    observation = entry.find(f"{F}resource/{F}Observation")
    assert observation is not None and names(observation) == ["contained", "status", "code"]
    inner = observation.find(f"{F}contained/{F}Patient")
    assert inner is not None and names(inner) == ["id", "active"]


def test_a_resource_typed_element_other_than_resource_is_wrapped_too() -> None:
    """Bundle.entry.response.outcome (an OperationOutcome) holds the resource element."""
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational"}]}
    root = tree({"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"response": {"status": "200", "outcome": outcome}}]})
    assert root.find(f"{F}entry/{F}response/{F}outcome/{F}OperationOutcome/{F}issue") is not None


def test_compact_output_has_no_whitespace_between_elements() -> None:
    """pretty=False writes one line; the content is the same."""
    resource = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ng"}]}
    compact = to_xml(resource, pretty=False)
    assert "\n" not in compact and "> <" not in compact
    assert ET.tostring(ET.fromstring(compact)) == ET.tostring(tree(resource, pretty=False))


@pytest.mark.parametrize(("resource", "expression"), [
    ({"resourceType": "Patient", "colour": "blue"}, "Patient.colour"),
    ({"resourceType": "Patient", "name": [{"family": "Ng"}, {"nickname": "A"}]},
     "Patient.name[1].nickname"),
    ({"resourceType": "Patient", "extension": [{"url": "http://x", "_url": {"id": "u"}}]},
     "Patient.extension[0]._url"),
    ({"resourceType": "Patient", "_name": {"id": "n"}}, "Patient._name"),
    ({"resourceType": "Patient", "_birthDate": {"value": "1970"}}, "Patient.birthDate.value"),
    ({"resourceType": "Patient", "gender": {"code": "male"}}, "Patient.gender"),
    ({"resourceType": "Patient", "name": ["Ann"]}, "Patient.name[0]"),
    ({"resourceType": "Patient", "name": [{"text": "A\x01"}]}, "Patient.name[0].text"),
    ({"resourceType": "Patient", "contained": [{"resourceType": "Nonsense"}]},
     "Patient.contained[0].resourceType"),
    ({"resourceType": "Element"}, "resourceType"),
    ({"id": "x"}, "resourceType"),
])
def test_json_without_an_xml_form_is_refused_with_its_location(
        resource: dict[str, Any], expression: str) -> None:
    """Unknown properties and impossible values raise, naming the FHIRPath location."""
    error = refusal(resource)
    assert isinstance(error, ValueError)
    assert error.expression == expression
    assert str(error).startswith(f"{expression}: ")


def test_a_non_object_is_refused() -> None:
    """to_xml takes a resource in JSON form."""
    with pytest.raises(XmlWriteError, match="expected a resource"):
        to_xml(["Patient"])  # type: ignore[arg-type]
