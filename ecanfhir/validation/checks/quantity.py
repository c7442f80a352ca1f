"""UCUM annotations in Quantity codes (R4 datatypes.html#Quantity; UCUM §2.1.1 "annotations").

A UCUM code may carry an annotation in curly braces (``{cells}/uL``, ``{score}``). Annotations
mean nothing to UCUM: ``{cells}/uL`` and ``/uL`` are the same unit, so units are compared without
them, and a reader who only sees the code may miss what was counted. As the HL7 validator does:

=========================================  ===================================  ===========
Quantity with an annotated UCUM code        advice                               level
=========================================  ===================================  ===========
no ``unit``                                 give the unit, with the annotation   warning
a ``unit`` without the annotation's text    the unit should say what is counted  warning
a ``unit`` with it                          annotations are ignored in compares  information
=========================================  ===================================  ===========
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._issue import Issue

__all__ = ["QUANTITY_TYPES", "check_ucum_annotations"]

UCUM = "http://unitsofmeasure.org"
QUANTITY_TYPES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration", "MoneyQuantity",
                            "SimpleQuantity"})
_ANNOTATION = re.compile(r"\{([^{}]*)\}")


def check_ucum_annotations(value: Any, at: str) -> Iterator[Issue]:
    """Advice on a Quantity whose UCUM code has annotations."""
    if not isinstance(value, Mapping) or value.get("system") != UCUM:
        return
    code, unit = value.get("code"), value.get("unit")
    if not isinstance(code, str) or "{" not in code:
        return
    annotations = [a for a in _ANNOTATION.findall(code) if a]
    if not annotations:
        return
    shown = ", ".join("{" + a + "}" for a in annotations)
    if not isinstance(unit, str):
        yield Issue.warning("business-rule", at, f"the UCUM code '{code}' has annotations "
                            f"({shown}) that comparisons ignore: give a unit that says them",
                            "ucum-annotation")
    elif not all(a.lower() in unit.lower() for a in annotations):
        yield Issue.warning("business-rule", f"{at}.unit", f"the UCUM code '{code}' has "
                            f"annotations ({shown}) that the unit '{unit}' does not say",
                            "ucum-annotation")
    else:
        yield Issue.information("informational", f"{at}.code", f"the UCUM code '{code}' has "
                                f"annotations ({shown}), which comparisons ignore",
                                "ucum-annotation")
