"""SMART Backend Services (SMART App Launch 2.x, "Backend Services") for the mock centre.

A pilot site's system authenticates with the OAuth 2.0 ``client_credentials`` grant and a
``private_key_jwt`` client assertion (RFC 7523) signed RS384 or ES384 with a key of the JWK Set
registered for it. The assertion must name the client in ``iss`` and ``sub``, the token
endpoint in ``aud``, expire at most five minutes ahead, and carry a ``jti`` never seen before
(kept until the assertion expires, in the store, so every worker refuses a replay).

The access token is a short-lived JWT (HS256, signed with a server secret) holding the client
id and the granted scopes; FHIR routes check it and answer 401 (no, expired or invalid token,
with ``WWW-Authenticate: Bearer``) or 403 (a scope is missing), always with an
OperationOutcome. Token endpoint errors are OperationOutcomes too, the OAuth error code
(``invalid_client``, ``invalid_scope``…) in ``issue.details``.

Scopes are SMART v1 (``system/Bundle.write``, ``system/*.read``, ``system/*.*``) or v2
(``system/Patient.rs``); ``read`` is ``rs``, ``write`` is ``cud``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from ._dates import stored_form
from ._fhirio import FhirError
from .settings import AuthSettings, RegisteredClient
from .storage import Store

__all__ = ["ALGORITHMS", "ASSERTION_TYPE", "Grant", "TokenService", "client_from_jwks_file",
           "required_permission"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
OAUTH_ERRORS = "urn:ietf:rfc:6749"
_SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]{1,63})\.(\*|read|write|c?r?u?d?s?)")
_PERMISSIONS = {"*": "cruds", "read": "rs", "write": "cud"}
_KTY = {"RS384": "RSA", "ES384": "EC"}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid access token allows."""

    client_id: str
    scopes: tuple[str, ...]

    def allows(self, resource_type: str, permission: str) -> bool:
        """True when a granted scope covers ``permission`` (one of c r u d s) on the type;
        resource type "*" asks for a wildcard scope, "" for a scope of any type."""
        return any(_covers(scope, resource_type, permission) for scope in self.scopes)


def _parse_scope(scope: str) -> tuple[str, str] | None:
    match = _SCOPE.fullmatch(scope)
    if match is None or not match[2]:
        return None
    return match[1], _PERMISSIONS.get(match[2], match[2])


def _covers(scope: str, resource_type: str, permission: str) -> bool:
    parsed = _parse_scope(scope)
    if parsed is None:
        return False
    kind, allowed = parsed
    type_ok = kind == "*" or resource_type in ("", kind)
    return type_ok and all(p in allowed for p in permission)


def _not_json(constant: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON (RFC 8259 §6) has not: a NumericDate
    claim (RFC 7519 §2) of NaN would pass every comparison."""
    raise ValueError(f"{constant} is not a JSON number")


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def refusal(status: int, code: str, text: str, *, oauth_error: str | None = None,
            headers: Mapping[str, str] | None = None) -> FhirError:
    """A FhirError whose OperationOutcome names the OAuth error code when there is one."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": text}
    if oauth_error is not None:
        issue["details"] = {"coding": [{"system": OAUTH_ERRORS, "code": oauth_error}],
                            "text": oauth_error}
    return FhirError(status, code, text, headers=headers,
                     outcome={"resourceType": "OperationOutcome", "issue": [issue]})


