"""The optional compiled build (``ECANFHIR_COMPILE=1 python3 -m pip install .``), for setup.py.

mypyc compiles the modules listed in ``ecanfhir/_build.py`` into C extensions, installed beside
the same modules in Python. It compiles a copy of the package made for it (``build/mypyc-src``)
with one change: mypyc makes native classes, whose fields compiled code reads directly, only of
classes decorated with ``dataclasses.dataclass`` itself, and ecanfhir's records use
``ecanfhir._frozen.frozen`` and ``record``, which make the same classes for the type checker
and cost the interpreter less to create (see ``_frozen``). The copy of a compiled module says
``@dataclass(frozen=True)`` for ``@frozen``, ``@dataclass(eq=False)`` for ``@record(eq=False)``
and ``@dataclass`` for ``@record``, imports at run time what it imported for type checking
only (a native dataclass evaluates its fields' annotations), and registers its frozen records
with ``ecanfhir._frozen.picklable``. Measured with callgrind, bundle-50:
74.5 M instructions a validation interpreted, 58.8 M with the modules compiled and their records
Python classes, 50.7 M with native records.

Without a C compiler the build installs the Python modules alone, with a warning.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
# The mypy whose mypyc built and passed the test suite with this module list.
MYPY = "mypy==2.4.1"
STAGE = ROOT / "build" / "mypyc-src"

_DECORATORS = (
    (re.compile(r"^@frozen$", re.M), "@dataclass(frozen=True)"),
    (re.compile(r"^@record\(eq=False\)$", re.M), "@dataclass(eq=False)"),
    (re.compile(r"^@record$", re.M), "@dataclass"),
)
_TYPE_CHECKING_BLOCK = re.compile(r"^if TYPE_CHECKING:\n((?:    .*\n)+)", re.M)


def wanted() -> bool:
    """Whether this build was asked to compile (``ECANFHIR_COMPILE=1``)."""
    return os.environ.get("ECANFHIR_COMPILE", "").strip().lower() in {"1", "true", "yes"}


def compiled_modules() -> tuple[str, ...]:
    """``COMPILED_MODULES`` of ``ecanfhir/_build.py``, read from its source."""
    tree = ast.parse((ROOT / "ecanfhir" / "_build.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == "COMPILED_MODULES" and node.value is not None:
            return tuple(ast.literal_eval(node.value))
    raise LookupError("ecanfhir/_build.py defines no COMPILED_MODULES")


_FROZEN_CLASS = re.compile(r"^@frozen\nclass (\w+)", re.M)


def native_source(text: str) -> str:
    """A compiled module's source as mypyc compiles it: its records as dataclasses, its frozen
    ones pickled by their fields (``ecanfhir._frozen.picklable``)."""
    frozen = _FROZEN_CLASS.findall(text)
    changed = text
    for pattern, replacement in _DECORATORS:
        changed = pattern.sub(replacement, changed)
    if changed == text:
        return text
    changed = _TYPE_CHECKING_BLOCK.sub(
        lambda m: "".join(line[4:] + "\n" for line in m.group(1).splitlines()), changed)
    if frozen:
        changed += ("\n\nfrom ecanfhir._frozen import picklable as _picklable\n\n"
                    f"_picklable({', '.join(frozen)})\n")
    return re.sub(r"^from __future__ import annotations\n",
                  "from __future__ import annotations\n\nfrom dataclasses import dataclass\n",
                  changed, count=1, flags=re.M)


def stage() -> list[str]:
    """Copy the package to :data:`STAGE`, compiled modules rewritten; their paths there."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    shutil.copytree(ROOT / "ecanfhir", STAGE / "ecanfhir",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "_profiles"))
    paths = []
    for name in compiled_modules():
        path = STAGE.joinpath(*name.split(".")).with_suffix(".py")
        path.write_text(native_source(path.read_text(encoding="utf-8")), encoding="utf-8")
        paths.append(str(path.relative_to(ROOT)))
    return paths


def extensions() -> tuple[list[Any], list[str]]:
    """setup()'s ``ext_modules`` and ``setup_requires``: none unless compiling. Before mypy is
    in the build environment, only the requirement (setuptools' PEP 517 backend installs it
    and runs setup.py again)."""
    if not wanted():
        return [], []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return [], [MYPY]
    paths = stage()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return mypycify(paths, opt_level="3", debug_level="0",
                        strict_dunder_typing=False), [MYPY]
    finally:
        os.chdir(cwd)
