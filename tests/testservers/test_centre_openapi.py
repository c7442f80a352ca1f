"""`GET /openapi.json` describes the HTTP API with FHIR content types, over real HTTP: every
route is there, FHIR POSTs take application/fhir+json, answers and errors are FHIR JSON, and
what the server answers matches what the document declares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Route

LiveServer = tuple[str, FastAPI]
FHIR_JSON = "application/fhir+json"


def _document(base: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _routes(routes: Iterable[Any]) -> Iterator[Route]:
    """The app's routes, also those of included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(route, Route):
            yield route


def test_every_route_is_described(live_server: LiveServer) -> None:
    """Each path and method the app routes (except the document itself and the refusals of
    writes to read-only types) is in the document."""
    base, app = live_server
    paths = _document(base)["paths"]
    described = 0
    for route in _routes(app.routes):
        if route.path == "/openapi.json" or not getattr(route, "include_in_schema", True):
            continue
        for method in route.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            assert method.lower() in paths.get(route.path, {}), (method, route.path)
            described += 1
    assert described >= 30


def test_fhir_operations_use_fhir_content_types(live_server: LiveServer) -> None:
    """$process-message takes and answers application/fhir+json; errors are OperationOutcomes."""
    base, _ = live_server
    document = _document(base)
    assert document["openapi"].startswith("3.")
    process = document["paths"]["/$process-message"]["post"]
    assert next(iter(process["requestBody"]["content"])) == FHIR_JSON
    assert process["requestBody"]["required"] is True
    assert next(iter(process["responses"]["200"]["content"])) == FHIR_JSON
    outcome = process["responses"]["4XX"]["content"][FHIR_JSON]["schema"]["$ref"]
    assert outcome == "#/components/schemas/OperationOutcome"
    search = document["paths"]["/{resource_type}"]["get"]
    assert {"_count", "_offset", "_summary"} <= {p["name"] for p in search["parameters"]}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if path not in ("/", "/auth/token", "/.well-known/smart-configuration") and (
                        "content" in answer and not path.startswith("/$recorded")):
                    assert next(iter(answer["content"])) == FHIR_JSON, (method, path, status)


def test_answers_match_the_document(live_server: LiveServer) -> None:
    """Every GET without path parameters answers a declared status with the declared type."""
    base, _ = live_server
    document = _document(base)
    checked = 0
    for path, operations in document["paths"].items():
        if "get" not in operations or "{" in path:
            continue
        answer = httpx.get(f"{base}{path}", timeout=30)
        declared = operations["get"]["responses"]
        key = str(answer.status_code) if str(answer.status_code) in declared else (
            f"{str(answer.status_code)[0]}XX")
        assert key in declared, (path, answer.status_code)
        media = answer.headers["content-type"].split(";")[0]
        assert media in declared[key].get("content", {media: None}), (path, media)
        assert answer.status_code < 500, (path, answer.text)
        checked += 1
    assert checked >= 10
