"""A validation runs with the cyclic garbage collector paused (``_collector.collector_paused``)
and gives it back as it found it: on after a validation, an error or an overlapping one in
another thread; off when the program had turned it off."""

from __future__ import annotations

import gc
import os
import threading
import weakref
from typing import Any

import pytest

from ecanfhir import Validator, _collector
from ecanfhir._collector import collector_paused, pause_collector, resume_collector
from ecanfhir.validation import _validator

PATIENT = {"resourceType": "Patient", "gender": "female"}
PATIENT_XML = ('<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>')


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether the collector runs while each resource is walked."""
    seen: list[bool] = []
    walk = _validator.walk_resource

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return walk(*args, **kwargs)

    monkeypatch.setattr(_validator, "walk_resource", spy)
    return seen


@pytest.mark.parametrize("resource", [PATIENT, PATIENT_XML], ids=["json", "xml"])
def test_paused_while_validating(collector: None, monkeypatch: pytest.MonkeyPatch,
                                 resource: Any) -> None:
    gc.enable()
    seen = _spy(monkeypatch)
    assert Validator().validate(resource).ok
    assert seen == [False]
    assert gc.isenabled()


def test_left_off_when_the_program_turned_it_off(collector: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    gc.disable()
    seen = _spy(monkeypatch)
    assert Validator().validate(PATIENT).ok
    assert seen == [False]
    assert not gc.isenabled()


def test_back_on_after_a_check_raised(collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect in a check is an internal-error issue, and the collector runs again."""
    gc.enable()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a defect")

    monkeypatch.setattr(_validator, "walk_resource", broken)
    result = Validator().validate(PATIENT)
    assert [(i.code, i.rule) for i in result.issues] == [("exception", "internal-error")]
    assert gc.isenabled()


def test_nested_blocks_resume_once(collector: None) -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds the pause
    assert gc.isenabled()


def test_overlapping_threads_pause_no_longer_than_the_first(collector: None) -> None:
    """The first block holds the pause and gives it back at its end, although a block of
    another thread is still running; that one does not turn the collector on or off."""
    gc.enable()
    second_in, first_out = threading.Event(), threading.Event()
    states: dict[str, bool] = {}

    def second() -> None:
        with collector_paused():
            second_in.set()
            first_out.wait(10)
            states["second, after the first ended"] = gc.isenabled()
        states["second, after its own end"] = gc.isenabled()

    with collector_paused():
        thread = threading.Thread(target=second)
        thread.start()
        assert second_in.wait(10)
        states["first, inside"] = gc.isenabled()
    first_out.set()
    thread.join(10)
    assert states == {"first, inside": False, "second, after the first ended": True,
                      "second, after its own end": True}


class _Node:
    """An object a cycle can be made of and a weak reference can follow."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def thawed(collector: None) -> None:
    """The collector on, and nothing frozen in this process: what a block moves up is then
    all that the oldest generation gains from it."""
    gc.enable()
    if gc.get_freeze_count():
        pytest.skip("something in this process is frozen")


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_what_a_block_leaves_moves_to_the_oldest_generation(
        thawed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a block allocated and still lives is not left to young collections to scan."""
    monkeypatch.setattr(_collector, "_frozen_seen", False)
    with collector_paused():
        kept = [[n] for n in range(2000)]
    assert _in_generation(kept[0], 2) and _in_generation(kept[-1], 2)
    assert not _in_generation(kept[-1], 0)
    assert gc.get_freeze_count() == 0  # frozen and unfrozen at once


def test_what_a_program_froze_stays_frozen(collector: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """And the frozen objects are counted once, not at every block's end (counting walks
    them all: the centre freezes a few hundred thousand)."""
    monkeypatch.setattr(_collector, "_frozen_seen", False)
    counted = []
    count_frozen = gc.get_freeze_count

    def counting() -> int:
        counted.append(1)
        return count_frozen()

    gc.enable()
    frozen = [object()]
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        monkeypatch.setattr(_collector.gc, "get_freeze_count", counting)
        for _ in range(3):
            with collector_paused():
                kept = [[n] for n in range(100)]
        assert len(counted) == 1
        assert count_frozen() == count
        assert not _in_generation(kept[-1], 2)  # left young, where it was
        assert not _in_generation(frozen, 2)
    finally:
        gc.unfreeze()


def test_the_commands_resume_counts_the_frozen_anew(thawed: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Objects once seen frozen and thawed since: a command's resume (once a command) counts
    again, and moves what its pause made out of the youngest generation."""
    monkeypatch.setattr(_collector, "_frozen_seen", True)
    collecting = pause_collector()
    made = [[n] for n in range(2000)]
    resume_collector(collecting)
    assert _in_generation(made[-1], 2)
    assert _collector._frozen_seen is False


@pytest.mark.parametrize("bound, collected", [(10, True), (10**12, False)])
def test_cyclic_garbage_moved_up_meets_a_full_collection(thawed: None,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         bound: int, collected: bool) -> None:
    """Garbage cycles among what blocks moved to the oldest generation wait for a full
    collection, which a block's end runs itself once they have moved enough objects up."""
    monkeypatch.setattr(_collector, "PROMOTED_BEFORE_FULL_COLLECTION", bound)
    monkeypatch.setattr(_collector, "_promoted", 0)
    monkeypatch.setattr(_collector, "_frozen_seen", False)
    with collector_paused():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        filler = [[n] for n in range(100)]
        del a, b
    assert (ref() is None) is collected
    gc.collect()
    assert ref() is None
    del filler


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_child_forked_during_a_pause_collects_and_can_pause(collector: None) -> None:
    """Forked while another thread's block holds the pause (the mock centre forks its
    validation processes from a serving process): the child's collector runs, and its own
    validations pause it again, instead of finding it held for ever."""
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with collector_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(10)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without pytest's clean-up
        try:
            states = [gc.isenabled()]
            with collector_paused():
                states.append(gc.isenabled())
            states.append(gc.isenabled())
            os.write(write, bytes(states))
        finally:
            os._exit(0)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as pipe:
            reported = list(pipe.read())
        os.waitpid(pid, 0)
    finally:
        release.set()
        thread.join(10)
    assert reported == [True, False, True]
    assert gc.isenabled()
