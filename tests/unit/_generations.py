"""Counting the snapshots a test makes generate (not read from the user cache)."""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir.definitions.snapshot_generator import SnapshotGenerator


def count_generations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The url of each snapshot generated from now on in this test."""
    made: list[str] = []
    run = SnapshotGenerator.run

    def counting(self: SnapshotGenerator, sd: Any) -> Any:
        made.append(sd["url"])
        return run(self, sd)

    monkeypatch.setattr(SnapshotGenerator, "run", counting)
    return made
