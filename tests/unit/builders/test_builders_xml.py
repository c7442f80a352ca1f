"""What the builders build serialises to FHIR XML (``ecanfhir.formats.to_xml``) and reads back
unchanged, and the XML validates against the pilot package as the JSON does."""

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
    context,
)

from ecanfhir import Validator
from ecanfhir.builders import build_acknowledgement, build_telemedicine_message, to_document
from ecanfhir.formats import parse_xml, to_xml


def _built(name: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if name == "telemedicine":
        return build_telemedicine_message(CONSULTATION, sender=HOSPITAL, receiver=CENTRE,
                                          patient=PATIENT, practitioner=DOCTOR,
                                          context=context(8))
    message: dict[str, Any] = request.getfixturevalue(name.removesuffix("-ack")
                                                      .removesuffix("-document"))
    if name.endswith("-ack"):
        return build_acknowledgement(message, context=context(9))
    if name.endswith("-document"):
        return to_document(message)
    return message


@pytest.mark.parametrize("name", ["referral_message", "outcome_message", "telemedicine",
                                  "referral_message-ack", "outcome_message-document"])
def test_built_bundles_round_trip_through_xml(validator: Validator,
                                              request: pytest.FixtureRequest, name: str) -> None:
    """JSON form → XML → JSON form is the identity, and the XML text validates."""
    bundle = _built(name, request)
    text = to_xml(bundle)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="http://hl7.org'
                           '/fhir">')
    back, issues = parse_xml(text)
    assert issues == []
    assert back == bundle
    assert_no_errors(validator.validate(text))
