"""Test modules have unique basenames: pytest's default import mode puts each test folder on
sys.path, and two ``test_auth.py`` files would shadow each other at collection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_module_names_are_unique() -> None:
    names = Counter(p.name for p in TESTS.rglob("*.py")
                    if p.name != "conftest.py" and p.name != "__init__.py"
                    and "__pycache__" not in p.parts)
    assert [name for name, n in names.items() if n > 1] == []
