"""data: URLs in narrative (checks/narrative.py, RFC 2397): the media type before the data
must be type/subtype with optional parameters, as the HL7 validator checks.

All data is synthetic.
"""

from __future__ import annotations

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


def patient(div: str) -> dict[str, object]:
    return {"resourceType": "Patient", "active": True,
            "text": {"status": "generated", "div": div}}


@pytest.mark.parametrize("src", ["data:image/png;base64,iVBORw0KGgo=", "data:,plain%20text",
                                 "data:text/plain;charset=utf-8,hello"])
def test_data_urls_with_a_valid_media_type(src: str) -> None:
    """A type/subtype (with parameters), or none at all, is fine."""
    result = validate(patient(f'<div {NS}><img src="{src}"/>x</div>'))
    assert [i for i in result.issues if i.rule == "xhtml-url"] == []


@pytest.mark.parametrize("media", ["png", "image png", "image/"])
def test_data_url_with_a_malformed_media_type(media: str) -> None:
    """A media type that is not type/subtype is an error at the narrative's div."""
    result = validate(patient(f'<div {NS}><img src="data:{media};base64,iVBORw0KGgo="/>x</div>'))
    issue = assert_issue(result, "Patient.text.div", severity="error", code="invalid",
                         fragment=f"the media type '{media}'")
    assert issue.rule == "xhtml-url"
