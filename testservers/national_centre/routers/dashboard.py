"""``GET /``: the dashboard page (HTML, inline SVG, no script).

With ``--auth`` the page needs a bearer token like any FHIR read, from a client granted a read
scope on every type (``system/*.read``, ``system/*.rs`` or ``system/*.*``): it shows every
site's figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..auth import refusal
from ..dashboard import collect, render
from ..deps import ServicesDep
from .auth import token_service

router = APIRouter()

# Nothing but the page itself and its inline style may load.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def require_reader(request: Request) -> None:
    """401/403 (OperationOutcome) unless auth is off or the token may read every type."""
    service = token_service(request)
    if service is None:
        return
    grant = service.verify(request.headers.get("authorization"))
    if not grant.allows("*", "r"):
        raise refusal(403, "forbidden", "the dashboard needs a token with a read scope on "
                      "every type (system/*.read or system/*.rs)",
                      headers={"WWW-Authenticate": 'Bearer realm="ecan", '
                               'error="insufficient_scope", scope="system/*.read"'})


@router.get("/", response_class=HTMLResponse)
def dashboard(services: ServicesDep,
              _reader: Annotated[None, Depends(require_reader)]) -> HTMLResponse:
    page = render(collect(services.store, services.settings), services.settings)
    return HTMLResponse(page, headers={"Content-Security-Policy": _CSP,
                                       "Cache-Control": "no-store"})
