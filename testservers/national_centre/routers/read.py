"""``GET /{type}/{id}`` (read) and ``GET /{type}/{id}/_history/{vid}`` (vread), with ETag."""

from __future__ import annotations

import re
from email.utils import format_datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._dates import bounds
from .._fhirio import FhirError, fhir_response
from ..deps import ServicesDep
from ..storage import StoredResource

router = APIRouter()
ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


@router.get("/{resource_type}/{resource_id}")
def read(request: Request, resource_type: str, resource_id: str,
         services: ServicesDep) -> Response:
    check_type(services.validator.registry.is_resource_type(resource_type), resource_type)
    check_id(resource_id)
    found = services.store.read(resource_type, resource_id)
    return _answer(request, found, f"{resource_type}/{resource_id}")


@router.get("/{resource_type}/{resource_id}/_history/{version}")
def vread(request: Request, resource_type: str, resource_id: str, version: str,
          services: ServicesDep) -> Response:
    check_type(services.validator.registry.is_resource_type(resource_type), resource_type)
    check_id(resource_id)
    if not (version.isascii() and version.isdigit()) or len(version) > 9:  # not "²"
        raise FhirError(404, "not-found", f"no version {version[:20]} of "
                        f"{resource_type}/{resource_id}")
    found = services.store.vread(resource_type, resource_id, int(version))
    return _answer(request, found, f"{resource_type}/{resource_id}/_history/{version}")


def check_type(known: bool, resource_type: str) -> None:
    if not known:
        raise FhirError(404, "not-supported", f"{resource_type[:60]} is not a FHIR R4 "
                        "resource type")


def check_id(resource_id: str) -> None:
    if not ID.fullmatch(resource_id):
        raise FhirError(400, "invalid", "a resource id is 1-64 letters, digits, '-' or '.'")


def _answer(request: Request, found: StoredResource | None, what: str) -> Response:
    if found is None:
        raise FhirError(404, "not-found", f"{what} is not known here")
    modified = format_datetime(bounds(found.last_updated)[0], usegmt=True)
    return fhir_response(request, found.json, headers={"ETag": f'W/"{found.version}"',
                                                       "Last-Modified": modified})
