"""The compiled build, for setup.py: ``pip install .`` compiles where it can (see :func:`wanted`;
``ECANFHIR_COMPILE=0`` turns it off, ``=1`` asks for it in any build).

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
74.5 M instructions a validation interpreted, 58.8 M with 21 modules compiled and their records
Python classes, 50.7 M with native records; 47.3 M with 39 modules (and 73.5 M interpreted).

Without a C compiler, or when mypy fails, the build installs the Python modules alone, with a
warning.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Sequence
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


# The setup.py commands that build what gets installed, and those of an editable install, which
# imports the modules from the checkout: compiled there, a module's extension would hide every
# later edit of its source.
_BUILDS = frozenset({"bdist_wheel", "build", "build_ext", "install", "bdist", "bdist_egg"})
_EDITABLE = frozenset({"editable_wheel", "develop"})


def _asked() -> bool | None:
    """``ECANFHIR_COMPILE``: yes (1, true, yes, on), no (0, false, no, off), or unset."""
    value = os.environ.get("ECANFHIR_COMPILE", "").strip().lower()
    return True if value in {"1", "true", "yes", "on"} else \
        False if value in {"0", "false", "no", "off"} else None


def wanted(commands: Sequence[str] = ()) -> bool:
    """Whether this run of setup.py compiles: ``ECANFHIR_COMPILE=1`` always, ``0`` never;
    unset, when it builds what gets installed (``pip install .``, a wheel) and not for an
    editable install (``pip install -e .``) nor for metadata alone (``egg_info``,
    ``dist_info``: pip asks for it before the wheel)."""
    asked = _asked()
    if asked is not None:
        return asked
    return not _EDITABLE.intersection(commands) and bool(_BUILDS.intersection(commands))


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


def _config() -> Path:
    """The mypy configuration of the compiled build. It types the code, and checks nothing
    that ``mypy --strict`` checks in the tests: ecanfhir's dependencies are not in the build
    environment of ``pip install .`` (pip installs them beside it), so they are read as
    untyped (``Any``) where the tests read them typed."""
    path = STAGE / "mypy.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[mypy]\nignore_missing_imports = True\nallow_subclassing_any = True\n",
                    encoding="utf-8")
    return path


def requirements() -> list[str]:
    """setup()'s ``setup_requires``: mypy, unless it is there already or the build never
    compiles (setuptools' PEP 517 backend installs it into the build environment before it
    asks setup.py for the wheel)."""
    if _asked() is False or importlib.util.find_spec("mypy") is not None:
        return []
    return [MYPY]


def extensions(commands: Sequence[str]) -> list[Any]:
    """setup()'s ``ext_modules`` for a run of setup.py with these commands: none unless it
    compiles (:func:`wanted`) and mypy is there. mypy failing on the copy is reported and
    the build goes on with the Python modules alone, as when the C build fails (setup.py's
    ``OptionalBuildExt``)."""
    if not wanted(commands) or importlib.util.find_spec("mypy") is None:
        return []
    from mypyc.build import mypycify

    cwd = os.getcwd()
    try:
        paths = stage()
        os.chdir(ROOT)
        return list(mypycify(["--config-file", str(_config().relative_to(ROOT)), *paths],
                             opt_level="3", debug_level="0", strict_dunder_typing=False))
    except (Exception, SystemExit) as error:  # mypy exits on errors in the code it compiles
        print(f"warning: ecanfhir: the compiled build failed, the modules stay Python "
              f"({type(error).__name__}: {error})", file=sys.stderr)
        return []
    finally:
        os.chdir(cwd)
