"""Immutable records: frozen for the type checker, plain slotted dataclasses at run time.

``@dataclass(frozen=True)`` pays for its run-time guard twice. Each class gets a
``__setattr__`` and a ``__delattr__`` that raise, generated from source and compiled when the
class is created, and each instance's ``__init__`` sets its fields through
``object.__setattr__`` instead of storing them: the compiled definitions (a TypeRef per element
type, a Constraint per invariant) and the issues of a run are such instances. Measured with
callgrind: a new process validating a pilot referral ran 7.5% fewer instructions with the
records below.

:func:`frozen` makes the same class for mypy (PEP 681 ``dataclass_transform`` with
``frozen_default=True``: assigning a field is an error under ``mypy --strict``) and, at run
time, a slotted dataclass with the hash that a frozen one has (``unsafe_hash``: hashed by its
fields, so a record is a dict key or a set member as before). Nothing in ecanfhir assigns a
record's field; ``dataclasses.replace`` makes a changed copy.

:func:`record` is the mutable counterpart (``@dataclass(slots=True)``, with ``eq=False`` for
records compared by identity).

Both generate only ``__init__`` from source. Python 3.11's dataclasses compile each generated
method on its own (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``), about a tenth of a
millisecond each, and a new process validating one message creates some forty records: the
comparison, the hash and the representation here are functions written once, which read a
record's fields through an ``operator.attrgetter`` made for its class.
"""

from __future__ import annotations

import copyreg
import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["frozen", "picklable", "record"]

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True, slots=True)`` as mypy sees it, without the run-time guard."""
    return _made(cls, eq=True, hashed=True)


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, eq: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T] | None = None, /, *, eq: bool = True
           ) -> type[T] | Callable[[type[T]], type[T]]:
    """``@dataclass(slots=True)`` (``eq=False``: compared and hashed by identity)."""
    if cls is None:
        return lambda made: _made(made, eq=eq, hashed=False)
    return _made(cls, eq=eq, hashed=False)


def _made(cls: type[T], *, eq: bool, hashed: bool) -> type[T]:
    made: type[T] = dataclasses.dataclass(slots=True, repr=False, eq=False)(cls)
    fields = dataclasses.fields(made)  # type: ignore[arg-type]
    methods: dict[str, object] = {"__repr__": _repr_of(fields)}
    if eq:
        methods["__eq__"] = _eq_of(_values([f.name for f in fields if f.compare]))
        # As dataclass(eq=True): hashed by the compared fields when asked, else unhashable.
        methods["__hash__"] = _hash_of(_values([f.name for f in fields if (
            f.compare if f.hash is None else f.hash)])) if hashed else None
    for name, method in methods.items():
        setattr(made, name, method)
    return made


def _values(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a record's values of ``names`` as a tuple (attrgetter gives one value
    bare)."""
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda record: (get(record),)
    if not names:
        return lambda record: ()
    return attrgetter(*names)


def _eq_of(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented
    return __eq__


def _hash_of(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))
    return __hash__


def _repr_of(fields: tuple[dataclasses.Field[Any], ...]) -> Callable[[Any], str]:
    names = [f.name for f in fields if f.repr]

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"
    return __repr__


def picklable(*classes: type[Any]) -> None:
    """Pickle instances of frozen ``classes`` by their fields, through :mod:`copyreg`.

    The compiled build (``ecanfhir._build``) makes the frozen records of its modules native
    frozen dataclasses, which unpickle by assigning their fields, and refuse it
    (FrozenInstanceError); its copy of such a module registers them here (``mypyc_build.py``).
    Records cross process boundaries (the centre's validation processes)."""
    for cls in classes:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        copyreg.pickle(cls, _by_fields(names))


def _by_fields(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    def reduce(record: Any) -> tuple[Any, tuple[Any, ...]]:
        return type(record), tuple(getattr(record, name) for name in names)
    return reduce
