"""The compiled build's preparation (``mypyc_build.py``, ``ecanfhir._build``), without a
compiler: which modules it compiles, and the copy of a module it compiles. The build itself is
tested in ``tests/builds/test_compiled_build.py``."""

from __future__ import annotations

import copyreg
import importlib.util
import pickle
import sys
import textwrap
from pathlib import Path

import pytest

from ecanfhir import _build
from ecanfhir._frozen import frozen, picklable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import mypyc_build  # noqa: E402  (beside setup.py, not a package)


def test_the_build_reads_the_module_list_the_package_reports() -> None:
    assert mypyc_build.compiled_modules() == _build.COMPILED_MODULES
    for name in _build.COMPILED_MODULES:
        assert importlib.util.find_spec(name) is not None, name


def test_nothing_is_compiled_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECANFHIR_COMPILE", raising=False)
    assert mypyc_build.extensions() == ([], [])
    monkeypatch.setenv("ECANFHIR_COMPILE", "0")
    assert not mypyc_build.wanted()
    monkeypatch.setenv("ECANFHIR_COMPILE", "1")
    assert mypyc_build.wanted()


@pytest.mark.interpreted_only("ecanfhir._build")
def test_the_build_is_named_by_its_compiled_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_build, "compiled_modules", lambda: ())
    assert _build.build_name() == "interpreted"
    monkeypatch.setattr(_build, "compiled_modules", lambda: _build.COMPILED_MODULES[:2])
    assert _build.build_name() == \
        f"compiled (mypyc, 2 of {len(_build.COMPILED_MODULES)} hot modules)"


SOURCE = textwrap.dedent('''\
    """A module."""

    from __future__ import annotations

    from typing import TYPE_CHECKING

    from .._frozen import frozen, record

    if TYPE_CHECKING:
        from .schema import Schema
        from .other import Other

    X = 1


    @frozen
    class Ref:
        code: str


    @record(eq=False)
    class Node:
        schema: Schema


    @record
    class Pair:
        left: Other
''')


def test_the_compiled_copy_of_a_module_has_dataclasses_mypyc_makes_native() -> None:
    native = mypyc_build.native_source(SOURCE)
    assert "from __future__ import annotations\n\nfrom dataclasses import dataclass\n" in native
    assert "@dataclass(frozen=True)\nclass Ref:" in native
    assert "@dataclass(eq=False)\nclass Node:" in native
    assert "@dataclass\nclass Pair:" in native
    assert "@frozen" not in native and "@record" not in native
    # the annotations' names exist at run time, where a native dataclass evaluates them
    assert "\nfrom .schema import Schema\nfrom .other import Other\n" in native
    assert "if TYPE_CHECKING:" not in native
    assert native.endswith("_picklable(Ref)\n")
    compile(native, "native.py", "exec")


def test_a_module_without_records_is_compiled_as_it_is() -> None:
    plain = "from __future__ import annotations\n\nif TYPE_CHECKING:\n    import x\n"
    assert mypyc_build.native_source(plain) == plain


@frozen
class Sample:
    code: str
    parts: tuple[str, ...] = ()


def test_picklable_records_pickle_by_their_fields() -> None:
    picklable(Sample)
    record = Sample("a", ("b", "c"))
    assert copyreg.dispatch_table[Sample](record) == (Sample, ("a", ("b", "c")))
    assert pickle.loads(pickle.dumps(record)) == record
