"""Reading a MedCom acknowledgement (DOMAIN.md §2(c) point 2) into an :class:`Acknowledgement`.

An acknowledgement is itself a message Bundle: MessageHeader first, event ``acknowledgement``,
``response.identifier`` = the acknowledged MessageHeader.id, ``response.code`` one of ``ok`` |
``transient-error`` | ``fatal-error``, and ``response.details`` → an OperationOutcome in the same
Bundle (required when the code is not ``ok``, MedCom ``medcom-acknowledgement-1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

__all__ = ["AckCode", "Acknowledgement", "parse_acknowledgement"]

AckCode = Literal["ok", "transient-error", "fatal-error"]
ACK_CODES: frozenset[str] = frozenset({"ok", "transient-error", "fatal-error"})


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The receiver's answer to one message.

    Attributes:
        code: ``ok`` (received and valid), ``transient-error`` (the receiver failed; resend) or
            ``fatal-error`` (the message was refused; do not resend it unchanged).
        message_id: the acknowledged MessageHeader.id (``response.identifier``).
        issues: the ``issue`` elements of the acknowledgement's OperationOutcome.
        outcome: that OperationOutcome, or None when the acknowledgement has none.
        bundle: the acknowledgement message as received.
        attempts: how many transmissions it took (1 when the first was acknowledged).

    >>> ack = parse_acknowledgement({"resourceType": "Bundle", "type": "message", "entry": [
    ...     {"resource": {"resourceType": "MessageHeader",
    ...                   "response": {"identifier": "m-1", "code": "ok"}}}]})
    >>> ack.code, ack.message_id, ack.ok
    ('ok', 'm-1', True)
    """

    code: AckCode
    message_id: str
    issues: tuple[dict[str, Any], ...] = ()
    outcome: dict[str, Any] | None = None
    bundle: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """True for ``ok``: the message was delivered."""
        return self.code == "ok"

    def with_attempts(self, attempts: int) -> Acknowledgement:
        """The same acknowledgement, counting ``attempts`` transmissions."""
        return replace(self, attempts=attempts)


def parse_acknowledgement(bundle: Any) -> Acknowledgement:
    """Read an acknowledgement message.

    Args:
        bundle: the parsed body of a ``$process-message`` answer.

    Returns:
        The acknowledgement, its OperationOutcome resolved from ``response.details``.

    Raises:
        ValueError: ``bundle`` is no acknowledgement (the message says what is missing).
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("the answer is not a Bundle")
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    header = entries[0].get("resource") if entries else None
    if not isinstance(header, dict) or header.get("resourceType") != "MessageHeader":
        raise ValueError("the answer's first entry is not a MessageHeader")
    response = header.get("response")
    if not isinstance(response, dict):
        raise ValueError("the answer's MessageHeader has no response: not an acknowledgement")
    code, message_id = response.get("code"), response.get("identifier")
    if code not in ACK_CODES:
        raise ValueError(f"MessageHeader.response.code {code!r:.60} is not an acknowledgement "
                         "code")
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("MessageHeader.response.identifier is missing")
    outcome = _details(entries, response.get("details"))
    issues = outcome.get("issue") if outcome else None
    return Acknowledgement(cast(AckCode, code), message_id,
                           tuple(i for i in issues or [] if isinstance(i, dict)), outcome, bundle)


def _details(entries: list[dict[str, Any]], details: Any) -> dict[str, Any] | None:
    """The OperationOutcome ``response.details`` points at: by fullUrl, or by ``Type/id`` (a
    relative reference), or the Bundle's only OperationOutcome when the reference is missing."""
    outcomes = [e for e in entries if isinstance(e.get("resource"), Mapping)
                and e["resource"].get("resourceType") == "OperationOutcome"]
    ref = details.get("reference") if isinstance(details, dict) else None
    if isinstance(ref, str):
        for entry in outcomes:
            resource = entry["resource"]
            full_url = entry.get("fullUrl")
            if ref == full_url or ref == f"OperationOutcome/{resource.get('id')}" or (
                    isinstance(full_url, str) and full_url.endswith("/" + ref)):
                return cast(dict[str, Any], resource)
    if len(outcomes) == 1:
        return cast(dict[str, Any], outcomes[0]["resource"])
    return None
