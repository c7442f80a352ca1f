"""narrative-source-control on a profile's Narrative: top-level parts of the div say their source.

All profiles and resources are synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import constraint, element

from ecanfhir import Issue, Registry, Validator

SOURCE_CONTROL = "http://hl7.org/fhir/StructureDefinition/narrative-source-control"
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'


def _profile(level: str) -> dict[str, Any]:
    return constraint(f"sourced-text-{level}", "Patient", element(
        "Patient.text", extension=[{"url": SOURCE_CONTROL, "valueCode": level}]))


def _issues(body: str, *, level: str = "error") -> list[Issue]:
    profile = _profile(level)
    registry = Registry()
    registry.add(profile)
    patient = {"resourceType": "Patient", "active": True,
               "text": {"status": "generated", "div": f"<div {XHTML}>{body}</div>"}}
    result = Validator(registry).validate(patient, profiles=[profile["url"]])
    return [i for i in result.issues if i.rule == "narrative-source"]


def test_parts_without_a_source_class_are_reported_at_the_narrative() -> None:
    """Loose text and a <p> without class: one issue each, at Patient.text; classed parts
    (any of generated, boilerplate, original among the classes) and whitespace are fine."""
    body = """
      Loose text
      <h1 class="boilerplate">Heading</h1>
      <p>Unsourced <b>paragraph</b></p>
      <p class="note generated">From the data</p>
      <p class="original">Written by hand</p>
      <br/>
    """
    found = _issues(body)
    assert [(i.severity, i.code, i.expression) for i in found] == [
        ("error", "business-rule", "Patient.text")] * 2
    assert ["'Loose text'" in found[0].message, "'Unsourced paragraph'" in found[1].message] \
        == [True, True]


@pytest.mark.parametrize(("level", "severity"), [
    ("error", "error"), ("warning", "warning"), ("information", "information")])
def test_parts_are_reported_at_the_level_the_profile_names(level: str, severity: str) -> None:
    """The extension's value is the severity (the HL7 validator makes every level an error)."""
    found = _issues("<p>Unsourced</p>", level=level)
    assert [(i.severity, i.code, i.expression) for i in found] == [
        (severity, "business-rule", "Patient.text")]


def test_sourced_narrative_has_no_issue() -> None:
    """Every top-level part names its source: nothing to report."""
    assert _issues('<p class="generated">A</p><div class="boilerplate">B</div>') == []


def test_without_the_extension_nothing_is_asked() -> None:
    """The base Patient asks nothing of the narrative's parts."""
    patient = {"resourceType": "Patient", "active": True,
               "text": {"status": "generated", "div": f"<div {XHTML}><p>Plain</p></div>"}}
    result = Validator(Registry()).validate(patient)
    assert [i for i in result.issues if i.rule == "narrative-source"] == []
