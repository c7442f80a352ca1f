"""What every test directory shares: the ``interpreted_only`` marker.

The test suite runs on both builds of ecanfhir (``ecanfhir._build``): pure Python, and with its
hot modules compiled by mypyc (``tests/builds/test_compiled_build.py`` runs it there). A test
that replaces a function of a module with ``monkeypatch`` sees its replacement called only where
that module's callers are Python: compiled code calls the functions of its own modules
directly. Such a test says so with ``@pytest.mark.interpreted_only("ecanfhir.x.y", ...)``,
naming the modules whose callers it depends on, and is skipped where any of them is compiled.
"""

from __future__ import annotations

import pytest

from ecanfhir._build import compiled_modules


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interpreted_only(*modules): skipped where any of the modules is compiled")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    compiled = set(compiled_modules())
    if not compiled:
        return
    for item in items:
        for mark in item.iter_markers("interpreted_only"):
            which = sorted(compiled.intersection(mark.args))
            if not mark.args or which:
                item.add_marker(pytest.mark.skip(
                    reason=f"patches what compiled code calls directly ({', '.join(which)})"))
