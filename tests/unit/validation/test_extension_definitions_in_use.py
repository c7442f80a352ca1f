"""Extensions whose definition or url cannot be used as given: a context of a type R4 does not
have, and a url with a version, whether or not it names the loaded version
(checks/extension.py, checks/uri.py). All definitions are synthetic."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Registry, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
URL = "http://example.net/fhir/StructureDefinition/shoe-size"


def extension(context_type: str) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": URL, "version": "1.0.0",
            "name": "ShoeSize", "status": "draft", "kind": "complex-type", "abstract": False,
            "type": "Extension", "context": [{"type": context_type, "expression": "Patient"}],
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint", "differential": {"element": [
                {"id": "Extension", "path": "Extension"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": URL},
                {"id": "Extension.value[x]", "path": "Extension.value[x]",
                 "type": [{"code": "integer"}]}]}}


def issues(context_type: str, url: str = URL) -> list[tuple[str, str, str, str]]:
    registry = Registry()
    registry.add(extension(context_type))
    result = Validator(registry).validate({"resourceType": "Patient", "text": NARRATIVE,
                                           "extension": [{"url": url, "valueInteger": 44}]})
    return [(i.severity, i.code, i.expression, i.rule) for i in result.issues]


def test_context_of_unrecognised_type() -> None:
    """A context type other than element, extension and fhirpath cannot be checked."""
    found = issues("resource")
    assert ("error", "invalid", "Patient.extension[0]", "extension-context") in found
    assert issues("element") == []


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0", "9"])
def test_versioned_extension_url(version: str) -> None:
    """'url|version' is not an extension url, whether the version is the loaded one, another
    one, or unknown."""
    found = [i for i in issues("element", f"{URL}|{version}") if i[3] == "extension-url"]
    assert found == [("error", "invalid", "Patient.extension[0].url", "extension-url")]
