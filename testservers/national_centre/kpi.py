"""The pilot's two KPIs (DOMAIN.md §2(d)) as ``Measure/[id]/$evaluate-measure`` summary
MeasureReports, computed from the message log — first receipts with an ``ok`` ack only, so
resends, duplicates and rejected messages never count.

K1 ``ecan-kpi-cancer-cases``: initial population = accepted ``cancer-case-referral`` messages
whose Bundle.timestamp (first receipt) is in the period; measure population = distinct cases
(EcanCancerReferral.identifier, fallback patient + cancer site + sender SOR), retracted cases
removed. Strata: sender SOR, cancer site (ICD-10 3-character), referral reason, tumour-board
outcome received (yes/no).

K2 ``ecan-kpi-telemedicine-consultations``: initial population = accepted
``telemedicine-encounter`` messages in the period; measure population = distinct encounters
(identifier) whose latest message says ``class = VR``, ``status = finished`` and whose
``period.start`` is in the period. Strata: modality, service provider SOR, age band, new vs
follow-up (first finished consultation of that patient in the log, or not).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecanfhir.definitions.pilot import pilot_url

from ._dates import bounds, instant
from ._fhirio import FhirError
from ._kpifacts import SOR_SYSTEM
from .storage import MessageFact, Store, now

__all__ = ["MEASURES", "Period", "evaluate_measure", "parse_period"]

POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
MEASURES = {"ecan-kpi-cancer-cases": "cancer-case-referral",
            "ecan-kpi-telemedicine-consultations": "telemedicine-encounter"}


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime          # inclusive, UTC
    end: datetime            # exclusive, UTC
    start_text: str
    end_text: str

    def contains(self, instant: str | None) -> bool:
        moment = _instant(instant)
        return moment is not None and self.start <= moment < self.end


def parse_period(start: str | None, end: str | None) -> Period:
    """periodStart/periodEnd (date or dateTime); the end date is inclusive. 400 if invalid."""
    if not start or not end:
        raise FhirError(400, "required", "periodStart and periodEnd are both required")
    low, high = _bounds(start, "periodStart")[0], _bounds(end, "periodEnd")[1]
    if high <= low:
        raise FhirError(400, "invalid", "periodEnd is before periodStart")
    return Period(low, high, start, end)


def _bounds(text: str, name: str) -> tuple[datetime, datetime]:
    try:
        return bounds(text)
    except ValueError:
        raise FhirError(400, "invalid", f"{name}={text[:40]} is not a FHIR date or "
                        "dateTime") from None


def _instant(text: str | None) -> datetime | None:
    # A valid FHIR dateTime that Python cannot place in UTC (9999-12-31T23:30:00-05:00) is
    # left out of the KPI rather than clamped: no period it could be counted in is exact.
    return instant(text)


def evaluate_measure(store: Store, measure_id: str, period: Period, *,
                     reporter_name: str, reporter_sor: str) -> dict[str, Any]:
    """The summary MeasureReport of one pilot KPI; 404 for an unknown measure."""
    event = MEASURES.get(measure_id)
    if event is None:
        raise FhirError(404, "not-found", f"Measure/{measure_id} is not known here; the KPI "
                        f"measures are {', '.join(sorted(MEASURES))}")
    messages = [m for m in store.messages(event) if m.ack_code == "ok"]
    if event == "cancer-case-referral":
        outcomes = {case for m in store.messages("tumour-board-outcome") if m.ack_code == "ok"
                    for case in m.kpi.get("based_on_cases", ())}
        group = _cancer_cases(messages, period, outcomes)
    else:
        group = _consultations(messages, period)
    return {
        "resourceType": "MeasureReport", "id": str(uuid.uuid4()), "status": "complete",
        "type": "summary", "measure": pilot_url("Measure", measure_id), "date": now(),
        "period": {"start": period.start_text, "end": period.end_text},
        "reporter": {"identifier": {"system": SOR_SYSTEM, "value": reporter_sor},
                     "display": reporter_name},
        "group": [group],
    }


def _cancer_cases(messages: list[MessageFact], period: Period,
                  outcomes: set[str]) -> dict[str, Any]:
    retracted = {m.kpi.get("case") for m in messages if "retract-message" in
                 m.kpi.get("activities", ())}
    in_period = [m for m in messages if period.contains(m.bundle_timestamp or m.received)
                 and "retract-message" not in m.kpi.get("activities", ())]
    cases: dict[str, MessageFact] = {}
    for m in in_period:
        case = m.kpi.get("case")
        if isinstance(case, str) and case not in retracted:
            cases.setdefault(case, m)
    strata: dict[str, Callable[[str, MessageFact], str]] = {
        "sender-sor": lambda _c, m: str(m.kpi.get("sender", "unknown")),
        "cancer-site": lambda _c, m: str(m.kpi.get("cancer_site", "unknown")),
        "referral-reason": lambda _c, m: str(m.kpi.get("reason", "unknown")),
        "tumour-board-outcome": lambda c, _m: "yes" if c in outcomes else "no",
    }
    return _group(len(in_period), cases, strata)


def _consultations(messages: list[MessageFact], period: Period) -> dict[str, Any]:
    latest: dict[str, MessageFact] = {}
    for m in messages:  # oldest first: the last message of an encounter wins
        if isinstance(m.kpi.get("case"), str):
            latest[m.kpi["case"]] = m
    finished = {c: m for c, m in latest.items()
                if m.kpi.get("class") == "VR" and m.kpi.get("status") == "finished"}
    first_start: dict[str, datetime] = {}
    for m in finished.values():
        start = _instant(m.kpi.get("start"))
        patient = str(m.kpi.get("patient"))
        if start is not None and (patient not in first_start or start < first_start[patient]):
            first_start[patient] = start
    counted = {c: m for c, m in finished.items() if period.contains(m.kpi.get("start"))}

    def new_or_follow_up(_case: str, m: MessageFact) -> str:
        return "new" if first_start.get(str(m.kpi.get("patient"))) == _instant(
            m.kpi.get("start")) else "follow-up"

    strata: dict[str, Callable[[str, MessageFact], str]] = {
        "modality": lambda _c, m: str(m.kpi.get("modality", "unknown")),
        "service-provider-sor": lambda _c, m: str(m.kpi.get("provider", "unknown")),
        "age-band": lambda _c, m: str(m.kpi.get("age_band", "unknown")),
        "new-or-follow-up": new_or_follow_up,
    }
    initial = sum(1 for m in messages if period.contains(m.bundle_timestamp or m.received))
    return _group(initial, counted, strata)


def _group(initial: int, cases: Mapping[str, MessageFact],
           strata: Mapping[str, Callable[[str, MessageFact], str]]) -> dict[str, Any]:
    return {
        "population": [_population("initial-population", initial),
                       _population("measure-population", len(cases))],
        "stratifier": [_stratifier(name, (value(c, m) for c, m in cases.items()))
                       for name, value in strata.items()],
    }


def _stratifier(name: str, values: Iterable[str]) -> dict[str, Any]:
    counts = Counter(values)
    strata = [{"value": {"text": value}, "population": [_population("measure-population", n)]}
              for value, n in sorted(counts.items())]
    # No cases, no strata: FHIR JSON has no empty arrays (R4 §2.6.2), and XML could not say one.
    return {"code": [{"text": name}], **({"stratum": strata} if strata else {})}


def _population(code: str, count: int) -> dict[str, Any]:
    return {"code": {"coding": [{"system": POPULATION, "code": code}]}, "count": count}
