"""EcanMessage and its parts (DOMAIN.md §2(a) "Shared", §2(c), §5.2): MessageHeader, Provenance,
the acknowledgement profiles, MedCom terminology copies and the MessageDefinitions.

Each profile has a minimal valid instance (no errors) and one invalid instance per mandatory
element, slice, binding and invariant, asserting the issue's code, severity, rule and FHIRPath
location. All data is synthetic (see _messaging_data).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ecanfhir import Registry, ValidationResult, Validator
from ecanfhir.definitions.pilot import pilot_registry, pilot_url

from . import _messaging_data as data
from ._messaging_checks import assert_issue, check

MESSAGE = pilot_url("StructureDefinition", "ecan-message")
HEADER = pilot_url("StructureDefinition", "ecan-message-header")
PROVENANCE = pilot_url("StructureDefinition", "ecan-provenance")
ACK = pilot_url("StructureDefinition", "ecan-acknowledgement")
ACK_HEADER = pilot_url("StructureDefinition", "ecan-acknowledgement-header")
ACK_OUTCOME = pilot_url("StructureDefinition", "ecan-acknowledgement-outcome")
MEDCOM_TERMINOLOGY = "http://medcomfhir.dk/ig/terminology/"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return pilot_registry()


@pytest.fixture(scope="module")
def validator(registry: Registry) -> Validator:
    return Validator(registry)


def error_rules(result: ValidationResult) -> set[str]:
    return {i.rule for i in result.errors}


# -- minimal valid instances ------------------------------------------------------------------

VALID = [
    (data.message_header, HEADER),
    (data.provenance, PROVENANCE),
    (data.acknowledgement_header, ACK_HEADER),
    (lambda: data.acknowledgement_header("fatal-error", details=True), ACK_HEADER),
    (data.acknowledgement_outcome, ACK_OUTCOME),
    (data.message, MESSAGE),
    (data.acknowledgement, ACK),
    (lambda: data.acknowledgement("fatal-error"), ACK),
    (lambda: data.acknowledgement("transient-error"), ACK),
]


@pytest.mark.parametrize(("build", "profile"), VALID)
def test_minimal_instance_is_valid(validator: Validator, build: Any, profile: str) -> None:
    """Each minimal instance validates with no errors against its profile."""
    result = check(validator, build(), profile)
    assert result.errors == (), result.errors


@pytest.mark.parametrize(("event", "focus"), [
    ("cancer-case-referral", "ServiceRequest/a1"), ("tumour-board-outcome", "CarePlan/b2"),
    ("telemedicine-encounter", "Encounter/c3"),
    ("telemedicine-encounter", "https://other.example.org/fhir/Encounter/c3")])
def test_each_event_with_its_focus_type(validator: Validator, event: str, focus: str) -> None:
    """ecan-mh-1 accepts the focus resource type of each event."""
    result = check(validator, data.message_header(event, focus), HEADER)
    assert result.errors == (), result.errors


def test_whole_message_has_no_warnings_but_core_activity_binding(validator: Validator) -> None:
    """The only warning of the minimal message: MedCom's activity code is outside R4's
    extensible Provenance.activity value set (expected: MedCom codes are reused on purpose)."""
    result = check(validator, data.message(), MESSAGE)
    assert {(i.expression, i.rule) for i in result.warnings} == {
        ("Bundle.entry[1].resource.activity", "binding-extensible"),
        ("Bundle.entry[5].resource", "dom-6")}


# -- EcanMessageHeader --------------------------------------------------------------------------


def test_header_text_and_event_required(validator: Validator) -> None:
    header = data.message_header()
    del header["text"], header["eventCoding"]
    result = check(validator, header, HEADER)
    assert_issue(result, "MessageHeader.text", "cardinality-min", code="required")
    assert_issue(result, "MessageHeader.event", "cardinality-min", code="required")


def test_header_event_binding_required(validator: Validator) -> None:
    """A MedCom event code is not an eCAN+ event: required binding → error."""
    header = data.message_header()
    header["eventCoding"] = {"system": MEDCOM_TERMINOLOGY + "CodeSystem/"
                             "medcom-messaging-eventCodes", "code": "care-communication-message"}
    assert_issue(check(validator, header, HEADER), "MessageHeader.event.ofType(Coding)",
                 "binding-required", code="code-invalid")


def test_header_needs_primary_destination(validator: Validator) -> None:
    """destination[primary] is 1..1: a cc alone is not enough."""
    header = data.message_header()
    header["destination"] = [data.destination("cc")]
    assert_issue(check(validator, header, HEADER), "MessageHeader.destination",
                 "slice-cardinality", code="required")


def test_header_two_primary_destinations(validator: Validator) -> None:
    header = data.message_header()
    header["destination"].append(data.destination())
    assert_issue(check(validator, header, HEADER), "MessageHeader.destination",
                 "slice-cardinality", code="structure")


def test_header_primary_and_cc(validator: Validator) -> None:
    """cc receivers are 0..*."""
    header = data.message_header()
    header["destination"] += [data.destination("cc"), data.destination("cc")]
    assert check(validator, header, HEADER).errors == ()


def test_header_destination_without_use_is_closed_out(validator: Validator) -> None:
    """Slicing is closed: a destination without the destination-use extension fits no slice."""
    header = data.message_header()
    del header["destination"][0]["extension"]
    result = check(validator, header, HEADER)
    assert_issue(result, "MessageHeader.destination[0]", "slice-closed", code="structure")
    assert_issue(result, "MessageHeader.destination[0].extension", "slice-cardinality",
                 code="required")


def test_destination_use_binding(validator: Validator) -> None:
    """The extension's valueCoding is bound (required) to MedCom's destination-use codes."""
    header = data.message_header()
    header["destination"][0]["extension"][0]["valueCoding"]["code"] = "bcc"
    result = check(validator, header, HEADER)
    assert_issue(result, "MessageHeader.destination[0].extension[0].value.ofType(Coding)",
                 "binding-required", code="code-invalid")


@pytest.mark.parametrize("element", ["receiver", "endpoint"])
def test_destination_receiver_and_endpoint_required(validator: Validator, element: str) -> None:
    header = data.message_header()
    del header["destination"][0][element]
    assert_issue(check(validator, header, HEADER), f"MessageHeader.destination[0].{element}",
                 "cardinality-min", code="required")


def test_header_sender_source_endpoint_focus_required(validator: Validator) -> None:
    header = data.message_header()
    del header["sender"], header["focus"]
    header["source"] = {"name": "Synthetic EHR"}
    result = check(validator, header, HEADER)
    for where in ("MessageHeader.sender", "MessageHeader.focus", "MessageHeader.source.endpoint"):
        assert_issue(result, where, "cardinality-min", code="required")


@pytest.mark.parametrize(("event", "focus"), [
    ("tumour-board-outcome", "ServiceRequest/a1"), ("cancer-case-referral", "CarePlan/b2"),
    ("telemedicine-encounter", "CarePlan/b2"), ("cancer-case-referral", "Encounter/c3")])
def test_ecan_mh_1_focus_type_follows_event(validator: Validator, event: str,
                                            focus: str) -> None:
    """ecan-mh-1: the focus must be the event's resource type (literal reference)."""
    assert_issue(check(validator, data.message_header(event, focus), HEADER), "MessageHeader",
                 "ecan-mh-1")


