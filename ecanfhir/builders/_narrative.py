"""Generated narrative (R4 §2.4 Narrative): MedCom requires ``text`` on MessageHeader, Provenance,
Organization and Patient (DOMAIN.md §4.8); the builders give every resource one.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["narrative"]


def narrative(*lines: str) -> dict[str, Any]:
    """A ``text`` element with status ``generated``: one escaped xhtml paragraph per line.

    >>> narrative("Breast cancer <C50.4>")["div"]
    '<div xmlns="http://www.w3.org/1999/xhtml"><p>Breast cancer &lt;C50.4&gt;</p></div>'
    """
    body = "".join(f"<p>{escape(line, quote=False)}</p>" for line in lines if line)
    return {"status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body or "<p>-</p>"}</div>'}
