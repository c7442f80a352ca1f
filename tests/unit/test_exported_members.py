"""The public API is what ``__all__`` says, and every name in it is documented."""

from __future__ import annotations

import ecanfhir


def test_all_names_exist() -> None:
    """Every name in ecanfhir.__all__ is importable from the package."""
    for name in ecanfhir.__all__:
        assert hasattr(ecanfhir, name), name


def test_public_names_are_exported() -> None:
    """Every public attribute that is not a submodule is listed in __all__ (those imported
    when first used, PEP 562, included)."""
    public = {n for n in dir(ecanfhir)
              if not n.startswith("_") and not isinstance(getattr(ecanfhir, n), type(ecanfhir))}
    assert public - {"annotations"} == set(ecanfhir.__all__) - {"__version__"}


def test_public_callables_have_docstrings() -> None:
    """Classes and functions of the public API carry a docstring."""
    for name in ecanfhir.__all__:
        obj = getattr(ecanfhir, name)
        if callable(obj):
            assert obj.__doc__, name
