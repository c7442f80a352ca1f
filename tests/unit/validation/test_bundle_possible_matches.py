"""An unresolved Bundle reference names the entries that match it by type and id only, and why
each is not the target (checks/bundle_matches.py). All data is synthetic."""

from __future__ import annotations

from test_bundle_reference_rules import AT, NARRATIVE, U1, bundle

from ecanfhir import validate


def unresolved(resource: dict[str, object]) -> tuple[str, str, str]:
    [issue] = [i for i in validate(resource).issues if i.expression == AT]
    assert (issue.code, issue.rule) == ("not-found", "reference-bundle"), issue
    return issue.severity, issue.code, issue.message.split("by its fullUrl (", 1)[1]


def test_entry_without_full_url_matching_by_type_and_id() -> None:
    """The entry has the type and id, but no fullUrl to resolve to."""
    _, _, detail = unresolved(bundle("collection", (U1, None)))
    assert detail.startswith("entry 1 has that type and id, but no fullUrl")


def test_entry_with_another_full_url() -> None:
    """From a RESTful fullUrl the reference resolves to a URL the entry does not have."""
    urls = ("http://a.example/fhir/Patient/p1", "http://b.example/fhir/Organization/org")
    _, _, detail = unresolved(bundle("collection", urls))
    assert detail.startswith("entry 1 has that type and id, but its fullUrl "
                             "'http://b.example/fhir/Organization/org' is not "
                             "'http://a.example/fhir/Organization/org'")


def test_several_entries_matching_by_type_and_id() -> None:
    """Two entries with the type and id: both are listed."""
    resource = bundle("document", (U1, "http://b.example/fhir/Organization/org"))
    entries = resource["entry"]
    assert isinstance(entries, list)
    entries.append({"fullUrl": "http://c.example/fhir/Organization/org",
                    "resource": {"resourceType": "Organization", "id": "org",
                                 "text": NARRATIVE}})
    severity, _, detail = unresolved(resource)
    assert severity == "error"
    assert detail.startswith("2 entries match by type and id only: entry 1 ")
    assert "; entry 2 has that type and id" in detail


def test_resolving_reference_lists_nothing() -> None:
    """A reference that resolves is not reported."""
    urls = ("http://a.example/fhir/Patient/p1", "http://a.example/fhir/Organization/org")
    assert [i for i in validate(bundle("collection", urls)).issues if i.expression == AT] == []
