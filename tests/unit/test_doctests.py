"""The examples in ecanfhir's docstrings run, module by module (what --doctest-modules did,
without collecting the tests' conftest files as modules of one name)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ecanfhir

MODULES = sorted(info.name for info in pkgutil.walk_packages(ecanfhir.__path__, "ecanfhir."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS
                                  | doctest.NORMALIZE_WHITESPACE, report=True)
    assert failures == 0, f"{name}: {failures} docstring example(s) failed (see the output)"


def test_most_modules_are_found() -> None:
    assert {"ecanfhir.definitions.packages.load", "ecanfhir.validation._walk",
            "ecanfhir.client._core"} <= set(MODULES)


def test_examples_are_really_run() -> None:
    """doctest finds the examples (a module with four of them reports four attempts)."""
    import ecanfhir.terminology.ucum as ucum

    assert doctest.testmod(ucum).attempted == 4
