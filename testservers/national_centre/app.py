"""``create_app(settings)``: the mock national cancer centre as a FastAPI application.

The validator (R4 core + the pilot package) and the CapabilityStatement are built once here;
the store is opened here and closed at shutdown. Routers hold one FHIR interaction each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from ecanfhir import Validator
from ecanfhir._pilot import pilot_registry

from ._fhirio import check_accept
from .capability import capability_statement
from .deps import Services
from .errors import install_error_handlers
from .messaging import MessageService
from .routers import measure, metadata, process_message, read, recorder, search, validate
from .settings import Settings
from .storage import now, open_store

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    """The app for these settings (opens the store now, closes it at shutdown)."""
    validator = Validator(pilot_registry())
    store = open_store(settings.database)
    services = Services(settings, store, validator, MessageService(settings, store, validator),
                        capability_statement(settings, now()))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="ecanfhir mock national cancer centre", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(check_accept)])
    app.state.services = services
    install_error_handlers(app)
    # Fixed paths before the /{type} patterns they would otherwise match.
    for module in (metadata, process_message, validate, measure, read, search):
        app.include_router(module.router)
    recorder.install(app)  # test mode only: ECANFHIR_CENTRE_RECORDER=1
    return app
