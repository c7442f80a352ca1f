"""SMART Backend Services authorization (SMART App Launch 2.x, backend-services.html), as an
``httpx.Auth``.

A system client authenticates with ``private_key_jwt`` (RFC 7523): it signs a client assertion —
header ``alg`` RS384 or ES384, ``kid``, ``typ: JWT``; claims ``iss`` = ``sub`` = client_id,
``aud`` = the token URL, ``exp`` at most five minutes ahead, a fresh ``jti`` — and POSTs it to the
token endpoint as a form with ``grant_type=client_credentials``, ``scope``,
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and
``client_assertion``. The answer's ``access_token`` is sent as ``Authorization: Bearer`` until
shortly before ``expires_in`` runs out; a 401 fetches a new token and resends the request once.

Like httpx's own ``Auth`` classes the flow is sans-IO: it yields the token request and the
authorised request, so one class serves ``Client`` and ``AsyncClient``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from .._exceptions import ClientError, ServerError

__all__ = ["JWT_BEARER", "SmartBackendAuth", "load_private_key"]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300  # seconds: "exp ... no more than five minutes in the future"
# SMART v2: create Bundles (send messages), read and search everything
DEFAULT_SCOPE = "system/Bundle.c system/*.rs"


def load_private_key(source: str | bytes | Path) -> RSAKey | ECKey:
    """A private RSA or EC P-384 key from a PEM file, a JWK (JSON) file, or their text.

    Raises:
        ClientError: the file is unreadable, holds no private RSA/EC key, or the wrong curve.
    """
    if isinstance(source, Path):
        try:
            source = source.read_bytes()
        except OSError as exc:
            raise ClientError(f"{source!s}: {exc.strerror}") from exc
    data = source.encode() if isinstance(source, str) else source
    key: Any = None
    try:
        if data.lstrip().startswith(b"{"):
            jwk = json.loads(data)
            if isinstance(jwk, dict) and isinstance(jwk.get("keys"), list) and jwk["keys"]:
                jwk = jwk["keys"][0]  # a JWKS: its first key
            key = JWKRegistry.import_key(jwk)
        else:
            for kind in (RSAKey, ECKey):
                try:
                    key = kind.import_key(data)
                    break
                except (JoseError, ValueError, TypeError):
                    continue
    except (JoseError, ValueError, TypeError) as exc:
        raise ClientError(f"the key is not a JWK or PEM private key: {exc}") from exc
    if not isinstance(key, RSAKey | ECKey) or not key.is_private:
        raise ClientError("SMART Backend Services needs a private RSA or EC (P-384) key")
    _algorithm(key)
    return key


def _algorithm(key: RSAKey | ECKey) -> str:
    if isinstance(key, RSAKey):
        return "RS384"
    if key.curve_name != "P-384":
        raise ClientError(f"an EC key for ES384 must be on curve P-384, not {key.curve_name}")
    return "ES384"


class SmartBackendAuth(httpx.Auth):
    """``httpx.Auth`` for SMART Backend Services (client credentials with a signed assertion).

    Args:
        client_id: the client's registered id (``iss`` and ``sub`` of the assertion).
        key: its private key (RS384 for RSA, ES384 for EC P-384), or a path / PEM / JWK text.
        token_url: the token endpoint (``aud`` of the assertion).
        scope: the scopes requested, space-separated (default ``system/Bundle.c system/*.rs``).
        kid: the key id registered with the server (default: the JWK's ``kid``, else its RFC
            7638 thumbprint).
        assertion_lifetime: seconds until the assertion expires (at most 300).
        refresh_margin: a token is renewed this many seconds before it expires.
        clock: seconds since the epoch (fix it in tests).
        new_jti: a fresh assertion id.
    """

    requires_response_body = True

    def __init__(self, client_id: str, key: RSAKey | ECKey | str | bytes | Path, token_url: str,
                 *, scope: str = DEFAULT_SCOPE, kid: str | None = None,
                 assertion_lifetime: int = MAX_ASSERTION_LIFETIME, refresh_margin: float = 30.0,
                 clock: Callable[[], float] = time.time,
                 new_jti: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        if not 0 < assertion_lifetime <= MAX_ASSERTION_LIFETIME:
            raise ValueError("assertion_lifetime must be 1..300 seconds (SMART: exp at most "
                             "five minutes ahead)")
        self.client_id = client_id
        self.key = key if isinstance(key, RSAKey | ECKey) else load_private_key(key)
        self.algorithm = _algorithm(self.key)
        self.kid = kid or self.key.kid or self.key.thumbprint()
        self.token_url = token_url
        self.scope = scope
        self.assertion_lifetime = assertion_lifetime
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._new_jti = new_jti
        self._token: str | None = None
        self._expires_at = 0.0

    def client_assertion(self) -> str:
        """A newly signed client assertion JWT."""
        now = int(self._clock())
        header = {"alg": self.algorithm, "kid": self.kid, "typ": "JWT"}
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                  "exp": now + self.assertion_lifetime, "jti": self._new_jti()}
        return jwt.encode(header, claims, self.key, algorithms=[self.algorithm])

    def token_request(self) -> httpx.Request:
        """The access token request (a form POST to the token endpoint)."""
        return httpx.Request("POST", self.token_url, headers={"Accept": "application/json"},
                             data={"grant_type": "client_credentials", "scope": self.scope,
                                   "client_assertion_type": JWT_BEARER,
                                   "client_assertion": self.client_assertion()})

    def cached_token(self) -> str | None:
        """The cached access token while it is valid for more than ``refresh_margin`` seconds."""
        if self._token is not None and self._clock() < self._expires_at - self.refresh_margin:
            return self._token
        return None

    def read_token_response(self, response: httpx.Response) -> str:
        """Cache and return the access token of a token endpoint answer.

        Raises:
            ServerError: the token endpoint refused (OAuth ``error``/``error_description``) or
                answered without an ``access_token``.
        """
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        token = body.get("access_token")
        if not response.is_success or not isinstance(token, str) or not token:
            # RFC 6749 §5.2 error/error_description, or a FHIR server's OperationOutcome
            outcome = body if body.get("resourceType") == "OperationOutcome" else None
            reason = " ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
            if outcome is not None:
                reason = "; ".join(str(i.get("diagnostics") or i.get("code")) for i in
                                   outcome.get("issue") or [] if isinstance(i, dict))
            raise ServerError(f"token endpoint {self.token_url}: HTTP {response.status_code}: "
                              f"{reason or 'no access_token in the answer'}",
                              status_code=response.status_code, outcome=outcome)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
        self._token, self._expires_at = token, self._clock() + lifetime
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.cached_token()
        if token is None:
            token = self.read_token_response((yield self.token_request()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._token = None
            token = self.read_token_response((yield self.token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
