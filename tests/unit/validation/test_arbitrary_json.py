"""Arbitrary JSON: the validator reports, never raises, and locates issues in the resource."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecanfhir import Validator

VALIDATOR = Validator()

# Keys FHIR uses (so the walker goes deep) mixed with arbitrary ones.
KEYS = st.sampled_from([
    "id", "meta", "profile", "text", "div", "status", "contained", "extension", "url",
    "valueString", "valueQuantity", "value", "name", "family", "given", "_given", "gender",
    "_gender", "birthDate", "_birthDate", "identifier", "system", "contact", "link", "other",
    "managingOrganization", "reference", "resourceType", "type", "entry", "fullUrl",
    "resource", "request", "method", "response", "timestamp", "total", "subject", "code",
    "coding",
]) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=12)
           | st.sampled_from(["Patient", "Bundle", "Observation", "document", "#p1", "male",
                              "Patient/p1", "urn:uuid:6c3f3a59-7d2e-4f4b-9a43-0e1b8f1d2c01",
                              "http://example.org/fhir/Patient/p1", "1970-01-01"]))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(KEYS, children, max_size=5), max_leaves=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(KEYS, JSON, max_size=8),
       resource_type=st.sampled_from(["Patient", "Bundle"]))
def test_arbitrary_json_object_is_reported_not_raised(data: dict[str, Any],
                                                      resource_type: str) -> None:
    """Any JSON object typed Patient or Bundle gives issues located inside it, or none."""
    result = VALIDATOR.validate({**data, "resourceType": resource_type})
    for issue in result.issues:
        assert isinstance(issue.expression, str), issue
        assert issue.expression == "" or issue.expression.startswith(resource_type), issue
        assert issue.severity in ("fatal", "error", "warning", "information")
