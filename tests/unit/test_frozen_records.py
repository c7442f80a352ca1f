"""ecanfhir._frozen.frozen: records that mypy holds frozen and that run as plain slotted
dataclasses, hashed and compared by their fields as frozen dataclasses are."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ecanfhir._frozen import frozen
from ecanfhir.definitions.schema import TypeRef


@frozen
class Point:
    x: int
    tags: tuple[str, ...] = ()


def test_records_compare_and_hash_by_their_fields() -> None:
    assert Point(1, ("a",)) == Point(1, ("a",)) != Point(2, ("a",))
    assert hash(Point(1)) == hash(Point(1))
    assert {Point(1): "one"}[Point(1)] == "one"
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_records_are_slotted_and_copied_with_replace() -> None:
    point = Point(1)
    assert not hasattr(point, "__dict__")
    with pytest.raises(AttributeError):
        point.other = 2  # type: ignore[attr-defined]
    moved = dataclasses.replace(point, x=3)
    assert (point.x, moved.x) == (1, 3)


def test_records_pickle() -> None:
    """A record crosses a process boundary (the centre's validation processes)."""
    assert pickle.loads(pickle.dumps(Point(4, ("b",)))) == Point(4, ("b",))
    ref = TypeRef("Reference", (), ("http://hl7.org/fhir/StructureDefinition/Patient",))
    assert pickle.loads(pickle.dumps(ref)) == ref


def test_a_record_with_an_unhashable_field_is_unhashable_as_a_frozen_dataclass_is() -> None:
    @frozen
    class Holder:
        items: list[int]

    with pytest.raises(TypeError, match="unhashable"):
        hash(Holder([1]))


def test_mypy_rejects_assigning_a_field(tmp_path: Path) -> None:
    """The immutability lives in the type checker: an assignment is a mypy --strict error."""
    code = textwrap.dedent("""
        from ecanfhir._frozen import frozen

        @frozen
        class Point:
            x: int

        point = Point(1)
        point.x = 2
        print(Point(x=3).x)
    """)
    (tmp_path / "mypy.ini").write_text("[mypy]\n")  # not the project's: it names packages
    (tmp_path / "records.py").write_text(code)
    # In a process of its own: mypy changes the recursion limit and the environment of the
    # process it runs in.
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--config-file", str(tmp_path / "mypy.ini"),
                           "--cache-dir", str(tmp_path / "mypy-cache"),  # not in the checkout
                           str(tmp_path / "records.py")],
                          capture_output=True, text=True, timeout=300, check=False)
    out, status = done.stdout, done.returncode
    assert status == 1, out
    assert 'Property "x" defined in "Point" is read-only' in out
    assert out.count("error:") == 1, out
