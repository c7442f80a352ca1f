"""The compiled build (``mypyc_build.py``, what ``pip install .`` builds), built from a copy of
this checkout: it compiles every module of ``ecanfhir._build.COMPILED_MODULES``, validates as
the Python modules do, and passes the rest of the test suite.

Building takes about two minutes and the suite as long again as it does in Python; both run
where mypyc and a C compiler are installed (as in CI), and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SKIPPED = shutil.ignore_patterns(".git", "build", "dist", "__pycache__", "*.so", "*.egg-info",
                                  ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                                  ".hypothesis", "node_modules", "mutants")


def _can_compile() -> bool:
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return False
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None


pytestmark = pytest.mark.skipif(not _can_compile(), reason="needs mypyc and a C compiler")


def _run(tree: Path, *args: str, timeout: float = 600,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ECANFHIR_COMPILE"}
    return subprocess.run([sys.executable, *args], cwd=tree, capture_output=True, text=True,
                          timeout=timeout, check=False,
                          env={**environment, "PYTHONPATH": str(tree), **(env or {})})


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout with its hot modules compiled in place, as a build compiles
    them unasked (``ECANFHIR_COMPILE`` unset)."""
    tree = tmp_path_factory.mktemp("build") / "ecanfhir"
    shutil.copytree(ROOT, tree, ignore=_SKIPPED)
    built = _run(tree, "setup.py", "-q", "build_ext", "--inplace", timeout=1800)
    assert built.returncode == 0, built.stderr[-4000:]
    return tree


def test_every_hot_module_is_compiled(compiled: Path) -> None:
    """No module fell back to Python (the build falls back silently but for a warning)."""
    shown = _run(compiled, "-c", "import json; from ecanfhir import _build; print(json.dumps("
                 "[list(_build.COMPILED_MODULES), list(_build.compiled_modules()), "
                 "_build.build_name()]))")
    assert shown.returncode == 0, shown.stderr
    listed, found, name = json.loads(shown.stdout)
    assert found == listed
    assert name == f"compiled (mypyc, {len(listed)} of {len(listed)} hot modules)"
    version = _run(compiled, "-m", "ecanfhir", "--version")
    assert name in version.stdout


def test_the_compiled_build_validates_as_the_python_modules(compiled: Path,
                                                           tmp_path: Path) -> None:
    """Every example of the project, validated by both builds in new processes (the pilot's
    messages against their profiles as `validate` picks them): the same issues, byte for
    byte."""
    examples = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("*.json"))
    assert len(examples) > 20
    outputs = []
    for tree in (ROOT, compiled):
        done = _run(tree, "-m", "ecanfhir", "validate", *examples, "--format", "json",
                    env={"ECANFHIR_CACHE_DIR": str(tmp_path / tree.name)})
        assert done.returncode in (0, 1), done.stderr
        # each entry's fullUrl is its file's URL: the same once the checkout's is set aside
        outputs.append(done.stdout.replace(tree.resolve().as_uri(), "file:///checkout"))
    assert '"issue"' in outputs[0] and "file:///checkout/examples/" in outputs[0]
    assert outputs[1] == outputs[0]


def test_the_test_suite_passes_on_the_compiled_build(compiled: Path) -> None:
    """The whole suite but this file, on the compiled modules (tests that replace a function
    compiled code calls are marked interpreted_only and skipped there)."""
    suite = _run(compiled, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                 "--ignore=tests/builds", timeout=3600)
    assert suite.returncode == 0, suite.stdout[-6000:]
