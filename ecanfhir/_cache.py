"""The user cache: what a new process would otherwise compute again, kept on disk.

``ecanfhir validate`` starts a new process per call; work that depends only on its inputs
(the syntax tree of a FHIRPath invariant, say) is stored here once and read back by later
processes. Entries are JSON files named by a hash of what they depend on, so a changed input
is a new name and nothing is ever invalidated in place. Writes go to a temporary file renamed
into place, so parallel runs never read half an entry. Every failure (no cache directory, a
read-only one, a damaged entry) is a miss: the caller computes the value as if there were no
cache.

The directory is ``$ECANFHIR_CACHE_DIR`` when set (empty: no cache), else the platform's user
cache directory (``$XDG_CACHE_HOME/ecanfhir``, ``~/.cache/ecanfhir``, ``%LOCALAPPDATA%``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "read_entry", "write_entry"]


def cache_dir() -> Path | None:
    """The user cache directory of ecanfhir, or None when caching is turned off."""
    root = _root()
    return None if root is None else Path(root)


def _root() -> str | None:
    configured = os.environ.get("ECANFHIR_CACHE_DIR")
    if configured is not None:
        return configured or None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return os.path.join(base, "ecanfhir", "Cache") if base else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no home directory: no cache, rather than a "~" folder here
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "ecanfhir")


def _entry(kind: str, key: str) -> str | None:
    root = _root()  # strings, not Paths: this runs once per expression of a new process
    if root is None:
        return None
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return os.path.join(root, kind, digest[:2], f"{digest[2:32]}.json")


def read_entry(kind: str, key: str) -> Any:
    """The value stored under ``key`` among ``kind`` (a folder name with its format version
    in it), or None when there is none or it cannot be read."""
    path = _entry(kind, key)
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            stored = json.loads(fh.read())
    except (OSError, ValueError):
        return None
    # The key is stored too: a hash collision, or a file from elsewhere, is a miss.
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    return stored.get("value")


def write_entry(kind: str, key: str, value: Any) -> None:
    """Store a JSON value under ``key``; silently nothing when the cache cannot be written."""
    path = _entry(kind, key)
    if path is None:
        return
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        # Encoded whole first: json.dump() writes piece by piece, three times slower.
        data = json.dumps({"key": key, "value": value}, separators=(",", ":")).encode()
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, TypeError, ValueError):
        return