def test_ecan_mh_1_by_reference_type(validator: Validator) -> None:
    """ecan-mh-1 also reads Reference.type when the reference is a urn."""
    header = data.message_header()
    header["focus"] = [{"reference": "urn:uuid:1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d66",
                        "type": "CarePlan"}]
    assert_issue(check(validator, header, HEADER), "MessageHeader", "ecan-mh-1")


def test_ecan_mh_1_resolves_focus_inside_the_message(validator: Validator) -> None:
    """In a Bundle, ecan-mh-1 checks the resolved focus (a urn names no type)."""
    bundle = data.message()
    header, focus = bundle["entry"][0], bundle["entry"][5]
    focus["fullUrl"] = "urn:uuid:1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d66"
    # A relative reference has no meaning inside an entry whose fullUrl is a urn (R4
    # bundle.html §2.36.4.1): the focus now names its targets by their fullUrls.
    full_urls = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["fullUrl"]
                 for e in bundle["entry"]}
    text = json.dumps(focus["resource"])
    for relative, full_url in full_urls.items():
        text = text.replace(f'"reference": "{relative}"', f'"reference": "{full_url}"')
    focus["resource"] = json.loads(text)
    header["resource"]["focus"] = [{"reference": focus["fullUrl"]}]
    assert check(validator, bundle, MESSAGE).errors == ()
    header["resource"]["eventCoding"]["code"] = "telemedicine-encounter"
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle.entry[0].resource", "ecan-mh-1")


