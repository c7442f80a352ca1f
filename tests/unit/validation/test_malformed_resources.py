"""Malformed resources: the validator reports what is wrong with them and never raises.

The checks of whole resources (``_resource_rules``) read properties the walker has already
found to be of the wrong JSON kind; they read them as absent (``checks/json_values``). Should
a check still raise, ``Validator.validate`` reports a fatal ``exception`` issue where the
check was and keeps what it found until then. The mutation test below changes the project's
own examples and pilot definitions at random (seeded, so a failure can be replayed) and asserts
that no check raised. All data is synthetic.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecanfhir import Issue, Validator
from ecanfhir.definitions.pilot import pilot_registry
from ecanfhir.definitions.registry import Registry
from ecanfhir.validation import _walk

ROOT = Path(__file__).resolve().parents[3]
VALIDATOR = Validator()


def _issues(resource: dict[str, Any], validator: Validator = VALIDATOR) -> list[Issue]:
    issues = list(validator.validate(resource).issues)
    assert not [i for i in issues if i.rule == "internal-error"], issues
    return issues


def _found(issues: list[Issue], code: str, expression: str, rule: str) -> bool:
    return any((i.code, i.expression, i.rule) == (code, expression, rule) for i in issues)


def test_a_security_label_whose_system_is_an_object() -> None:
    label = {"system": {"text": "R"}, "code": "R"}
    issues = _issues({"resourceType": "Patient", "meta": {"security": [label, label]}})
    assert _found(issues, "structure", "Patient.meta.security[1].system", "type-uri")
    assert not [i for i in issues if i.rule == "meta-security"]  # no label to compare


def test_a_code_system_whose_concept_code_is_an_array() -> None:
    issues = _issues({
        "resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/c",
        "status": "draft", "content": "complete",
        "property": [{"code": "synonym", "type": "code",
                      "uri": "http://hl7.org/fhir/concept-properties#synonym"}],
        "concept": [{"code": ["a"], "property": [{"code": "synonym", "valueCode": {"c": 1}}]},
                    {"code": "b", "property": [{"code": "synonym", "valueCode": "c"}]}]})
    assert _found(issues, "structure", "CodeSystem.concept[0].code", "json-form")
    assert _found(issues, "business-rule", "CodeSystem.concept[1].property[0]",
                  "codesystem-property")


def test_a_structure_definition_whose_extension_is_a_number() -> None:
    sd = json.loads((ROOT / "profiles" / "StructureDefinition" /
                     "ecan-patient.json").read_text())
    sd["extension"] = 1.5
    issues = _issues(sd, Validator(pilot_registry()))
    assert _found(issues, "structure", "StructureDefinition.extension", "json-form")


def test_bundle_entries_whose_version_id_is_an_array() -> None:
    url = "urn:uuid:0c3c8a0e-3c1a-4f2e-9d6c-1b2a3c4d5e6f"
    entry = {"fullUrl": url, "resource": {"resourceType": "Basic", "code": {"text": "x"},
                                          "meta": {"versionId": ["1"]}}}
    issues = _issues({"resourceType": "Bundle", "type": "collection",
                      "entry": [entry, copy.deepcopy(entry)]})
    assert _found(issues, "structure", "Bundle.entry[1].resource.meta.versionId", "json-form")
    assert _found(issues, "duplicate", "Bundle.entry[1].fullUrl", "bundle-fullurl-unique")


def test_a_contained_reference_into_contained_that_is_a_number() -> None:
    issues = _issues({"resourceType": "Patient", "contained": 5,
                      "managingOrganization": {"reference": "#o1"}})
    assert _found(issues, "structure", "Patient.contained", "json-form")
    assert _found(issues, "not-found", "Patient.managingOrganization.reference",
                  "reference-contained")


def test_a_differential_the_snapshot_generator_cannot_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the generator raises on a differential of the wrong shape makes the profile
    unusable, as a snapshot that cannot be generated does (the generator stands in here for
    any such defect of reading)."""
    from ecanfhir.definitions import snapshot_cache

    def unreadable(self: Any, canonical: str, sd: Any) -> Any:
        raise TypeError("'int' object is not iterable")

    monkeypatch.setattr(snapshot_cache.SnapshotCache, "generate", unreadable)
    sd = _patient_profile()
    del sd["snapshot"]
    registry = Validator().registry
    registry.add(sd)
    issues = list(Validator(registry).validate({"resourceType": "Patient"},
                                               profiles=(sd["url"],)).issues)
    unusable = [i for i in issues if i.rule == "profile-unusable"]
    assert [(i.code, i.expression) for i in unusable] == [("not-found", "Patient")]
    assert "cannot be generated from what it holds (TypeError" in unusable[0].message
    assert not [i for i in issues if i.rule == "internal-error"]


