"""Hypothesis strategies for fuzzing the mock centre's SMART Backend Services (``--auth``).

Shared by ``test_centre_fuzz_auth.py`` (a bounded run against ``ecanfhir serve --auth``) and
``scripts/fuzz_centre.py --auth`` (10,000 requests and more). A request is a token request
whose client assertion (RFC 7523) is mutated, or a FHIR request whose bearer access token is:
bad base64, another or no ``alg``, claims altered (re-signed or not), expired, the wrong
audience or issuer, huge, non-ASCII, parts missing or added, and assertions replayed.

The verdict (in ``_centre_fuzz.send``): never a 5xx; every refusal is 400, 401 or 403 with an
OperationOutcome; a FHIR route's 401 or 403 carries ``WWW-Authenticate: Bearer`` (RFC 6750
§3); a mutated token is never accepted, and a replayed assertion never twice.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from _centre_fuzz import ODD_TEXT, FuzzRequest, json_values
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

__all__ = ["FuzzSite", "auth_requests"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
FHIR_ROUTES = (("GET", "/Patient"), ("GET", "/Encounter?status=finished"), ("GET", "/"),
               ("POST", "/$process-message"), ("GET", "/AuditEvent"), ("POST", "/"),
               ("GET", "/Measure/ecan-kpi-cancer-cases/$evaluate-measure"),
               ("GET", "/Patient/x/_history/1"), ("POST", "/Patient/$validate"))
ODD_ALGS = ("none", "None", "HS256", "HS384", "RS256", "ES256", "PS384", "rs384", "", None, 1,
            ["RS384"], {"alg": "RS384"}, "RS384 ", "RS384\u0000")
ODD_CLAIMS = (float("nan"), float("inf"), -float("inf"), 10**40, -1, 0, 1.5, True, "", [],
              {}, None, "\ud800", "²", "9" * 400)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    """JSON as a careless signer writes it: NaN and Infinity literals, lone surrogates."""
    return json.dumps(value).encode("utf-8", "surrogatepass")


class FuzzSite:
    """A registered client of a centre started with ``--auth``: its keys, its id, valid
    assertions, and access tokens fetched from the centre (renewed before they expire)."""

    def __init__(self, base_url: str, *, client_id: str = "fuzz-site") -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = self.base_url + "/auth/token"
        self.client_id = client_id
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": "fuzz-rsa"})
        self.ec = ECKey.generate_key("P-384", parameters={"kid": "fuzz-ec"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "fuzz-rsa"})
        self._lock = threading.Lock()
        self._token: tuple[float, str] | None = None
        self._replays: tuple[float, tuple[str, ...]] | None = None

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set to register (``serve --client-jwks``)."""
        return {"keys": [self.rsa.as_dict(private=False), self.ec.as_dict(private=False)]}

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                  "exp": int(time.time()) + 240, "jti": uuid.uuid4().hex}
        claims.update(changes)
        return claims

    def sign(self, payload: bytes, *, alg: str = "RS384", header: dict[str, Any] | None = None,
             key: RSAKey | ECKey | None = None) -> str:
        """A compact JWS of ``payload`` signed as the site would (or with ``key``)."""
        key = key or (self.ec if alg == "ES384" else self.rsa)
        protected = {"alg": alg, "typ": "JWT", "kid": key.kid, **(header or {})}
        return jws.serialize_compact(protected, payload, key, algorithms=[alg])

    def assertion(self, **changes: Any) -> str:
        return self.sign(_json(self.claims(**changes)))

    def token_form(self, assertion: str, scope: str = "system/*.*") -> str:
        return urlencode({"grant_type": "client_credentials", "scope": scope,
                          "client_assertion_type": ASSERTION_TYPE,
                          "client_assertion": assertion})

    def access_token(self) -> str:
        """A valid access token of scope ``system/*.*`` (fetched again after 200 s)."""
        with self._lock:
            if self._token is None or time.monotonic() - self._token[0] > 200:
                answer = httpx.post(self.token_url, content=self.token_form(self.assertion()),
                                    headers={"Content-Type": FORM}, timeout=60)
                answer.raise_for_status()
                self._token = (time.monotonic(), answer.json()["access_token"])
            return self._token[1]

    def replayable(self, index: int) -> str:
        """One of three valid assertions, the same for 200 s: sent more than once."""
        with self._lock:
            if self._replays is None or time.monotonic() - self._replays[0] > 200:
                self._replays = (time.monotonic(),
                                 tuple(self.assertion() for _ in range(3)))
            return self._replays[1][index % 3]


def _parts(token: str) -> list[str]:
    return token.split(".")


