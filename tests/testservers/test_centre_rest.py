"""FHIR REST: metadata, read/vread with ETag, search and paging, $validate."""

from __future__ import annotations

import json
from typing import Any

from _centre_assertions import outcome_codes
from _centre_http import AppClient
from _centre_messages import consultation, referral

from ecanfhir import Validator, pilot_registry, pilot_url


def _store(client: AppClient, *messages: dict[str, Any]) -> None:
    for message in messages:
        response = client.post("/$process-message", content=json.dumps(message),
                               headers={"Content-Type": "application/fhir+json"})
        header = response.json()["entry"][0]["resource"]
        assert header["response"]["code"] == "ok", response.text


def _resource(message: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return next(e["resource"] for e in message["entry"]
                if e["resource"]["resourceType"] == resource_type)


def test_metadata_declares_messaging_with_reliable_cache(client: AppClient) -> None:
    response = client.get("/metadata")
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    assert body["messaging"][0]["reliableCache"] > 0
    assert body["messaging"][0]["endpoint"][0]["address"].endswith("/$process-message")
    assert client.get("/metadata").content == response.content
    messages = {m["definition"] for m in body["messaging"][0]["supportedMessage"]}
    assert pilot_url("MessageDefinition", "ecan-cancer-case-referral") in messages


def test_metadata_is_a_valid_capability_statement_declaring_writes(client: AppClient) -> None:
    """What the centre accepts: transaction/batch, (conditional) create; and the statement
    itself validates, and every supported message names a MessageDefinition of the package."""
    body = client.get("/metadata").json()
    assert Validator(pilot_registry()).validate(body).errors == ()
    rest = body["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert patient["conditionalCreate"] is True
    registry = pilot_registry()
    for message in body["messaging"][0]["supportedMessage"]:
        assert registry.get(message["definition"], "MessageDefinition") is not None


def test_read_and_vread_carry_etag_and_last_modified(client: AppClient) -> None:
    first, second = referral("CASE-1", seed=1), referral("CASE-2", seed=2)
    patient_id = _resource(first, "Patient")["id"]
    _resource(second, "Patient")["id"] = patient_id
    for entry in second["entry"]:   # the same patient, sent again in a second message
        if entry["resource"]["resourceType"] == "Patient":
            old = entry["fullUrl"]
            entry["fullUrl"] = f"urn:uuid:{patient_id}"
    second = json.loads(json.dumps(second).replace(old, f"urn:uuid:{patient_id}"))
    _store(client, first, second)
    current = client.get(f"/Patient/{patient_id}")
    assert current.status_code == 200
    assert current.headers["etag"] == 'W/"2"'
    assert "GMT" in current.headers["last-modified"]
    assert current.json()["meta"]["versionId"] == "2"
    old_version = client.get(f"/Patient/{patient_id}/_history/1")
    assert old_version.headers["etag"] == 'W/"1"'
    assert client.get(f"/Patient/{patient_id}/_history/3").status_code == 404


def test_search_by_each_parameter(client: AppClient) -> None:
    ref, enc = referral("CASE-1", seed=1), consultation("ENC-1", seed=2)
    _store(client, ref, enc)
    request, encounter = _resource(ref, "ServiceRequest"), _resource(enc, "Encounter")
    patient = _resource(ref, "Patient")
    case_ident = request["identifier"][0]

    def ids(url: str) -> list[str]:
        response = client.get(url)
        assert response.status_code == 200, response.text
        return [e["resource"]["id"] for e in response.json().get("entry", [])]

    assert ids(f"/ServiceRequest?_id={request['id']}") == [request["id"]]
    assert ids(f"/ServiceRequest?identifier={case_ident['system']}|{case_ident['value']}") == [
        request["id"]]
    assert ids(f"/ServiceRequest?identifier={case_ident['value']}") == [request["id"]]
    assert ids("/ServiceRequest?identifier=other|CASE-1") == []
    assert ids(f"/ServiceRequest?patient=Patient/{patient['id']}") == [request["id"]]
    assert ids(f"/ServiceRequest?subject={patient['id']}") == [request["id"]]
    assert ids("/Encounter?class=http://terminology.hl7.org/CodeSystem/v3-ActCode|VR") == [
        encounter["id"]]
    assert ids("/Encounter?class=AMB") == []
    assert ids("/Encounter?status=finished") == [encounter["id"]]
    assert ids("/Encounter?status=planned,finished") == [encounter["id"]]
    assert ids("/Encounter?_lastUpdated=ge2000-01-01") == [encounter["id"]]
    assert ids("/Encounter?_lastUpdated=lt2000-01-01") == []
    assert ids("/Encounter?_lastUpdated=gt2000&_lastUpdated=le2999") == [encounter["id"]]


def test_paging_follows_next_links(client: AppClient) -> None:
    _store(client, *(referral(f"CASE-{n}", seed=n) for n in range(5)))
    url, seen = "/ServiceRequest?_count=2", []
    while url:
        page = client.get(url).json()
        assert page["total"] == 5 and len(page.get("entry", [])) <= 2
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = nxt[0].removeprefix("http://centre.test") if nxt else ""
    assert len(seen) == len(set(seen)) == 5


def test_summary_count_returns_the_total_only(client: AppClient) -> None:
    _store(client, referral("CASE-1", seed=1), referral("CASE-2", seed=2))
    body = client.get("/ServiceRequest?_summary=count").json()
    assert body["total"] == 2 and "entry" not in body


def test_validate_answers_200_with_an_outcome_whatever_the_verdict(client: AppClient) -> None:
    good = client.post("/$validate", json={"resourceType": "Patient", "gender": "male"})
    assert good.status_code == 200 and outcome_codes(good)
    assert {i["severity"] for i in good.json()["issue"]} <= {"warning", "information"}
    bad = client.post("/Patient/$validate", json={"resourceType": "Patient", "gender": "mal"})
    assert bad.status_code == 200 and "code-invalid" in outcome_codes(bad)
    wrong_type = client.post("/Encounter/$validate", json={"resourceType": "Patient"})
    assert wrong_type.status_code == 200 and outcome_codes(wrong_type)[0] == "invalid"
    message = referral("CASE-1", seed=1)
    wrapped = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": message},
        {"name": "profile", "valueUri": pilot_url("StructureDefinition", "ecan-message")}]}
    assert "invalid" not in outcome_codes(client.post("/$validate", json=wrapped))
