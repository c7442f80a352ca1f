"""Fault rules for ``$process-message``: the harness set and rule files (``serve --faults``).

A site testing its sender's retry logic needs the centre to misbehave on purpose. Rules are
:class:`~.settings.FaultRule` values, first match wins. They come from two places:

- :func:`harness_faults`: the rules the conformance suites expect (``serve --harness``): the
  sender SORs of :data:`ecanfhir.conformance.FAULT_SENDERS` get ``transient-error`` and
  ``fatal-error`` acknowledgements;
- :func:`load_fault_file`: a JSON file checked against :data:`FAULT_FILE_SCHEMA`::

    {"faults": [
      {"action": "transient-error", "sender": "555555555501"},
      {"action": "http-503", "event": "telemedicine-encounter", "retryAfter": 5,
       "probability": 0.25},
      {"action": "latency", "seconds": 2.5}
    ]}

  ``action`` is ``transient-error`` or ``fatal-error`` (that acknowledgement, nothing stored,
  so a resend is processed afresh), ``latency`` (wait ``seconds``, then process normally) or
  ``http-503`` (503 with ``Retry-After: retryAfter``). ``event`` (a code of
  ecan-message-events) and ``sender`` (the sender's SOR number) narrow the rule; absent, they
  match any message. ``probability`` (default 1) is the chance that a matching message is
  faulted. A file that breaks the schema is a :class:`FaultFileError` naming the place. The
  schema is also shipped as ``docs/centre-faults.schema.json`` (a file may name it in
  ``"$schema"``, for editors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from .settings import FaultRule

__all__ = ["FAULT_FILE_SCHEMA", "FaultFileError", "faults_from_json", "harness_faults",
           "load_fault_file"]

FAULT_FILE_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://ecanfhir.example/schema/centre-faults.json",
    "title": "Fault rules of the ecanfhir mock national cancer centre",
    "type": "object",
    "required": ["faults"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "faults": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["action"],
                "additionalProperties": False,
                "properties": {
                    "action": {"enum": ["transient-error", "fatal-error", "latency",
                                        "http-503"]},
                    "event": {"type": "string", "minLength": 1},
                    "sender": {"type": "string", "pattern": "^[0-9]{6,18}$"},
                    "seconds": {"type": "number", "minimum": 0, "maximum": 300},
                    "retryAfter": {"type": "integer", "minimum": 0, "maximum": 86400},
                    "probability": {"type": "number", "minimum": 0, "maximum": 1},
                    "description": {"type": "string"},
                },
            },
        },
    },
}


class FaultFileError(ValueError):
    """A fault rule file that cannot be read or breaks :data:`FAULT_FILE_SCHEMA`."""


def harness_faults() -> tuple[FaultRule, ...]:
    """The fault rules the shipped conformance suites need (``serve --harness``)."""
    from ecanfhir.conformance import FAULT_SENDERS

    return (FaultRule("transient-error", sender=FAULT_SENDERS["transient-error"]),
            FaultRule("fatal-error", sender=FAULT_SENDERS["fatal-error"]))


def faults_from_json(data: Any, *, where: str = "faults") -> tuple[FaultRule, ...]:
    """Rules from parsed JSON (raises :class:`FaultFileError` naming the first problem).

    >>> rules = faults_from_json({"faults": [{"action": "http-503", "retryAfter": 5}]})
    >>> rules[0].action, rules[0].retry_after, rules[0].probability
    ('http-503', 5, 1.0)
    """
    errors = sorted(jsonschema.Draft202012Validator(FAULT_FILE_SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        at = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        message = " ".join(str(first.message).split())[:300]
        raise FaultFileError(f"{where}: {at}: {message}")
    return tuple(FaultRule(rule["action"], event=rule.get("event"), sender=rule.get("sender"),
                           seconds=float(rule.get("seconds", 0.0)),
                           retry_after=int(rule.get("retryAfter", 30)),
                           probability=float(rule.get("probability", 1.0)))
                 for rule in data["faults"])


def load_fault_file(path: str | Path) -> tuple[FaultRule, ...]:
    """Rules from a JSON file (see the module docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise FaultFileError(f"{path}: cannot read: {reason}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FaultFileError(f"{path}: not JSON: {exc}") from exc
    return faults_from_json(data, where=str(path))
