"""``GET /``: the dashboard page (HTML, inline SVG, no script)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ..dashboard import collect, render
from ..deps import ServicesDep

router = APIRouter()

# Nothing but the page itself and its inline style may load.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@router.get("/", response_class=HTMLResponse)
def dashboard(services: ServicesDep) -> HTMLResponse:
    page = render(collect(services.store, services.settings), services.settings)
    return HTMLResponse(page, headers={"Content-Security-Policy": _CSP,
                                       "Cache-Control": "no-store"})
