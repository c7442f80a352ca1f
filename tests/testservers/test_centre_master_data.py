"""Master data is not copied per message: an Organization with one SOR number is one stored
resource (conditional update by identifier), over real HTTP on both backends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from _centre_messages import CENTRE, referral
from fastapi import FastAPI

from ecanfhir.builders import Organization

LiveServer = tuple[str, FastAPI]
FHIR = {"Content-Type": "application/fhir+json"}
SOR = "urn:oid:1.2.208.176.1.1"


def _send(base: str, bundle: dict[str, Any]) -> None:
    answer = httpx.post(f"{base}/$process-message", content=json.dumps(bundle), headers=FHIR,
                        timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["entry"][0]["resource"]["response"]["code"] == "ok", answer.text


def _organizations(base: str, sor: str | None = None) -> list[dict[str, Any]]:
    params = {"identifier": f"{SOR}|{sor}"} if sor else {}
    bundle = httpx.get(f"{base}/Organization", params={**params, "_count": "100"},
                       timeout=30).json()
    return [e["resource"] for e in bundle.get("entry", ())]


def _from(sender: Organization, case: str, seed: int) -> dict[str, Any]:
    return referral(case, seed=seed, sender=sender)


def test_one_organization_per_sor_and_references_point_at_it(live_server: LiveServer) -> None:
    """Three messages from one department: one Organization for it and one for the centre,
    unchanged (version 1); every stored reference to the sender names that one."""
    base, _ = live_server
    for n in range(3):
        _send(base, referral(f"CASE-MD-{n}", seed=300 + n))
    hospital = _organizations(base, "123456789012")
    assert len(hospital) == 1
    assert hospital[0]["meta"]["versionId"] == "1"
    assert len(_organizations(base, CENTRE.sor)) == 1
    assert len(_organizations(base)) == 2
    headers = httpx.get(f"{base}/MessageHeader", params={"_count": "100"}, timeout=30).json()
    senders = {e["resource"]["sender"]["reference"] for e in headers["entry"]}
    assert senders == {f"Organization/{hospital[0]['id']}"}
    for entry in headers["entry"]:
        target = entry["resource"]["sender"]["reference"]
        assert httpx.get(f"{base}/{target}", timeout=30).status_code == 200


def test_changed_master_data_is_a_new_version_of_the_one_organization(
        live_server: LiveServer) -> None:
    """A department renamed in a later message: the same Organization, version 2, new name."""
    base, _ = live_server
    before = Organization("Hospital C oncology", sor="323456789012", gln="5790000121526")
    after = Organization("Hospital C, Department of Oncology", sor="323456789012",
                         gln="5790000121526")
    _send(base, _from(before, "CASE-MD-C1", 410))
    _send(base, _from(after, "CASE-MD-C2", 411))
    found = _organizations(base, "323456789012")
    assert len(found) == 1
    assert found[0]["name"] == after.name and found[0]["meta"]["versionId"] == "2"
    first = httpx.get(f"{base}/Organization/{found[0]['id']}/_history/1", timeout=30).json()
    assert first["name"] == before.name


def test_concurrent_messages_from_a_new_department_store_one_organization(
        live_server: LiveServer) -> None:
    """Eight messages of a department never seen before, in parallel: one Organization."""
    base, _ = live_server
    new = Organization("Hospital D oncology", sor="423456789012", gln="5790000121526")
    messages = [_from(new, f"CASE-MD-D{n}", 500 + n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda m: _send(base, m), messages))
    assert len(_organizations(base, "423456789012")) == 1
