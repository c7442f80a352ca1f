"""to_document re-packages a message's clinical content as a FHIR document Bundle."""

from __future__ import annotations

from typing import Any

import pytest
from _builders_support import (
    CENTRE,
    CONSULTATION,
    DOCTOR,
    HOSPITAL,
    PATIENT,
    assert_no_errors,
    assert_well_formed,
    context,
    resources,
)

from ecanfhir import Validator
from ecanfhir.builders import (
    BuildError,
    build_acknowledgement,
    build_telemedicine_message,
    resend,
    to_document,
)

ENVELOPE = {"MessageHeader", "Provenance", "OperationOutcome"}


def _clinical(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] not in ENVELOPE]


@pytest.mark.parametrize("name", ["referral_message", "outcome_message"])
def test_document_validates_and_keeps_the_clinical_content(
        validator: Validator, request: pytest.FixtureRequest, name: str) -> None:
    """Composition first, same clinical entries (same fullUrls), no envelope; core rules pass."""
    message = request.getfixturevalue(name)
    document = to_document(message)
    assert_no_errors(validator.validate(document))
    assert_well_formed(document)
    assert document["type"] == "document"
    assert document["identifier"]["system"] == "urn:ietf:rfc:3986"
    assert document["timestamp"] == resources(message, "Provenance")[-1]["recorded"]
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["status"] == "final"
    patient_id = resources(message, "Patient")[0]["id"]
    assert composition["subject"]["reference"] == f"urn:uuid:{patient_id}"
    assert composition["author"] == [message["entry"][0]["resource"]["sender"]]
    assert document["entry"][1:] == _clinical(message)
    assert not ENVELOPE & {e["resource"]["resourceType"] for e in document["entry"]}
    listed = {s["reference"] for sec in composition["section"] for s in sec.get("entry", ())}
    kinds = {"CarePlan", "ServiceRequest", "Condition", "Observation"}
    assert listed == {e["fullUrl"] for e in _clinical(message)
                      if e["resource"]["resourceType"] in kinds}


def test_document_is_a_patient_summary_with_the_required_sections(
        referral_message: dict[str, Any]) -> None:
    """IPS (Composition-uv-ips): type 60591-5; every section coded and with narrative; the
    required sections the message has nothing for say so with an emptyReason (ips-comp-1)."""
    composition = to_document(referral_message)["entry"][0]["resource"]
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert composition["category"][0]["coding"][0]["code"] == "57133-1"
    by_code = {sec["code"]["coding"][0]["code"]: sec for sec in composition["section"]}
    assert {"11450-4", "48765-2", "10160-0", "30954-2"} <= set(by_code)
    assert all(sec["text"]["status"] == "generated" for sec in by_code.values())
    assert "entry" in by_code["11450-4"] and "emptyReason" not in by_code["11450-4"]
    assert by_code["48765-2"]["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert "entry" not in by_code["48765-2"]


def test_document_of_outcome_is_titled(outcome_message: dict[str, Any]) -> None:
    """The tumour-board outcome document leads with the outcome section."""
    composition = to_document(outcome_message)["entry"][0]["resource"]
    assert composition["title"] == "Tumour board outcome"
    assert composition["section"][0]["title"] == "Tumour board outcome"


def test_document_is_deterministic(referral_message: dict[str, Any]) -> None:
    """Same letter (even resent) → same document."""
    assert to_document(referral_message) == to_document(resend(referral_message))


def test_telemedicine_document_validates(validator: Validator) -> None:
    """Telemedicine messages convert too."""
    message = build_telemedicine_message(CONSULTATION, sender=HOSPITAL, receiver=CENTRE,
                                         patient=PATIENT, practitioner=DOCTOR,
                                         context=context(8))
    assert_no_errors(validator.validate(to_document(message)))


def test_acknowledgement_has_no_document(referral_message: dict[str, Any]) -> None:
    """An acknowledgement carries no clinical content."""
    with pytest.raises(BuildError, match="message_bundle: a 'acknowledgement' message"):
        to_document(build_acknowledgement(referral_message))
