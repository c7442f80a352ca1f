"""FHIR R4 formats beyond JSON: the XML representation (R4 §2.6.1), read (``xml_read``) and
written (``xml_write``) through one mapping driven by the core StructureDefinitions
(``_xml_model``). ``read_resource`` reads either format, told apart by content.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["looks_like_xml", "parse_xml", "read_resource", "to_json", "to_xml"]

if TYPE_CHECKING:
    from ._sniff import looks_like_xml
    from .json_write import to_json
    from .xml_read import parse_xml, read_resource
    from .xml_write import to_xml

_HOMES = {"looks_like_xml": "_sniff", "parse_xml": "xml_read", "read_resource": "xml_read",
          "to_json": "json_write", "to_xml": "xml_write"}


def __getattr__(name: str) -> Any:
    # Imported on first use: the XML parser is not loaded by a run that only reads JSON.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
