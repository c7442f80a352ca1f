"""Two things a ValueSet says beyond its codes, checked as the HL7 validator checks them:

- the supplements it requires (the ``valueset-supplement`` extension, R4 extension registry):
  each must be loaded, or the value set cannot be expanded as intended (the HL7 validator's
  ``VALUESET_SUPPLEMENT_MISSING``, raised by its value set expander); a warning;
- the displays of a SNOMED CT include: some written as fully specified names (with a semantic
  tag, "Asthma (disorder)") and some as preferred terms ("Asthma") mixes two kinds of term
  (``VALUESET_CONCEPT_DISPLAY_SCT_TAG_MIXED`` of its SnomedCTChecker); information.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ...definitions.registry import Registry
from .._issue import Issue

__all__ = ["SNOMED", "check_semantic_tags", "check_supplements"]

SNOMED = "http://snomed.info/sct"
SUPPLEMENT = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"
_SEMANTIC_TAG = re.compile(r"\s\([a-z][a-z /+-]*\)\s*$")  # "... (disorder)", "(body structure)"
_EXAMPLES = 2


def check_supplements(registry: Registry, vs: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """A warning naming the supplements the value set requires that are not loaded."""
    extensions = vs.get("extension")
    if not isinstance(extensions, list):
        return
    wanted = [ext.get("valueCanonical") for ext in extensions
              if isinstance(ext, Mapping) and ext.get("url") == SUPPLEMENT]
    missing = [url for url in wanted
               if isinstance(url, str) and registry.code_system(url) is None]
    if missing:
        noun = "supplement" if len(missing) == 1 else "supplements"
        yield Issue.warning("not-found", at, f"required {noun} not found: "
                            f"{', '.join(missing)}", "valueset-supplement")


def check_semantic_tags(concepts: list[tuple[int, Mapping[str, Any]]],
                        at: str) -> Iterator[Issue]:
    """Information when a SNOMED CT include mixes displays with and without semantic tags."""
    tagged: list[str] = []
    plain: list[str] = []
    for _, concept in concepts:
        display = concept.get("display")
        if isinstance(display, str):
            (tagged if _SEMANTIC_TAG.search(display) else plain).append(display)
    if tagged and plain:
        yield Issue.information(
            "business-rule", at, "this SNOMED CT include has some concepts with semantic tags "
            "(fully specified names) and some without (preferred terms): check that this is "
            f"intended (with: {', '.join(tagged[:_EXAMPLES])}; without: "
            f"{', '.join(plain[:_EXAMPLES])})", "valueset-concept")
