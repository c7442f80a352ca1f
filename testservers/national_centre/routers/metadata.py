"""``GET /metadata``: the CapabilityStatement (built once per app)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import fhir_response
from ..deps import ServicesDep

router = APIRouter()


@router.get("/metadata")
def capabilities(request: Request, services: ServicesDep) -> Response:
    return fhir_response(request, services.capability)
