"""SMART Backend Services on the mock centre (--auth): token endpoint, bearer checks, serve."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _centre_assertions import outcome_codes
from _centre_http import BASE, AppClient
from _centre_messages import referral
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ecanfhir.commands import UsageError, serve
from testservers.national_centre import AuthSettings, RegisteredClient, Settings
from testservers.national_centre.auth import ASSERTION_TYPE, client_from_jwks_file

TOKEN_URL = f"{BASE}/auth/token"
RSA = RSAKey.generate_key(2048, parameters={"kid": "site-a-rsa"})
EC = ECKey.generate_key("P-384", parameters={"kid": "site-a-ec"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "site-a-rsa"})   # same kid, other key
FHIR = {"Content-Type": "application/fhir+json"}


def _jwks(*keys: RSAKey | ECKey) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


@pytest.fixture
def settings(database: str) -> Settings:
    clients = (RegisteredClient("site-a", _jwks(RSA, EC)),
               RegisteredClient("reader", _jwks(RSA), scopes=("system/*.read",)))
    return Settings(database=database, base_url=BASE, auth=AuthSettings(clients=clients))


def assertion(*, key: RSAKey | ECKey = RSA, alg: str = "RS384", client_id: str = "site-a",
              aud: str = TOKEN_URL, exp_in: float = 240, jti: str | None = None,
              **extra: Any) -> str:
    claims = {"iss": client_id, "sub": client_id, "aud": aud,
              "exp": int(time.time() + exp_in), "jti": jti or str(uuid.uuid4()), **extra}
    header = {"alg": alg, "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[alg])


def request_token(client: AppClient, signed: str, scope: str = "system/*.*") -> httpx.Response:
    return client.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": scope,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed})


def bearer(client: AppClient, scope: str = "system/*.*", **kwargs: Any) -> dict[str, str]:
    response = request_token(client, assertion(**kwargs), scope)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def oauth_error(response: httpx.Response) -> str:
    code: str = response.json()["issue"][0]["details"]["coding"][0]["code"]
    return code


@pytest.mark.parametrize(("key", "alg"), [(RSA, "RS384"), (EC, "ES384")])
def test_token_then_message_happy_path(client: AppClient, key: RSAKey | ECKey,
                                       alg: str) -> None:
    """A signed assertion gets a short-lived bearer token that opens the FHIR routes."""
    response = request_token(client, assertion(key=key, alg=alg),
                             "system/Bundle.write system/*.read")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= 300
    assert body["scope"] == "system/Bundle.write system/*.read"
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    sent = client.post("/$process-message", content=json.dumps(referral("CASE-1", seed=1)),
                       headers={**FHIR, **auth})
    assert sent.status_code == 200
    assert client.get("/Encounter?_summary=count", headers=auth).status_code == 200


def test_smart_configuration_advertises_the_token_endpoint(client: AppClient) -> None:
    config = client.get("/.well-known/smart-configuration").json()
    assert config["token_endpoint"] == TOKEN_URL
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert "client_credentials" in config["grant_types_supported"]


@pytest.mark.parametrize(("signed", "status", "code"), [
    pytest.param(lambda: assertion(key=OTHER), 401, "security", id="bad-signature"),
    pytest.param(lambda: assertion(aud="http://elsewhere.test/token"), 401, "invalid",
                 id="wrong-aud"),
    pytest.param(lambda: assertion(exp_in=-30), 401, "expired", id="expired"),
    pytest.param(lambda: assertion(exp_in=3600), 401, "invalid", id="exp-too-far"),
    pytest.param(lambda: assertion(client_id="stranger"), 401, "unknown", id="unknown-client"),
    pytest.param(lambda: assertion(sub="someone-else"), 401, "invalid", id="sub-not-client"),
    pytest.param(lambda: assertion(key=RSA, alg="RS256"), 401, "security", id="alg-rs256"),
    pytest.param(lambda: "not-a-jwt", 401, "security", id="not-a-jws"),
])
def test_refused_assertions(client: AppClient, signed: Any, status: int, code: str) -> None:
    """Each broken assertion is refused with invalid_client and its own issue code."""
    response = request_token(client, signed())
    assert response.status_code == status
    assert outcome_codes(response) == [code]
    assert oauth_error(response) == "invalid_client"


def test_replayed_jti_is_refused(client: AppClient) -> None:
    signed = assertion(jti="once-only")
    assert request_token(client, signed).status_code == 200
    again = request_token(client, signed)
    assert again.status_code == 401
    assert outcome_codes(again) == ["duplicate"]
    other = request_token(client, assertion(jti="once-only", key=EC, alg="ES384"))
    assert outcome_codes(other) == ["duplicate"]   # a new assertion with a used jti


def test_bad_token_requests(client: AppClient) -> None:
    wrong_grant = client.post("/auth/token", data={"grant_type": "password"})
    assert wrong_grant.status_code == 400 and outcome_codes(wrong_grant) == ["not-supported"]
    not_form = client.post("/auth/token", json={"grant_type": "client_credentials"})
    assert not_form.status_code == 400 and outcome_codes(not_form) == ["not-supported"]
    no_scope = request_token(client, assertion(), scope="")
    assert no_scope.status_code == 400 and oauth_error(no_scope) == "invalid_scope"
    too_much = request_token(client, assertion(client_id="reader"), "system/Bundle.write")
    assert too_much.status_code == 400 and outcome_codes(too_much) == ["forbidden"]


def test_missing_token_is_401_with_www_authenticate(client: AppClient) -> None:
    response = client.get("/Patient")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert outcome_codes(response) == ["login"]
    sent = client.post("/$process-message", content=b"{", headers=FHIR)
    assert sent.status_code == 401   # before the body is even read


def test_invalid_and_expired_tokens_are_401(client: AppClient, app: Any) -> None:
    forged = client.get("/Patient", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and outcome_codes(forged) == ["security"]
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    auth = bearer(client)
    assert client.get("/Patient", headers=auth).status_code == 200
    app.state.tokens.clock = lambda: time.time() + 301
    expired = client.get("/Patient", headers=auth)
    assert expired.status_code == 401 and outcome_codes(expired) == ["expired"]


def test_wrong_scope_is_403(client: AppClient) -> None:
    auth = bearer(client, "system/*.read", client_id="reader")
    assert client.get("/Patient", headers=auth).status_code == 200
    response = client.post("/$process-message", content=json.dumps(referral("C", seed=1)),
                           headers={**FHIR, **auth})
    assert response.status_code == 403
    assert outcome_codes(response) == ["forbidden"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    narrow = bearer(client, "system/Encounter.rs")   # SMART v2 scope
    assert client.get("/Encounter", headers=narrow).status_code == 200
    assert outcome_codes(client.get("/Patient", headers=narrow)) == ["forbidden"]


def test_metadata_declares_smart_security(client: AppClient) -> None:
    """With auth on, the CapabilityStatement names SMART-on-FHIR and the token endpoint."""
    security = client.get("/metadata").json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = security["extension"][0]["extension"]
    assert uris == [{"url": "token", "valueUri": f"{BASE}/auth/token"}]


def test_metadata_stays_open_and_the_dashboard_needs_a_reader(client: AppClient) -> None:
    assert client.get("/metadata").status_code == 200
    assert client.get("/").status_code == 401
    assert client.get("/", headers=bearer(client, "system/*.read")).status_code == 200


def test_auth_is_off_by_default(tmp_path: Path) -> None:
    assert Settings().auth is None


# -- ecanfhir serve --auth ------------------------------------------------------------------

def _serve_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_serve_registers_a_client_jwks_file(tmp_path: Path) -> None:
    path = tmp_path / "site-a.jwks.json"
    path.write_text(json.dumps(_jwks(RSA, EC)))
    settings = serve.settings_from_args(_serve_args("--auth", "--client-jwks", str(path),
                                                    "--client-id", "site-a"))
    assert settings.auth is not None
    assert [c.client_id for c in settings.auth.clients] == ["site-a"]
    assert serve.settings_from_args(_serve_args()).auth is None


def test_serve_refuses_bad_client_options(tmp_path: Path) -> None:
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [RSA.as_dict(private=True)]}))
    with pytest.raises(UsageError, match="private key"):
        serve.settings_from_args(_serve_args("--auth", "--client-jwks", str(private),
                                             "--client-id", "x"))
    with pytest.raises(UsageError, match="--client-id"):
        serve.settings_from_args(_serve_args("--auth", "--client-jwks", str(private)))
    with pytest.raises(UsageError, match="--auth"):
        serve.settings_from_args(_serve_args("--client-jwks", str(private),
                                             "--client-id", "x"))


def test_client_from_jwks_file_rejects_non_jwks(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[]")
    with pytest.raises(ValueError, match="not a JWK Set"):
        client_from_jwks_file(path, "x")
