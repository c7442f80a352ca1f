"""Ids and clock for the builders: where every UUID and timestamp of a built message comes from.

MedCom (DOMAIN.md §2(c).4) wants UUID v4 ids (Bundle.id per transmission, MessageHeader.id per
letter) and timestamps with a time zone. Builders take both from a :class:`BuildContext`, so tests
and a seeded generator get the same bundle every time, and production gets fresh ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .._exceptions import BuildError
from .datatypes import GLN_SYSTEM_HTTPS, fhir_instant

__all__ = ["BuildContext"]


def _uuid4() -> str:
    return str(uuid.uuid4())


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BuildContext:
    """Where ids and "now" come from, and which GLN system URI to emit.

    Args:
        new_id: returns a new UUID v4 string (no ``urn:uuid:`` prefix).
        now: returns the current time, with a time zone.
        gln_system: the GLN identifier system emitted (DOMAIN.md §5.8: MedCom and EHMI use the
            ``https`` form today; DK-core ≥3.5.0 uses ``http://www.gs1.org/gln``).

    >>> ctx = BuildContext.seeded(7, at=datetime(2026, 11, 27, 9, 15, tzinfo=UTC))
    >>> ctx.timestamp(), len(ctx.new_id())
    ('2026-11-27T09:15:00+00:00', 36)
    """

    new_id: Callable[[], str] = field(default=_uuid4)
    now: Callable[[], datetime] = field(default=_utc_now)
    gln_system: str = GLN_SYSTEM_HTTPS

    @classmethod
    def seeded(cls, seed: int, *, at: datetime, gln_system: str = GLN_SYSTEM_HTTPS
               ) -> BuildContext:
        """A deterministic context: UUID v4 ids from ``random.Random(seed)``, the clock at ``at``.

        Raises:
            BuildError: ``at`` has no time zone.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise BuildError("BuildContext.at: needs a time zone (FHIR instants carry one)")
        rng = random.Random(seed)

        def new_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        return cls(new_id=new_id, now=lambda: at, gln_system=gln_system)

    def timestamp(self) -> str:
        """``now()`` as a FHIR instant.

        Raises:
            BuildError: the clock returned a naive datetime.
        """
        return fhir_instant(self.now(), "BuildContext.now")
