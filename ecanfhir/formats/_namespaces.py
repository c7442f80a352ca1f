"""The XML namespaces of FHIR's XML representation (R4 §2.6.1, xml.html): FHIR's own, and
XHTML's for the narrative's ``div`` (R4 narrative.html); one definition for the reader, the
writer and the tree they share."""

from __future__ import annotations

__all__ = ["FHIR_NS", "XHTML_NS"]

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
