"""Generated snapshots in the user cache (ecanfhir.definitions.snapshot_cache): a hit gives what
generation gives, a changed definition the generation used is generated again, and a damaged
entry is a miss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _generations import count_generations

from ecanfhir import Registry, Validator
from ecanfhir.definitions import snapshot_cache

EXAMPLE = "http://example.org/fhir/StructureDefinition/"
PATIENT = "http://hl7.org/fhir/StructureDefinition/Patient"


def _profile(name: str, base: str, *required: str) -> dict[str, Any]:
    """A differential-only Patient profile making each path in ``required`` mandatory."""
    return {"resourceType": "StructureDefinition", "id": name, "url": EXAMPLE + name,
            "name": name, "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": "Patient", "derivation": "constraint",
            "baseDefinition": base,
            "differential": {"element": [{"id": p, "path": p, "min": 1} for p in required]}}


def _missing(*definitions: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, location) of the errors of an empty Patient against the last definition, in a
    registry of its own (as a new process would have)."""
    registry = Registry()
    registry.add_all(definitions)
    result = Validator(registry).validate({"resourceType": "Patient"},
                                          profiles=[definitions[-1]["url"]])
    return sorted((i.code, i.expression) for i in result.errors)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def generations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The url of each snapshot generated (not read from the cache)."""
    return count_generations(monkeypatch)


BASE = _profile("gendered-patient", PATIENT, "Patient.gender")
DATED = _profile("dated-patient", EXAMPLE + "gendered-patient", "Patient.birthDate")
EXPECTED = [("required", "Patient.birthDate"), ("required", "Patient.gender")]


def test_hit_gives_what_generation_gives(cache: Path, generations: list[str]) -> None:
    """A second registry (a new process) reads the snapshot from the cache, with the same
    issues as the first, which generated it (and its base's) and stored it."""
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]]
    assert len(list(cache.glob(f"{snapshot_cache.KIND}/*/*.json"))) == 1
    generations.clear()
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == []


def test_changed_base_is_generated_again(cache: Path, generations: list[str]) -> None:
    """The base profile changed (now also asking for a name): the cached snapshot of the
    profile on it is not used."""
    assert _missing(BASE, DATED) == EXPECTED
    generations.clear()
    named = _profile("gendered-patient", PATIENT, "Patient.gender", "Patient.name")
    assert _missing(named, DATED) == [*EXPECTED, ("required", "Patient.name")]
    assert generations == [DATED["url"], BASE["url"]]


def test_changed_profile_is_generated_again(cache: Path) -> None:
    """The profile itself changed: its new differential applies, and its snapshot replaces
    the old one (one entry per profile)."""
    assert _missing(BASE, DATED) == EXPECTED
    married = _profile("dated-patient", EXAMPLE + "gendered-patient", "Patient.maritalStatus")
    assert _missing(BASE, married) == [("required", "Patient.gender"),
                                       ("required", "Patient.maritalStatus")]
    assert len(list(cache.glob(f"{snapshot_cache.KIND}/*/*.json"))) == 1


def test_changed_code_is_generated_again(cache: Path, generations: list[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Another ecanfhir (here: another digest of its code) does not use the snapshots of the
    one before; it replaces them."""
    assert _missing(BASE, DATED) == EXPECTED
    generations.clear()
    monkeypatch.setattr(snapshot_cache, "_code_digest", lambda: "another")
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]]
    (entry,) = cache.glob(f"{snapshot_cache.KIND}/*/*.json")
    assert json.loads(entry.read_bytes())["value"]["basis"].startswith("another ")


def test_unrelated_definition_keeps_the_entry(cache: Path, generations: list[str]) -> None:
    """Loading a definition the generation never looked up leaves the entry in use."""
    assert _missing(BASE, DATED) == EXPECTED
    generations.clear()
    other = _profile("other-patient", PATIENT, "Patient.active")
    assert _missing(other, BASE, DATED) == EXPECTED
    assert generations == []


@pytest.mark.parametrize("damage", [
    b'{"key": "x", "val', b"\x00\xff", b'{"key": "x", "value": 1}', b"[]",
], ids=["truncated", "binary", "other-key", "not-an-object"])
def test_damaged_entry_is_generated_again(cache: Path, generations: list[str],
                                          damage: bytes) -> None:
    """A damaged entry (or one of another key) is a miss: the snapshot is generated again,
    with the same issues, and stored anew."""
    assert _missing(BASE, DATED) == EXPECTED
    (entry,) = cache.glob(f"{snapshot_cache.KIND}/*/*.json")
    entry.write_bytes(damage)
    generations.clear()
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]]
    assert json.loads(entry.read_bytes())["value"]["uses"][0][:2] == ["sd", DATED["url"]]


@pytest.mark.parametrize("value", [
    {"uses": "sd", "elements": []},
    {"uses": [1], "elements": []},
    {"uses": [["sd", EXAMPLE + "dated-patient"]], "elements": []},
    {"uses": [["sd", EXAMPLE + "other", ""]], "elements": []},
    {"uses": [["sd", EXAMPLE + "dated-patient", ""]], "elements": {}},
], ids=["uses-not-a-list", "use-not-a-list", "use-short", "use-of-another", "elements-not-a-list"])
def test_ill_formed_entry_is_generated_again(cache: Path, generations: list[str],
                                             value: dict[str, Any]) -> None:
    """An entry whose value has the wrong shape is a miss, never a crash."""
    assert _missing(BASE, DATED) == EXPECTED
    (entry,) = cache.glob(f"{snapshot_cache.KIND}/*/*.json")
    stored = json.loads(entry.read_bytes())
    value = {"basis": stored["value"]["basis"], **value}  # only the shape is wrong
    entry.write_text(json.dumps({"key": stored["key"], "value": value}))
    generations.clear()
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]]


def test_unreadable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      generations: list[str]) -> None:
    """A cache directory that cannot be made (a file is in the way) only costs generation."""
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert _missing(BASE, DATED) == EXPECTED
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]] * 2


def test_cache_turned_off(monkeypatch: pytest.MonkeyPatch, generations: list[str]) -> None:
    """ECANFHIR_CACHE_DIR set empty: every registry generates its snapshots, and takes no
    digests for a cache that is not there."""
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", "")

    def no_basis(self: snapshot_cache.SnapshotCache) -> str:
        raise AssertionError("a digest was taken")

    monkeypatch.setattr(snapshot_cache.SnapshotCache, "_basis", no_basis)
    assert _missing(BASE, DATED) == EXPECTED
    assert _missing(BASE, DATED) == EXPECTED
    assert generations == [DATED["url"], BASE["url"]] * 2


def test_a_hit_reports_what_generation_met(cache: Path, generations: list[str]) -> None:
    """A profile applied in part (a differential path Patient does not have) is reported the
    same when its snapshot comes from the cache: the entry keeps the generation's issues."""
    half = _profile("half-applied", PATIENT, "Patient.gender", "Patient.dateOfBirth")

    def warnings() -> list[tuple[str, str, str]]:
        registry = Registry()
        registry.add(half)
        result = Validator(registry).validate({"resourceType": "Patient", "gender": "male"},
                                              profiles=[half["url"]])
        return [(i.severity, i.code, i.expression) for i in result.issues
                if i.rule == "profile-snapshot" and "dateOfBirth" in i.message]

    assert warnings() == [("warning", "structure", "Patient")]
    assert generations == [half["url"]]
    assert warnings() == [("warning", "structure", "Patient")]
    assert generations == [half["url"]]  # the second came from the cache
