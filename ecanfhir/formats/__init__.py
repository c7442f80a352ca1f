"""FHIR R4 formats beyond JSON: the XML representation (R4 §2.6.1), read and written through
one mapping driven by the core StructureDefinitions (``_xml_model``).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["looks_like_xml", "parse_xml", "read_resource", "to_xml"]

_HOMES = {"looks_like_xml": "xml_read", "parse_xml": "xml_read", "read_resource": "xml_read",
          "to_xml": "xml_write"}


def __getattr__(name: str) -> Any:
    # Each function is imported from its module on first use.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
