"""POST [base] transaction and batch Bundles, and create with If-None-Exist (FHIR R4
http.html §3.1.0.11 and §3.1.0.8.1), on both storage backends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from _centre_assertions import outcome_codes
from _centre_http import AppClient
from fastapi import FastAPI

from testservers.national_centre.storage import SearchQuery, TokenParam

FHIR = {"Content-Type": "application/fhir+json"}
SYSTEM = "urn:oid:1.2.208.176.1.2"
PATIENT_URN = "urn:uuid:9a4c1f0e-3b7d-4c55-8f1e-0d7e2c6a1b11"


def patient(cpr: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": SYSTEM, "value": cpr}],
            "name": [{"family": "Testpatient"}], **extra}


def observation(subject: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
            "subject": {"reference": subject}}


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def post(resource: dict[str, Any], url: str, *, full_url: str | None = None,
         if_none_exist: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": url}
    if if_none_exist is not None:
        request["ifNoneExist"] = if_none_exist
    entry: dict[str, Any] = {"resource": resource, "request": request}
    if full_url is not None:
        entry["fullUrl"] = full_url
    return entry


def send(client: AppClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post("/", content=json.dumps(body), headers={**FHIR, **headers})


def count(client: AppClient, query: str) -> int:
    total: int = client.get(f"/{query}&_summary=count").json()["total"]
    return total


def test_transaction_creates_and_rewrites_urn_uuid_references(client: AppClient) -> None:
    """Created resources get server ids; urn:uuid references point at them; the response
    carries status, location and etag for each entry."""
    response = send(client, bundle(
        "transaction", post(observation(PATIENT_URN), "Observation"),
        post(patient("0101010000"), "Patient", full_url=PATIENT_URN)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "transaction-response"
    results = [e["response"] for e in body["entry"]]
    assert [r["status"] for r in results] == ["201 Created", "201 Created"]
    assert all(r["etag"] == 'W/"1"' and "/_history/1" in r["location"] for r in results)
    observation_location, patient_location = (r["location"] for r in results)
    patient_id = patient_location.split("/")[-3]
    assert patient_id not in PATIENT_URN
    stored = client.get("/" + "/".join(observation_location.split("/")[-4:-2])).json()
    assert stored["subject"]["reference"] == f"Patient/{patient_id}"
    assert count(client, f"Observation?subject=Patient/{patient_id}") == 1


def test_transaction_is_all_or_nothing(client: AppClient) -> None:
    """One invalid resource: 422 with an OperationOutcome naming the entry; nothing stored."""
    response = send(client, bundle(
        "transaction", post(patient("0101010000"), "Patient", full_url=PATIENT_URN),
        post({**observation(PATIENT_URN), "status": "not-a-status"}, "Observation")))
    assert response.status_code == 422
    assert "code-invalid" in outcome_codes(response)
    assert response.json()["issue"][0]["expression"][0].startswith("Bundle.entry[1].resource")
    assert count(client, "Patient?identifier=0101010000") == 0


def test_failing_get_rolls_back_the_writes_before_it(client: AppClient) -> None:
    response = send(client, bundle(
        "transaction", post(patient("0101010000"), "Patient"),
        {"request": {"method": "GET", "url": "Patient/no-such-patient"}}))
    assert response.status_code == 404
    assert outcome_codes(response) == ["not-found"]
    assert count(client, "Patient?identifier=0101010000") == 0


def test_conditional_create_in_a_transaction_reuses_the_match(client: AppClient) -> None:
    """ifNoneExist with one match: 200, the existing resource untouched, and references to
    the entry's fullUrl point at it."""
    first = client.post("/Patient", content=json.dumps(patient("0101010000")), headers=FHIR)
    assert first.status_code == 201
    existing = first.json()["id"]
    response = send(client, bundle(
        "transaction",
        post(patient("0101010000", gender="male"), "Patient", full_url=PATIENT_URN,
             if_none_exist=f"identifier={SYSTEM}|0101010000"),
        post(observation(PATIENT_URN), "Observation")))
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[0]["response"]["location"].endswith(f"/Patient/{existing}/_history/1")
    current = client.get(f"/Patient/{existing}").json()
    assert current["meta"]["versionId"] == "1" and "gender" not in current
    assert count(client, f"Observation?subject=Patient/{existing}") == 1
    assert count(client, "Patient?identifier=0101010000") == 1


def test_conditional_create_with_two_matches_is_412(client: AppClient) -> None:
    for _ in range(2):
        assert client.post("/Patient", content=json.dumps(patient("0101010000")),
                           headers=FHIR).status_code == 201
    response = client.post("/Patient", content=json.dumps(patient("0101010000")),
                           headers={**FHIR, "If-None-Exist": "identifier=0101010000"})
    assert response.status_code == 412
    assert outcome_codes(response) == ["duplicate"]
    in_transaction = send(client, bundle("transaction", post(
        patient("0101010000"), "Patient", if_none_exist="identifier=0101010000")))
    assert in_transaction.status_code == 412
    assert count(client, "Patient?identifier=0101010000") == 2


