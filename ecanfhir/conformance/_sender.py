"""A minimal reliable sender (DOMAIN.md §2(c).6), the default "site's system" of the
``ecan-sender-behaviour`` suite when no other sender is plugged in.

``ok`` → delivered; ``fatal-error`` → failed, never resent; ``transient-error``, 5xx, 429 or
no answer → resent with a new Bundle.id and timestamp and the same MessageHeader.id, at most
``max_resends`` times (MedCom: 2).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = ["SiteSender"]


class SiteSender:
    """Send one message to ``endpoint/$process-message`` and resend as MedCom requires."""

    def __init__(self, http: httpx.Client | None = None, *, max_resends: int = 2,
                 backoff: float = 0.05) -> None:
        self.http = http or httpx.Client(timeout=30)
        self.max_resends = max_resends
        self.backoff = backoff

    def __call__(self, endpoint: str, bundle: dict[str, Any]) -> str:
        """Return the final acknowledgement code (or ``no-answer``)."""
        url = endpoint.rstrip("/") + "/$process-message"
        message = bundle
        code = "no-answer"
        for attempt in range(self.max_resends + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                message = {**message, "id": str(uuid.uuid4()),
                           "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
            code = self._send_once(url, message)
            if code in ("ok", "fatal-error"):
                return code
        return code

    def _send_once(self, url: str, message: dict[str, Any]) -> str:
        try:
            response = self.http.post(url, json=message,
                                      headers={"Content-Type": "application/fhir+json",
                                               "Accept": "application/fhir+json"})
        except httpx.HTTPError:
            return "no-answer"
        if response.status_code >= 500 or response.status_code == 429:
            return "transient-error"
        if response.status_code >= 400:
            return "fatal-error"
        try:
            header = response.json()["entry"][0]["resource"]
            return str(header["response"]["code"])
        except (ValueError, KeyError, IndexError, TypeError):
            return "no-answer"
