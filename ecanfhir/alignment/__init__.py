"""Alignment report (``ecanfhir align``): the pilot's messages against the real national and
European profiles they claim to meet (DK-core, MedCom, HL7 Europe base, EU patient summary, IPS).

:func:`align` generates cases of every message kind, validates each resource against each of
its counterparts (:data:`ROWS`) and returns the matrix; the ``render_*`` functions write it.
"""

from __future__ import annotations

from ._counterparts import COUNTERPARTS, PACKAGES, ROWS, Row, counterpart_name, package_of
from ._deviations import DEVIATIONS_FILE, Deviation, load_deviations, parse_deviations
from ._matrix import (
    Alignment,
    Cell,
    Coverage,
    ErrorGroup,
    Status,
    align,
    load_counterparts,
    without_profiles,
)
from ._report import render_html, render_json, render_markdown, summary_line

__all__ = ["COUNTERPARTS", "DEVIATIONS_FILE", "PACKAGES", "ROWS", "Alignment", "Cell",
           "Coverage", "Deviation", "ErrorGroup", "Row", "Status", "align", "counterpart_name",
           "load_counterparts", "load_deviations", "package_of", "parse_deviations",
           "render_html", "render_json", "render_markdown", "summary_line",
           "without_profiles"]