@pytest.mark.interpreted_only("ecanfhir.validation._walk")
def test_a_check_that_raises_is_reported_where_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """The net: a defect of a check is a fatal exception issue at the value it was checking,
    the issues found before it are kept, and validate() returns."""
    def broken(meta: Any, at: str) -> Iterator[Issue]:
        raise KeyError("a defect")
        yield  # pragma: no cover

    monkeypatch.setattr(_walk, "check_meta", broken)
    result = Validator().validate({"resourceType": "Patient", "gender": "mal",
                                   "meta": {"versionId": "1"}})
    assert not result.ok
    fatal = [i for i in result.issues if i.severity == "fatal"]
    assert [(i.code, i.expression, i.rule) for i in fatal] == \
        [("exception", "Patient.meta", "internal-error")]
    assert "KeyError" in fatal[0].message
    assert _found(list(result.issues), "code-invalid", "Patient.gender", "binding-required") \
        or any(i.expression == "Patient.gender" for i in result.issues)


def _patient_profile(**changes: Any) -> dict[str, Any]:
    """A profile of Patient with the core snapshot, changed as asked."""
    core = Validator().registry.structure_definition(
        "http://hl7.org/fhir/StructureDefinition/Patient")
    assert core is not None
    sd = copy.deepcopy(core)
    sd.update(url="http://example.org/fhir/StructureDefinition/odd-patient", name="OddPatient",
              derivation="constraint",
              baseDefinition="http://hl7.org/fhir/StructureDefinition/Patient", **changes)
    return sd


def test_a_profile_whose_snapshot_cannot_be_read_is_reported_unusable() -> None:
    """max "many" (neither a number nor "*"): the profile cannot be used, and the issue says
    which element; the failure is remembered, not compiled again for the next resource."""
    sd = _patient_profile()
    sd["snapshot"]["element"][3]["max"] = "many"
    registry = Validator().registry
    registry.add(sd)
    validator = Validator(registry)
    for _ in range(2):
        issues = list(validator.validate({"resourceType": "Patient"}, profiles=(sd["url"],)).issues)
        unusable = [i for i in issues if i.rule == "profile-unusable"]
        assert [(i.code, i.expression) for i in unusable] == [("not-found", "Patient")]
        assert "snapshot element 3" in unusable[0].message
        assert "cannot be read" in unusable[0].message
        assert not [i for i in issues if i.rule == "internal-error"]
    assert sd["url"] in validator.schema._failed


@pytest.mark.parametrize(("field", "value", "says"), [
    ("type", [{"code": ""}], "type code '' is not a type name"),
    ("binding", {"strength": "required", "valueSet": ["http://example.org/vs"]},
     "is not a canonical"),
    ("binding", {"strength": ["required"], "valueSet": "http://example.org/vs"},
     "is not a binding strength"),
    ("path", "", "path '' is not an element path"),
    ("type", [{"code": "http://example.org/fhir/Model/"}], "is not a type name"),
    ("type", [{"code": "code", "profile": [5]}], "is not an array of canonicals"),
    ("type", [{"code": "code", "profile": "http://example.org/fhir/StructureDefinition/c"}],
     "is not an array of canonicals"),
    ("constraint", [{"key": "x-1", "severity": "error", "human": "x", "expression": "true",
                     "source": ["http://example.org/fhir/StructureDefinition/x"]}],
     "source ['http://example.org/fhir/StructureDefinition/x'] is not a string"),
    ("slicing", {"discriminator": [{"type": "value", "path": ["system"]}], "rules": "open"},
     "is not a type and a path"),
])
def test_an_element_definition_that_cannot_be_read(field: str, value: Any, says: str) -> None:
    sd = _patient_profile()
    index, gender = next((i, e) for i, e in enumerate(sd["snapshot"]["element"])
                         if e["id"] == "Patient.gender")
    gender[field] = value
    registry = Validator().registry
    registry.add(sd)
    issues = list(Validator(registry).validate({"resourceType": "Patient", "gender": "male"},
                                               profiles=(sd["url"],)).issues)
    unusable = [i for i in issues if i.rule == "profile-unusable"]
    assert [(i.code, i.expression) for i in unusable] == [("not-found", "Patient")]
    assert f"snapshot element {index}" in unusable[0].message and says in unusable[0].message
    assert not [i for i in issues if i.rule == "internal-error"]


def test_an_extension_whose_contexts_are_not_objects() -> None:
    """The contexts that are objects are the extension's; an array inside is not one."""
    core = Validator().registry.structure_definition(
        "http://hl7.org/fhir/StructureDefinition/patient-birthPlace")
    assert core is not None
    sd = copy.deepcopy(core)
    sd.update(url="http://example.org/fhir/StructureDefinition/odd-birth-place",
              context=[["Patient"], {"type": "element", "expression": "Patient"}])
    registry = Validator().registry
    registry.add(sd)
    patient = {"resourceType": "Patient", "extension": [
        {"url": sd["url"], "valueAddress": {"city": "Aarhus"}}]}
    issues = _issues(patient, Validator(registry))
    assert not [i for i in issues if i.rule == "extension-context"]


