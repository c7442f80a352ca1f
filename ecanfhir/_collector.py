"""The cyclic garbage collector paused while objects that live as long as the process are made.

A command's start-up (its imports, the definitions a validation loads) builds a few hundred
thousand objects and almost no cyclic garbage; collections meanwhile scan them again and
again for nothing.
"""

from __future__ import annotations

import atexit
import gc

__all__ = ["pause_collector", "resume_collector"]


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
    """Resume the collector :func:`pause_collector` paused.

    What the pause allocated is all in the youngest generation, which the first collection
    after it would scan whole (some 6 ms after a pilot message). Frozen and at once unfrozen,
    it moves to the oldest generation instead, unscanned (``gc.unfreeze`` puts the permanent
    generation into the oldest); only when nothing else is frozen, so what a program froze
    stays frozen."""
    if collecting and not gc.isenabled():
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