# -- EcanProvenance -----------------------------------------------------------------------------


@pytest.mark.parametrize("occurred", ["2025-06-02", "2025-06"])
def test_provenance_occurred_needs_time_and_timezone(validator: Validator,
                                                     occurred: str) -> None:
    provenance = data.provenance()
    provenance["occurredDateTime"] = occurred
    assert_issue(check(validator, provenance, PROVENANCE), "Provenance", "ecan-prov-1")


def test_provenance_occurred_period_not_allowed(validator: Validator) -> None:
    """occurred[x] is dateTime only, 1..1."""
    provenance = data.provenance()
    del provenance["occurredDateTime"]
    provenance["occurredPeriod"] = {"start": "2025-06-02T10:15:00Z"}
    result = check(validator, provenance, PROVENANCE)
    assert_issue(result, "Provenance.occurred", "cardinality-min", code="required")
    assert_issue(result, "Provenance.occurredPeriod", "unknown-element", code="structure")


def test_provenance_activity_binding(validator: Validator) -> None:
    """activity is bound (required) to MedCom's activity codes."""
    provenance = data.provenance()
    provenance["activity"] = {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"}]}
    assert_issue(check(validator, provenance, PROVENANCE), "Provenance.activity",
                 "binding-required", code="code-invalid")


def test_provenance_one_activity_coding(validator: Validator) -> None:
    provenance = data.provenance()
    provenance["activity"]["coding"].append({"system": data.ACTIVITIES, "code": "reply-message"})
    assert_issue(check(validator, provenance, PROVENANCE), "Provenance.activity.coding",
                 "cardinality-max", code="structure")


def test_provenance_target_and_agent(validator: Validator) -> None:
    """target 1..1, agent 1..*."""
    provenance = data.provenance()
    provenance["target"].append({"reference": "MessageHeader/other"})
    assert_issue(check(validator, provenance, PROVENANCE), "Provenance.target",
                 "cardinality-max", code="structure")
    del provenance["target"], provenance["agent"]
    result = check(validator, provenance, PROVENANCE)
    assert_issue(result, "Provenance.target", "cardinality-min", code="required")
    assert_issue(result, "Provenance.agent", "cardinality-min", code="required")


@pytest.mark.parametrize(("entity", "ok"), [
    ({"role": "revision", "what": {"reference": "MessageHeader/x"}}, True),
    ({"role": "source", "what": {"identifier": {"value": "5790000123452#abc"}}}, True),
    ({"role": "quotation", "what": {"reference": "MessageHeader/x"}}, False),
    ({"role": "source", "what": {"display": "an earlier letter"}}, False)])
def test_ecan_prov_2_entity(validator: Validator, entity: dict[str, Any], ok: bool) -> None:
    """entity: role source|revision, naming the message by reference or identifier."""
    provenance = data.provenance()
    provenance["entity"] = [entity]
    result = check(validator, provenance, PROVENANCE)
    if ok:
        assert result.errors == ()
    else:
        assert_issue(result, "Provenance.entity[0]", "ecan-prov-2")


# -- acknowledgement ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["fatal-error", "transient-error"])
def test_ecan_ack_1_negative_needs_details(validator: Validator, code: str) -> None:
    """MedCom medcom-acknowledgement-1 on the header: not ok ⇒ response.details."""
    result = check(validator, data.acknowledgement_header(code), ACK_HEADER)
    assert_issue(result, "MessageHeader", "ecan-ack-1")
    assert error_rules(result) == {"ecan-ack-1"}


def test_ack_header_no_cc(validator: Validator) -> None:
    """destination[cc] is 0..0 on an acknowledgement."""
    header = data.acknowledgement_header()
    header["destination"].append(data.destination("cc"))
    assert_issue(check(validator, header, ACK_HEADER), "MessageHeader.destination",
                 "slice-cardinality", code="structure")


def test_ack_header_response_required(validator: Validator) -> None:
    header = data.acknowledgement_header()
    del header["response"]
    assert_issue(check(validator, header, ACK_HEADER), "MessageHeader.response",
                 "cardinality-min", code="required")


def test_ack_header_event_is_acknowledgement(validator: Validator) -> None:
    header = data.acknowledgement_header()
    header["eventCoding"]["code"] = "cancer-case-referral"
    assert_issue(check(validator, header, ACK_HEADER), "MessageHeader.event.ofType(Coding)",
                 "pattern", code="value")


def test_ack_header_text_required(validator: Validator) -> None:
    header = data.acknowledgement_header()
    del header["text"]
    assert_issue(check(validator, header, ACK_HEADER), "MessageHeader.text",
                 "cardinality-min", code="required")


@pytest.mark.parametrize("coding", [
    {"system": data.ACK_ERRORS, "code": "MSG_NOT_A_CODE"},
    {"system": "http://terminology.hl7.org/CodeSystem/operation-outcome",
     "code": "MSG_ID_INVALID"}])
def test_ack_outcome_details_binding(validator: Validator, coding: dict[str, str]) -> None:
    """issue.details is bound (required) to MedCom's acknowledgement error codes."""
    outcome = data.acknowledgement_outcome()
    outcome["issue"][0]["details"] = {"coding": [coding]}
    assert_issue(check(validator, outcome, ACK_OUTCOME), "OperationOutcome.issue[0].details",
                 "binding-required", code="code-invalid")


def test_ack_outcome_details_required(validator: Validator) -> None:
    outcome = data.acknowledgement_outcome()
    outcome["issue"][0]["details"] = {"text": "no code"}
    assert_issue(check(validator, outcome, ACK_OUTCOME),
                 "OperationOutcome.issue[0].details.coding", "cardinality-min", code="required")
    del outcome["issue"][0]["details"]
    assert_issue(check(validator, outcome, ACK_OUTCOME), "OperationOutcome.issue[0].details",
                 "cardinality-min", code="required")


def test_ecan_ack_2_outcome_in_bundle(validator: Validator) -> None:
    """Not ok without an OperationOutcome entry breaks ecan-ack-2 (and the dangling details)."""
    bundle = data.acknowledgement("fatal-error")
    del bundle["entry"][4]
    result = check(validator, bundle, ACK)
    assert_issue(result, "Bundle", "ecan-ack-2")
    assert error_rules(result) == {"ecan-ack-2", "ecan-msg-3"}


def test_ecan_ack_3_acknowledgement_provenance(validator: Validator) -> None:
    bundle = data.acknowledgement()
    bundle["entry"][1]["resource"]["activity"]["coding"][0]["code"] = "reply-message"
    result = check(validator, bundle, ACK)
    assert_issue(result, "Bundle", "ecan-ack-3")
    assert error_rules(result) == {"ecan-ack-3"}


def test_ack_header_checked_inside_the_bundle(validator: Validator) -> None:
    """The claimed header profile applies in the Bundle: ecan-ack-1 at the entry."""
    bundle = data.acknowledgement("transient-error")
    del bundle["entry"][0]["resource"]["response"]["details"]
    result = check(validator, bundle, ACK)
    assert_issue(result, "Bundle.entry[0].resource", "ecan-ack-1")


def test_acknowledgement_with_an_ordinary_header(validator: Validator) -> None:
    """ecan-msg-1 of the acknowledgement wants a header claiming EcanAcknowledgementHeader."""
    bundle = data.acknowledgement()
    bundle["entry"][0] = data.entry(data.claiming(data.message_header(), "ecan-message-header"))
    assert_issue(check(validator, bundle, ACK), "Bundle", "ecan-msg-1")


# -- EcanMessage ------------------------------------------------------------------------------


def test_message_id_timestamp_type(validator: Validator) -> None:
    bundle = data.message()
    del bundle["id"], bundle["timestamp"]
    bundle["type"] = "collection"
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle.id", "cardinality-min", code="required")
    assert_issue(result, "Bundle.timestamp", "cardinality-min", code="required")
    assert_issue(result, "Bundle.type", "fixed", code="value")


def test_message_entry_full_url_required(validator: Validator) -> None:
    bundle = data.message()
    del bundle["entry"][2]["fullUrl"]
    assert_issue(check(validator, bundle, MESSAGE), "Bundle.entry[2].fullUrl",
                 "cardinality-min", code="required")


def test_message_entry_resource_required(validator: Validator) -> None:
    bundle = data.message()
    bundle["entry"].append({"fullUrl": "urn:uuid:5e1f0c3a-7b2d-4e8f-9a6b-1c2d3e4f5a6b"})
    assert_issue(check(validator, bundle, MESSAGE), "Bundle.entry[6].resource",
                 "cardinality-min", code="required")


def test_ecan_msg_1_header_first(validator: Validator) -> None:
    bundle = data.message()
    bundle["entry"].insert(0, bundle["entry"].pop(1))
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle", "ecan-msg-1")
    assert error_rules(result) == {"ecan-msg-1", "bdl-12"}


def test_ecan_msg_1_header_claims_its_profile(validator: Validator) -> None:
    bundle = data.message()
    del bundle["entry"][0]["resource"]["meta"]
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle", "ecan-msg-1")


def test_header_checked_inside_the_message(validator: Validator) -> None:
    """The claimed EcanMessageHeader applies to the first entry (text 1..1 here)."""
    bundle = data.message()
    del bundle["entry"][0]["resource"]["text"]
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle.entry[0].resource.text", "cardinality-min", code="required")


def test_sender_organization_checked_inside_the_message(validator: Validator) -> None:
    """sender → EcanOrganization: a wrong GLN check digit fails the target profile."""
    bundle = data.message()
    bundle["entry"][2]["resource"]["identifier"][1]["value"] = "5790000123453"
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle.entry[0].resource.sender.reference", "reference-profile",
                 code="structure")
    assert_issue(result, "Bundle.entry[1].resource.agent[0].who.reference", "reference-profile",
                 code="structure")


