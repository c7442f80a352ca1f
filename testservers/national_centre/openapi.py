"""``GET /openapi.json``: the HTTP API as OpenAPI 3.1, with FHIR's content types.

FastAPI derives the paths from the routes, but the handlers read FHIR JSON themselves (depth and
size limits, ``_format`` negotiation), so FastAPI knows no request bodies and would describe
every answer as ``application/json``. This module completes its document so that a generic
tool (schemathesis, an API gateway) can drive the server:

- request bodies of the FHIR POSTs are ``application/fhir+json`` resources (``$process-message``
  a message Bundle; the token endpoint a form);
- answers are ``application/fhir+json``: the resource, a Bundle, or an OperationOutcome for
  every 4xx/5xx (FastAPI's 422 is answered 400 here);
- search operations list their paging and common parameters.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ecanfhir import __version__

__all__ = ["fhir_openapi", "install_openapi"]

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
_REF = "#/components/schemas/"
_SCHEMAS: dict[str, Any] = {
    "Resource": {"type": "object", "required": ["resourceType"],
                 "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
                 "additionalProperties": True,
                 "description": "A FHIR R4 resource in JSON (http://hl7.org/fhir/R4/json.html)"},
    "Bundle": {"allOf": [{"$ref": _REF + "Resource"}],
               "properties": {"resourceType": {"const": "Bundle"}, "type": {"type": "string"},
                              "entry": {"type": "array", "items": {"type": "object"}}}},
    "Message": {"allOf": [{"$ref": _REF + "Bundle"}], "required": ["id", "type", "entry"],
                "properties": {"type": {"const": "message"}, "id": {"type": "string",
                                                                   "minLength": 1},
                               "entry": {"type": "array", "minItems": 1}},
                "description": "A message Bundle: its first entry is the MessageHeader"},
    "TransactionOrBatch": {"allOf": [{"$ref": _REF + "Bundle"}], "required": ["type"],
                           "properties": {"type": {"enum": ["transaction", "batch"]}}},
    "OperationOutcome": {"allOf": [{"$ref": _REF + "Resource"}],
                         "properties": {"resourceType": {"const": "OperationOutcome"},
                                        "issue": {"type": "array",
                                                  "items": {"type": "object"}}}},
}
_ID = r"[A-Za-z0-9\-.]{1,64}"
_COUNT = {"type": "string", "pattern": "^[0-9]{1,9}$"}
# What the server accepts, so that a fuzzer's "valid" requests are the ones it takes.
_SEARCH_PARAMS: dict[str, dict[str, Any]] = {
    "_id": {"type": "string", "pattern": f"^({_ID}(,{_ID})*)?$"},
    "_count": _COUNT, "_offset": _COUNT,
    "_summary": {"enum": ["count", "false"]},
    "_format": {"enum": ["json", "application/json", "application/fhir+json",
                         "application/json+fhir", "xml", "application/fhir+xml",
                         "application/xml", "text/xml"]}}
_PATH_PARAMS: dict[str, dict[str, Any]] = {
    "resource_type": {"type": "string", "pattern": "^[A-Z][A-Za-z]{1,63}$"},
    "resource_id": {"type": "string", "pattern": f"^{_ID}$"},
    "measure_id": {"type": "string", "pattern": f"^{_ID}$"},
    "version": {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"}}
_NOT_FHIR = {"/", "/auth/token", "/.well-known/smart-configuration"}


def _content(schema: str) -> dict[str, Any]:
    """FHIR JSON; plain JSON too when the client asks for it (``_format``, ``Accept``); the
    same resource in FHIR XML (whose schema is the XML format's, not JSON Schema's)."""
    return {**{media: {"schema": {"$ref": _REF + schema}}
               for media in (FHIR_JSON, "application/json")},
            FHIR_XML: {"schema": {"type": "string", "contentMediaType": FHIR_XML}}}


def _success(path: str, method: str) -> tuple[str, dict[str, Any]]:
    if path == "/" and method == "get":
        return "200", {"description": "The dashboard (HTML)",
                       "content": {"text/html": {"schema": {"type": "string"}}}}
    if path in ("/auth/token", "/.well-known/smart-configuration"):
        return "200", {"description": "OAuth 2.0 / SMART JSON",
                       "content": {"application/json": {"schema": {"type": "object"}}}}
    if method == "delete":
        return "204", {"description": "Done"}
    if path.startswith("/$recorded-requests/"):
        return "200", {"description": "The recorded request body, as it was sent",
                       "content": {"*/*": {"schema": {"type": "string"}}}}
    schema = "Bundle" if method == "get" and "{resource_id}" not in path and (
        "$" not in path and path != "/metadata") else "Resource"
    if method == "post" and (path in ("/", "/$process-message", "/Bundle")):
        schema = "Bundle"
    status = "201" if method == "post" and path == "/{resource_type}" else "200"
    return status, {"description": "FHIR JSON", "content": _content(schema)}


def _request_body(path: str) -> dict[str, Any] | None:
    if path == "/auth/token":
        return {"required": True, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": {
                "grant_type": {"type": "string"}, "scope": {"type": "string"},
                "client_assertion_type": {"type": "string"},
                "client_assertion": {"type": "string"}}}}}}
    if path.endswith("$evaluate-measure"):
        return {"required": False, "content": _content("Resource")}
    if path.endswith("$validate"):
        # Any JSON or XML: $validate answers 200 with an OperationOutcome saying what is wrong.
        return {"required": True, "content": {FHIR_JSON: {"schema": {}},
                                              FHIR_XML: {"schema": {"type": "string"}}}}
    schema = {"/": "TransactionOrBatch", "/$process-message": "Message",
              "/Bundle": "Message"}.get(path, "Resource")
    return {"required": True, "content": _content(schema)}


def _is_search(path: str, method: str) -> bool:
    return (method == "get" and path not in _NOT_FHIR and "{resource_id}" not in path
            and "$" not in path and path != "/metadata")


def fhir_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` with FHIR bodies, answers and search parameters."""
    document = get_openapi(
        title="ecanfhir mock national cancer centre", version=__version__,
        description="FHIR R4 messaging ($process-message with MedCom acknowledgements), REST "
                    "read/search, the pilot KPIs and the pilot's conformance resources. Every "
                    "error is an OperationOutcome. The FHIR CapabilityStatement is GET /metadata.",
        routes=app.routes)
    document.setdefault("components", {})["schemas"] = dict(_SCHEMAS)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            status, answer = _success(path, method)
            refused = _content("OperationOutcome")
            if path == "/auth/token":  # OAuth errors; 404 (an OperationOutcome) without --auth
                refused["application/json"] = {"schema": {"type": "object"}}
            operation["responses"] = {
                status: answer,
                "4XX": {"description": "Refused: an OperationOutcome (OAuth: an error "
                                       "object) says why", "content": refused},
                "5XX": {"description": "Unavailable or failed: an OperationOutcome",
                        "content": _content("OperationOutcome")}}
            if status == "201":  # a conditional create that finds its match answers 200
                operation["responses"]["200"] = answer
            if method in ("post", "put") and "requestBody" not in operation:
                body = _request_body(path)
                if body is not None:
                    operation["requestBody"] = body
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "path" and parameter["name"] in _PATH_PARAMS:
                    parameter["schema"] = dict(_PATH_PARAMS[parameter["name"]])
            if path.endswith("$evaluate-measure"):
                # The reporting period: required, in the query (or, with POST, in Parameters).
                operation.setdefault("parameters", []).extend(
                    {"name": name, "in": "query", "required": method == "get",
                     "schema": {"type": "string", "format": "date"}}
                    for name in ("periodStart", "periodEnd"))
            if _is_search(path, method):
                known = {p["name"] for p in operation.get("parameters", ())}
                operation.setdefault("parameters", []).extend(
                    {"name": name, "in": "query", "required": False, "schema": dict(schema)}
                    for name, schema in _SEARCH_PARAMS.items() if name not in known)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`fhir_openapi` at ``/openapi.json`` (built once, on first request)."""
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not built:
            built.update(fhir_openapi(app))
        return built

    app.openapi = openapi  # type: ignore[method-assign]
