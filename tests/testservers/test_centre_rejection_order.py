"""Over real HTTP: a rejection names the root cause before its consequences."""

from __future__ import annotations

import json

import httpx
from _centre_messages import referral
from fastapi import FastAPI

FHIR = {"Content-Type": "application/fhir+json"}


def test_bad_cpr_is_listed_before_the_references_that_fail_because_of_it(
        live_server: tuple[str, FastAPI]) -> None:
    """The Patient's invalid CPR number comes first; the six "referenced Patient does not
    conform" issues it causes follow it, in document order."""
    base, _app = live_server
    message = referral("CASE-ORDER", seed=7)
    patient = next(e for e in message["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"]["identifier"][0]["value"] = "3212489996"  # day 32: not a CPR date
    where = message["entry"].index(patient)
    with httpx.Client(base_url=base, timeout=30) as http:
        answer = http.post("/$process-message", content=json.dumps(message), headers=FHIR)
    assert answer.status_code == 200
    entries = [e["resource"] for e in answer.json()["entry"]]
    assert entries[0]["response"]["code"] == "fatal-error"
    outcome = next(r for r in entries if r["resourceType"] == "OperationOutcome")
    issues = outcome["issue"]
    assert issues[0]["code"] == "invariant"
    assert issues[0]["expression"] == [f"Bundle.entry[{where}].resource.identifier[0]"]
    consequences = [i for i in issues if "does not conform" in i["diagnostics"]]
    assert consequences and all(i["code"] == "structure" for i in consequences)
    assert issues[-len(consequences):] == consequences
    indexes = [int(i["expression"][0].split("[")[1].split("]")[0]) for i in consequences]
    assert indexes == sorted(indexes)