def test_create_with_if_none_exist_header(client: AppClient) -> None:
    """201 with Location and ETag the first time; 200 with the same resource afterwards."""
    headers = {**FHIR, "If-None-Exist": f"identifier={SYSTEM}|0101010000"}
    first = client.post("/Patient", content=json.dumps(patient("0101010000")), headers=headers)
    assert first.status_code == 201
    assert first.headers["etag"] == 'W/"1"'
    assert first.headers["location"].endswith(f"/Patient/{first.json()['id']}/_history/1")
    again = client.post("/Patient", content=json.dumps(patient("0101010000")), headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["meta"]["versionId"] == "1"


def test_bad_conditional_criteria_and_bodies(client: AppClient) -> None:
    """Unknown search parameters are refused, never read as 'match everything'."""
    unknown = client.post("/Patient", content=json.dumps(patient("1")),
                          headers={**FHIR, "If-None-Exist": "name=Testpatient"})
    assert unknown.status_code == 400
    assert outcome_codes(unknown) == ["not-supported"]
    wrong_type = client.post("/Observation", content=json.dumps(patient("1")), headers=FHIR)
    assert wrong_type.status_code == 400
    unknown_type = client.post("/Patiens", content=json.dumps(patient("1")), headers=FHIR)
    assert unknown_type.status_code == 404
    not_a_bundle = send(client, patient("1"))
    assert not_a_bundle.status_code == 400
    delete = send(client, bundle("transaction",
                                 {"request": {"method": "DELETE", "url": "Patient/1"}}))
    assert delete.status_code == 405
    no_request = send(client, bundle("transaction", {"resource": patient("1")}))
    assert no_request.status_code == 400
    assert outcome_codes(no_request) == ["required"]


def test_update_with_if_match(client: AppClient) -> None:
    """PUT creates at a client id, updates with a new version; a stale ifMatch is 412."""
    put = {"resource": {**patient("0101010000"), "id": "p1"},
           "request": {"method": "PUT", "url": "Patient/p1"}}
    created = send(client, bundle("transaction", put))
    assert created.json()["entry"][0]["response"]["status"] == "201 Created"
    updated = send(client, bundle("transaction", put))
    assert updated.json()["entry"][0]["response"]["etag"] == 'W/"2"'
    stale = {**put, "request": {**put["request"], "ifMatch": 'W/"1"'}}
    refused = send(client, bundle("transaction", stale))
    assert refused.status_code == 412
    assert client.get("/Patient/p1").headers["etag"] == 'W/"2"'


def test_batch_answers_each_entry(client: AppClient) -> None:
    """Batch entries succeed or fail on their own; GET entries read and search."""
    created = client.post("/Patient", content=json.dumps(patient("0101010000")), headers=FHIR)
    pid = created.json()["id"]
    response = send(client, bundle(
        "batch", post(patient("0202020000"), "Patient"),
        post({**patient("0303030000"), "gender": "nonsense"}, "Patient"),
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": "Patient?identifier=0202020000"}},
        {"request": {"method": "GET", "url": "Patient/missing"}}),
        Prefer="return=representation")
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert response.json()["type"] == "batch-response"
    assert [e["response"]["status"][:3] for e in entries] == ["201", "422", "200", "200", "404"]
    assert entries[0]["resource"]["identifier"][0]["value"] == "0202020000"
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[2]["resource"]["id"] == pid
    assert entries[3]["resource"]["total"] == 1
    assert count(client, "Patient?identifier=0303030000") == 0


def test_parallel_conditional_creates_make_one_resource(
        live_server: tuple[str, FastAPI]) -> None:
    """20 concurrent creates with one identifier (If-None-Exist and ifNoneExist in
    transactions) over real HTTP: one Patient, every answer naming it."""
    base, app = live_server
    criterion = f"identifier={SYSTEM}|0101010000"
    single = json.dumps(patient("0101010000"))
    in_bundle = json.dumps(bundle("transaction", post(
        patient("0101010000"), "Patient", full_url=PATIENT_URN, if_none_exist=criterion),
        post(observation(PATIENT_URN), "Observation")))

    def create(n: int) -> str:
        with httpx.Client(base_url=base, timeout=60) as http:
            if n % 2:
                response = http.post("/Patient", content=single,
                                     headers={**FHIR, "If-None-Exist": criterion})
                assert response.status_code in (200, 201), response.text
                return str(response.json()["id"])
            response = http.post("/", content=in_bundle, headers=FHIR)
            assert response.status_code == 200, response.text
            return str(response.json()["entry"][0]["response"]["location"].split("/")[-3])

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = set(pool.map(create, range(20)))
    assert len(ids) == 1
    store = app.state.services.store
    query = SearchQuery("Patient", tokens=(("identifier", (TokenParam(SYSTEM, "0101010000"),)),))
    assert store.search(query).total == 1
    observations = SearchQuery("Observation", tokens=(("subject", (TokenParam(
        "Patient", ids.pop()),)),), summary_count=True)
    assert store.search(observations).total == 10