def test_ecan_msg_2_provenance(validator: Validator) -> None:
    bundle = data.message()
    del bundle["entry"][1]
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle", "ecan-msg-2")
    assert error_rules(result) == {"ecan-msg-2"}


@pytest.mark.parametrize("reference", ["Patient/not-here",
                                       "urn:uuid:0c3b1d8e-6f0a-4f57-8d7e-3a9d5c1b2e00",
                                       "https://elsewhere.example.org/fhir/Patient/p1"])
def test_ecan_msg_3_references_resolve(validator: Validator, reference: str) -> None:
    """Every reference resolves to an entry (relative, urn or absolute)."""
    bundle = data.message()
    bundle["entry"][5]["resource"]["subject"]["reference"] = reference
    assert_issue(check(validator, bundle, MESSAGE), "Bundle", "ecan-msg-3")


def test_ecan_msg_3_urn_full_urls(validator: Validator) -> None:
    """urn:uuid fullUrls resolve when referenced by the urn itself."""
    bundle = data.message()
    patient = bundle["entry"][4]
    patient["fullUrl"] = "urn:uuid:" + data.PATIENT_ID
    bundle["entry"][5]["resource"]["subject"]["reference"] = patient["fullUrl"]
    assert check(validator, bundle, MESSAGE).errors == ()


