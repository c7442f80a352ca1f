"""Relative references inside a Bundle follow its resolution rules (R4 bundle.html §2.36.4.1):
``Type/id`` is made absolute against the base of the referring entry's RESTful fullUrl; from an
entry whose fullUrl is a ``urn:uuid:`` it has no defined meaning, so an entry that merely has
that type and id is no match (the HL7 validator: a warning, an error in a document or message,
which must hold what they refer to). All data is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _assertions import assert_issue

from ecanfhir import validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
U1, U2 = ("urn:uuid:7b0c1e2d-0000-4000-8000-00000000000" + n for n in "12")
AT = "Bundle.entry[0].resource.managingOrganization.reference"


def bundle(kind: str, urls: tuple[str | None, str | None],
           reference: str = "Organization/org") -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "text": NARRATIVE,
               "managingOrganization": {"reference": reference}}
    org = {"resourceType": "Organization", "id": "org", "text": NARRATIVE, "name": "Clinic"}
    entries = [{**({"fullUrl": url} if url else {}), "resource": r}
               for url, r in zip(urls, (patient, org), strict=True)]
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def reference_issues(kind: str, urls: tuple[str | None, str | None]) -> list[tuple[str, str]]:
    result = validate(bundle(kind, urls))
    return [(i.severity, i.rule) for i in result.issues if i.expression == AT]


@pytest.mark.parametrize("kind", ["collection", "document"])
def test_relative_reference_under_the_same_restful_base_resolves(kind: str) -> None:
    urls = ("http://a.example/fhir/Patient/p1", "http://a.example/fhir/Organization/org")
    assert reference_issues(kind, urls) == []


def test_type_and_id_from_a_urn_entry_is_no_match_in_a_collection() -> None:
    """A warning: the reference has no defined meaning in the Bundle."""
    result = validate(bundle("collection", (U1, U2)))
    assert_issue(result, AT, severity="warning", code="not-found",
                 fragment=f"the reference 'Organization/org' does not resolve by the Bundle's "
                          f"rules from the fullUrl '{U1}'")


def test_type_and_id_from_a_urn_entry_is_an_error_in_a_message_or_document() -> None:
    assert reference_issues("document", (U1, U2)) == [("error", "reference-bundle")]


def test_type_and_id_under_another_restful_base_is_no_match() -> None:
    """The base of the referring entry decides: another server's Organization/org is not it."""
    urls = ("http://a.example/fhir/Patient/p1", "http://b.example/fhir/Organization/org")
    assert reference_issues("collection", urls) == [("warning", "reference-bundle")]


def test_urn_reference_to_the_entry_resolves() -> None:
    assert [i for i in validate(bundle("document", (U1, U2), reference=U2)).issues
            if i.expression == AT] == []
