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


def test_no_public_class_is_compiled() -> None:
    """A compiled class is native: Python code can neither subclass it nor replace its
    methods, which users of ecanfhir's public classes (Validator, Registry...) may do."""
    import ecanfhir

    for name in ecanfhir.__all__:
        obj = getattr(ecanfhir, name)
        if isinstance(obj, type):
            assert obj.__module__ not in _build.COMPILED_MODULES, name


def test_the_build_reads_the_module_list_the_package_reports() -> None:
    assert mypyc_build.compiled_modules() == _build.COMPILED_MODULES
    for name in _build.COMPILED_MODULES:
        assert importlib.util.find_spec(name) is not None, name


@pytest.mark.parametrize(("asked", "commands", "compiles"), [
    (None, ["bdist_wheel", "--dist-dir", "d"], True),     # pip install ., pip wheel .
    (None, ["build_ext", "--inplace"], True),
    (None, ["install"], True),
    (None, ["editable_wheel", "--dist-dir", "d"], False),  # pip install -e .
    (None, ["develop"], False),
    (None, ["egg_info"], False),                           # pip's questions before the wheel
    (None, ["dist_info", "--output-dir", "d"], False),
    (None, ["build_py"], False),
    ("0", ["bdist_wheel"], False),
    ("no", ["build_ext", "--inplace"], False),
    ("1", ["editable_wheel"], True),
    ("1", ["build_ext", "--inplace"], True),
])
def test_what_compiles(monkeypatch: pytest.MonkeyPatch, asked: str | None, commands: list[str],
                       compiles: bool) -> None:
    """A build of what gets installed compiles; an editable install does not (an extension in
    the checkout would hide every later edit of its module), unless asked to."""
    if asked is None:
        monkeypatch.delenv("ECANFHIR_COMPILE", raising=False)
    else:
        monkeypatch.setenv("ECANFHIR_COMPILE", asked)
    assert mypyc_build.wanted(commands) is compiles


def test_a_run_that_does_not_compile_has_no_extensions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECANFHIR_COMPILE", raising=False)
    assert mypyc_build.extensions(["egg_info"]) == []
    assert mypyc_build.extensions(["editable_wheel"]) == []
    monkeypatch.setenv("ECANFHIR_COMPILE", "0")
    assert mypyc_build.extensions(["bdist_wheel"]) == []


def test_mypy_is_required_only_where_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """setuptools' PEP 517 backend installs setup_requires into the build environment; a
    setup.py run where mypy is (a developer's, CI's) needs nothing more."""
    monkeypatch.delenv("ECANFHIR_COMPILE", raising=False)
    assert mypyc_build.requirements() == []  # the test dependencies include mypy
    monkeypatch.setattr(mypyc_build.importlib.util, "find_spec", lambda name: None)
    assert mypyc_build.requirements() == [mypyc_build.MYPY]
    monkeypatch.setenv("ECANFHIR_COMPILE", "0")
    assert mypyc_build.requirements() == []


def test_mypy_failing_leaves_the_python_modules(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """mypy exits on an error in the code it compiles: the build goes on without extensions."""
    import mypyc.build

    def failing(*args: object, **kwargs: object) -> list[object]:
        raise SystemExit(2)

    monkeypatch.setattr(mypyc_build, "stage", lambda: ["ecanfhir/x.py"])
    monkeypatch.setattr(mypyc.build, "mypycify", failing)
    monkeypatch.setenv("ECANFHIR_COMPILE", "1")
    assert mypyc_build.extensions(["bdist_wheel"]) == []
    assert "the compiled build failed, the modules stay Python (SystemExit: 2)" \
        in capsys.readouterr().err


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
