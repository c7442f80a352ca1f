"""Invariants compiled once per list of constraints (checks/invariant.py): the verdicts are the
same whichever value comes first, a primitive's focus with and without its ``_x`` object, a
constraint that cannot be compiled on every value, best-practice constraints by option. The
profile is synthetic."""

from __future__ import annotations

from typing import Any

import pytest
from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, ValidationOptions, Validator

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
PROFILE = "invariant-lists-patient"
URL = EXAMPLE + PROFILE


def validator(path: str, *constraints: tuple[str, str], severity: str = "error",
              best_practice: str | None = None) -> Validator:
    """A Patient profile with constraints (key, expression) on ``path``."""
    registry = Registry()
    rules: list[dict[str, Any]] = [
        {"key": key, "severity": severity, "human": f"rule {key}", "expression": expression}
        for key, expression in constraints]
    if severity == "warning":
        for rule in rules:
            rule["extension"] = [{
                "url": "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice",
                "valueBoolean": True}]
    registry.add(constraint(PROFILE, "Patient", element("Patient"),
                            element(path, constraint=rules)))
    options = ValidationOptions(best_practice=best_practice) if best_practice else None
    return Validator(registry, options=options) if options else Validator(registry)


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, "meta": {"profile": [URL]},
            **elements}


def failures(validator: Validator, resource: dict[str, Any], key: str) -> list[str]:
    return sorted(i.expression for i in validator.validate(resource).issues if i.rule == key)


def test_each_value_gets_its_own_verdict() -> None:
    """One list of constraints on every name: each name is judged on its own data, in either
    order, and again the same on a second validation."""
    check = validator("Patient.name", ("inv-1", "family.exists()"),
                      ("inv-2", "given.count() < 2"))
    names = [{"family": "Testesen"}, {"given": ["A", "B"]}, {"given": ["C"], "family": "D"}]
    for _ in range(2):
        issues = [i for i in check.validate(patient(name=names)).issues
                  if i.code == "invariant"]
        assert [(i.expression, i.rule, i.severity) for i in issues] == [
            ("Patient.name[1]", "inv-1", "error"), ("Patient.name[1]", "inv-2", "error")]
        assert "constraint inv-1 failed: rule inv-1" in issues[0].message
        assert failures(check, patient(name=names[::-1]), "inv-1") == ["Patient.name[1]"]
        assert failures(check, patient(name=names[::-1]), "inv-2") == ["Patient.name[1]"]


@pytest.mark.parametrize(("birth", "extension", "failed"), [
    ("1970-01-01", None, []),
    ("1970-01-01", {"extension": [{"url": "http://example.net/x", "valueString": "y"}]},
     ["inv-ext"]),
    (None, {"extension": [{"url": "http://example.net/x", "valueString": "y"}]},
     ["inv-ext", "inv-value"]),
])
def test_primitive_focus_with_and_without_its_extensions(
        birth: str | None, extension: dict[str, Any] | None, failed: list[str]) -> None:
    """A primitive's constraints see its ``_x`` object when there is one, and the bare value
    is the same focus as the value without extensions."""
    check = validator("Patient.birthDate", ("inv-ext", "extension.empty()"),
                      ("inv-value", "hasValue()"))
    resource = patient(**({"birthDate": birth} if birth else {}),
                       **({"_birthDate": extension} if extension else {}))
    issues = [i for i in check.validate(resource).issues if i.code == "invariant"]
    assert sorted(i.rule for i in issues) == failed
    assert all(i.expression == "Patient.birthDate" for i in issues)


def test_constraint_that_cannot_be_compiled_is_reported_on_every_value() -> None:
    """A syntax error: a processing warning at each name, every time, with the same text."""
    check = validator("Patient.name", ("inv-bad", "family.where("),
                      ("inv-ok", "family.exists()"))
    resource = patient(name=[{"family": "A"}, {"given": ["B"]}])
    first = check.validate(resource).issues
    again = check.validate(resource).issues
    for issues in (first, again):
        bad = [i for i in issues if i.rule == "inv-bad"]
        assert [(i.expression, i.code, i.severity) for i in bad] == [
            ("Patient.name[0]", "processing", "warning"),
            ("Patient.name[1]", "processing", "warning")]
        assert len({i.message for i in bad}) == 1
        assert "invariant inv-bad could not be evaluated: " in bad[0].message
        assert [i.expression for i in issues if i.rule == "inv-ok"] == ["Patient.name[1]"]


@pytest.mark.parametrize(("option", "expected"), [
    ("ignore", []), ("warning", ["warning"]), ("error", ["error"])])
def test_best_practice_constraint_follows_the_option(option: str,
                                                     expected: list[str]) -> None:
    """A best-practice constraint is skipped, a warning or an error as the options say."""
    check = validator("Patient.name", ("inv-bp", "family.exists()"), severity="warning",
                      best_practice=option)
    issues = [i for i in check.validate(patient(name=[{"given": ["A"]}])).issues
              if i.rule == "inv-bp"]
    assert [i.severity for i in issues] == expected
    assert all(i.expression == "Patient.name[0]" and i.code == "invariant" for i in issues)
