"""Build hook: the pilot FHIR package's sources (``profiles/``) ship inside ecanfhir as
``ecanfhir/_profiles``.

They are copied into the wheel here instead of being mapped with ``package-dir``: a mapped
package turns setuptools' editable install into an import hook, which type checkers (mypy,
pyright) cannot follow, so a project importing an editable ecanfhir saw no types at all. An
editable install reads ``profiles/`` in place
(``ecanfhir.definitions.pilot.pilot_source``).

A build of what gets installed (``pip install .``, a wheel) also compiles ecanfhir's hot
modules with mypyc (``mypyc_build.py``; not an editable install, unless ``ECANFHIR_COMPILE=1``;
never with ``ECANFHIR_COMPILE=0``), falling back to the Python modules when it cannot.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mypyc_build import extensions, requirements  # beside this file, not a package

PROFILES = Path(__file__).resolve().parent / "profiles"
SHIPPED = ("*.json", "*.md", "*.csv")


class BuildWithProfiles(build_py):
    """``build_py`` that also writes ``profiles/`` to ``ecanfhir/_profiles`` in the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, "ecanfhir", "_profiles")
        for pattern in SHIPPED:
            for source in sorted(PROFILES.rglob(pattern)):
                relative = source.relative_to(PROFILES)
                if any(part.startswith((".", "__")) for part in relative.parts):
                    continue
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / relative)


class OptionalBuildExt(build_ext):
    """``build_ext`` of the compiled build (mypyc_build.py) that falls back to the Python
    modules alone when the C extensions cannot be built (no compiler, no Python headers).

    All or none: each compiled module's extension loads one shared library of them all, and an
    extension that is there but cannot load hides its Python module, so on a failure the
    extensions already built are removed."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # CompileError, LinkError, PlatformError...: all alike here
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            self.warn(f"ecanfhir: the compiled build failed, the modules stay Python ({error})")


setup(cmdclass={"build_py": BuildWithProfiles, "build_ext": OptionalBuildExt},
      ext_modules=extensions(sys.argv[1:]), setup_requires=requirements())
