"""How the compiled-definition cache (ecanfhir.definitions.schema.Schema) answers a canonical it
cannot compile: a profile that is not loaded is remembered as absent until the registry
changes, and a profile that cannot be used fails with a new exception each time, so a server
that meets it in every message keeps nothing of those messages. All data is synthetic."""

from __future__ import annotations

import traceback

import pytest
from _profiles import EXAMPLE, constraint, element

from ecanfhir import Registry, Validator
from ecanfhir._exceptions import SnapshotMissing
from ecanfhir.definitions import schema as schema_module
from ecanfhir.definitions.schema import Schema

PROFILE = constraint("lookup-patient", "Patient", element("Patient.birthDate", min=1))
PATIENT = {"resourceType": "Patient", "meta": {"profile": [PROFILE["url"]]},
           "gender": "female"}


def test_absent_profile_is_found_once_loaded() -> None:
    """find() remembers a canonical nothing has, and forgets it when the registry changes."""
    registry = Registry()
    validator = Validator(registry)
    first = validator.validate(PATIENT)
    assert [(i.code, i.expression, i.rule) for i in first.issues if i.rule == "profile-unknown"
            ] == [("not-found", "Patient.meta.profile[0]", "profile-unknown")]
    assert validator.schema.find(PROFILE["url"]) is None
    registry.add(PROFILE)  # a new generation: the absent URL must be looked up again
    found = validator.schema.find(PROFILE["url"])
    assert found is not None and found.url == PROFILE["url"]
    second = validator.validate(PATIENT)
    assert [(i.code, i.expression) for i in second.errors] == [
        ("required", "Patient.birthDate")]


def test_absent_canonicals_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The canonicals remembered as absent come from instances: their number is capped."""
    monkeypatch.setattr(schema_module, "_ABSENT_MAX", 3)
    schema = Schema(Registry())
    for n in range(10):
        assert schema.find(f"{EXAMPLE}unknown-{n}") is None
        assert len(schema._absent) <= 3
    assert f"{EXAMPLE}unknown-9" in schema._absent


def test_unusable_profile_raises_a_new_exception_each_time() -> None:
    """A profile whose base is missing fails alike each time, and no raise keeps the
    traceback of the ones before it (and the frames of the messages that met it)."""
    broken = {**PROFILE, "url": EXAMPLE + "broken", "baseDefinition": EXAMPLE + "missing"}
    registry = Registry()
    registry.add(broken)
    schema = Schema(registry)
    raised = []
    for _ in range(3):
        with pytest.raises(SnapshotMissing, match="missing") as info:
            schema.structure(broken["url"])
        raised.append(info.value)
    assert len({id(e) for e in raised}) == 3
    assert [str(e) for e in raised[1:]] == [str(raised[0])] * 2
    depths = [len(traceback.extract_tb(e.__traceback__)) for e in raised]
    assert depths[1:] == depths[:1] * 2
    assert schema.find(broken["url"]) is None
