"""Instances of logical models (R4 §2.27 StructureDefinition.kind = logical).

A logical model describes content that is not a FHIR resource; its instances are written in
FHIR's JSON form with ``resourceType`` set to the model's canonical URL (the HL7 validator reads
them so, and HL7 Europe's cancer common model publishes its examples so). With the model
loaded, an instance is validated against it like a resource against its type: elements by
name, their types (FHIR datatypes, or other logical models by URL), cardinalities, bindings and
invariants. An element whose type is a logical model may carry that model's URL as its own
``resourceType`` (a model that "can be target" is resource-like).

==========================================  ===========================================
``resourceType``                            outcome
==========================================  ===========================================
an R4 resource type                         validated as that resource (elsewhere)
the URL of a loaded logical model           validated against the model
the URL of a loaded, unusable model         error: why it cannot be used
a URL nothing loaded defines                error: the model is not loaded, how to load it
anything else                               error: not an R4 resource type
==========================================  ===========================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._issue import Issue

if TYPE_CHECKING:
    from ...definitions.compiled import CompiledStructure, ElementNode
    from .._context import Run

__all__ = ["checks_ele_1", "is_logical_type", "logical_model", "unknown_resource_type"]

_LOAD_HINT = ("load the package that defines it (--ig on the command line, load_ig() from "
              "Python)")


def _looks_canonical(name: str) -> bool:
    return "/" in name or ":" in name


def logical_model(run: Run, resource_type: str) -> CompiledStructure | None:
    """The loaded, usable logical model whose URL an instance gives as ``resourceType``."""
    if not _looks_canonical(resource_type):
        return None
    definition = run.schema.registry.structure_definition(resource_type)
    if definition is None or definition.get("kind") != "logical":
        return None
    return run.schema.find(resource_type)


def is_logical_type(run: Run, type_code: str | None, value: Any) -> bool:
    """Whether ``value``, given as an object's ``resourceType``, names the object's own type
    and that type is a loaded logical model."""
    return (isinstance(value, str) and value == type_code
            and logical_model(run, value) is not None)


def checks_ele_1(element: ElementNode) -> bool:
    """Whether ele-1 (content beyond an ``id``) applies to a complex value of ``element``.

    Every element of a resource or datatype inherits ele-1 from Element, and so does a logical
    model based on Element (its root carries ele-1). A model based on ``Base`` (R5's root, for
    models that need not be made of FHIR Elements) does not: there ele-1 applies only where the
    model's own definition of the element carries it.
    """
    structure = element.structure
    if structure is None or structure.kind != "logical":
        return True
    return any(constraint.key == "ele-1"
               for constraint in (*structure.root.constraints, *element.constraints))


def unknown_resource_type(run: Run, resource_type: str, at: str) -> Issue:
    """The error for a ``resourceType`` that is neither an R4 resource nor a usable model."""
    if not _looks_canonical(resource_type):
        return Issue.error("structure", at, f"unknown resourceType '{resource_type}': not a "
                           "FHIR R4 resource", "json-form")
    definition = run.schema.registry.structure_definition(resource_type)
    if definition is None:
        return Issue.error("not-found", at, f"resourceType '{resource_type}' names a logical "
                           f"model that is not loaded: {_LOAD_HINT}", "logical-model-unknown")
    if definition.get("kind") != "logical":
        return Issue.error("structure", at, f"resourceType '{resource_type}' names a "
                           f"StructureDefinition of kind '{definition.get('kind')}', not a "
                           "logical model: not a FHIR R4 resource", "json-form")
    return Issue.error("not-found", at, f"the logical model '{resource_type}' could not be "
                       f"used: {run.schema.problem(resource_type)}", "logical-model-unusable")
