"""Property, over real HTTP against `ecanfhir serve --auth` on 127.0.0.1: mutated JWTs (client
assertions at the token endpoint, bearer tokens on FHIR routes, replayed assertions) never get
a 5xx; each is refused with 400, 401 or 403 and an OperationOutcome, with WWW-Authenticate on a
FHIR route. A bounded, deterministic run; ``scripts/fuzz_centre.py --auth`` sends 10,000."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _centre_fuzz import FuzzRequest, Tally, send
from _centre_fuzz_auth import FORM, FuzzSite, auth_requests
from hypothesis import HealthCheck, Phase, given, settings

from testservers.national_centre.running import free_port, stop_serving, wait_until_serving

SITE: FuzzSite | None = None


def _site() -> FuzzSite:
    global SITE
    if SITE is None:
        SITE = FuzzSite(f"http://127.0.0.1:{free_port()}")
    return SITE


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """`ecanfhir serve --auth` with the fuzzing site registered, and one client to it."""
    site, folder = _site(), tmp_path_factory.mktemp("fuzz-auth")
    (folder / "jwks.json").write_text(json.dumps(site.jwks()), "utf-8")
    port = site.base_url.rsplit(":", 1)[1]
    with (folder / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "ecanfhir.cli", "serve", "--auth", "--port", port,
             "--client-jwks", str(folder / "jwks.json"), "--client-id", site.client_id,
             "--db", str(folder / "centre.sqlite3")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        try:
            wait_until_serving(site.base_url, server)
            with httpx.Client(base_url=site.base_url, timeout=60) as http:
                yield http
        finally:
            stop_serving(server)
    assert "internal error" not in Path(folder / "serve.log").read_text("utf-8", "replace")


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=auth_requests(_site()))
def test_mutated_jwts_are_refused_never_a_5xx(centre: httpx.Client,
                                              request: FuzzRequest) -> None:
    tally = Tally()
    send(centre, request, tally)
    assert tally.ok, tally.problems


def _token_request(centre: httpx.Client, payload: bytes) -> httpx.Response:
    site = _site()
    return centre.post("/auth/token", content=site.token_form(site.sign(payload)),
                       headers={"Content-Type": FORM})


def _refused(response: httpx.Response, diagnostics: str) -> None:
    assert response.status_code == 401, response.text
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "invalid_client"
    assert issue["diagnostics"] == diagnostics


def test_assertion_whose_exp_is_nan_is_refused(centre: httpx.Client) -> None:
    """A well-signed assertion with `"exp": NaN` (Python's json reads it; JSON has no NaN)
    is invalid_client, not a 500 from int(NaN)."""
    claims = json.dumps(_site().claims(exp=float("nan")))
    assert "NaN" in claims
    _refused(_token_request(centre, claims.encode()), "client_assertion claims are not JSON")


def test_assertion_whose_jti_is_a_lone_surrogate_is_refused(centre: httpx.Client) -> None:
    """`"jti": "\\ud800"` is valid JSON but no Unicode string: refused, not a 500 when the
    replay store writes it."""
    claims = json.dumps(_site().claims(jti="\ud800"))
    _refused(_token_request(centre, claims.encode()),
             "jti is not a string of Unicode characters")


def test_replayed_assertion_gets_one_token(centre: httpx.Client) -> None:
    """The same assertion twice: the first gets a token, the second 401 (jti replay)."""
    site = _site()
    form = site.token_form(site.assertion())
    answers = [centre.post("/auth/token", content=form, headers={"Content-Type": FORM})
               for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 401]
    assert answers[1].json()["issue"][0]["code"] == "duplicate"
