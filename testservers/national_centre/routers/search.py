"""``GET /{type}?…``: search-type."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import fhir_response
from ..deps import ServicesDep
from ..search import parse_search, searchset
from .read import check_type

router = APIRouter()


@router.get("/{resource_type}")
def search(request: Request, resource_type: str, services: ServicesDep) -> Response:
    check_type(services.validator.registry.is_resource_type(resource_type), resource_type)
    settings = services.settings
    strict = "handling=strict" in request.headers.get("prefer", "").replace(" ", "")
    query, used = parse_search(resource_type, list(request.query_params.multi_items()),
                               default_count=settings.default_count,
                               max_count=settings.max_count, strict=strict)
    page = services.store.search(query)
    return fhir_response(request, searchset(page, query, used, base_url=settings.base_url))
