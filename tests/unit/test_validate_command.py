"""``ecanfhir validate``'s start-up (ecanfhir.commands.validate): the cyclic garbage collector
is paused while the definitions load and the first file is validated, and given back as found."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecanfhir.cli import main
from ecanfhir.commands import validate as command

PATIENT = {"resourceType": "Patient", "gender": "female"}


@pytest.fixture()
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether the collector runs as each file is validated."""
    seen: list[bool] = []
    validate_file = command._validate_file

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return validate_file(*args)

    monkeypatch.setattr(command, "_validate_file", spy)
    return seen


def test_collector_paused_for_the_first_file_only(tmp_path: Path, collector: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The first file is validated with the collector paused, the next ones with it running,
    and it runs again after the command."""
    gc.enable()
    seen = _spy(monkeypatch)
    paths = [tmp_path / f"p{i}.json" for i in range(3)]
    for path in paths:
        path.write_text(json.dumps(PATIENT))
    assert main(["validate", *map(str, paths), "--format", "json"]) == 0
    assert seen == [False, True, True]
    assert gc.isenabled()


def test_collector_left_off_when_it_was_off(tmp_path: Path, collector: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that turned the collector off finds it off afterwards."""
    gc.disable()
    seen = _spy(monkeypatch)
    (tmp_path / "p.json").write_text(json.dumps(PATIENT))
    assert main(["validate", str(tmp_path / "p.json"), "--format", "json"]) == 0
    assert seen == [False]
    assert not gc.isenabled()


def test_collector_back_after_a_usage_error(collector: None) -> None:
    """A run that stops on a usage error (an unknown profile) gives the collector back."""
    gc.enable()
    assert main(["validate", __file__, "--profile", "http://example.org/none"]) == 2
    assert gc.isenabled()
