"""The retry policy's edges: Retry-After as an HTTP-date (past, ``-0000``, the default clock),
which 5xx answers are resent, and the refusal of a negative max_retries."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from ecanfhir.client import RetryPolicy, parse_retry_after
from ecanfhir.client._retry import is_retryable_status

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _answer(status: int, retry_after: str) -> httpx.Response:
    return httpx.Response(status, headers={"Retry-After": retry_after},
                          request=httpx.Request("POST", "http://centre.test"))


def test_http_date_in_the_past_is_no_wait() -> None:
    """A Retry-After date already gone means resend now (0 s), not a negative wait."""
    assert parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now=NOW) == 0.0


def test_http_date_minus_0000_zone_is_utc() -> None:
    """RFC 5322's -0000 zone (Python reads it as no zone) is taken as UTC, as GMT is."""
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 -0000", now=NOW) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=NOW) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 01:00:30 +0100", now=NOW) == 30.0


def test_default_clock_reads_http_dates() -> None:
    """Without an injected clock, the policy compares HTTP-dates with the real UTC time."""
    policy = RetryPolicy(random=lambda: 0.25)
    gone = _answer(503, "Thu, 01 Jan 1970 00:00:00 GMT")
    assert policy.delay(1, response=gone) == 0.0
    naive_zone = _answer(503, "Fri, 01 Jan 2100 00:00:00 -0000")
    assert policy.delay(1, response=naive_zone) == policy.retry_after_max


def test_retry_after_seconds_capped_and_unreadable_falls_back() -> None:
    """delay-seconds are used up to retry_after_max; an unreadable value means backoff."""
    policy = RetryPolicy(random=lambda: 0.5, retry_after_max=10.0, now=lambda: NOW)
    assert policy.delay(1, response=_answer(429, "7")) == 7.0
    assert policy.delay(1, response=_answer(429, "3600")) == 10.0
    assert policy.delay(2, response=_answer(429, "soon")) == 1.0


@pytest.mark.parametrize(("status", "resent"), [
    (429, True), (499, False), (500, True), (501, False), (503, True), (505, False),
    (599, True), (600, False),
])
def test_retryable_statuses(status: int, resent: bool) -> None:
    """429 and 5xx but 501 and 505 are resent; nothing from 600 on is a 5xx."""
    assert is_retryable_status(status) is resent


def test_negative_max_retries_refused_with_the_value() -> None:
    """The error names the bad value."""
    with pytest.raises(ValueError, match=r"^max_retries must be 0 or more, not -1$"):
        RetryPolicy(max_retries=-1)
