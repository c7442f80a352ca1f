"""The user cache: entries read back, and every failure is a miss (ecanfhir._cache)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecanfhir import _cache
from ecanfhir.fhirpath.engine import _TREES, CompiledExpression, EvalEnv, _parse


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_entry_read_back(cache: Path) -> None:
    """A written entry is read back by its key, and another key misses."""
    _cache.write_entry("trees-1", "name.exists()", {"type": "X"})
    assert _cache.read_entry("trees-1", "name.exists()") == {"type": "X"}
    assert _cache.read_entry("trees-1", "name.empty()") is None
    assert _cache.read_entry("trees-2", "name.exists()") is None


def test_damaged_entry_is_a_miss(cache: Path) -> None:
    """A truncated file, or one written for another key, is not used."""
    _cache.write_entry("trees-1", "name.exists()", {"type": "X"})
    (entry,) = cache.glob("trees-1/*/*.json")
    entry.write_text('{"key": "name.exists()", "val')
    assert _cache.read_entry("trees-1", "name.exists()") is None
    entry.write_text('{"key": "other", "value": 1}')
    assert _cache.read_entry("trees-1", "name.exists()") is None


def test_unwritable_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache directory that cannot be created (here a file is in the way) is no cache."""
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path / "file" / "cache"))
    _cache.write_entry("trees-1", "name.exists()", {"type": "X"})
    assert _cache.read_entry("trees-1", "name.exists()") is None


def test_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """ECANFHIR_CACHE_DIR set empty turns the cache off."""
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", "")
    assert _cache.cache_dir() is None
    _cache.write_entry("trees-1", "name.exists()", {"type": "X"})
    assert _cache.read_entry("trees-1", "name.exists()") is None


def test_no_home_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a home directory (and no XDG_CACHE_HOME) there is no cache, not a '~' folder."""
    monkeypatch.delenv("ECANFHIR_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(_cache.os.path, "expanduser", lambda path: path)
    assert _cache.cache_dir() is None or _cache.sys.platform == "win32"


def test_fhirpath_trees_come_from_the_cache(cache: Path) -> None:
    """A compiled expression takes its syntax tree from the cache when it is there (here a
    planted tree of another expression, to show it was used), and stores what it parses."""
    env = EvalEnv.for_resource({"resourceType": "Patient"})
    _cache.write_entry(_TREES, "active.exists() and gender.exists()", _parse("gender.exists()"))
    planted = CompiledExpression("active.exists() and gender.exists()", type_hint="Patient")
    assert planted.test({"resourceType": "Patient", "gender": "male"}, env)
    CompiledExpression("birthDate.exists()", type_hint="Patient")
    assert _cache.read_entry(_TREES, "birthDate.exists()") == _parse("birthDate.exists()")


def test_fhirpath_trees_are_kept_with_their_type_steps(cache: Path) -> None:
    """What the cache keeps is the tree as compiled: a leading type name already a type test
    (%contextType), so a later process does not rewrite it again; it still selects by type."""
    env = EvalEnv.for_resource({"resourceType": "Patient"})
    compiled = CompiledExpression("Patient.active.exists()", type_hint="Patient")
    stored = _cache.read_entry(_TREES, "Patient.active.exists()")
    assert "%contextType" in json.dumps(stored)
    assert stored != _parse("Patient.active.exists()")
    again = CompiledExpression("Patient.active.exists()", type_hint="Patient")
    for expression in (compiled, again):
        assert expression.test({"resourceType": "Patient", "active": True}, env)
        assert not expression.test({"resourceType": "Patient"}, env)
        assert expression.evaluate({"resourceType": "Observation", "active": True}, env) == \
            [False]
