"""When two FHIR documents say the same thing: the yardstick of the JSON ↔ XML round trips.

* Two JSON forms are the same when their properties and array items are, with numbers compared
  by value (``1``, ``1.0`` and ``Decimal("1.00")`` are one number: readers differ in what they
  keep; against a float, to a float's precision) and the narrative ``div`` compared as XHTML
  (``&#x27;`` and ``'`` are one character; R4 §2.4.0.1 makes the div XHTML, not a string).
* Two XML documents are the same infoset (XML Infoset §2) when their elements have the same
  namespaced names, attributes (in any order) and text, with whitespace-only text between
  elements, comments and processing instructions left out (R4 §2.6.1: such whitespace is not
  significant outside the narrative).

Both return the differences as FHIRPath-like locations, empty when there are none.

>>> json_differences({"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2, "c": 3}]})
['.a[1].c: absent != 3']
>>> infoset_differences('<a xmlns="x" p="1" q="2"> <b/> </a>', '<a q="2" p="1" xmlns="x"><b/></a>')
[]
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import defusedxml.ElementTree as SafeET

__all__ = ["infoset_differences", "json_differences"]

_LIMIT = 20


def json_differences(a: Any, b: Any, *, at: str = "") -> list[str]:
    """Where two JSON forms differ (at most 20 places)."""
    found: list[str] = []
    _json(a, b, at, found)
    return found[:_LIMIT]


def _json(a: Any, b: Any, at: str, found: list[str]) -> None:
    if len(found) >= _LIMIT:
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in dict.fromkeys([*a, *b]):
            if key not in a or key not in b:
                found.append(f"{at}.{key}: {_short(a.get(key, _ABSENT))} != "
                             f"{_short(b.get(key, _ABSENT))}")
            elif key == "div" and isinstance(a[key], str) and isinstance(b[key], str):
                if _xhtml(a[key]) != _xhtml(b[key]):
                    found.append(f"{at}.div: the XHTML differs")
            else:
                _json(a[key], b[key], f"{at}.{key}", found)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            found.append(f"{at}: {len(a)} items != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _json(x, y, f"{at}[{i}]", found)
    elif _number(a) and _number(b):
        # A float holds ~17 digits: 66.899999999999991 read as a float is 66.89999999999999.
        same = (float(a) == float(b) if isinstance(a, float) or isinstance(b, float)
                else Decimal(a) == Decimal(b))
        if not same:
            found.append(f"{at}: {a} != {b}")
    elif type(a) is not type(b) or a != b:
        found.append(f"{at}: {_short(a)} != {_short(b)}")


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT = _Absent()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    return "absent" if value is _ABSENT else f"{value!r:.60}"


def _xhtml(text: str) -> str:
    if "<!DOCTYPE" in text.upper():  # never expand a DTD's entities
        return text
    try:
        return str(ET.canonicalize(xml_data=text, strip_text=False))
    except ET.ParseError:
        return text


def infoset_differences(a: str | bytes, b: str | bytes) -> list[str]:
    """Where two XML documents differ as infosets (at most 20 places)."""
    found: list[str] = []
    _element(SafeET.fromstring(a), SafeET.fromstring(b), "", found)
    return found[:_LIMIT]


def _element(a: ET.Element, b: ET.Element, at: str, found: list[str]) -> None:
    here = f"{at}/{_local(a.tag)}"
    if a.tag != b.tag:
        found.append(f"{here}: element {a.tag} != {b.tag}")
        return
    if a.attrib != b.attrib:
        found.append(f"{here}: attributes {a.attrib} != {b.attrib}")
    if _text(a.text) != _text(b.text):
        found.append(f"{here}: text {a.text!r:.40} != {b.text!r:.40}")
    ca, cb = list(a), list(b)
    if len(ca) != len(cb):
        found.append(f"{here}: {len(ca)} children != {len(cb)}: "
                     f"{[_local(c.tag) for c in ca]} != {[_local(c.tag) for c in cb]}"[:300])
    for i, (x, y) in enumerate(zip(ca, cb, strict=False)):
        if len(found) >= _LIMIT:
            return
        _element(x, y, f"{here}[{i}]", found)
        if _text(x.tail) != _text(y.tail):
            found.append(f"{here}[{i}]: text after it {x.tail!r:.40} != {y.tail!r:.40}")


def _text(text: str | None) -> str:
    return "" if text is None or not text.strip() else text


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
