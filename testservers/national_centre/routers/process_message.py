"""``POST /$process-message`` and ``POST /Bundle`` of a message: 200 + acknowledgement (in
the message's format unless ``Accept`` or ``_format`` asks for the other)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import body_issues, fhir_response
from ..deps import FhirBody, ServicesDep

router = APIRouter()


@router.post("/$process-message")
@router.post("/Bundle")
def process_message(request: Request, bundle: FhirBody, services: ServicesDep) -> Response:
    reply = services.messages.receive(bundle, body_issues(request))
    return fhir_response(request, reply.body, headers={"X-Ecan-Receipt": reply.kind})