def test_ecan_msg_3_earlier_message_may_be_named(validator: Validator) -> None:
    """Provenance.entity names an earlier message that is not in this Bundle: allowed."""
    bundle = data.message()
    bundle["entry"][1]["resource"]["entity"] = [
        {"role": "source", "what": {"reference": "MessageHeader/earlier-message"}}]
    assert "ecan-msg-3" not in error_rules(check(validator, bundle, MESSAGE))


@pytest.mark.parametrize("patients", [0, 2])
def test_ecan_msg_4_one_patient(validator: Validator, patients: int) -> None:
    bundle = data.message()
    if patients == 0:
        del bundle["entry"][4]
        bundle["entry"][4]["resource"]["subject"] = {"display": "Synthetic tumour board"}
    else:
        second = data.claiming(data.patient(), "ecan-patient")
        second["id"] = "second-patient"
        bundle["entry"].append(data.entry(second))
    result = check(validator, bundle, MESSAGE)
    assert_issue(result, "Bundle", "ecan-msg-4")
    assert error_rules(result) == {"ecan-msg-4"}


@pytest.mark.parametrize("index", [1, 4])
def test_ecan_msg_5_provenance_and_patient_claim(validator: Validator, index: int) -> None:
    bundle = data.message()
    del bundle["entry"][index]["resource"]["meta"]
    assert_issue(check(validator, bundle, MESSAGE), "Bundle", "ecan-msg-5")