def test_a_loaded_definition_of_the_type_itself_that_cannot_be_read() -> None:
    """A package whose StructureDefinition takes the type's own name as url, malformed: the
    resource is reported unchecked, as with a profile that cannot be used."""
    sd = _patient_profile()
    sd["url"] = "Patient"
    sd["snapshot"]["element"][3]["max"] = "many"
    registry = Validator().registry
    registry.add(sd)
    issues = _issues({"resourceType": "Patient"}, Validator(registry))
    assert [(i.code, i.expression, i.rule) for i in issues if i.is_error] == \
        [("not-found", "Patient", "profile-unusable")]
    assert "cannot be read" in issues[0].message


def test_a_profile_whose_extension_is_not_an_array_has_no_dependencies() -> None:
    sd = _patient_profile(extension=1.5)
    registry = Validator().registry
    registry.add(sd)
    result = Validator(registry).validate({"resourceType": "Patient"}, profiles=(sd["url"],))
    assert not [i for i in result.issues if i.rule in ("internal-error", "profile-unusable")]


# -- mutations of the project's own resources ------------------------------------------------
SEEDS = sorted(p for folder in ("examples", "profiles") for p in (ROOT / folder).rglob("*.json")
               if p.name != "package.json")
ODD: list[Any] = [
    None, True, 0, -1, 1.5, 10**30, "", " ", "\u0000", "x" * 300, [], {}, [None], [{}],
    [[]], {"a": 1}, "#", "urn:uuid:", "Patient/", "http://", "2020-13-45",
    {"resourceType": "Patient"}, {"resourceType": None}, {"extension": []}, {"id": ""},
]
KEYS = ["extension", "modifierExtension", "contained", "resourceType", "_id", "id", "text",
        "fhir_comments"]


def _places(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*at, index))


def _mutated(resource: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """1 to 4 changes: a value replaced by an odd one, removed, wrapped in or taken out of an
    array, given an odd sibling, or replaced by another part of the resource."""
    out = copy.deepcopy(resource)
    for _ in range(rng.randint(1, 4)):
        places = [p for p in _places(out) if p]
        if not places:
            break
        place = rng.choice(places)
        parent: Any = out
        for step in place[:-1]:
            parent = parent[step]
        key, roll = place[-1], rng.random()
        if roll < 0.35:
            parent[key] = copy.deepcopy(rng.choice(ODD))
        elif roll < 0.5:
            del parent[key]
        elif roll < 0.65 and isinstance(parent, dict):
            parent[rng.choice([*KEYS, f"_{key}"])] = copy.deepcopy(rng.choice([*ODD, parent[key]]))
        elif roll < 0.8:
            value = parent[key]
            parent[key] = (value[0] if value else None) if isinstance(value, list) \
                else [value, copy.deepcopy(value)]
        else:
            other: Any = out
            for step in rng.choice(places):
                other = other[step]
            parent[key] = copy.deepcopy(other)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_mutated_resources_are_reported_never_raised(seed: int) -> None:
    """100 mutated resources per seed, validated with the pilot's package loaded (so the
    examples meet their profiles): no check raises."""
    rng = random.Random(seed)
    validator = _pilot_validator()
    originals = [json.loads(path.read_text()) for path in SEEDS]
    for n in range(100):
        resource = _mutated(rng.choice(originals), rng)
        raised = [i for i in validator.validate(resource).issues if i.rule == "internal-error"]
        assert not raised, (seed, n, raised)


_PILOT: list[Validator] = []


def _pilot_validator() -> Validator:
    if not _PILOT:
        _PILOT.append(Validator(pilot_registry()))
    return _PILOT[0]


@pytest.mark.parametrize("seed", range(4))
def test_mutated_profiles_are_unusable_or_applied_never_raised(seed: int) -> None:
    """100 mutated pilot profiles per seed, each loaded alone and asked of an example that
    claims it: the profile is applied or reported unusable, and no check raises."""
    rng = random.Random(1000 + seed)
    pilot = _pilot_validator().registry
    claimed: dict[str, list[dict[str, Any]]] = {}
    for path in SEEDS:
        example = json.loads(path.read_text())
        for url in (example.get("meta") or {}).get("profile", []):
            claimed.setdefault(url, []).append(example)
    usable = [sd for url in sorted(claimed) if (sd := pilot.structure_definition(url))
              and sd.get("derivation") == "constraint" and "hl7.org" not in url]
    assert len(usable) > 10
    for n in range(100):
        original = rng.choice(usable)
        registry = Registry()
        registry.add(_mutated(original, rng))
        example = rng.choice(claimed[original["url"]])
        result = Validator(registry).validate(example, profiles=(original["url"],))
        raised = [i for i in result.issues if i.rule == "internal-error"]
        assert not raised, (seed, n, raised)
