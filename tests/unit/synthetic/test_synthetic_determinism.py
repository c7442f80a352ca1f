"""Synthetic cases are a function of kind, seed and count: byte-identical on every run."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ecanfhir.synthetic import KINDS, MANIFEST, Kind, generate, write_cases


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("invalid", [False, True], ids=["valid", "invalid"])
@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_bytes(tmp_path: Path, kind: Kind, invalid: bool) -> None:
    """Two runs with the same kind, seed and count write identical files and manifest."""
    first = write_cases(kind, tmp_path / "a", count=12, seed=99, invalid=invalid)
    write_cases(kind, tmp_path / "b", count=12, seed=99, invalid=invalid)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b
    assert MANIFEST in a and len(a) == first.files + 1


@pytest.mark.parametrize("kind", KINDS)
def test_different_seed_different_cases(tmp_path: Path, kind: Kind) -> None:
    """Another seed gives other cases (every file differs)."""
    write_cases(kind, tmp_path / "a", count=5, seed=1)
    write_cases(kind, tmp_path / "b", count=5, seed=2)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a if name != MANIFEST)


def test_case_k_does_not_depend_on_count() -> None:
    """Each case has its own generator: the first 3 of 10 are the 3 of a count-3 run."""
    short = [f.bundle for f in generate("referral", count=3, seed=5)]
    long = [f.bundle for f in generate("referral", count=10, seed=5)][:3]
    assert short == long


def test_global_random_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module-level random functions are not called (only random.Random instances)."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the global random generator was used")

    for name in ("random", "choice", "choices", "randint", "randrange", "sample", "shuffle",
                 "gauss", "getrandbits", "uniform", "seed"):
        monkeypatch.setattr(random, name, refuse)
    for kind in KINDS:
        assert list(generate(kind, count=3, seed=3))
        assert list(generate(kind, count=3, seed=3, invalid=True))


def test_count_below_one_is_refused() -> None:
    """A count of 0 is misuse (the CLI maps it to exit 2)."""
    with pytest.raises(ValueError, match="count"):
        list(generate("referral", count=0, seed=1))
