"""SMART Backend Services auth: the signed client assertion, the token request, caching and the
one refresh on 401, with Client and AsyncClient over respx."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from _client_support import BASE, PROCESS, HarnessFactory, ack, fhir, outcome, referral
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ecanfhir.client import (
    ClientError,
    RetryPolicy,
    ServerError,
    SmartBackendAuth,
    load_private_key,
)
from ecanfhir.client._auth import JWT_BEARER

TOKEN_URL = "https://auth.centre.test/auth/token"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-384", private=True)


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _token(value: str, expires_in: int = 300) -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "token_type": "bearer",
                                     "expires_in": expires_in, "scope": "system/*.rs"})


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_client_assertion(kind: str, rsa_key: RSAKey, ec_key: ECKey) -> None:
    """The assertion: RS384/ES384, kid, typ JWT; iss = sub = client_id, aud = token URL,
    exp at most five minutes ahead, a new jti every time."""
    key = rsa_key if kind == "rsa" else ec_key
    auth = SmartBackendAuth("site-a", key, TOKEN_URL, clock=lambda: NOW)
    token = jwt.decode(auth.client_assertion(), key, algorithms=["RS384", "ES384"])
    alg = "RS384" if kind == "rsa" else "ES384"
    assert token.header == {"alg": alg, "kid": "rsa-1" if kind == "rsa" else ec_key.thumbprint(),
                            "typ": "JWT"}
    claims = token.claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("site-a", "site-a", TOKEN_URL)
    assert 0 < claims["exp"] - NOW <= 300
    second = jwt.decode(auth.client_assertion(), key, algorithms=[alg]).claims
    assert second["jti"] != claims["jti"]


def test_token_request_form(ec_key: ECKey) -> None:
    """The token request is a form POST with client_credentials and the jwt-bearer assertion."""
    auth = SmartBackendAuth("site-a", ec_key, TOKEN_URL, scope="system/Bundle.c", kid="k9")
    request = auth.token_request()
    assert (request.method, str(request.url)) == ("POST", TOKEN_URL)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = _form(request)
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "system/Bundle.c"
    assert form["client_assertion_type"] == JWT_BEARER
    assert jwt.decode(form["client_assertion"], ec_key, algorithms=["ES384"]).header["kid"] == "k9"


def test_token_is_cached_until_shortly_before_expiry(
        harness: HarnessFactory, mock: respx.MockRouter, rsa_key: RSAKey) -> None:
    """Two requests share one token; near expiry a new one is fetched."""
    clock = Clock()
    token = mock.post(TOKEN_URL).mock(side_effect=[_token("t1"), _token("t2")])
    read = mock.get(f"{BASE}/Patient/p1").mock(return_value=fhir(200, {"resourceType": "Patient"}))
    h = harness(auth=SmartBackendAuth("site-a", rsa_key, TOKEN_URL, clock=clock,
                                      refresh_margin=30))
    h.call("read", "Patient", "p1")
    clock.now += 200
    h.call("read", "Patient", "p1")
    assert token.call_count == 1
    clock.now += 75                       # 25 s left: inside the refresh margin
    h.call("read", "Patient", "p1")
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in read.calls] == [
        "Bearer t1", "Bearer t1", "Bearer t2"]


def test_401_refreshes_the_token_once(harness: HarnessFactory, mock: respx.MockRouter,
                                      rsa_key: RSAKey) -> None:
    """A 401 (token revoked) fetches a new token and resends the request once."""
    token = mock.post(TOKEN_URL).mock(side_effect=[_token("old"), _token("new")])
    read = mock.get(f"{BASE}/Patient/p1").mock(side_effect=[
        fhir(401, outcome("expired", "login")), fhir(200, {"resourceType": "Patient"})])
    h = harness(auth=SmartBackendAuth("site-a", rsa_key, TOKEN_URL))
    assert h.call("read", "Patient", "p1") == {"resourceType": "Patient"}
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in read.calls] == ["Bearer old",
                                                                       "Bearer new"]


def test_second_401_is_a_server_error(harness: HarnessFactory, mock: respx.MockRouter,
                                      rsa_key: RSAKey) -> None:
    """Refreshed only once: a second 401 is the caller's ServerError."""
    token = mock.post(TOKEN_URL).mock(side_effect=[_token("a"), _token("b")])
    mock.get(f"{BASE}/Patient/p1").mock(return_value=fhir(401, outcome("no", "security")))
    with pytest.raises(ServerError) as info:
        harness(auth=SmartBackendAuth("site-a", rsa_key, TOKEN_URL)).call("read", "Patient", "p1")
    assert info.value.status_code == 401 and token.call_count == 2


