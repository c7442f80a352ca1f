"""fhirpathpy's nodes: how the interpreter holds FHIR JSON (``ResourceNode``), for the parts
of ecanfhir that run inside it (``functions``, ``interpreter``).

The fast path and the natives read plain JSON (``model``) and never import fhirpathpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fhirpathpy.engine import util
from fhirpathpy.engine.nodes import ResourceNode, TypeInfo

from .model import is_companion_data

__all__ = ["CompanionNode", "companion_node", "get_data", "is_companion", "make_node",
           "type_info"]

# fhirpathpy ships py.typed but leaves its functions unannotated; these typed aliases are the
# only way the rest of ecanfhir calls them.
get_data: Callable[[Any], Any] = util.get_data  # a node's JSON value (floats as Decimal)
make_node: Callable[..., Any] = ResourceNode.create_node  # (data, type path) -> node
type_info: Callable[[Any], Any] = TypeInfo.from_value  # node -> fhirpathpy TypeInfo | None


class CompanionNode(ResourceNode):  # type: ignore[misc, unused-ignore]
    """The ``_x`` half of a :class:`~.model.Primitive` focus, marked so it is never taken as
    a value."""


def companion_node(element: Mapping[str, Any], path: str | None) -> Any:
    """A node for the ``_x`` half of a primitive focus, of the primitive's type."""
    factory: Any = CompanionNode
    return factory(element, path)


def is_companion(node: Any) -> bool:
    """Whether a node is the ``_x`` half of a primitive (skipped when a value is wanted)."""
    if isinstance(node, CompanionNode):
        return True
    return isinstance(node, ResourceNode) and is_companion_data(node.data, node.path)