@st.composite
def _damaged(draw: st.DrawFn, token: str, site: FuzzSite) -> tuple[str, bool]:
    """A mutation of a valid compact JWS, and whether the result must be refused."""
    header, payload, signature = _parts(token)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    kind = draw(st.sampled_from(("base64", "alg", "claims-unsigned", "claims-signed",
                                 "expired", "audience", "issuer", "huge", "non-ascii",
                                 "parts", "stranger", "confusion")))
    refuse = True
    if kind == "base64":
        part = draw(st.integers(0, 2))
        pieces = [header, payload, signature]
        at = draw(st.integers(0, len(pieces[part])))
        pieces[part] = (pieces[part][:at] + draw(st.sampled_from(("!", "*", "=", "==", "+/",
                                                                  " ", "%", "\\", "..")))
                        + pieces[part][at:])
        damaged = ".".join(pieces)
    elif kind == "alg":
        alg = draw(st.sampled_from(ODD_ALGS))
        new = _b64(_json({"alg": alg, "typ": "JWT", "kid": draw(st.sampled_from(
            ("fuzz-rsa", "fuzz-ec", "nope", "", 1, None)))}))
        damaged = f"{new}.{payload}." + draw(st.sampled_from(("", signature, "AAAA")))
    elif kind in ("claims-unsigned", "claims-signed"):
        name = draw(st.sampled_from(("iss", "sub", "aud", "exp", "jti", "iat", "nbf", "scope",
                                     "x")))
        value = draw(st.one_of(st.sampled_from(ODD_CLAIMS), st.sampled_from(ODD_TEXT),
                               json_values))
        changed = {**claims, name: value}
        if draw(st.booleans()):
            changed = draw(st.sampled_from((value, [claims], "x", None)))
        if kind == "claims-unsigned":
            damaged = f"{header}.{_b64(_json(changed))}.{signature}"
        else:   # a well-signed assertion of odd claims: refused or granted, never a 5xx
            damaged, refuse = site.sign(_json(changed)), False
    elif kind == "expired":
        damaged = site.sign(_json({**claims, "exp": int(time.time()) - draw(
            st.integers(1, 10**9))}))
    elif kind == "audience":
        aud = draw(st.sampled_from((site.base_url, site.base_url + "/", [site.base_url],
                                    site.token_url + "/", "", [], site.token_url.upper())))
        damaged = site.sign(_json({**claims, "aud": aud}))
    elif kind == "issuer":
        who = draw(st.sampled_from(("other-site", "", site.client_id.upper(), site.base_url)))
        damaged = site.sign(_json({**claims, draw(st.sampled_from(("iss", "sub"))): who}))
    elif kind == "huge":
        size = draw(st.sampled_from((2_000, 7_000, 30_000)))
        where = draw(st.sampled_from(("claim", "header", "signature")))
        big = "A" * size
        if where == "claim":
            damaged = site.sign(_json({**claims, "jti": big}))
        elif where == "header":
            damaged = site.sign(_json(claims), header={"kid": big})
        else:
            damaged = f"{header}.{payload}.{big}"
        damaged = damaged[:size + 2_000]    # the bearer form stays under a header's limit
    elif kind == "non-ascii":
        text = draw(st.sampled_from(("é", "²", "\u200b", "日本", "\x00", "\x7f", "ÿ")))
        at = draw(st.integers(0, len(token)))
        damaged = token[:at] + text + token[at:]
    elif kind == "parts":
        damaged = draw(st.sampled_from((
            header, f"{header}.{payload}", f"{header}..{signature}", f".{payload}.{signature}",
            f"{token}.{signature}", f"{token}.x.y", "", ".", "..", "....", token + ".")))
    elif kind == "stranger":    # the right kid, another key
        damaged = site.sign(_json(claims), key=site.stranger)
    else:                       # alg confusion: HS256 keyed with the site's public key
        secret = _b64(json.dumps(site.rsa.as_dict(private=False)).encode())
        damaged = f"{_b64(_json({'alg': 'HS256', 'kid': 'fuzz-rsa'}))}.{payload}." + secret
    return damaged, refuse


@st.composite
def _token_request(draw: st.DrawFn, site: FuzzSite) -> FuzzRequest:
    kind = draw(st.sampled_from(("jwt-assertion", "jwt-assertion", "jwt-replay", "jwt-form")))
    scope = draw(st.one_of(st.just("system/*.*"), st.sampled_from(
        ("", "system/Bundle.write", "system/*.read patient/*.read", "openid", "system/*.xyz",
         "²", "system/" + "A" * 500))))
    if kind == "jwt-replay":
        form, refuse = site.token_form(site.replayable(draw(st.integers(0, 2))), scope), False
    elif kind == "jwt-form":    # the form itself is odd
        fields = draw(st.dictionaries(st.sampled_from(
            ("grant_type", "client_assertion_type", "client_assertion", "scope", "x")),
            st.one_of(st.sampled_from(ODD_TEXT), st.just(site.assertion())), max_size=5))
        form, refuse = urlencode(
            {k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}), True
        if draw(st.booleans()):
            form += "&" + draw(st.sampled_from(("a", "=", "&&", "%ZZ", "%ED%A0%80", "a=%FF")))
    else:
        assertion, refuse = draw(_damaged(site.assertion(), site))
        form = site.token_form(assertion, scope)
    content_type = draw(st.sampled_from((FORM, FORM, FORM + "; charset=utf-8",
                                         "application/json", "")))
    refuse = refuse or not content_type
    return FuzzRequest("POST", "/auth/token", (("Content-Type", content_type.encode()),),
                       form.encode("utf-8", "surrogatepass"), kind, refuse=refuse)


@st.composite
def _bearer_request(draw: st.DrawFn, site: FuzzSite) -> FuzzRequest:
    method, path = draw(st.sampled_from(FHIR_ROUTES))
    token, _ = draw(_damaged(site.access_token(), site))
    scheme = draw(st.sampled_from(("Bearer ", "Bearer ", "bearer ", "Bearer  ", "Basic ",
                                   "", "Bearer\t")))
    value = (scheme + token).encode("utf-8", "surrogatepass")
    body = b'{"resourceType": "Bundle", "type": "message"}' if method == "POST" else None
    return FuzzRequest(method, path, (("Authorization", value),
                                      ("Content-Type", b"application/fhir+json")),
                       body, "jwt-bearer", refuse=True)


def auth_requests(site: FuzzSite) -> st.SearchStrategy[FuzzRequest]:
    """One request with a mutated JWT: a token request's client assertion (or a replayed
    one), or a FHIR request's bearer access token."""
    return st.one_of(_token_request(site), _bearer_request(site))
