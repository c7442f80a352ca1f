"""The wheel carries every Python package of ecanfhir and the pilot package's sources."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_python_package_is_listed_in_pyproject() -> None:
    """A package left out of [tool.setuptools] packages would be missing from `pip install .`."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for top in ("ecanfhir", "testservers") for p in (ROOT / top).rglob("*.py")
             if "__pycache__" not in p.parts}
    assert found - listed == set()


def test_pilot_sources_are_mapped_into_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["ecanfhir._profiles"] == "profiles"
    assert (ROOT / "profiles" / "package.json").is_file()