class TokenService:
    """Issues access tokens for valid client assertions and checks them on FHIR requests."""

    def __init__(self, settings: AuthSettings, store: Store, *, base_url: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.token_url = self.base_url + "/auth/token"
        self.clock = clock
        self.clients = {c.client_id: c for c in settings.clients}
        self._keys = {c.client_id: KeySet.import_key_set(dict(c.jwks))  # type: ignore[arg-type]
                      for c in settings.clients}
        secret = settings.token_secret or secrets.token_urlsafe(32)
        self._secret = OctKey.import_key(secret.encode())

    # -- the token endpoint -------------------------------------------------------------------

    def issue(self, form: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
        """The client id and the token response for a client_credentials request; FhirError
        when refused."""
        if form.get("grant_type") != "client_credentials":
            raise refusal(400, "not-supported", "grant_type must be client_credentials",
                          oauth_error="unsupported_grant_type")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise refusal(400, "invalid", f"client_assertion_type must be {ASSERTION_TYPE}",
                          oauth_error="invalid_request")
        assertion = form.get("client_assertion")
        if not assertion:
            raise refusal(400, "required", "client_assertion is required",
                          oauth_error="invalid_request")
        client, exp, jti = self._check_assertion(assertion)
        scopes = self._grant(client, form.get("scope", ""))
        if not self.store.use_jti(client.client_id, jti, stored_form(
                datetime.fromtimestamp(exp, UTC))):
            raise refusal(401, "duplicate", "this client assertion (jti) was already used",
                          oauth_error="invalid_client")
        issued = int(self.clock())
        claims = {"iss": self.base_url, "aud": self.base_url, "sub": client.client_id,
                  "scope": " ".join(scopes), "iat": issued,
                  "exp": issued + self.settings.token_seconds, "jti": str(uuid.uuid4())}
        token = jwt.encode({"alg": "HS256"}, claims, self._secret)
        return client.client_id, {"access_token": token, "token_type": "bearer",
                                  "expires_in": self.settings.token_seconds,
                                  "scope": " ".join(scopes)}

    def _check_assertion(self, assertion: str) -> tuple[RegisteredClient, int, str]:
        try:
            unverified = jws.extract_compact(assertion.encode())
        except (JoseError, ValueError):
            raise refusal(401, "security", "client_assertion is not a compact JWS",
                          oauth_error="invalid_client") from None
        try:
            claims = json.loads(unverified.payload, parse_constant=_not_json)
        except ValueError:
            raise refusal(401, "security", "client_assertion claims are not JSON",
                          oauth_error="invalid_client") from None
        if not isinstance(claims, dict):
            raise refusal(401, "security", "client_assertion claims are not a JSON object",
                          oauth_error="invalid_client")
        client = self.clients.get(str(claims.get("iss")))
        if client is None:
            raise refusal(401, "unknown", "the client (iss) is not registered",
                          oauth_error="invalid_client")
        alg = unverified.protected.get("alg")
        if alg not in ALGORITHMS:
            raise refusal(401, "security", f"alg {str(alg)[:20]} is not supported "
                          f"({', '.join(ALGORITHMS)})", oauth_error="invalid_client")
        try:
            jwt.decode(assertion, self._key_for(client, unverified.protected), algorithms=[alg])
        except JoseError:
            raise refusal(401, "security", "the client_assertion signature does not verify "
                          "with the client's registered keys",
                          oauth_error="invalid_client") from None
        return client, *self._check_claims(client, claims)

    def _key_for(self, client: RegisteredClient, header: Mapping[str, Any]) -> Any:
        keys = self._keys[client.client_id]
        kid = header.get("kid")
        if isinstance(kid, str):
            return keys   # joserfc picks the key by kid
        candidates = [k for k in keys.keys if k.key_type == _KTY[header["alg"]]]
        if len(candidates) != 1:
            raise refusal(401, "security", "the client_assertion header needs a kid",
                          oauth_error="invalid_client")
        return candidates[0]

    def _check_claims(self, client: RegisteredClient,
                      claims: Mapping[str, Any]) -> tuple[int, str]:
        if claims.get("sub") != client.client_id:
            raise refusal(401, "invalid", "iss and sub must both be the client_id",
                          oauth_error="invalid_client")
        aud = claims.get("aud")
        if self.token_url not in (aud if isinstance(aud, list) else [aud]):
            raise refusal(401, "invalid", f"aud must be the token endpoint {self.token_url}",
                          oauth_error="invalid_client")
        exp, jti, now = claims.get("exp"), claims.get("jti"), self.clock()
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise refusal(401, "required", "exp is required", oauth_error="invalid_client")
        if exp <= now:
            raise refusal(401, "expired", "the client_assertion has expired",
                          oauth_error="invalid_client")
        if exp > now + self.settings.max_assertion_seconds + 5:   # a little clock skew
            raise refusal(401, "invalid", "exp is more than "
                          f"{self.settings.max_assertion_seconds} s ahead",
                          oauth_error="invalid_client")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise refusal(401, "required", "jti is required", oauth_error="invalid_client")
        if not _is_unicode(jti):    # a lone surrogate escaped in the JSON ("\ud800")
            raise refusal(401, "invalid", "jti is not a string of Unicode characters",
                          oauth_error="invalid_client")
        return int(exp), jti

    def _grant(self, client: RegisteredClient, requested: str) -> list[str]:
        wanted = requested.split()
        if not wanted:
            raise refusal(400, "required", "scope is required", oauth_error="invalid_scope")
        granted = []
        for scope in wanted:
            parsed = _parse_scope(scope)
            if parsed is not None and any(_covers(allowed, "*" if parsed[0] == "*" else
                                                  parsed[0], parsed[1])
                                          for allowed in client.scopes):
                granted.append(scope)
        if not granted:
            raise refusal(400, "forbidden", "none of the requested scopes may be granted to "
                          "this client", oauth_error="invalid_scope")
        return granted

    # -- FHIR requests ------------------------------------------------------------------------

    def verify(self, authorization: str | None) -> Grant:
        """The grant of a ``Bearer`` Authorization header; 401 FhirError otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise refusal(401, "login", "this server needs a bearer access token from "
                          f"{self.token_url} (SMART Backend Services)",
                          headers={"WWW-Authenticate": 'Bearer realm="ecan"'})
        try:
            claims = jwt.decode(token.strip(), self._secret, algorithms=["HS256"]).claims
        except (JoseError, ValueError):
            claims = None
        if not isinstance(claims, dict) or claims.get("aud") != self.base_url:
            raise refusal(401, "security", "the access token is not valid here",
                          headers={"WWW-Authenticate": 'Bearer realm="ecan", '
                                                       'error="invalid_token"'})
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self.clock():
            raise refusal(401, "expired", "the access token has expired",
                          headers={"WWW-Authenticate": 'Bearer realm="ecan", '
                                   'error="invalid_token", error_description="expired"'})
        return Grant(str(claims.get("sub")), tuple(str(claims.get("scope", "")).split()))

    def smart_configuration(self) -> dict[str, Any]:
        """``/.well-known/smart-configuration`` for backend services clients."""
        return {
            "token_endpoint": self.token_url,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "scopes_supported": ["system/*.read", "system/*.*", "system/Bundle.write",
                                 "system/*.rs", "system/Bundle.c"],
            "capabilities": ["client-confidential-asymmetric", "permission-v1",
                             "permission-v2"],
        }


def required_permission(method: str, path: str) -> tuple[str, str] | None:
    """(resource type, permission) a FHIR request needs; None for public endpoints.

    >>> required_permission("POST", "/$process-message")
    ('Bundle', 'c')
    >>> required_permission("GET", "/Encounter")
    ('Encounter', 's')
    """
    parts = [p for p in path.split("/") if p]
    if not parts:
        return ("*", "cu") if method == "POST" else None      # transaction / batch
    if parts == ["metadata"]:
        return None
    if parts[0] == "$process-message" or (method == "POST" and parts == ["Bundle"]):
        return "Bundle", "c"
    resource_type = "" if parts[0].startswith("$") else parts[0]
    if any(p.startswith("$") for p in parts):
        return resource_type, "r"
    if method in ("GET", "HEAD"):
        return resource_type, "s" if len(parts) == 1 else "r"
    return resource_type, "c"


def client_from_jwks_file(path: str | Path, client_id: str, *,
                          scopes: tuple[str, ...] = ("system/*.*",)) -> RegisteredClient:
    """A registered client from a JWK Set file (public keys only; a private key is refused).

    Raises:
        ValueError: the file is not a JWK Set of usable public keys.
    """
    try:
        jwks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{path}: not a JWK Set (no 'keys' list)")
    if any(isinstance(k, dict) and "d" in k for k in keys):
        raise ValueError(f"{path}: holds a private key; register the public keys only")
    try:
        KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return RegisteredClient(client_id, jwks, scopes)
