"""``create_app(settings)``: the mock national cancer centre as a FastAPI application.

The validator (R4 core + the pilot package) and the CapabilityStatement are built once here;
the store is opened here and closed at shutdown. Routers hold one FHIR interaction each.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from ecanfhir import Validator
from ecanfhir.definitions.pilot import pilot_registry

from ._fhirio import check_accept
from .audit import AuditedMessageService, AuditMiddleware, AuditRecorder, install_access_log_filter
from .auth import TokenService
from .capability import capability_statement
from .database import open_store
from .definitions import Definitions
from .deps import Services
from .errors import install_error_handlers
from .openapi import install_openapi
from .routers import (
    audit,
    auth,
    dashboard,
    definitions,
    measure,
    metadata,
    process_message,
    read,
    recorder,
    search,
    transaction,
    validate,
)
from .settings import Settings
from .storage import now
from .validation_pool import ValidationPool

__all__ = ["create_app"]


def warm(validator: Validator) -> None:
    """Ready a serving process: the pilot's profiles compiled, the definitions frozen.

    One synthetic referral is validated, so the structures, plans and expressions of the
    pilot's profiles are built before the first request (it would otherwise wait for them).
    Then ``gc.freeze()`` moves every object built so far, the definitions above all, out of
    the cyclic garbage collector's reach: they live as long as the process, and each full
    collection would scan them all again (Python's gc docs recommend it for such processes).
    """
    from ecanfhir.synthetic import generate

    for generated in generate("referral", count=1, seed=0):
        validator.validate(generated.bundle)
    gc.freeze()


def create_app(settings: Settings) -> FastAPI:
    """The app for these settings (opens the store now, closes it at shutdown)."""
    validator = Validator(pilot_registry())
    store = open_store(settings.database)
    published = now()
    # Messages need only the errors of a validation (MessageService reads result.errors).
    pool = ValidationPool(validator, processes=settings.validation_processes, errors_only=True)
    services = Services(settings, store, validator,
                        AuditedMessageService(settings, store, pool),
                        capability_statement(settings, published))
    audit_recorder = AuditRecorder(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.warm:
            warm(validator)
        pool.start()    # forked warm, before the first request
        yield
        pool.close()
        audit_recorder.close()    # what the exchanges handed over is stored first
        store.close()

    app = FastAPI(title="ecanfhir mock national cancer centre", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.services = services
    app.state.definitions = Definitions.from_pilot(published)
    app.state.audit = audit_recorder
    app.state.tokens = (None if settings.auth is None else
                        TokenService(settings.auth, store, base_url=settings.base_url))
    install_error_handlers(app)
    install_access_log_filter()
    app.add_middleware(AuditMiddleware, settings=settings, recorder=audit_recorder)
    # The HTML dashboard and the OAuth endpoints negotiate no FHIR and need no token.
    app.include_router(dashboard.router)
    app.include_router(auth.router)
    fhir = [Depends(check_accept), Depends(auth.require_token)]
    # Fixed paths before the /{type} patterns they would otherwise match.
    for module in (metadata, process_message, validate, measure, audit, definitions, read,
                   search, transaction):
        app.include_router(module.router, dependencies=fhir)
    recorder.install(app, enabled=settings.recorder)  # the test harness only
    install_openapi(app)
    return app