def test_patient_checked_inside_the_message(validator: Validator) -> None:
    bundle = data.message()
    bundle["entry"][4]["resource"]["identifier"][0]["value"] = "3202709995"
    assert_issue(check(validator, bundle, MESSAGE), "Bundle.entry[4].resource.identifier[0]",
                 "cpr")


# -- terminology and MessageDefinitions ---------------------------------------------------------


@pytest.mark.parametrize(("url", "codes"), [
    (pilot_url("ValueSet", "ecan-message-events"),
     {"cancer-case-referral", "tumour-board-outcome", "telemedicine-encounter",
      "acknowledgement"}),
    (MEDCOM_TERMINOLOGY + "ValueSet/medcom-messaging-destinationUse", {"primary", "cc"}),
    (MEDCOM_TERMINOLOGY + "ValueSet/medcom-acknowledgement-error-codes",
     {"MSG_Receiver_Identifier_UNKNOWN", "MSG_Damaged_durin_transport"}),
    (MEDCOM_TERMINOLOGY + "ValueSet/medcom-messaging-activityCodes",
     {"new-message", "reply-message", "forward-message", "retract-message",
      "modified-message", "carboncopy-message", "acknowledgement"}),
])
def test_value_sets_expand(validator: Validator, url: str, codes: set[str]) -> None:
    expansion = validator.terminology.expand(url)
    assert expansion is not None
    assert codes <= {c.code for c in expansion.contains}


EVENTS = {"ecan-cancer-case-referral": ("cancer-case-referral", "ServiceRequest",
                                        "ecan-cancer-referral"),
          "ecan-tumour-board-outcome": ("tumour-board-outcome", "CarePlan",
                                        "ecan-tumour-board-outcome"),
          "ecan-telemedicine-encounter": ("telemedicine-encounter", "Encounter",
                                          "ecan-telemedicine-encounter")}


