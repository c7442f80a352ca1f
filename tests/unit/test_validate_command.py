"""``ecanfhir validate``'s start-up (ecanfhir.commands.validate): the cyclic garbage collector
is paused while the definitions load and the first file is validated, and given back as found;
a run that reads the pilot's snapshots from the user cache reports what a run without them
does."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _generations import count_generations

from ecanfhir._collector import pause_collector, resume_collector
from ecanfhir.cli import main
from ecanfhir.commands import validate as command

PATIENT = {"resourceType": "Patient", "gender": "female"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REFERRAL = EXAMPLES / "bundles" / "cancer-case-referral.json"


def _spy(monkeypatch: pytest.MonkeyPatch,
         state: Callable[[], bool] = gc.isenabled) -> list[bool]:
    """Record ``state()`` as each file is validated (by default: whether the collector runs)."""
    seen: list[bool] = []
    validate_file = command._validate_file

    def spy(*args: Any) -> Any:
        seen.append(state())
        return validate_file(*args)

    monkeypatch.setattr(command, "_validate_file", spy)
    return seen


def _validate_patients(folder: Path, count: int) -> int:
    """``ecanfhir validate`` of ``count`` files, each a synthetic patient."""
    paths = [folder / f"p{i}.json" for i in range(count)]
    for path in paths:
        path.write_text(json.dumps(PATIENT))
    return main(["validate", *map(str, paths), "--format", "json"])


def test_collector_paused_for_the_first_file_only(tmp_path: Path, collector: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The first file is validated with the collector paused, the next ones with it running,
    and it runs again after the command."""
    gc.enable()
    seen = _spy(monkeypatch)
    assert _validate_patients(tmp_path, 3) == 0
    assert seen == [False, True, True]
    assert gc.isenabled()


@pytest.fixture()
def thawed() -> Iterator[None]:
    """No object frozen (gc.freeze) at the start, whatever earlier tests froze; as frozen as
    before at the end."""
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    yield
    if frozen:
        gc.freeze()


def _freeze_spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether objects are frozen as each file is validated."""
    return _spy(monkeypatch, lambda: gc.get_freeze_count() > 0)


def test_definitions_frozen_after_the_first_of_several_files(
        tmp_path: Path, thawed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """With several files, what the first loaded is frozen out of the collector's way for the
    next ones, and thawed when the command ends."""
    seen = _freeze_spy(monkeypatch)
    assert _validate_patients(tmp_path, 3) == 0
    assert seen == [False, True, True]
    assert gc.get_freeze_count() == 0


def test_one_file_freezes_nothing(tmp_path: Path, thawed: None,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _freeze_spy(monkeypatch)
    (tmp_path / "p.json").write_text(json.dumps(PATIENT))
    assert main(["validate", str(tmp_path / "p.json"), "--format", "json"]) == 0
    assert seen == [False]
    assert gc.get_freeze_count() == 0


def test_what_a_program_froze_is_left_frozen(tmp_path: Path, thawed: None) -> None:
    """A program that froze objects itself (a server's warm start) finds them frozen after
    main(), not thawed by it."""
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert _validate_patients(tmp_path, 2) == 0
    assert frozen and gc.get_freeze_count() > 0  # (frozen objects freed since count out)
    gc.unfreeze()


def test_what_the_pause_made_is_not_scanned_young(collector: None, thawed: None) -> None:
    """The objects made while the collector was paused (the definitions, in a run) leave the
    youngest generation when it resumes, so its next collection does not scan them all; and
    nothing stays frozen."""
    gc.enable()
    collecting = pause_collector()
    made = [[i] for i in range(10_000)]
    # (not >= len(made): containers freed meanwhile, pytest's own, count down)
    assert gc.get_count()[0] > len(made) // 2
    resume_collector(collecting)
    assert gc.isenabled()
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() == 0
    assert all(gc.is_tracked(item) for item in made[:10])


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


def test_pilot_message_reported_alike_from_the_cache(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pilot's referral validated twice with an empty user cache: the first run generates
    the pilot's snapshots and stores them, the second reads them all and prints the same
    report (here with its extensible-binding warning on the Provenance's activity)."""
    monkeypatch.setenv("ECANFHIR_CACHE_DIR", str(tmp_path / "cache"))
    generated = count_generations(monkeypatch)
    reports, generations = [], []
    for _ in range(2):
        assert main(["validate", str(REFERRAL), "--format", "json"]) == 0
        reports.append(capsys.readouterr().out)
        generations.append(len(generated))
    first = json.loads(reports[0])["issue"]
    assert ("warning", "code-invalid", ["Bundle.entry[14].resource.activity"]) in [
        (i["severity"], i["code"], i.get("expression")) for i in first]
    assert reports[1] == reports[0]
    assert generations[0] >= 10 and generations[1] == generations[0]
