"""The validators a daemon keeps between ``ecanfhir validate`` runs.

A new process builds a registry for its ``--ig``/``--profile`` options and a validator for its
options, then compiles each definition when a resource first needs it: most of the time a
small message takes. The daemon keeps the validators it built, each with the state of the
files it was built from; a run whose options are the same, and whose files are unchanged
(their paths, sizes and modification times; the FHIR package cache's listing, where its
dependencies come from), gets the kept one, as warm as the runs before left it.
"""

from __future__ import annotations

import argparse
import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from ..definitions.packages.load import package_cache_dir
from ..validation._options import ValidationOptions
from ..validation._validator import Validator

__all__ = ["ValidatorCache", "files_stamp"]

Build = Callable[[argparse.Namespace, ValidationOptions], tuple[Validator, list[str]]]


class ValidatorCache:
    """Up to ``size`` validators, the least recently used dropped first."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, tuple[Hashable, Validator, list[str]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, args: argparse.Namespace, options: ValidationOptions,
            build: Build) -> tuple[Validator, list[str]]:
        """The validator ``build(args, options)`` makes, kept from an earlier run when that
        run's options were these and the files it read are unchanged."""
        specs = [*args.ig, *args.profile]
        key = (bool(args.no_pilot), tuple(_spec(s) for s in args.ig),
               tuple(_spec(s) for s in args.profile), options,
               os.environ.get("FHIR_PACKAGE_CACHE"), os.environ.get("HOME"))
        stamp = files_stamp(s for s in specs if os.path.exists(s)), \
            _listing(package_cache_dir()) if specs else None
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stamp:
            self._kept.move_to_end(key)
            return kept[1], list(kept[2])
        validator, profiles = build(args, options)
        self._kept[key] = (stamp, validator, list(profiles))
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return validator, profiles


def _spec(spec: str) -> str:
    """A spec as the key of a run's files: a path made absolute (the runs' working folders
    differ), a package ``id#version`` or a canonical URL as it is."""
    return os.path.abspath(spec) if os.path.exists(spec) else spec


def files_stamp(paths: Iterable[str], *, skip: frozenset[str] = frozenset()) -> Hashable:
    """What changes when a file at or below ``paths`` is added, removed, replaced or written:
    each file's path, size and modification time (folders named in ``skip`` left out; a
    folder's files in the order the system lists them, which is stable while it is unchanged).
    """
    entries: list[tuple[str, int, int]] = []
    for path in paths:
        if os.path.isdir(path):
            _folder_stamp(path, skip, entries)
        else:
            try:
                st = os.stat(path)
            except OSError:
                entries.append((path, -1, -1))
            else:
                entries.append((path, st.st_size, st.st_mtime_ns))
    return tuple(entries)


def _folder_stamp(folder: str, skip: frozenset[str], entries: list[tuple[str, int, int]]) -> None:
    try:
        listing = os.scandir(folder)
    except OSError:
        entries.append((folder, -1, -1))
        return
    with listing:
        for entry in listing:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in skip:
                    _folder_stamp(entry.path, skip, entries)
                continue
            try:
                st = entry.stat()
            except OSError:  # a dangling link, or gone since the listing
                entries.append((entry.path, -1, -1))
            else:
                entries.append((entry.path, st.st_size, st.st_mtime_ns))


def _listing(folder: os.PathLike[str] | str) -> Hashable:
    """The packages in the package cache, each with its folder's modification time."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries))
    except OSError:
        return ()