@pytest.mark.parametrize("definition_id", sorted(EVENTS))
def test_message_definitions(registry: Registry, validator: Validator,
                             definition_id: str) -> None:
    """One MessageDefinition per event: its focus, and the acknowledgement as response."""
    definition = registry.get(pilot_url("MessageDefinition", definition_id))
    assert definition is not None
    event, focus_type, profile = EVENTS[definition_id]
    assert definition["eventCoding"]["code"] == event
    assert definition["focus"] == [{"code": focus_type, "min": 1, "max": "1",
                                    "profile": pilot_url("StructureDefinition", profile)}]
    assert definition["responseRequired"] == "always"
    assert [r["message"] for r in definition["allowedResponse"]] == [
        pilot_url("MessageDefinition", "ecan-acknowledgement")]
    assert check(validator, definition, "http://hl7.org/fhir/StructureDefinition/"
                 "MessageDefinition").errors == ()


def test_acknowledgement_message_definition(registry: Registry) -> None:
    """An acknowledgement is never acknowledged (MedCom KR2)."""
    definition = registry.get(pilot_url("MessageDefinition", "ecan-acknowledgement"))
    assert definition is not None
    assert definition["responseRequired"] == "never"
    assert "allowedResponse" not in definition


# -- validator behaviour these profiles rely on -------------------------------------------------

TYPED_SLICE = "http://example.org/fhir/StructureDefinition/typed-entry-message"


def _typed_entry_bundle_profile() -> dict[str, Any]:
    """A Bundle profile whose entry slice narrows resource to MessageHeader (SUSHI `only`)."""
    core = "http://hl7.org/fhir/StructureDefinition/"
    return {
        "resourceType": "StructureDefinition", "id": "typed-entry-message", "url": TYPED_SLICE,
        "name": "TypedEntryMessage", "status": "draft", "fhirVersion": "4.0.1",
        "kind": "resource", "abstract": False, "type": "Bundle",
        "baseDefinition": core + "Bundle", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Bundle.entry", "path": "Bundle.entry",
             "slicing": {"discriminator": [{"type": "type", "path": "resource"}],
                         "rules": "open"}},
            {"id": "Bundle.entry:header", "path": "Bundle.entry", "sliceName": "header",
             "min": 1, "max": "1"},
            {"id": "Bundle.entry:header.resource", "path": "Bundle.entry.resource",
             "type": [{"code": "MessageHeader"}]},
        ]},
    }


def test_typed_entry_slice_is_walked_as_a_resource() -> None:
    registry = pilot_registry()
    registry.add(_typed_entry_bundle_profile())
    result = Validator(registry).validate(data.message(), profiles=[TYPED_SLICE])
    assert "json-form" not in {i.rule for i in result.errors}, result.errors


def test_conforms_to_in_invariants() -> None:
    registry = pilot_registry()
    profile = copy.deepcopy(_typed_entry_bundle_profile())
    profile["differential"]["element"] = [{
        "id": "Bundle", "path": "Bundle", "constraint": [{
            "key": "test-conforms", "severity": "error", "human": "header conforms",
            "expression": f"entry.first().resource.conformsTo('{HEADER}')"}]}]
    registry.add(profile)
    bundle = data.message()
    del bundle["entry"][0]["resource"]["text"]  # no longer an EcanMessageHeader
    del bundle["entry"][0]["resource"]["meta"]
    result = Validator(registry).validate(bundle, profiles=[TYPED_SLICE])
    assert "test-conforms" in {i.rule for i in result.errors}, result.issues


def test_resolve_from_bundle_level_invariant() -> None:
    registry = pilot_registry()
    profile = copy.deepcopy(_typed_entry_bundle_profile())
    profile["differential"]["element"] = [{
        "id": "Bundle", "path": "Bundle", "constraint": [{
            "key": "test-resolve", "severity": "error", "human": "focus resolves",
            "expression": "entry.first().resource.focus.resolve().exists()"}]}]
    registry.add(profile)
    result = Validator(registry).validate(data.message(), profiles=[TYPED_SLICE])
    assert "test-resolve" not in {i.rule for i in result.issues}, result.issues
