"""Acknowledgements follow MedCom's rules (DOMAIN.md §2(c)); resend keeps the letter id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _builders_support import AT, CENTRE, assert_no_errors, assert_well_formed, context, resources

from ecanfhir import Validator
from ecanfhir.builders import (
    AckIssue,
    BuildError,
    Organization,
    build_acknowledgement,
    resend,
)
from ecanfhir.definitions.pilot import pilot_url

ERRORS = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes"


def _header(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["entry"][0]["resource"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("code", ["ok", "transient-error", "fatal-error"])
def test_acknowledgement_validates(validator: Validator, referral_message: dict[str, Any],
                                   code: str) -> None:
    """ok, transient-error and fatal-error acks validate; not-ok ones carry an OperationOutcome."""
    issues = [] if code == "ok" else [AckIssue("MSG_Mailbox_Out_Of_Operation", "mailbox closed",
                                               code="transient")]
    ack = build_acknowledgement(referral_message, code,  # type: ignore[arg-type]
                                issues=issues, context=context(11))
    assert_no_errors(validator.validate(ack))
    assert_well_formed(ack)
    header, original = _header(ack), _header(referral_message)
    assert ack["meta"]["profile"] == [pilot_url("StructureDefinition", "ecan-acknowledgement")]
    assert header["eventCoding"]["code"] == "acknowledgement"
    assert header["response"]["identifier"] == original["id"]
    assert header["response"]["code"] == code
    assert [d["extension"][0]["valueCoding"]["code"] for d in header["destination"]] == ["primary"]
    assert header["destination"][0]["receiver"] == original["sender"]
    assert header["destination"][0]["endpoint"] == original["source"]["endpoint"]
    assert header["sender"] == original["destination"][0]["receiver"]
    assert header["source"]["endpoint"] == CENTRE.endpoint
    assert "focus" not in header
    outcomes = resources(ack, "OperationOutcome")
    if code == "ok":
        assert outcomes == [] and "details" not in header["response"]
    else:
        assert header["response"]["details"] == {"reference": f"urn:uuid:{outcomes[0]['id']}"}
        assert outcomes[0]["issue"][0]["details"]["coding"] == [
            {"system": ERRORS, "code": "MSG_Mailbox_Out_Of_Operation"}]
    copied, own = resources(ack, "Provenance")
    assert copied["id"] == resources(referral_message, "Provenance")[0]["id"]
    assert copied["target"] == [{"reference": f"MessageHeader/{original['id']}"}]
    assert own["activity"]["coding"][0]["code"] == "acknowledgement"
    assert own["entity"] == [{"role": "revision",
                              "what": {"reference": f"MessageHeader/{original['id']}"}}]
    assert own["agent"][0]["who"] == header["sender"]
    assert resources(ack, "Patient") == []


def test_ok_may_carry_an_outcome(validator: Validator, referral_message: dict[str, Any]) -> None:
    """An ok ack may explain itself (e.g. a valid duplicate)."""
    ack = build_acknowledgement(referral_message, issues=[
        AckIssue("MSG_Damaged_durin_transport", "duplicate", severity="information",
                 code="duplicate")], context=context(12))
    assert_no_errors(validator.validate(ack))
    assert _header(ack)["response"]["details"]


def test_other_acknowledging_sender(validator: Validator,
                                    referral_message: dict[str, Any]) -> None:
    """A named sender replaces the original receiver; the original parties stay resolvable."""
    relay = Organization("Regional relay", sor="556677889900", gln="5790001340056")
    ack = build_acknowledgement(referral_message, "fatal-error", sender=relay, issues=[
        AckIssue("MSG_Receiver_Identifier_UNKNOWN")], context=context(13))
    assert_no_errors(validator.validate(ack))
    assert_well_formed(ack)
    names = [o["name"] for o in resources(ack, "Organization")]
    assert names[0] == "Regional relay"


def test_not_ok_needs_issues(referral_message: dict[str, Any]) -> None:
    """A negative ack without a reason is refused."""
    with pytest.raises(BuildError, match="issues: a fatal-error acknowledgement needs"):
        build_acknowledgement(referral_message, "fatal-error")
    with pytest.raises(BuildError, match="code: ok, transient-error or fatal-error"):
        build_acknowledgement(referral_message, "maybe")  # type: ignore[arg-type]


def test_acknowledgement_is_not_acknowledged(referral_message: dict[str, Any]) -> None:
    """KR2: an acknowledgement SHALL NOT be acknowledged."""
    ack = build_acknowledgement(referral_message)
    with pytest.raises(BuildError, match="original_bundle: an acknowledgement SHALL NOT"):
        build_acknowledgement(ack)


def test_resend_keeps_the_letter_and_renews_the_envelope(
        validator: Validator, referral_message: dict[str, Any]) -> None:
    """resend: new Bundle.id and timestamp, same MessageHeader.id, same content otherwise."""
    later = context(21, at=AT + timedelta(minutes=31))
    again = resend(referral_message, context=later)
    assert again["id"] != referral_message["id"]
    assert again["timestamp"] == "2026-11-27T09:46:00+01:00" != referral_message["timestamp"]
    assert _header(again)["id"] == _header(referral_message)["id"]
    assert again["entry"] == referral_message["entry"]
    assert_no_errors(validator.validate(again))
    ack = build_acknowledgement(again)
    assert _header(ack)["response"]["identifier"] == _header(referral_message)["id"]


def test_resend_refuses_a_non_message() -> None:
    """Only message Bundles are resent."""
    with pytest.raises(BuildError, match="bundle: not a message Bundle"):
        resend({"resourceType": "Bundle", "type": "collection", "entry": []})
