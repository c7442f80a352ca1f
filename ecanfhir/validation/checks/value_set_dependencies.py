"""What a value set depends on that is not here: the code systems its ``compose`` draws codes
from and the value sets it imports (R4 valueset.html §4.9.5), followed through the imports
that are loaded.

A bound code whose value set cannot be evaluated offline is "unknown". When the reason is a
code system known by name (SNOMED CT, LOINC, ...), the report's single tx-offline note says so;
when it is a code system or an imported value set that is simply not loaded, the HL7 validator
says which (``UNABLE_TO_CHECK_IF_THE_PROVIDED_CODES_ARE_IN_THE_VALUE_SET_CS`` / ``_VS`` in its
``ValueSetValidator``, ``Terminology_TX_NoValid_15A`` for a bare code), and so does ecanfhir.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..._frozen import frozen
from ...definitions.registry import Registry
from ...terminology.value_sets import EXTERNAL_SYSTEMS

__all__ = ["Missing", "missing_dependencies"]


@frozen
class Missing:
    """Code systems and value sets a value set needs that are not loaded."""

    code_systems: tuple[str, ...] = ()
    value_sets: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.code_systems or self.value_sets)


def _includes(vs: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    compose = vs.get("compose")
    if not isinstance(compose, Mapping):
        return
    for part in ("include", "exclude"):
        items = compose.get(part)
        if isinstance(items, list):
            yield from (i for i in items if isinstance(i, Mapping))


def missing_dependencies(registry: Registry, vs_url: str) -> Missing:
    """The code systems (not loaded, not known by name) and value sets (not loaded) that the
    value set ``vs_url`` and the loaded value sets it imports draw on."""
    systems: dict[str, None] = {}
    value_sets: dict[str, None] = {}
    seen: set[str] = set()
    todo = [vs_url]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        vs = registry.value_set(url)
        if vs is None:
            if url != vs_url:
                value_sets[url] = None
            continue
        for include in _includes(vs):
            system = include.get("system")
            if isinstance(system, str) and system not in EXTERNAL_SYSTEMS \
                    and registry.code_system(system) is None:
                systems[system] = None
            imports = include.get("valueSet")
            if isinstance(imports, list):
                todo.extend(v for v in imports if isinstance(v, str))
    return Missing(tuple(systems), tuple(value_sets))
