"""The end-to-end demo (``ecanfhir demo``): the whole pilot in one run, on this machine.

1. start the mock national cancer centre (``testservers``) on a free loopback port, with a
   temporary SQLite store, the request recorder on, and the fault rules the conformance suite
   uses (two reserved sender SOR numbers answered with transient-error / fatal-error);
2. generate synthetic cases (:mod:`ecanfhir.synthetic`): cancer-case referrals, telemedicine
   encounters, a few invalid messages, and resends of some valid ones (new Bundle.id, same
   MessageHeader.id: duplicates the centre must acknowledge once);
3. send them with the reliable client (:mod:`ecanfhir.client`) and tally the acknowledgements;
4. ask the centre for the two pilot KPIs (``Measure/$evaluate-measure``);
5. run the conformance suites (:mod:`ecanfhir.conformance`) and write their reports;
6. stop the centre.

Everything is synthetic (fictitious patients and CPR numbers) and stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._frozen import frozen

__all__ = ["DemoResult", "KpiFigure", "run_demo"]

KPI_MEASURES = ("ecan-kpi-cancer-cases", "ecan-kpi-telemedicine-consultations")


@frozen
class KpiFigure:
    """One population of a KPI MeasureReport."""

    measure: str
    population: str
    count: int


@dataclass(slots=True)
class DemoResult:
    """What the demo did and saw."""

    endpoint: str = ""
    sent: int = 0
    acknowledgements: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    kpis: list[KpiFigure] = field(default_factory=list)
    conformance: dict[str, int] = field(default_factory=dict)
    conformance_ok: bool = False
    reports: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every message got the acknowledgement it should, and conformance passed."""
        return self.acknowledgements == self.expected and self.conformance_ok


@contextlib.contextmanager
def _running_centre(database: Path) -> Iterator[str]:
    """The mock centre in a background thread on 127.0.0.1; yields its base URL."""
    from testservers.national_centre import create_app
    from testservers.national_centre.faults import harness_faults
    from testservers.national_centre.running import free_port, serve_in_thread
    from testservers.national_centre.settings import Settings

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # As `ecanfhir serve --harness`: the sender suite reads what was sent from the recorder.
    app = create_app(Settings(database=str(database), base_url=base, faults=harness_faults(),
                              recorder=True))
    with serve_in_thread(app, port) as base:
        yield base


def _messages(count: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    """(bundle, acknowledgement it must get): valid, invalid and resent messages."""
    from .builders import resend
    from .synthetic import Kind, generate

    # One seed serves every set: the generator keeps kinds and invalid sets apart.
    kinds: tuple[Kind, ...] = ("referral", "telemedicine")
    valid = [f.bundle for kind in kinds for f in generate(kind, count=count, seed=seed)]
    invalid = [f.bundle for kind in kinds
               for f in generate(kind, count=max(1, count // 5), seed=seed, invalid=True)]
    resent = [resend(bundle) for bundle in valid[: max(1, count // 5)]]
    return ([(b, "ok") for b in valid] + [(b, "fatal-error") for b in invalid]
            + [(b, "ok") for b in resent])


def _kpis(client: Any, period: tuple[str, str]) -> list[KpiFigure]:
    figures = []
    for measure in KPI_MEASURES:
        report = client.evaluate_measure(measure, period_start=period[0], period_end=period[1])
        for group in report.get("group", ()):
            for population in group.get("population", ()):
                code = population.get("code", {}).get("coding", [{}])[0].get("code", "?")
                figures.append(KpiFigure(measure, str(code), int(population.get("count", 0))))
    return figures


def _period(bundles: list[dict[str, Any]]) -> tuple[str, str]:
    days = sorted(str(b.get("timestamp", ""))[:10] for b in bundles if b.get("timestamp"))
    return (days[0], days[-1]) if days else ("2000-01-01", "2100-12-31")


def run_demo(out: str | Path, *, count: int = 20, seed: int = 2026,
             say: Callable[[str], None] = print) -> DemoResult:
    """Run the whole pilot on this machine; reports go to ``out``.

    Args:
        out: folder for the conformance reports (created).
        count: synthetic cases per kind (referrals, telemedicine encounters); a fifth as many
            invalid messages and resends are added.
        seed: the synthetic data's seed (same seed, same messages).
        say: where progress lines go.
    """
    from .client import Client
    from .conformance import run, select, write_reports

    started = time.monotonic()
    result = DemoResult()
    out = Path(out)
    messages = _messages(count, seed)
    with tempfile.TemporaryDirectory(prefix="ecanfhir-demo-") as tmp, \
            _running_centre(Path(tmp) / "centre.sqlite3") as base:
        result.endpoint = base
        say(f"mock national cancer centre on {base} (temporary SQLite store)")
        say(f"sending {len(messages)} synthetic messages (valid, invalid and resent)")
        with Client(base, sleep=lambda seconds: None) as client:
            for bundle, expected in messages:
                ack = client.send_message(bundle)
                result.sent += 1
                result.acknowledgements[ack.code] += 1
                result.expected[expected] += 1
            result.duplicates = len(messages) - len(
                {b["entry"][0]["resource"]["id"] for b, _ in messages})  # resent letters
            result.kpis = _kpis(client, _period([b for b, _ in messages]))
        say("running the conformance suites")
        run_result = run(base, select([]))
        result.conformance = run_result.counts()
        result.conformance_ok = run_result.ok
        result.reports = [Path(p) for p in write_reports(run_result, out)]
    result.seconds = time.monotonic() - started
    return result
