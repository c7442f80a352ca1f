"""Over HTTP: an XML message whose declaration names an unknown encoding is a 4xx with an
OperationOutcome, not a 500 (found by scripts/fuzz_centre.py)."""

from __future__ import annotations

import pytest
from _centre_http import AppClient

from ecanfhir.formats import parse_xml

BODY = (b'<?xml version="1.0" encoding="UTtrueF-8"?><Bundle xmlns="http://hl7.org/fhir">'
        b'<type value="message"/></Bundle>')


@pytest.mark.parametrize("path", ["/$process-message", "/$validate", "/Patient"])
def test_unknown_xml_encoding_is_refused(client: AppClient, path: str) -> None:
    response = client.post(path, content=BODY,
                           headers={"Content-Type": "application/fhir+xml"})
    assert 400 <= response.status_code < 500, response.text
    outcome, _ = parse_xml(response.content)
    assert outcome is not None and outcome["resourceType"] == "OperationOutcome"
    assert "unknown encoding" in str(outcome["issue"])
