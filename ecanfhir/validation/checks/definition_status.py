"""Definitions an instance depends on that are deprecated, withdrawn or retired (R4
structuredefinition-standards-status extension; CanonicalResource.status ``retired``), noted
once per definition and run as the HL7 validator notes them (``checkExtensionStatus`` of its
InstanceValidator: ``MSG_DEPENDS_ON_DEPRECATED`` / ``_WITHDRAWN`` / ``_RETIRED``, hints).

Its draft and experimental counterparts (``MSG_DEPENDS_ON_DRAFT`` / ``_EXPERIMENTAL``) are
switched off in the HL7 validator ("these warnings are just everywhere"), and so here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._issue import Issue

if TYPE_CHECKING:
    from .._context import Run

__all__ = ["check_definition_status"]

STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
RULE = "definition-status"


def _state(definition: Mapping[str, Any]) -> str | None:
    extensions = definition.get("extension")
    standards = next((e.get("valueCode") for e in extensions or ()
                      if isinstance(e, Mapping) and e.get("url") == STANDARDS_STATUS), None) \
        if isinstance(extensions, list) else None
    if standards in ("deprecated", "withdrawn"):
        return str(standards)
    return "retired" if definition.get("status") == "retired" else None


def check_definition_status(run: Run, url: str, kind: str, at: str) -> list[Issue]:
    """Information, the first time in this run, that the ``kind`` (extension, profile)
    definition ``url`` used at ``at`` is deprecated, withdrawn or retired."""
    definition = run.schema.registry.structure_definition(url)
    state = _state(definition) if definition is not None else None
    if state is None:
        return []
    version = definition.get("version") if definition is not None else None
    shown = f"{url}|{version}" if isinstance(version, str) else url
    message = f"the {kind} {shown} is {state}"
    if any(i.rule == RULE and i.message == message for i in run.issues):
        return []  # said once per run, at its first use
    return [Issue.information("business-rule", at, message, RULE)]
