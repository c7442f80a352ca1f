"""``POST /$validate`` and ``POST /{type}/$validate``: 200 + OperationOutcome, whatever the
verdict (the resource as the body, or a Parameters with a ``resource`` parameter)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ecanfhir import Issue, to_operation_outcome

from .._fhirio import FhirError, body_issues, fhir_response
from ..deps import FhirBody, ServicesDep
from .read import check_type

router = APIRouter()


@router.post("/$validate")
def validate_any(request: Request, body: FhirBody, services: ServicesDep) -> Response:
    return _validate(request, body, services, None)


@router.post("/{resource_type}/$validate")
def validate_type(request: Request, resource_type: str, body: FhirBody,
                  services: ServicesDep) -> Response:
    check_type(services.validator.registry.is_resource_type(resource_type), resource_type)
    return _validate(request, body, services, resource_type)


def _validate(request: Request, body: Any, services: ServicesDep,
              resource_type: str | None) -> Response:
    resource, profiles = _unwrap(body, request.query_params.getlist("profile"))
    result = services.validator.validate(resource, profiles=profiles)
    issues = [*body_issues(request), *result.issues]
    found = resource.get("resourceType") if isinstance(resource, dict) else None
    if resource_type is not None and found != resource_type:
        issues.insert(0, Issue.error("invalid", "", f"expected a {resource_type}, found "
                                     f"{found!s:.60}", "resource-type"))
    return fhir_response(request, to_operation_outcome(issues))


def _unwrap(body: Any, profiles: list[str]) -> tuple[Any, list[str]]:
    """The resource to validate: the body, or the ``resource`` of a Parameters body."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        return body, profiles
    resource: Any = None
    for param in body.get("parameter") or []:
        if not isinstance(param, dict):
            continue
        if param.get("name") == "resource":
            resource = param.get("resource")
        elif param.get("name") == "profile" and isinstance(param.get("valueUri"), str):
            profiles = [*profiles, param["valueUri"]]
    if resource is None:
        raise FhirError(400, "required", "a Parameters body needs a 'resource' parameter")
    return resource, profiles
