"""Bundle references with a fragment name a resource contained in an entry
(checks/reference_fragments.py). All data is synthetic."""

from __future__ import annotations

from typing import Any

from _assertions import assert_issue

from ecanfhir import ValidationResult, validate

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
U1, U2 = ("urn:uuid:7b0c1e2d-0000-4000-8000-00000000000" + n for n in "12")
AT = "Bundle.entry[1].resource.performer[0].reference"


def bundle(fragment: str, *contained: dict[str, Any]) -> ValidationResult:
    patient = {"resourceType": "Patient", "id": "a", "text": NARRATIVE,
               "contained": list(contained), "managingOrganization": {"reference": "#o"}}
    observation = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                   "code": {"text": "a synthetic measurement"}, "subject": {"reference": U1},
                   "performer": [{"reference": f"{U1}#{fragment}"}]}
    return validate({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": U1, "resource": patient}, {"fullUrl": U2, "resource": observation}]})


ORG = {"resourceType": "Organization", "id": "o", "text": NARRATIVE, "name": "Clinic"}


def fragment_issues(result: ValidationResult) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in result.issues
            if i.rule in ("reference-fragment", "reference-type") and i.expression == AT]


def test_fragment_naming_a_contained_resource_resolves() -> None:
    """urn:uuid:...#o is the Organization contained in that entry: an allowed performer."""
    assert fragment_issues(bundle("o", ORG)) == []


def test_fragment_naming_no_contained_resource() -> None:
    assert_issue(bundle("q", ORG), AT, severity="error", code="not-found",
                 fragment="has no contained resource with the id 'q'")


def test_fragment_naming_two_contained_resources() -> None:
    twin = {**ORG, "name": "Other clinic"}
    assert fragment_issues(bundle("o", ORG, twin)) == [("error", "multiple-matches", AT)]


def test_contained_target_type_is_checked() -> None:
    """The contained resource is the target: a Group is no performer."""
    group = {"resourceType": "Group", "id": "o", "type": "person", "actual": True}
    assert fragment_issues(bundle("o", group)) == [("error", "structure", AT)]
