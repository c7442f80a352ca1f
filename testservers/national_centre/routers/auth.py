"""``POST /auth/token`` and ``GET /.well-known/smart-configuration`` (SMART Backend Services),
and ``require_token``, the dependency every FHIR router is included with."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ..audit import current_exchange
from ..auth import TokenService, refusal, required_permission

router = APIRouter()
MAX_FORM_BYTES = 64 * 1024


def token_service(request: Request) -> TokenService | None:
    service: TokenService | None = getattr(request.app.state, "tokens", None)
    return service


def _service_or_404(request: Request) -> TokenService:
    service = token_service(request)
    if service is None:
        raise refusal(404, "not-supported", "authorization is off on this server (start it "
                      "with --auth)")
    return service


@router.post("/auth/token")
async def token(request: Request) -> Response:
    service = _service_or_404(request)
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        raise refusal(400, "not-supported", "send the token request as "
                      "application/x-www-form-urlencoded", oauth_error="invalid_request")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise refusal(413, "too-costly", "the token request is too large",
                      oauth_error="invalid_request")
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    client_id, answer = await run_in_threadpool(service.issue, form)
    exchange = current_exchange()
    if exchange is not None:
        exchange.client_id = client_id
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/.well-known/smart-configuration")
def smart_configuration(request: Request) -> Response:
    return JSONResponse(_service_or_404(request).smart_configuration())


async def require_token(request: Request) -> None:
    """401/403 unless the request carries a token whose scopes allow it (auth on only)."""
    service = token_service(request)
    if service is None:
        return
    needed = required_permission(request.method, request.url.path)
    if needed is None:
        return
    grant = service.verify(request.headers.get("authorization"))
    exchange = current_exchange()
    if exchange is not None:
        exchange.client_id = grant.client_id
    if not grant.allows(*needed):
        scope = f"system/{needed[0] or '*'}.{needed[1]}"
        raise refusal(403, "forbidden", f"the access token's scopes do not allow this "
                      f"request (needs {scope})",
                      headers={"WWW-Authenticate": f'Bearer realm="ecan", '
                               f'error="insufficient_scope", scope="{scope}"'})
