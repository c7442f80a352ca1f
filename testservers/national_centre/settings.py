"""Settings of the mock national cancer centre: one frozen value passed to ``create_app``."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AuthSettings", "CentreIdentity", "FaultRule", "RegisteredClient", "Settings"]

FaultAction = Literal["transient-error", "fatal-error", "latency", "http-503"]


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A fault to inject into ``$process-message`` for messages matching ``event``/``sender``.

    ``event`` is a code of ecan-message-events, ``sender`` the sender's SOR number; None
    matches any. ``latency`` sleeps ``seconds`` and then processes the message normally;
    ``http-503`` answers 503 with ``Retry-After: retry_after``; the two ack codes answer with
    that acknowledgement without storing the message (so a resend is processed afresh).
    ``probability`` is the chance that a matching message is faulted (drawn per message).
    """

    action: FaultAction
    event: str | None = None
    sender: str | None = None
    seconds: float = 0.0
    retry_after: int = 30
    probability: float = 1.0

    def matches(self, event: str | None, sender: str | None) -> bool:
        return ((self.event is None or self.event == event)
                and (self.sender is None or self.sender == sender)
                and (self.probability >= 1.0 or random.random() < self.probability))


@dataclass(frozen=True, slots=True)
class CentreIdentity:
    """The acknowledging organisation (synthetic SOR and GLN numbers by default)."""

    name: str = "Mock National Cancer Centre"
    sor: str = "987654321098"
    gln: str = "5790000000005"


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A SMART Backend Services client: its public keys (a JWK Set, as parsed JSON) and the
    scopes it may be granted (SMART v1 ``system/Bundle.write`` or v2 ``system/*.rs`` forms)."""

    client_id: str
    jwks: Mapping[str, Any]
    scopes: tuple[str, ...] = ("system/*.*",)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """SMART Backend Services (``--auth``): registered clients and token lifetimes.

    ``token_secret`` signs the access tokens (HS256); None draws a random one per app, so
    several workers sharing a database need a common secret.
    """

    clients: tuple[RegisteredClient, ...] = ()
    token_seconds: int = 300
    max_assertion_seconds: int = 300
    token_secret: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs.

    Args:
        database: an SQLite file path, ``sqlite:///PATH``, or ``:memory:``-like test paths;
            or a ``postgresql://`` URL (the PostgreSQL store, for several workers).
        base_url: the server's public base, used in ``fullUrl``, paging links and metadata.
        max_body_bytes: larger request bodies are refused with 413.
        max_json_depth: deeper JSON nesting is refused with 400.
        reliable_cache_minutes: how long message ids are promised to be remembered for
            duplicate detection, declared in CapabilityStatement.messaging.reliableCache (the
            SQLite store in fact never forgets them).
        faults: fault-injection rules, first match wins.
        message_profile: the profile messages are validated against when the pilot package
            defines it (None: the pilot's EcanMessage canonical).
        auth: SMART Backend Services settings; None (the default) leaves every route open.
        recorder: keep every request and its answer in memory and serve them at
            ``/$recorded-requests`` (the conformance harness, ``serve --harness``).
        warm: at start-up, before the first request, validate a synthetic referral (so the
            first message does not pay for compiling the pilot's profiles) and move what was
            built out of the garbage collector's sight (``ecanfhir serve`` sets it).
        validation_processes: validate messages in this many child processes, forked at
            start-up (:class:`~.validation_pool.ValidationPool`: on every core, outside the
            serving process's GIL); 0 validates them in the request threads.
    """

    database: str = "national-centre.sqlite3"
    base_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 64
    reliable_cache_minutes: int = 30 * 24 * 60
    faults: tuple[FaultRule, ...] = ()
    centre: CentreIdentity = field(default_factory=CentreIdentity)
    message_profile: str | None = None
    default_count: int = 20
    max_count: int = 500
    auth: AuthSettings | None = None
    recorder: bool = False
    warm: bool = False
    validation_processes: int = 0
