"""When to resend a message, and after how long (DOMAIN.md §2(c) point 6, MedCom MR5–MR7).

A message is resent after a ``transient-error`` acknowledgement, a timeout or broken connection,
or an HTTP 429 / 5xx answer, at most ``max_retries`` times (MedCom allows 2 resends). The wait is
the server's ``Retry-After`` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) when it sent one,
else exponential backoff with full jitter: ``random() * min(backoff_max, backoff_base * 2**(n-1))``
before the n-th retry. ``fatal-error`` and other 4xx answers are never retried.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ._ack import Acknowledgement

__all__ = ["RetryPolicy", "parse_retry_after"]

# 501 Not Implemented and 505 HTTP Version Not Supported will not change on a resend.
_PERMANENT_5XX = frozenset({501, 505})


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when absent or unreadable.

    >>> parse_retry_after("7", now=datetime(2026, 1, 1, tzinfo=UTC))
    7.0
    >>> parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=datetime(2026, 1, 1, tzinfo=UTC))
    30.0
    >>> parse_retry_after("soon", now=datetime(2026, 1, 1, tzinfo=UTC)) is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def is_retryable_status(status_code: int) -> bool:
    """429 Too Many Requests and 5xx answers (but 501, 505) are worth a resend."""
    return status_code == 429 or (500 <= status_code < 600
                                  and status_code not in _PERMANENT_5XX)


def is_retryable_error(error: Exception) -> bool:
    """Timeouts and network failures are worth a resend; a bad URL or proxy setup is not."""
    return isinstance(error, httpx.TimeoutException | httpx.NetworkError
                      | httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Whether, and after how long, to send a message again.

    Args:
        max_retries: resends after the first transmission (MedCom: 2).
        backoff_base: the cap of the first backoff, in seconds; it doubles per retry.
        backoff_max: the largest backoff cap, in seconds.
        retry_after_max: a longer ``Retry-After`` is shortened to this many seconds.
        random: returns a float in [0, 1) — the jitter source (fix it in tests).
        now: the current time, with a time zone (for HTTP-date ``Retry-After`` values).

    >>> policy = RetryPolicy(random=lambda: 0.5)
    >>> [policy.backoff(n) for n in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    >>> policy.delay(3, error=httpx.ConnectError("refused")) is None    # past max_retries
    True
    """

    max_retries: int = 2
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 1800.0
    random: Callable[[], float] = field(default=_random.random, repr=False)
    now: Callable[[], datetime] = field(default=_utc_now, repr=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {self.max_retries}")

    def backoff(self, retry: int) -> float:
        """Full-jitter backoff before the ``retry``-th resend (1-based)."""
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return self.random() * cap

    def delay(self, retry: int, *, response: httpx.Response | None = None,
              error: Exception | None = None, ack: Acknowledgement | None = None
              ) -> float | None:
        """Seconds to wait before the ``retry``-th resend, or None to stop.

        Args:
            retry: which resend this would be (1 for the first).
            response: the last HTTP answer, if any (its status and ``Retry-After`` count).
            error: the last transport failure, if any.
            ack: the last acknowledgement, if any (only ``transient-error`` is resent).
        """
        if retry > self.max_retries:
            return None
        if ack is not None:
            retryable = ack.code == "transient-error"
        elif response is not None:
            retryable = is_retryable_status(response.status_code)
        else:
            retryable = error is not None and is_retryable_error(error)
        if not retryable:
            return None
        if response is not None:
            wait = parse_retry_after(response.headers.get("Retry-After"), now=self.now())
            if wait is not None:
                return min(wait, self.retry_after_max)
        return self.backoff(retry)
