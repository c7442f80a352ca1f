"""``POST [base]`` (transaction or batch Bundle) and ``POST [base]/[type]`` (create, with
``If-None-Exist`` for conditional create)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._fhirio import fhir_response, refuse_body_errors
from .._transaction import create, process_bundle
from ..deps import FhirBody, ServicesDep
from .read import check_type

router = APIRouter()


def _prefer(request: Request) -> str:
    prefer = request.headers.get("prefer", "").replace(" ", "")
    return next((p.split("=", 1)[1] for p in prefer.split(",") if p.startswith("return=")), "")


@router.post("/")
def transaction(request: Request, bundle: FhirBody, services: ServicesDep) -> Response:
    refuse_body_errors(request)
    response = process_bundle(bundle, store=services.store, validator=services.validator,
                              settings=services.settings,
                              representation=_prefer(request) == "representation")
    return fhir_response(request, response)


@router.post("/{resource_type}")
def create_type(request: Request, resource_type: str, resource: FhirBody,
                services: ServicesDep) -> Response:
    check_type(services.validator.registry.is_resource_type(resource_type), resource_type)
    refuse_body_errors(request)
    result = create(resource, resource_type, if_none_exist=request.headers.get("if-none-exist"),
                    store=services.store, validator=services.validator,
                    settings=services.settings)
    assert result.stored is not None
    headers = result.headers(services.settings.base_url)
    if _prefer(request) == "minimal":
        return Response(status_code=result.status, headers=headers)
    return fhir_response(request, result.stored.json, status_code=result.status,
                         headers=headers)
