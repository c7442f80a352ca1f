"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: an empty package cache, no colour."""
    cache = tmp_path / "package-cache"
    cache.mkdir()
    return {**os.environ, "FHIR_PACKAGE_CACHE": str(cache), "NO_COLOR": "1"}
