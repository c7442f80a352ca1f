"""Small synthetic resources shared by the validation tests."""

from __future__ import annotations

from typing import Any

NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Synthetic test data</div>'}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SNOMED = "http://snomed.info/sct"


def condition(**elements: Any) -> dict[str, Any]:
    """A Condition with narrative and subject, plus ``elements``."""
    return {"resourceType": "Condition", "text": NARRATIVE,
            "subject": {"display": "Synthetic patient"}, **elements}
