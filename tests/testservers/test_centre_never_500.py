"""Property: no request gives a 500. Arbitrary JSON, damaged messages and odd URLs all get a
4xx OperationOutcome, or a 200 (an acknowledgement, a search Bundle, a resource)."""

from __future__ import annotations

import copy
import json
from typing import Any

from _centre_fuzz import json_paths
from _centre_http import AppClient
from _centre_messages import referral
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FHIR = {"Content-Type": "application/fhir+json"}
MESSAGE = referral("CASE-FUZZ", seed=11)
RUNS = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)


def _answer_is_fhir(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict) and body.get("resourceType"), body


@RUNS
@given(body=json_values)
def test_arbitrary_json_is_never_a_500(client: AppClient, body: Any) -> None:
    response = client.post("/$process-message", content=json.dumps(body).encode(),
                           headers=FHIR)
    _answer_is_fhir(response)


PATHS = json_paths(MESSAGE)


@RUNS
@given(where=st.sampled_from(PATHS), replacement=json_values, delete=st.booleans())
def test_damaged_message_is_never_a_500(client: AppClient, where: tuple[Any, ...],
                                        replacement: Any, delete: bool) -> None:
    """One element of a valid message replaced by arbitrary JSON, or deleted."""
    message = copy.deepcopy(MESSAGE)
    parent = message
    for step in where[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = replacement
    response = client.post("/$process-message", content=json.dumps(message).encode(),
                           headers=FHIR)
    _answer_is_fhir(response)


@RUNS
@given(resource_type=st.sampled_from(["Patient", "Bundle", "ServiceRequest", "Encounter",
                                      "AuditEvent", "Nope", "$validate", "metadata"]),
       tail=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                           exclude_characters="#%/?"), max_size=12),
       query=st.dictionaries(st.sampled_from(["_id", "identifier", "patient", "subject",
                                              "_lastUpdated", "status", "class", "_count",
                                              "_summary", "_format", "x"]),
                             st.text(max_size=10), max_size=3))
def test_odd_urls_are_never_a_500(client: AppClient, resource_type: str, tail: str,
                                  query: dict[str, str]) -> None:
    path = f"/{resource_type}/{tail}" if tail else f"/{resource_type}"
    response = client.get(path, params=query)
    assert response.status_code < 500, (path, query, response.text[:300])
