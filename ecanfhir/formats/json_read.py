"""Reading FHIR JSON text: a syntax error becomes a located fatal issue, never an exception.

FHIR JSON (R4 json.html) is RFC 8259 JSON with stricter rules: each property once in an
object (§2.6.2), numbers as JSON numbers (no ``NaN`` or ``Infinity``), UTF-8 text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..validation._issue import Issue

__all__ = ["parse_json"]


def parse_json(text: str | bytes | bytearray) -> tuple[Any, Issue | None]:
    """Parse JSON text; a syntax error becomes a fatal issue naming line and column."""
    duplicates: list[str] = []
    try:
        parsed = json.loads(text, parse_constant=_reject_constant,
                            object_pairs_hook=lambda pairs: _object(pairs, duplicates))
    except _NotJson as exc:
        return None, Issue("fatal", "structure", "", f"the input is not valid JSON: {exc}"
                           f"{_position(text, str(exc).split()[0])}", "json-syntax")
    except UnicodeDecodeError as exc:
        return None, Issue("fatal", "structure", "", f"the input is not UTF-8 text ({exc.reason} "
                           f"at byte {exc.start})", "json-syntax")
    except json.JSONDecodeError as exc:
        return None, Issue("fatal", "structure", "", f"the input is not valid JSON: {exc.msg} at "
                           f"line {exc.lineno}, column {exc.colno}", "json-syntax")
    except RecursionError:
        return None, Issue("fatal", "structure", "", "the JSON is nested too deeply to read",
                           "json-syntax")
    except ValueError:  # an integer of more digits than Python converts (4300 by default)
        return None, Issue("fatal", "structure", "", "the input holds a number too long to "
                           "read", "json-syntax")
    if duplicates:
        names = ", ".join(f"'{d}'" for d in dict.fromkeys(duplicates))
        return None, Issue("fatal", "structure", "", f"the JSON has duplicate properties "
                           f"({names}): each property may appear once in an object (RFC 8259 "
                           "§4; FHIR JSON §2.6.2)", "json-duplicate")
    return parsed, None


def _position(text: str | bytes | bytearray, token: str) -> str:
    """ at line L, column C" of the first bare ``token`` (NaN, Infinity) in the text."""
    raw = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
    match = re.search(r'(?<!["\w])-?' + re.escape(token.lstrip("-")) + r"(?![\w\"])", raw)
    if match is None:
        return ""
    line = raw.count("\n", 0, match.start()) + 1
    column = match.start() - (raw.rfind("\n", 0, match.start()) + 1) + 1
    return f" at line {line}, column {column}"


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicates.extend(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return obj
