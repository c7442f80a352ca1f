"""The cyclic garbage collector paused where it would scan, again and again, objects that are
not garbage.

A command's start-up (its imports, the definitions a validation loads) builds a few hundred
thousand objects and almost no cyclic garbage; so does a validation: the parsed resource and
what the walk makes, freed by reference counting when it ends (a run breaks its own cycles,
``validation._context.Run.release``). Collections meanwhile scan them for nothing.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "pause_collector", "resume_collector"]

_HOLDER = threading.Lock()
_held = False  # whether a collector_paused() block holds the pause now


def _after_fork_in_child() -> None:
    """A child forked while a thread of its parent held the pause (or the lock) has neither
    that thread nor its block's end: the lock is new, and the collector runs again."""
    global _HOLDER, _held
    _HOLDER = threading.Lock()
    if _held:
        _held = False
        gc.enable()


os.register_at_fork(after_in_child=_after_fork_in_child)


def pause_collector() -> bool:
    """Pause the cyclic garbage collector; say if it was on.

    ``ecanfhir validate``'s start-up builds a few hundred thousand objects that live as long
    as the process (the modules, the definitions read, the snapshots generated, the compiled
    trees); every collection meanwhile scans them all again, a tenth of a cold start. At
    exit, CPython collects once more over the whole heap before it frees it: ``gc.freeze()``
    at exit (after the report is written) spares that scan, as it spares the mock centre's
    collections (``testservers``' ``warm``).
    """
    atexit.unregister(gc.freeze)  # once, however often run() is called in one process
    atexit.register(gc.freeze)
    collecting = gc.isenabled()
    gc.disable()
    return collecting


def resume_collector(collecting: bool) -> None:
    """Resume the collector :func:`pause_collector` paused, what the pause allocated moved to
    the oldest generation (:func:`_promote_young`)."""
    if collecting and not gc.isenabled():
        full = _promote_young(recount=True)
        gc.enable()
        if full:
            gc.collect()


# Young objects moved to the oldest generation by _promote_young since the last full collection
# it asked for, and how many it lets pass before it asks for one (about 1 in 250 validations
# of a 50-resource bundle; a full collection of a validator's heap takes some 30 ms).
_promoted = 0
PROMOTED_BEFORE_FULL_COLLECTION = 1_000_000
_frozen_seen = False  # whether _promote_young has met objects the program froze


def _promote_young(*, recount: bool = False) -> bool:
    """Move the objects allocated since the last collection to the oldest generation,
    unscanned; say whether a full collection is due instead.

    What a pause allocated is all in the youngest generation (the caller's parsed resource
    too), which the first collection after it would scan whole, and the next ones again as
    they move it up: some 0.8 ms after each 50-resource bundle, a tenth of its validation;
    some 6 ms after a pilot message's cold start. Frozen and at once unfrozen, it moves to the
    oldest generation instead (``gc.freeze`` moves every generation to the permanent one and
    empties the youngest's count; ``gc.unfreeze`` moves the permanent one to the oldest) --
    only when nothing else is frozen, so what a program froze stays frozen (the mock centre
    freezes its warm definitions).

    ``gc.get_freeze_count()`` walks the frozen objects (12 ms for a million; the centre
    freezes a few hundred thousand), so a validation's end counts them only until it has seen
    some: then it leaves the young objects alone, until ``recount`` (the CLI's resume, once a
    command) finds none frozen any more.

    Cyclic garbage among those objects (a validation makes none: ``Run.release``; another
    thread may) waits there for a full collection, whose schedule does not count them:
    after :data:`PROMOTED_BEFORE_FULL_COLLECTION` of them, the caller runs one instead.
    """
    global _promoted, _frozen_seen
    if recount or not _frozen_seen:  # (counting nothing frozen walks an empty list)
        _frozen_seen = gc.get_freeze_count() > 0
    if _frozen_seen:
        return False
    _promoted += gc.get_count()[0]
    if _promoted > PROMOTED_BEFORE_FULL_COLLECTION:
        _promoted = 0
        return True
    gc.freeze()
    gc.unfreeze()
    return False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector paused for the block, if it is on and no other block holds it paused.

    A validation allocates tens of thousands of containers (the parsed resource, frames,
    issues) that all live until it ends: young collections meanwhile find nothing to free but
    move them to older generations, whose collections then scan them again (the 500-entry
    bundle of ``benchmarks/validate.py``: some 2.5 young and one full collection a run). What
    reference counting frees at the end is never scanned at all.

    Only the first of overlapping blocks (threads validating at once) pauses and resumes the
    collector, so no pause lasts longer than one block; what the pause allocated and still
    lives then moves to the oldest generation (:func:`_promote_young`). Cyclic garbage of
    other code made during a block waits for a full collection. A collector that is off
    (``gc.disable()`` by the program) is left off.
    """
    global _held
    with _HOLDER:
        mine = not _held and gc.isenabled()
        if mine:
            _held = True
            gc.disable()
    try:
        yield
    finally:
        if mine:
            with _HOLDER:
                _held = False
                full = _promote_young()
                gc.enable()
            if full:  # outside the lock: finalizers it runs may validate
                gc.collect()