def test_token_endpoint_refusal(harness: HarnessFactory, mock: respx.MockRouter,
                                rsa_key: RSAKey) -> None:
    """An OAuth error answer becomes a ServerError naming error and error_description."""
    mock.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={
        "error": "invalid_client", "error_description": "unknown kid"}))
    read = mock.get(f"{BASE}/Patient/p1")
    with pytest.raises(ServerError, match="invalid_client unknown kid"):
        harness(auth=SmartBackendAuth("site-a", rsa_key, TOKEN_URL)).call("read", "Patient", "p1")
    assert read.call_count == 0


def test_auth_applies_to_send_message(harness: HarnessFactory, mock: respx.MockRouter,
                                      ec_key: ECKey) -> None:
    """Messages carry the bearer token, resends too."""
    message = referral()
    mock.post(TOKEN_URL).mock(return_value=_token("tok"))
    route = mock.post(PROCESS).mock(side_effect=[fhir(503, outcome("busy")),
                                                 fhir(200, ack(message))])
    h = harness(auth=SmartBackendAuth("site-a", ec_key, TOKEN_URL),
                retry=RetryPolicy(random=lambda: 0.0))
    assert h.send_message(message).ok
    assert {c.request.headers["Authorization"] for c in route.calls} == {"Bearer tok"}


def test_load_private_key_from_pem_and_jwk(tmp_path: Path, rsa_key: RSAKey,
                                           ec_key: ECKey) -> None:
    """Keys load from PEM and JWK (and JWKS) files."""
    pem = tmp_path / "key.pem"
    pem.write_bytes(rsa_key.as_pem(private=True))
    assert isinstance(load_private_key(pem), RSAKey)
    jwk = tmp_path / "key.jwk"
    jwk.write_text(json.dumps(ec_key.as_dict(private=True)))
    assert load_private_key(jwk).thumbprint() == ec_key.thumbprint()
    jwks = tmp_path / "keys.json"
    jwks.write_text(json.dumps({"keys": [rsa_key.as_dict(private=True)]}))
    auth = SmartBackendAuth("site-a", jwks, TOKEN_URL)
    assert (auth.algorithm, auth.kid) == ("RS384", "rsa-1")


@pytest.mark.parametrize("problem", ["missing", "garbage", "public", "p256"])
def test_unusable_keys_are_refused(tmp_path: Path, rsa_key: RSAKey, problem: str) -> None:
    """A missing file, non-key text, a public key or a P-256 key is a ClientError."""
    path = tmp_path / "key"
    if problem == "garbage":
        path.write_text("not a key")
    elif problem == "public":
        path.write_bytes(rsa_key.as_pem(private=False))
    elif problem == "p256":
        path.write_text(json.dumps(ECKey.generate_key("P-256").as_dict(private=True)))
    with pytest.raises(ClientError):
        load_private_key(path)


def test_assertion_lifetime_at_most_five_minutes(rsa_key: RSAKey) -> None:
    with pytest.raises(ValueError, match="300"):
        SmartBackendAuth("site-a", rsa_key, TOKEN_URL, assertion_lifetime=301)


def test_token_endpoint_refusal_as_operation_outcome(harness: HarnessFactory,
                                                     mock: respx.MockRouter,
                                                     rsa_key: RSAKey) -> None:
    """A FHIR server's OperationOutcome refusal is carried by the ServerError."""
    refusal = outcome("unknown client site-a", "security")
    mock.post(TOKEN_URL).mock(return_value=httpx.Response(400, json=refusal))
    with pytest.raises(ServerError, match="unknown client site-a") as info:
        harness(auth=SmartBackendAuth("site-a", rsa_key, TOKEN_URL)).call("read", "Patient", "p1")
    assert info.value.outcome == refusal
