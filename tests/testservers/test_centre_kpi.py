"""KPIs from the message log: duplicates and rejected messages are not counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from _centre_http import AppClient
from _centre_messages import consultation, referral

from ecanfhir.builders import resend

POP = "http://terminology.hl7.org/CodeSystem/measure-population"


def _post(client: AppClient, message: dict[str, Any]) -> str:
    response = client.post("/$process-message", content=json.dumps(message),
                           headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 200
    code: str = response.json()["entry"][0]["resource"]["response"]["code"]
    return code


def _counts(group: dict[str, Any]) -> dict[str, int]:
    return {p["code"]["coding"][0]["code"]: p["count"] for p in group["population"]}


def _strata(group: dict[str, Any], name: str) -> dict[str, int]:
    stratifier = next(s for s in group["stratifier"] if s["code"][0]["text"] == name)
    return {s["value"]["text"]: s["population"][0]["count"] for s in stratifier["stratum"]}


def _report(client: AppClient, measure: str, start: str, end: str) -> dict[str, Any]:
    response = client.get(f"/Measure/{measure}/$evaluate-measure?periodStart={start}"
                          f"&periodEnd={end}")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["resourceType"] == "MeasureReport" and report["type"] == "summary"
    assert report["status"] == "complete"
    return report


def test_cancer_cases_count_distinct_accepted_cases(client: AppClient) -> None:
    """2 ok cases (one sent twice as separate letters, one duplicated), 1 rejected."""
    first = referral("CASE-1", seed=1)
    assert _post(client, first) == "ok"
    assert _post(client, first) == "ok"                       # resend
    assert _post(client, resend(first)) == "ok"               # duplicate
    assert _post(client, referral("CASE-1", seed=11)) == "ok"  # same case, new letter
    assert _post(client, referral("CASE-2", seed=2, hospital="B", icd10="C34.1")) == "ok"
    rejected = referral("CASE-3", seed=3)
    rejected["entry"][0]["resource"]["eventCoding"]["code"] = "unknown-event"
    assert _post(client, rejected) == "fatal-error"
    group = _report(client, "ecan-kpi-cancer-cases", "2026-11-01", "2026-11-30")["group"][0]
    assert _counts(group) == {"initial-population": 3, "measure-population": 2}
    assert _strata(group, "sender-sor") == {"123456789012": 1, "223456789012": 1}
    assert _strata(group, "cancer-site") == {"C34": 1, "C50": 1}
    assert _strata(group, "tumour-board-outcome") == {"no": 2}
    empty = _report(client, "ecan-kpi-cancer-cases", "2025-01-01", "2025-12-31")["group"][0]
    assert _counts(empty) == {"initial-population": 0, "measure-population": 0}


def test_measure_report_carries_no_patient_data(client: AppClient) -> None:
    _post(client, referral("CASE-1", seed=1))
    text = client.get("/Measure/ecan-kpi-cancer-cases/$evaluate-measure?periodStart=2026"
                      "&periodEnd=2026").text
    assert "2512489996" not in text and "Patient" not in text and "CASE-1" not in text


def test_telemedicine_consultations_count_finished_virtual_encounters(
        client: AppClient) -> None:
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert _post(client, consultation("ENC-1", seed=1, at=at)) == "ok"
    assert _post(client, resend(consultation("ENC-1", seed=1, at=at))) == "ok"
    assert _post(client, consultation("ENC-2", seed=2, modality="phone",
                                      at=at.replace(day=25))) == "ok"
    assert _post(client, consultation("ENC-3", seed=3, status="planned",
                                      at=at.replace(day=26))) == "ok"
    report = _report(client, "ecan-kpi-telemedicine-consultations", "2026-11", "2026-11")
    group = report["group"][0]
    assert _counts(group) == {"initial-population": 3, "measure-population": 2}
    assert _strata(group, "modality") == {"phone": 1, "video": 1}
    assert _strata(group, "new-or-follow-up") == {"follow-up": 1, "new": 1}


def test_evaluate_measure_by_post_with_parameters(client: AppClient) -> None:
    _post(client, referral("CASE-1", seed=1))
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "periodStart", "valueDate": "2026-01-01"},
        {"name": "periodEnd", "valueDate": "2026-12-31"}]}
    response = client.post("/Measure/ecan-kpi-cancer-cases/$evaluate-measure", json=body)
    assert response.status_code == 200, response.text
    assert _counts(response.json()["group"][0])["measure-population"] == 1
