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

from ecanfhir._frozen import frozen, record
from ecanfhir.definitions.compiled import TypeRef


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


@record
class Counter:
    name: str
    hits: list[int] = dataclasses.field(default_factory=list)


@record(eq=False)
class Node:
    name: str


def test_mutable_records_compare_by_their_fields_and_are_unhashable() -> None:
    counter = Counter("a")
    counter.hits.append(1)  # a mutable record's fields may change
    counter.name = "b"
    assert counter == Counter("b", [1]) != Counter("b")
    assert Counter("x").hits is not Counter("x").hits  # a new default each time
    with pytest.raises(TypeError, match="unhashable"):
        hash(counter)
    assert repr(counter) == "Counter(name='b', hits=[1])"
    assert dataclasses.replace(counter, name="c") == Counter("c", [1])
    assert [f.name for f in dataclasses.fields(counter)] == ["name", "hits"]


def test_records_without_eq_compare_and_hash_by_identity() -> None:
    one, other = Node("n"), Node("n")
    assert one != other and one == one
    assert len({one, other}) == 2
    assert not hasattr(one, "__dict__")


def test_fields_left_out_of_comparison_and_representation_stay_out() -> None:
    @frozen
    class Tagged:
        value: int
        note: str = dataclasses.field(default="", compare=False, repr=False)

    assert Tagged(1, "a") == Tagged(1, "b")
    assert hash(Tagged(1, "a")) == hash(Tagged(1, "b"))
    assert repr(Tagged(1, "a")).endswith(".<locals>.Tagged(value=1)")  # (as dataclass names it)
    other: object = Point(1)
    assert Tagged(1) != other  # another class: not equal, whatever its fields
