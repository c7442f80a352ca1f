"""``POST /$process-message`` and ``POST /Bundle`` of a message: 200 + acknowledgement."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import fhir_response
from ..deps import FhirBody, ServicesDep

router = APIRouter()


@router.post("/$process-message")
@router.post("/Bundle")
def process_message(request: Request, bundle: FhirBody, services: ServicesDep) -> Response:
    reply = services.messages.receive(bundle)
    return fhir_response(request, reply.body, headers={"X-Ecan-Receipt": reply.kind})
