"""Bundle links and search-set Bundles (ecanfhir.validation.checks.bundle_link): paging links
only in search sets and histories, each relation once, a document's stylesheet, and what a
search set's self link and search modes say about its entries.

Each rule has a valid case and an invalid one asserting code, severity, rule and FHIRPath
location. All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
BASE = "http://example.org/fhir"
RULES = ("bundle-link", "searchset")


def patient(pid: str | None = "p1") -> dict[str, Any]:
    resource = {"resourceType": "Patient", "text": NARRATIVE}
    return {**resource, "id": pid} if pid else resource


def entry(resource: dict[str, Any], mode: str | None = None) -> dict[str, Any]:
    rid = resource.get("id", "x")
    found: dict[str, Any] = {"fullUrl": f"{BASE}/{resource['resourceType']}/{rid}",
                             "resource": resource}
    return {**found, "search": {"mode": mode}} if mode else found


def bundle(kind: str, links: list[tuple[str, str]], entries: list[dict[str, Any]],
           **elements: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceType": "Bundle", "type": kind, **elements}
    if links:
        found["link"] = [{"relation": rel, "url": url} for rel, url in links]
    return {**found, "entry": entries} if entries else found


def link_issues(resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validate(resource).issues if i.rule.startswith(RULES)]


def the_issue(resource: dict[str, Any], expression: str) -> Issue:
    found = [i for i in link_issues(resource) if i.expression == expression]
    assert len(found) == 1, link_issues(resource)
    return found[0]


def test_search_set_with_paging_links_and_modes_is_valid() -> None:
    """self, next and last once each; every entry a matching Patient with an id."""
    resource = bundle("searchset", [("self", f"{BASE}/Patient?name=a"), ("next", f"{BASE}/p2"),
                                    ("last", f"{BASE}/p9")],
                      [entry(patient("p1"), "match"), entry(patient("p2"), "match")], total=20)
    assert link_issues(resource) == []
    assert validate(resource).ok


@pytest.mark.parametrize("kind", ["collection", "document", "message", "transaction"])
def test_paging_link_outside_search_is_an_error(kind: str) -> None:
    """first/previous/next/last page through search results and histories only."""
    issue = the_issue(bundle(kind, [("next", f"{BASE}/p2")], []), "Bundle.link[0].relation")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "bundle-link-paging")


@pytest.mark.parametrize(("kind", "expression"), [
    ("searchset", "Bundle.link[1]"), ("collection", "Bundle.link[1].relation"),
])
def test_repeated_relation_is_an_error_on_the_second(kind: str, expression: str) -> None:
    """Each of self and the paging relations appears once; the second is reported."""
    resource = bundle(kind, [("self", f"{BASE}/Patient"), ("self", f"{BASE}/Patient?x=1")],
                      [entry(patient(), "match" if kind == "searchset" else None)])
    issue = the_issue(resource, expression)
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "bundle-link-unique")


def document(stylesheet: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return bundle("document", [("stylesheet", stylesheet)], list(extra))


def test_document_stylesheet_in_the_bundle_is_valid() -> None:
    """A relative stylesheet names an entry of the document; fhir.css is always fine."""
    css = {"resourceType": "Binary", "id": "css", "contentType": "text/css", "data": "cDt7fQ=="}
    assert link_issues(document("Binary/css", entry(css))) == []
    assert link_issues(document("https://hl7.org/fhir/fhir.css")) == []


def test_document_stylesheet_not_in_the_bundle_is_an_error() -> None:
    """A relative stylesheet that names no entry cannot be found."""
    issue = the_issue(document("Binary/css"), "Bundle.link[0].url")
    assert (issue.severity, issue.code, issue.rule) == ("error", "not-found",
                                                          "bundle-link-stylesheet")


def test_external_insecure_stylesheet_gets_two_warnings() -> None:
    """An external stylesheet should not be used, and http: is not secure: warnings."""
    resource = document("http://example.org/site.css")
    found = [(i.severity, i.expression, i.rule) for i in link_issues(resource)]
    assert found == [("warning", "Bundle.link[0].url", "bundle-link-stylesheet")] * 2
    assert [i for i in link_issues(resource) if "not secure" in i.message]


def test_search_set_without_self_link_or_modes_gets_warnings() -> None:
    """No self link and no search.mode: the search set cannot be checked, so it warns."""
    resource = bundle("searchset", [], [entry(patient())])
    found = sorted((i.severity, i.expression, i.rule) for i in link_issues(resource))
    assert found == [("warning", "Bundle", "searchset-mode"),
                     ("warning", "Bundle", "searchset-self")]
    assert validate(resource).ok


def test_match_without_id_is_an_error() -> None:
    """A search result (mode match) is a resource on a server: it has an id."""
    resource = bundle("searchset", [("self", f"{BASE}/Patient?name=a")],
                      [entry(patient(None), "match")])
    issue = the_issue(resource, "Bundle.entry[0].resource")
    assert (issue.severity, issue.code, issue.rule) == ("error", "required", "searchset-entry")


def test_match_of_another_type_than_searched_is_an_error() -> None:
    """The self link searched Observations; a Patient cannot be a match."""
    resource = bundle("searchset", [("self", f"{BASE}/Observation?code=x")],
                      [entry(patient(), "match")])
    issue = the_issue(resource, "Bundle.entry[0].resource")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "searchset-match-type")


def test_type_parameter_names_the_searched_types() -> None:
    """Without a type in the path, _type= names them (here Patient is one of them)."""
    resource = bundle("searchset", [("self", f"{BASE}?_type=Observation,Patient")],
                      [entry(patient(), "match")])
    assert link_issues(resource) == []


def test_outcome_entry_that_is_not_an_operation_outcome_is_an_error() -> None:
    """search.mode outcome is for an OperationOutcome about the search."""
    resource = bundle("searchset", [("self", f"{BASE}/Patient?name=a")],
                      [entry(patient(), "outcome")])
    issue = the_issue(resource, "Bundle.entry[0].resource")
    assert (issue.severity, issue.code, issue.rule) == ("error", "invalid", "searchset-match-type")


def test_entry_without_resource_is_an_error() -> None:
    """A search set entry holds the resource found."""
    resource = bundle("searchset", [("self", f"{BASE}/Patient?name=a")],
                      [{"fullUrl": f"{BASE}/Patient/p1", "search": {"mode": "match"}}])
    issue = the_issue(resource, "Bundle.entry[0]")
    assert (issue.severity, issue.code, issue.rule) == ("error", "required", "searchset-entry")


def test_entry_of_another_type_without_modes_is_a_warning() -> None:
    """No search modes at all: a resource of another type may be an include, so a warning."""
    resource = bundle("searchset", [("self", f"{BASE}/Observation?code=x")], [entry(patient())])
    issue = the_issue(resource, "Bundle.entry[0]")
    assert (issue.severity, issue.rule) == ("warning", "searchset-match-type")
    assert validate(resource).ok


def test_stylesheet_that_is_no_web_link_gets_a_warning() -> None:
    """An absolute stylesheet URL that is not http(s) or ftp cannot be fetched by a browser."""
    found = [(i.severity, i.rule) for i in link_issues(document("urn:example:site-css"))
             if "not a resolvable link" in i.message]
    assert found == [("warning", "bundle-link-stylesheet")]


def test_self_link_naming_no_type_is_noted() -> None:
    """A self link without a type in its path or _type: the types cannot be checked (info)."""
    resource = bundle("searchset", [("self", f"{BASE}?name=a")], [entry(patient())])
    found = sorted((i.severity, i.expression) for i in link_issues(resource)
                   if i.severity == "information")
    assert found == [("information", "Bundle"), ("information", "Bundle.entry[0].resource")]
    assert validate(resource).ok
