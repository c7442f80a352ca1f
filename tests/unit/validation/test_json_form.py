"""FHIR JSON form (R4 §2.6.2, http://hl7.org/fhir/R4/json.html) as the validator reads it.

Each rule has a valid case (no issue of that kind) and an invalid one asserting the issue's
code, severity and FHIRPath location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import Validator, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test patient</div>'}
EXT = "http://example.org/fhir/StructureDefinition/test-extension"
BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
UUID = "urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c01"


def patient(**elements: Any) -> dict[str, Any]:
    """A synthetic Patient with narrative (so dom-6 stays quiet) plus ``elements``."""
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


def basic_with_value(key: str, value: Any) -> dict[str, Any]:
    """A Basic resource whose one extension carries ``value[x]`` as ``key``."""
    return {"resourceType": "Basic", "text": NARRATIVE, "code": {"text": "synthetic"},
            "extension": [{"url": EXT, key: value}]}






# -- the input is a JSON object naming a known resource type ---------------------------------

def test_json_object_with_known_resource_type_is_valid() -> None:
    """A small well-formed Patient produces no issue at all."""
    assert validate(patient(gender="female", birthDate="1970-01-01")).issues == ()


@pytest.mark.parametrize("data", [[{"resourceType": "Patient"}], 42, None,
                                  b'[{"resourceType": "Patient"}]', b'"Patient"', b"true"])
def test_input_that_is_not_a_json_object_is_fatal(data: Any) -> None:
    """An array, number, string or null instead of an object is one fatal structure issue."""
    result = Validator().validate(data)
    (issue,) = result.issues
    assert (issue.severity, issue.code, issue.expression) == ("fatal", "structure", "")
    assert "JSON object" in issue.message
    assert not result.ok


def test_unknown_resource_type_is_an_error() -> None:
    """resourceType must name an R4 resource ('Patientx' does not)."""
    result = validate({"resourceType": "Patientx", "text": NARRATIVE})
    assert_issue(result, "Patientx", severity="error", code="structure",
                 fragment="unknown resourceType 'Patientx'")


def test_missing_resource_type_is_an_error() -> None:
    """An object without resourceType cannot be typed."""
    result = validate({"id": "p1", "gender": "male"})
    assert_issue(result, "Resource", severity="error", code="required", fragment="resourceType")


def test_non_string_resource_type_is_reported_at_a_string_location() -> None:
    """A numeric resourceType is reported like a missing one, at the location 'Resource'."""
    result = validate({"resourceType": 5})
    assert all(isinstance(i.expression, str) for i in result.issues), result.issues
    assert_issue(result, "Resource", severity="error", code="required", fragment="resourceType")


# -- unknown elements ------------------------------------------------------------------------

def test_unknown_element_is_an_error() -> None:
    """A property that is not an element of Patient is reported at its own location."""
    result = validate(patient(foo="bar"))
    assert_issue(result, "Patient.foo", severity="error", code="structure",
                 fragment="unrecognised property 'foo'")


def test_unknown_element_inside_datatype_is_an_error() -> None:
    """Datatype children are checked too (HumanName has no 'surname')."""
    result = validate(patient(name=[{"surname": "Testesen"}]))
    assert_issue(result, "Patient.name[0].surname", severity="error", code="structure",
                 fragment="'surname'")


def test_resource_type_inside_a_datatype_is_an_error() -> None:
    """resourceType belongs on resources only, not on a HumanName."""
    result = validate(patient(name=[{"resourceType": "HumanName", "family": "Testesen"}]))
    assert_issue(result, "Patient.name[0].resourceType", severity="error", code="structure",
                 fragment="resourceType")


# -- empty objects, arrays and strings ----------------------------------------------------

def test_empty_object_is_an_error() -> None:
    """'{}' is not a value: the element must be left out instead."""
    result = validate(patient(maritalStatus={}))
    issue = assert_issue(result, "Patient.maritalStatus", severity="error", code="structure",
                         fragment="empty object")
    assert issue.rule == "ele-1"


@pytest.mark.parametrize(("elements", "where", "name"), [
    ({"name": []}, "Patient.name", "'name'"),
    ({"name": [{"given": []}]}, "Patient.name[0].given", "'given'"),
])
def test_empty_array_is_an_error(elements: dict[str, Any], where: str, name: str) -> None:
    """'[]' is not allowed, for repeating complex and primitive elements alike."""
    result = validate(patient(**elements))
    issue = assert_issue(result, where, severity="error", code="structure", fragment="empty array")
    assert name in issue.message


@pytest.mark.parametrize(("elements", "where"), [
    ({"birthDate": ""}, "Patient.birthDate"),
    ({"name": [{"family": ""}]}, "Patient.name[0].family"),
])
def test_empty_string_is_an_error(elements: dict[str, Any], where: str) -> None:
    """An empty string is not a primitive value."""
    result = validate(patient(**elements))
    assert_issue(result, where, severity="error", code="invalid", fragment="empty string")


# -- arrays exactly where the element repeats -------------------------------------------------

def test_arrays_for_repeating_elements_only_are_valid() -> None:
    """name and given repeat (arrays); family and gender do not (single values)."""
    result = validate(patient(name=[{"family": "Testesen", "given": ["Synne", "Test"]}],
                              gender="other"))
    assert result.issues == ()


@pytest.mark.parametrize(("elements", "where", "found"), [
    ({"name": {"family": "Testesen"}}, "Patient.name", "an object"),
    ({"name": [{"given": "Synne"}]}, "Patient.name[0].given", "the string 'Synne'"),
])
def test_single_value_for_repeating_element_is_an_error(elements: dict[str, Any], where: str,
                                                        found: str) -> None:
    """A repeating element must be a JSON array even with one value."""
    result = validate(patient(**elements))
    issue = assert_issue(result, where, severity="error", code="structure",
                         fragment="must be an array")
    assert found in issue.message


@pytest.mark.parametrize(("elements", "where"), [
    ({"gender": ["female"]}, "Patient.gender"),
    ({"maritalStatus": [{"text": "unmarried"}]}, "Patient.maritalStatus"),
])
def test_array_for_single_element_is_an_error(elements: dict[str, Any], where: str) -> None:
    """An element with max 1 must not be an array, primitive or complex."""
    result = validate(patient(**elements))
    assert_issue(result, where, severity="error", code="structure",
                 fragment="must be a single value")


# -- `_x` companions of primitives ------------------------------------------------------------

def test_primitive_extension_companion_is_valid() -> None:
    """_birthDate carries extensions of birthDate (here patient-birthTime)."""
    result = validate(patient(birthDate="1970-01-01", _birthDate={"extension": [
        {"url": BIRTH_TIME, "valueDateTime": "1970-01-01T10:15:00+01:00"}]}))
    assert result.issues == ()


def test_primitive_companion_without_value_is_valid() -> None:
    """A primitive may have extensions and no value (data-absent-reason)."""
    result = validate(patient(_birthDate={"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
         "valueCode": "unknown"}]}))
    assert result.issues == ()


def test_aligned_primitive_arrays_with_nulls_are_valid() -> None:
    """given and _given align; null marks a position with no value or no extension."""
    result = validate(patient(name=[{
        "given": ["Synne", None],
        "_given": [None, {"id": "g2", "extension": [{"url": EXT, "valueString": "x"}]}]}]))
    assert result.issues == ()


def test_misaligned_primitive_arrays_are_an_error() -> None:
    """given has two items, _given one: the arrays must have the same length."""
    result = validate(patient(name=[{"given": ["Synne", "Test"], "_given": [{"id": "g1"}]}]))
    assert_issue(result, "Patient.name[0].given", severity="error", code="structure",
                 fragment="must align")


def test_companion_of_a_non_primitive_is_unknown() -> None:
    """Only primitives have '_' companions: _name is an unknown property."""
    result = validate(patient(name=[{"family": "Testesen"}], _name=[{"id": "n"}]))
    assert_issue(result, "Patient._name", severity="error", code="structure",
                 fragment="not a primitive")


def test_companion_that_is_not_an_object_is_an_error() -> None:
    """_birthDate must be an object with id and/or extension."""
    result = validate(patient(birthDate="1970-01-01", _birthDate="unknown"))
    assert_issue(result, "Patient.birthDate", severity="error", code="structure",
                 fragment="'_' companion")


# -- null ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("elements", "where"), [
    ({"name": [{"given": ["Synne", None]}]}, "Patient.name[0].given[1]"),
    ({"name": [{"given": [None], "_given": [None]}]}, "Patient.name[0].given[0]"),
])
def test_null_in_primitive_array_without_companion_is_an_error(elements: dict[str, Any],
                                                               where: str) -> None:
    """null is only allowed where the '_' array has content at the same position."""
    result = validate(patient(**elements))
    assert_issue(result, where, severity="error", code="structure", fragment="null")


def test_null_in_complex_array_is_an_error() -> None:
    """null is never an allowed item of an array of objects."""
    result = validate(patient(name=[None]))
    assert_issue(result, "Patient.name[0]", severity="error", code="structure",
                 fragment="found null")


def test_null_single_value_is_an_error() -> None:
    """A single-valued element set to null has no value (ele-1)."""
    result = validate(patient(gender=None))
    issue = assert_issue(result, "Patient.gender", severity="error", code="invariant",
                         fragment="ele-1")
    assert issue.rule == "ele-1"


# -- the JSON type of each primitive ----------------------------------------------------------

@pytest.mark.parametrize(("key", "value"), [
    ("valueBoolean", True), ("valueInteger", -3), ("valueDecimal", 1.5), ("valueString", "x"),
    ("valueCode", "a"), ("valueDate", "2024-02-29"), ("valueUri", "urn:x"),
    ("valuePositiveInt", 1), ("valueUnsignedInt", 0),
])
def test_primitive_with_right_json_type_is_valid(key: str, value: Any) -> None:
    """Booleans are JSON booleans, numbers JSON numbers, everything else JSON strings."""
    assert validate(basic_with_value(key, value)).issues == ()


@pytest.mark.parametrize(("key", "value", "type_code", "found"), [
    ("valueBoolean", "true", "boolean", "the string 'true'"),
    ("valueBoolean", 1, "boolean", "the number 1"),
    ("valueInteger", "1", "integer", "the string '1'"),
    ("valueInteger", 1.5, "integer", "the number 1.5"),
    ("valueInteger", True, "integer", "the boolean true"),
    ("valueDecimal", "1.5", "decimal", "the string '1.5'"),
    ("valueString", 42, "string", "the number 42"),
    ("valueCode", False, "code", "the boolean false"),
    ("valueDate", 19700101, "date", "the number 19700101"),
    ("valuePositiveInt", "1", "positiveInt", "the string '1'"),
])
def test_primitive_with_wrong_json_type_is_an_error(key: str, value: Any, type_code: str,
                                                    found: str) -> None:
    """A JSON value of the wrong type is a structure error at the typed location."""
    result = validate(basic_with_value(key, value))
    where = f"Basic.extension[0].value.ofType({type_code})"
    assert_issue(result, where, severity="error", code="structure", fragment=found)


# -- primitive formats ----------------------------------------------------------------------

VALID_FORMATS = [
    ("valueId", "a" * 64), ("valueId", "cpr-0101701234.A"),
    ("valueDate", "1970"), ("valueDate", "1970-01"), ("valueDate", "2024-02-29"),
    ("valueDateTime", "2024-05-01"), ("valueDateTime", "2024-05-01T10:00:00+02:00"),
    ("valueInstant", "2024-05-01T10:00:00.123Z"), ("valueTime", "23:59:59"),
    ("valueUri", "urn:oid:1.2.208.176.1.2"), ("valueUrl", "https://example.org/a?b=c"),
    ("valueCanonical", "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1"),
    ("valueCode", "in progress"), ("valueDecimal", 0.001), ("valueDecimal", -12),
    ("valueInteger", 2**31 - 1), ("valueInteger", -(2**31)), ("valueUnsignedInt", 0),
    ("valuePositiveInt", 2**31 - 1), ("valueBase64Binary", "U3ludGhldGlj"),
    ("valueBase64Binary", "aGk="), ("valueUuid", UUID), ("valueOid", "urn:oid:1.2.208.176.1.2"),
]


@pytest.mark.parametrize(("key", "value"), VALID_FORMATS)
def test_primitive_in_valid_format_is_valid(key: str, value: Any) -> None:
    """Well-formed values of each R4 primitive type pass."""
    assert validate(basic_with_value(key, value)).issues == ()


INVALID_FORMATS = [
    ("valueId", "a" * 65, "id", "invalid", "65"),
    ("valueId", "cpr_0101701234", "id", "invalid", "not a valid id"),
    ("valueDate", "1970-02-30", "date", "invalid", "no day 30"),
    ("valueDate", "1970-13", "date", "invalid", "not a valid date"),
    ("valueDate", "01-01-1970", "date", "invalid", "not a valid date"),
    ("valueDateTime", "2024-05-01T10:00:00", "dateTime", "invalid", "time-zone"),
    ("valueDateTime", "2024-05-01T25:00:00Z", "dateTime", "invalid", "not a valid dateTime"),
    ("valueInstant", "2024-05-01", "instant", "invalid", "not a valid instant"),
    ("valueInstant", "2024-05-01T10:00Z", "instant", "invalid", "not a valid instant"),
    ("valueTime", "24:00:00", "time", "invalid", "not a valid time"),
    ("valueTime", "10:00", "time", "invalid", "not a valid time"),
    ("valueUri", "http://exa mple.org", "uri", "invalid", "whitespace"),
    ("valueUrl", "https://exa mple.org/a", "url", "invalid", "whitespace"),
    ("valueCanonical", "http://example.org/ profile", "canonical", "invalid", "whitespace"),
    ("valueCode", " leading", "code", "invalid", "not a valid code"),
    ("valueCode", "two  spaces", "code", "invalid", "not a valid code"),
    ("valueInteger", 2**31, "integer", "value", "out of range"),
    ("valueInteger", -(2**31) - 1, "integer", "value", "out of range"),
    ("valuePositiveInt", 0, "positiveInt", "value", "out of range"),
    ("valueUnsignedInt", -1, "unsignedInt", "value", "out of range"),
    ("valueBase64Binary", "abc", "base64Binary", "invalid", "not a valid base64Binary"),
    ("valueBase64Binary", "ab.d", "base64Binary", "invalid", "not a valid base64Binary"),
    ("valueUuid", UUID.upper().replace("URN:UUID:", "urn:uuid:"), "uuid", "invalid",
     "not a valid uuid"),
    ("valueUuid", "6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c01", "uuid", "invalid", "not a valid uuid"),
    ("valueOid", "urn:oid:1.02.3", "oid", "invalid", "not a valid oid"),
    ("valueOid", "1.2.208.176.1.2", "oid", "invalid", "not a valid oid"),
]


@pytest.mark.parametrize(("key", "value", "type_code", "code", "fragment"), INVALID_FORMATS)
def test_primitive_in_invalid_format_is_an_error(key: str, value: Any, type_code: str, code: str,
                                                 fragment: str) -> None:
    """A malformed or out-of-range value is an error at the typed location."""
    result = validate(basic_with_value(key, value))
    assert_issue(result, f"Basic.extension[0].value.ofType({type_code})", severity="error",
                 code=code, fragment=fragment)


def test_non_finite_decimal_is_an_error() -> None:
    """1e400 parses to infinity, which no decimal can be."""
    text = ('{"resourceType": "Basic", "code": {"text": "synthetic"}, "text": '
            '{"status": "generated", "div": "<div xmlns=\\"http://www.w3.org/1999/xhtml\\">'
            'x</div>"}, "extension": [{"url": "' + EXT + '", "valueDecimal": 1e400}]}')
    result = Validator().validate(text.encode())
    assert_issue(result, "Basic.extension[0].value.ofType(decimal)", severity="error",
                 code="invalid", fragment="finite")


def test_resource_id_uses_the_id_rules() -> None:
    """Resource.id is an id: more than 64 characters is an error, 64 is fine."""
    assert validate(patient(id="p" * 64)).issues == ()
    result = validate(patient(id="p" * 65))
    assert_issue(result, "Patient.id", severity="error", code="invalid", fragment="65")


# -- resources inside resources ----------------------------------------------------------------

def test_contained_and_entry_resources_with_known_types_are_valid() -> None:
    """contained[] and Bundle.entry.resource carry a known resourceType."""
    result = validate({"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": UUID,
        "resource": patient(contained=[{"resourceType": "Organization", "id": "org1",
                                        "text": NARRATIVE, "name": "Synthetic Hospital"}],
                            managingOrganization={"reference": "#org1"})}]})
    assert result.issues == ()


@pytest.mark.parametrize(("resource", "code", "fragment"), [
    ({"id": "org1", "name": "Synthetic Hospital"}, "required", "no resourceType"),
    ({"resourceType": "Organisation", "id": "org1"}, "structure", "'Organisation'"),
])
def test_contained_resource_needs_a_known_resource_type(resource: dict[str, Any], code: str,
                                                        fragment: str) -> None:
    """A contained resource without a (known) resourceType is an error at its location."""
    result = validate(patient(contained=[resource], managingOrganization={"reference": "#org1"}))
    assert_issue(result, "Patient.contained[0]", severity="error", code=code, fragment=fragment)


@pytest.mark.parametrize(("resource", "code", "fragment"), [
    ({"id": "p1", "gender": "male"}, "required", "no resourceType"),
    ({"resourceType": "Pasient", "id": "p1"}, "structure", "'Pasient'"),
])
def test_entry_resource_needs_a_known_resource_type(resource: dict[str, Any], code: str,
                                                    fragment: str) -> None:
    """Bundle.entry.resource without a (known) resourceType is an error at its location."""
    result = validate({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"fullUrl": UUID, "resource": resource}]})
    assert_issue(result, "Bundle.entry[0].resource", severity="error", code=code,
                 fragment=fragment)


# -- JSON text --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    b'{"resourceType": "Patient", "gender": "female"}',
    '{"resourceType": "Patient", "gender": "female"}',
])
def test_valid_json_text_is_parsed(text: str | bytes) -> None:
    """Text and bytes are parsed, then validated like a dict (here: only dom-6)."""
    result = Validator().validate(text)
    assert [(i.rule, i.expression) for i in result.issues] == [("dom-6", "Patient")]


@pytest.mark.parametrize(("text", "where"), [
    (b'{"resourceType": "Patient",\n "id": }', "line 2, column 8"),
    (b'{"resourceType": "Patient"', "line 1, column 27"),
    (b"", "line 1, column 1"),
    (b'{"resourceType": "Patient"} trailing', "line 1, column 29"),
])
def test_invalid_json_text_is_fatal_with_line_and_column(text: bytes, where: str) -> None:
    """A syntax error is one fatal issue, no location, naming line and column."""
    result = Validator().validate(text)
    (issue,) = result.issues
    assert (issue.severity, issue.code, issue.expression) == ("fatal", "structure", "")
    assert where in issue.message
    assert not result.ok


def test_nan_is_not_json() -> None:
    """NaN is not JSON (RFC 8259): the text is rejected as invalid JSON, not read as a number."""
    result = Validator().validate(b'{"resourceType": "Patient",\n "multipleBirthInteger": NaN}')
    assert len(result.issues) == 1, result.issues
    issue = result.issues[0]
    assert (issue.severity, issue.code, issue.expression) == ("fatal", "structure", "")
    assert "line 2" in issue.message


def test_duplicate_json_property_is_an_error() -> None:
    """A property given twice in one object is reported, not silently resolved to the last."""
    result = Validator().validate(
        b'{"resourceType": "Patient", "gender": "male", "gender": "female"}')
    found = [i for i in result.issues
             if "gender" in i.message and "duplicate" in i.message.lower()]
    assert len(found) == 1, result.issues
    issue = found[0]
    assert issue.code == "structure"
    assert (issue.severity, issue.expression) in {("error", "Patient.gender"), ("fatal", "")}
