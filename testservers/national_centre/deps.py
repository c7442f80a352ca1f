"""What handlers receive: the app's services and the request body, as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ecanfhir import Validator

from ._fhirio import read_body
from .messaging import MessageService
from .settings import Settings
from .storage import Store

__all__ = ["FhirBody", "Services", "ServicesDep"]


@dataclass(frozen=True, slots=True)
class Services:
    """Built once by ``create_app``; shared by all requests (every part is thread-safe)."""

    settings: Settings
    store: Store
    validator: Validator
    messages: MessageService
    capability: dict[str, Any]


def _app_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Dependencies that do no blocking work are coroutines: FastAPI runs a plain ``def``
# dependency in its thread pool, a hand-over to a thread and back (and a wait for the GIL)
# for every request.
async def _services(request: Request) -> Services:
    return _app_services(request)


async def _body(request: Request) -> Any:
    settings = _app_services(request).settings
    return await read_body(request, max_bytes=settings.max_body_bytes,
                                max_depth=settings.max_json_depth)


ServicesDep = Annotated[Services, Depends(_services)]
FhirBody = Annotated[Any, Depends(_body)]
