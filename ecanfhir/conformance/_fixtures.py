"""Fixtures and variables: what a TestScript sends and what its asserts compare against.

Fixtures are ``contained`` resources (``TestScript.fixture.resource.reference = "#id"``), so a
suite is one self-contained JSON file that any TestScript engine can read.

Reliable messaging remembers ids (DOMAIN.md §2(c).5), so a fixed message sent twice, or by a
second run of the suite, is a *resend*, not a new message. This engine therefore **renews
UUIDs**: every UUID in a fixture (ids, ``urn:uuid:`` references, identifier values that embed
one) is replaced by a fresh UUID, consistently within one test (and within the setup), so the
fixtures of a test still reference each other while every test sends new messages.

A variable (``TestScript.variable``) is evaluated when a ``${name}`` naming it is used — in
``operation.url``/``params``/``requestHeader.value``, in assert values and expressions, in a
Binary fixture's text and in body patches: ``expression`` (FHIRPath) or ``path`` (a JSON path
``$.a.b[0]`` or ``a.b[0]``) on ``sourceId`` (a fixture or a ``responseId``; default the last
response), or ``headerField`` of that response; ``defaultValue`` when that finds nothing.

Body patch (ecanfhir extension ``ecan-testscript-body-patch`` on an operation, valueString
``path=value``, repeatable): before sending, set ``path`` (``a.b[0].c``) in a copy of the
``sourceId`` fixture. ``value`` is JSON when it parses (``null`` removes the element, ``[]``,
numbers…), else a string; variables and UUIDs are substituted/renewed in it. It turns one valid
fixture into an invalid message, a resend (``id=<another uuid>``) or an envelope reusing a
Bundle.id (``id=${firstBundleId}``) without shipping invalid resources in the package.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._model import SuiteError

__all__ = ["UUID", "Renewal", "StoredResponse", "apply_patch", "json_path", "substitute"]

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_\-]*)\}")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Renewal:
    """A consistent map from the UUIDs written in a suite to fresh ones (one per test)."""

    def __init__(self, fresh: Callable[[], str] | None = None) -> None:
        self._fresh = fresh or (lambda: str(uuid.uuid4()))
        self._map: dict[str, str] = {}

    def text(self, value: str) -> str:
        """``value`` with every UUID renewed.

        >>> r = Renewal(iter(["n1", "n2"]).__next__)
        >>> a = "11111111-1111-4111-8111-111111111111"
        >>> r.text(f"urn:uuid:{a}"), r.text(a)
        ('urn:uuid:n1', 'n1')
        """
        return UUID.sub(lambda m: self._renew(m.group(0).lower()), value)

    def _renew(self, old: str) -> str:
        if old not in self._map:
            self._map[old] = self._fresh()
        return self._map[old]

    def resource(self, node: Any) -> Any:
        """A deep copy of ``node`` with every UUID in its strings renewed."""
        if isinstance(node, dict):
            return {k: self.resource(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resource(v) for v in node]
        if isinstance(node, str):
            return self.text(node)
        return node


@dataclass(slots=True)
class StoredResponse:
    """A response kept under an operation's ``responseId`` (or the last one)."""

    status: int | None
    headers: dict[str, str]
    body: Any                      # parsed JSON, or None
    text: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None


def substitute(text: str, lookup: Callable[[str], str]) -> str:
    """Replace each ``${name}`` with ``lookup(name)``.

    >>> substitute("Bundle/${id}?x=${id}", {"id": "42"}.__getitem__)
    'Bundle/42?x=42'
    """
    return VARIABLE.sub(lambda m: lookup(m.group(1)), text)


def json_path(node: Any, path: str) -> list[Any]:
    """The values at a simple JSON path (``$.entry[0].resource.id``; a missing step: ``[]``).

    >>> json_path({"a": [{"b": 1}, {"b": 2}]}, "$.a[1].b")
    [2]
    >>> json_path({"a": [{"b": 1}, {"b": 2}]}, "a.b")
    [1, 2]
    """
    current = [node]
    for name, index in _STEP.findall(path.removeprefix("$").lstrip(".")):
        nxt: list[Any] = []
        for value in current:
            if index:
                if isinstance(value, list) and int(index) < len(value):
                    nxt.append(value[int(index)])
            elif isinstance(value, dict) and name in value:
                nxt.append(value[name])
            elif isinstance(value, list):
                nxt.extend(v[name] for v in value if isinstance(v, dict) and name in v)
        current = nxt
    return [v for value in current for v in (value if isinstance(value, list) else [value])]


def apply_patch(resource: Any, patch: str) -> Any:
    """A copy of ``resource`` with ``path=value`` applied (``null`` removes the element).

    >>> apply_patch({"id": "a", "entry": [{"x": 1}]}, "entry[0].x=2")
    {'id': 'a', 'entry': [{'x': 2}]}
    >>> apply_patch({"id": "a"}, "id=null")
    {}
    >>> apply_patch({"type": "message"}, "type=collection")
    {'type': 'collection'}
    """
    path, sep, raw = patch.partition("=")
    steps = _STEP.findall(path.strip())
    if not sep or not steps:
        raise SuiteError(f"body patch {patch!r}: write path=value, e.g. entry[0].resource.id=x")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    out = copy.deepcopy(resource)
    node = out
    for (name, index), (next_name, next_index) in zip(steps, [*steps[1:], ("", "")],
                                                      strict=True):
        key: Any = int(index) if index else name
        last = not (next_name or next_index)
        try:
            if last:
                if value is None:
                    del node[key]
                else:
                    node[key] = value
            else:
                if isinstance(node, dict) and key not in node:
                    node[key] = [] if next_index else {}
                node = node[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise SuiteError(f"body patch {patch!r}: no element at {path.strip()}") from exc
    return out


def binary_text(binary: Mapping[str, Any]) -> str:
    """The text carried by a Binary fixture (a raw HTTP body for bad-input tests)."""
    data = binary.get("data")
    if not isinstance(data, str):
        return ""
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SuiteError(f"Binary/{binary.get('id')}: data is not base64 UTF-8 text") from exc
