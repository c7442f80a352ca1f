"""``GET /{type}`` and ``GET /{type}/{id}`` for the pilot's conformance resources (read-only).

One route pair per type of :data:`~..definitions.DEFINITION_TYPES`, ahead of the generic
read/search routes of stored resources; create is refused (405): these resources come from the
package, not from clients.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .._dates import bounds
from .._fhirio import FhirError, fhir_response
from ..definitions import DEFINITION_TYPES, Definitions
from ..deps import ServicesDep
from ..search import searchset
from .read import check_id

router = APIRouter()


def _definitions(request: Request) -> Definitions:
    definitions: Definitions = request.app.state.definitions
    return definitions


DefinitionsDep = Annotated[Definitions, Depends(_definitions)]


def _search(resource_type: str) -> Callable[..., Response]:
    def search(request: Request, definitions: DefinitionsDep,
               services: ServicesDep) -> Response:
        settings = services.settings
        strict = "handling=strict" in request.headers.get("prefer", "").replace(" ", "")
        page, query, used = definitions.search(
            resource_type, list(request.query_params.multi_items()),
            default_count=settings.default_count, max_count=settings.max_count, strict=strict)
        return fhir_response(request, searchset(page, query, used, base_url=settings.base_url))
    return search


def _read(resource_type: str) -> Callable[..., Response]:
    def read(request: Request, resource_id: str, definitions: DefinitionsDep) -> Response:
        check_id(resource_id)
        found = definitions.read(resource_type, resource_id)
        if found is None:
            raise FhirError(404, "not-found", f"{resource_type}/{resource_id} is not a "
                            "conformance resource of this server")
        modified = format_datetime(bounds(definitions.published)[0], usegmt=True)
        return fhir_response(request, found, headers={"ETag": 'W/"1"',
                                                      "Last-Modified": modified})
    return read


def _refuse(resource_type: str) -> Callable[..., Response]:
    def create() -> Response:
        raise FhirError(405, "not-supported", f"{resource_type} resources here are the pilot "
                        "package's, read-only", headers={"Allow": "GET"})
    return create


for _type in DEFINITION_TYPES:
    router.add_api_route(f"/{_type}", _search(_type), methods=["GET"],
                         name=f"search {_type}", operation_id=f"search{_type}",
                         summary=f"Search the pilot's {_type} resources")
    router.add_api_route(f"/{_type}", _refuse(_type), methods=["POST"],
                         name=f"create {_type}", include_in_schema=False)
    router.add_api_route(f"/{_type}/{{resource_id}}", _read(_type), methods=["GET"],
                         name=f"read {_type}", operation_id=f"read{_type}",
                         summary=f"Read one of the pilot's {_type} resources")
