"""The wheel carries every Python package of ecanfhir and the pilot package's sources."""

from __future__ import annotations

import subprocess
import sys
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


def test_no_package_dir_mapping_hides_ecanfhir_from_type_checkers() -> None:
    """A mapped package makes setuptools' editable install an import hook, which mypy cannot
    follow ("Cannot find implementation or library stub for module named 'ecanfhir'")."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"": "."}
    assert "ecanfhir._profiles" not in config["packages"]


def test_the_build_ships_the_pilot_sources_as_ecanfhir_profiles(tmp_path: Path) -> None:
    """setup.py copies profiles/ into the wheel's ecanfhir/_profiles, every file of it."""
    done = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    sources = {p.relative_to(ROOT / "profiles") for p in (ROOT / "profiles").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    shipped = {p.relative_to(tmp_path / "ecanfhir" / "_profiles")
               for p in (tmp_path / "ecanfhir" / "_profiles").rglob("*") if p.is_file()}
    assert Path("package.json") in shipped
    assert shipped == sources


def test_the_readme_quick_start_is_what_ci_runs() -> None:
    """The Quick start's second command is the one .ci/run runs, in a virtual environment."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert "python3 -m venv .venv && . .venv/bin/activate" in quick
    assert "python3 -m pip install . && ecanfhir demo" in quick
    assert "python3 -m pip install -e '.[test]' && python3 -m pytest" in quick
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "-e '.[test]'" in ci and "\npython3 -m pytest" in ci


def test_the_version_is_the_one_in_pyproject() -> None:
    import ecanfhir

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert ecanfhir.__version__ == project["project"]["version"]
