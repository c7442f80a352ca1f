"""The centre serves the conformance resources it uses (the pilot package), over real HTTP:
KPI Measures, the message profile, the MessageDefinitions its CapabilityStatement names,
terminology, TestScripts and the PRO Questionnaire; and it declares exactly that."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ecanfhir.definitions.pilot import pilot_url

LiveServer = tuple[str, FastAPI]


def _get(base: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}/{path}", params=params, timeout=30)


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", ())]


def test_measure_search_lists_the_two_kpis(live_server: LiveServer) -> None:
    """GET /Measure is a searchset of the two KPI Measures, each readable by id."""
    base, _ = live_server
    found = _get(base, "Measure")
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("application/fhir+json")
    bundle = found.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 2
    assert _ids(bundle) == ["ecan-kpi-cancer-cases", "ecan-kpi-telemedicine-consultations"]
    measure = _get(base, "Measure/ecan-kpi-cancer-cases")
    assert measure.status_code == 200 and measure.headers["etag"] == 'W/"1"'
    assert measure.json()["url"] == pilot_url("Measure", "ecan-kpi-cancer-cases")
    assert "{{canonical}}" not in measure.text


def test_every_supported_message_definition_resolves(live_server: LiveServer) -> None:
    """Each canonical of CapabilityStatement.messaging.supportedMessage is found by url and
    read by id; the message profile is readable."""
    base, _ = live_server
    capability = _get(base, "metadata").json()
    canonicals = [m["definition"] for m in capability["messaging"][0]["supportedMessage"]]
    assert len(canonicals) == 3
    for canonical in canonicals:
        found = _get(base, "MessageDefinition", url=canonical).json()
        assert found["total"] == 1, canonical
        definition_id = found["entry"][0]["resource"]["id"]
        read = _get(base, f"MessageDefinition/{definition_id}")
        assert read.status_code == 200 and read.json()["url"] == canonical
    profile = _get(base, "StructureDefinition/ecan-message")
    assert profile.status_code == 200
    assert profile.json()["url"] == pilot_url("StructureDefinition", "ecan-message")


def test_terminology_testscripts_and_the_pro_questionnaire_are_served(
        live_server: LiveServer) -> None:
    """ValueSet, CodeSystem, TestScript and Questionnaire searches find the package's."""
    base, _ = live_server
    assert "ecan-message-events" in _ids(_get(base, "ValueSet", _count="100").json())
    assert "ecan-message-events" in _ids(_get(base, "CodeSystem", _count="100").json())
    assert _ids(_get(base, "TestScript").json()) == ["ecan-centre-endpoint",
                                                     "ecan-sender-behaviour"]
    questionnaire = _get(base, "Questionnaire",
                         url=pilot_url("Questionnaire", "ecan-pro-symptoms")).json()
    assert _ids(questionnaire) == ["ecan-pro-symptoms"]
    assert [i["linkId"] for i in questionnaire["entry"][0]["resource"]["item"]][:2] == [
        "fatigue", "pain"]


def test_definition_search_parameters(live_server: LiveServer) -> None:
    """url|version, name prefix (any case), status, _summary=count and _count paging."""
    base, _ = live_server
    url = pilot_url("StructureDefinition", "ecan-patient")
    assert _get(base, "StructureDefinition", url=f"{url}|0.1.0").json()["total"] == 1
    assert _get(base, "StructureDefinition", url=f"{url}|9.9").json()["total"] == 0
    names = _get(base, "StructureDefinition", name="ecanpatient", _count="100").json()
    assert _ids(names) == ["ecan-patient"]
    counted = _get(base, "ValueSet", status="draft", _summary="count").json()
    assert counted["total"] > 5 and "entry" not in counted
    page = _get(base, "ValueSet", _count="2").json()
    assert len(page["entry"]) == 2
    assert any(link["relation"] == "next" for link in page["link"])


@pytest.mark.parametrize(("method", "path", "params", "headers", "status", "code"), [
    ("GET", "Measure/no-such-measure", {}, {}, 404, "not-found"),
    ("GET", "StructureDefinition/ecan message", {}, {}, 400, "invalid"),
    ("GET", "ValueSet", {"_count": "²"}, {}, 400, "invalid"),
    ("GET", "ValueSet", {"_id": "\u0084"}, {}, 400, "invalid"),
    ("GET", "ValueSet", {"name:contains": "x"}, {}, 400, "not-supported"),
    ("GET", "CodeSystem", {"publisher": "x"}, {"Prefer": "handling=strict"}, 400,
     "not-supported"),
    ("POST", "Measure", {}, {"Content-Type": "application/fhir+json"}, 405, "not-supported"),
])
def test_definitions_answer_bad_requests_with_an_outcome(
        live_server: LiveServer, method: str, path: str, params: dict[str, str],
        headers: dict[str, str], status: int, code: str) -> None:
    base, _ = live_server
    answer = httpx.request(method, f"{base}/{path}", params=params, headers=headers,
                           content=b'{"resourceType": "Measure"}' if method == "POST" else None,
                           timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert answer.json()["issue"][0]["code"] == code


def test_the_capability_statement_declares_what_is_served(live_server: LiveServer) -> None:
    """Every declared resource type answers its declared search; definition types are
    read-only (read and search-type, no create) and are all declared."""
    base, _ = live_server
    capability = _get(base, "metadata").json()
    declared = {r["type"]: r for r in capability["rest"][0]["resource"]}
    for rtype in ("Measure", "StructureDefinition", "MessageDefinition", "ValueSet",
                  "CodeSystem", "ConceptMap", "TestScript", "Questionnaire"):
        codes = {i["code"] for i in declared[rtype]["interaction"]}
        assert codes == {"read", "search-type"}, rtype
    assert {o["name"] for o in declared["Measure"]["operation"]} == {"evaluate-measure"}
    assert "create" not in {i["code"] for i in declared["Bundle"]["interaction"]}
    for rtype, entry in declared.items():
        if any(i["code"] == "search-type" for i in entry["interaction"]):
            answer = _get(base, rtype, _summary="count")
            assert answer.status_code == 200, (rtype, answer.text)
            assert answer.json()["type"] == "searchset"
