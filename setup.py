"""Build hook: the pilot FHIR package's sources (``profiles/``) ship inside ecanfhir as
``ecanfhir/_profiles``.

They are copied into the wheel here instead of being mapped with ``package-dir``: a mapped
package turns setuptools' editable install into an import hook, which type checkers (mypy,
pyright) cannot follow, so a project importing an editable ecanfhir saw no types at all. An
editable install reads ``profiles/`` in place
(``ecanfhir.definitions.pilot.pilot_source``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

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


setup(cmdclass={"build_py": BuildWithProfiles})
