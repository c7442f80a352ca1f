"""``GET /AuditEvent?date=…&outcome=…``: search the exchanges' AuditEvents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import fhir_response
from ..audit import parse_audit_search
from ..deps import ServicesDep
from ..search import searchset

router = APIRouter()


@router.get("/AuditEvent")
def search_audit_events(request: Request, services: ServicesDep) -> Response:
    settings = services.settings
    strict = "handling=strict" in request.headers.get("prefer", "").replace(" ", "")
    query, used = parse_audit_search(list(request.query_params.multi_items()),
                                     default_count=settings.default_count,
                                     max_count=settings.max_count, strict=strict)
    page = services.store.search(query)
    return fhir_response(request, searchset(page, query, used, base_url=settings.base_url))
