"""Hypothesis strategies for fuzzing the mock centre over HTTP, and the verdict on an answer.

Shared by ``test_centre_fuzz.py`` (a bounded run in the suite) and ``scripts/fuzz_centre.py``
(10,000 requests and more). A request is arbitrary JSON, a valid message with one element
replaced or deleted (as JSON, or as XML damaged further), a transaction of odd entries, or an
odd URL, each with odd headers (``_centre_fuzz_auth.py`` adds mutated JWTs for ``--auth``).
The verdict: never a 5xx, and every 4xx is an OperationOutcome; a request that must be refused
(a mutated JWT) gets 400, 401 or 403, and a FHIR route's 401 or 403 names the Bearer scheme in
``WWW-Authenticate`` (RFC 6750 §3).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from _centre_messages import consultation, referral
from hypothesis import strategies as st

from ecanfhir.formats import parse_xml, to_xml

__all__ = ["Tally", "fuzz_requests", "send"]

FHIR_JSON = "application/fhir+json"
RESOURCE_TYPES = ("Patient", "Bundle", "ServiceRequest", "Encounter", "Condition", "Observation",
                  "Organization", "MessageHeader", "AuditEvent", "Measure", "OperationOutcome",
                  "StructureDefinition", "CodeSystem", "Nope", "patient")
POST_PATHS = ("/$process-message", "/Bundle", "/", "/$validate", "/Patient/$validate",
              "/Bundle/$validate", "/Patient", "/AuditEvent", "/metadata")
SEARCH_PARAMS = ("_id", "identifier", "patient", "subject", "_lastUpdated", "status", "class",
                 "_count", "_offset", "_summary", "_format", "_elements", "date", "outcome",
                 "periodStart", "periodEnd", "url", "name", "x", "", "_id:exact",
                 "identifier:missing")
ODD_TEXT = ("²", "٣", "0", "-1", "1e3", "9" * 30, "9999-12-31", "0001-01-01",
            "lt0001-01-01T00:00:00+14:00", "gt9999-12-31T23:59:59-14:00",
            "9999-12-31T23:00:00-02:00", "2026-02-30", "2026-13", "eq2026", "sa", "ge",
            "urn:oid:1.2.208.176.1.2|2512489996", "|", "||", "Patient/", "Patient/x/_history/1",
            ",", ",,,", "\x00", "\ud800", "%", "%ZZ", "%ED%A0%80", "true", "count", "null",
            "a" * 300, "W/\"²\"", "json", "xml", "text/html")
HEADER_NAMES = ("Accept", "Content-Type", "Prefer", "If-Match", "If-None-Exist",
                "If-None-Match", "Authorization", "X-Forwarded-For", "Accept-Charset",
                "Content-Encoding", "X-Correlation-Id", "Origin")
HEADER_VALUES = ("application/fhir+json", "application/json", "application/fhir+xml",
                 "text/html", "*/*", "application/*", "application/fhir+json; fhirVersion=3.0",
                 "application/fhir+json;q=0", "", "handling=strict", "handling=lenient",
                 "return=minimal", "return=OperationOutcome", 'W/"²"', 'W/"1"', "Bearer x",
                 "Bearer " + "A" * 300, "Basic Og==", "gzip", "identifier=a|b", "null")

XML_ODD = ("<x/>", '<id value=""/>', "&amp;", "&lol;", "&#0;", "<!-- c -->", "<![CDATA[x]]>",
           "<?pi x?>", '<div xmlns="http://www.w3.org/1999/xhtml"><script/></div>',
           '<extension url="x"/>', "<!DOCTYPE x>", ' value="x"', "</Bundle>",
           '<Patient xmlns="urn:x"/>')

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**40, 10**40),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                     st.sampled_from(ODD_TEXT))
json_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(
        ("resourceType", "id", "entry", "resource", "request", "extension", "reference",
         "coding", "identifier", "type", "url", "method"))), inner, max_size=4)),
    max_leaves=20)


@dataclass(frozen=True, slots=True)
class FuzzRequest:
    method: str
    url: str
    headers: tuple[tuple[str, bytes], ...] = ()
    content: bytes | None = None
    kind: str = ""
    refuse: bool = False    # must be refused: 400, 401 or 403


@dataclass(slots=True)
class Tally:
    """Counts of what came back; ``problems`` keeps the first few offending requests."""

    sent: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    server_errors: int = 0
    not_outcome: int = 0
    problems: list[str] = field(default_factory=list)
    failed: list[FuzzRequest] = field(default_factory=list)
    granted: set[bytes] = field(default_factory=set)    # token requests answered 200

    @property
    def ok(self) -> bool:
        return self.server_errors == 0 and self.not_outcome == 0


@lru_cache(maxsize=1)
def _messages() -> tuple[dict[str, Any], ...]:
    made = [referral(f"CASE-FUZZ-{n}", seed=900 + n) for n in range(4)]
    made += [consultation(f"ENC-FUZZ-{n}", seed=950 + n) for n in range(4)]
    return tuple(made)


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document, as keys and indexes."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += json_paths(child, (*prefix, index))
    return found


@st.composite
def _mutated_message(draw: st.DrawFn) -> bytes:
    message = copy.deepcopy(draw(st.sampled_from(_messages())))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(json_paths(message) or [("id",)]))
        parent: Any = message
        for step in where[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(("replace", "delete", "odd")))
        if action == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "odd":
            parent[where[-1]] = draw(st.sampled_from(ODD_TEXT))
        else:
            parent[where[-1]] = draw(json_values)
    if draw(st.booleans()):  # a new envelope: processed, not answered as a resend
        message["id"] = draw(st.uuids()).hex
    return json.dumps(message).encode()


@st.composite
def _transaction(draw: st.DrawFn) -> bytes:
    entries = draw(st.lists(st.fixed_dictionaries({
        "request": st.fixed_dictionaries({
            "method": st.sampled_from(("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "x")),
            "url": st.one_of(st.sampled_from(ODD_TEXT), st.builds(
                lambda t, i: f"{t}/{i}", st.sampled_from(RESOURCE_TYPES),
                st.sampled_from(ODD_TEXT)))},
            optional={"ifMatch": st.sampled_from(ODD_TEXT),
                      "ifNoneExist": st.sampled_from(ODD_TEXT)}),
        }, optional={"resource": st.one_of(json_values, st.builds(
            lambda t, rest: {"resourceType": t, **rest}, st.sampled_from(RESOURCE_TYPES),
            st.dictionaries(st.sampled_from(("id", "status", "identifier", "subject")),
                            json_values, max_size=3))),
                     "fullUrl": st.sampled_from(ODD_TEXT)}), max_size=4))
    kind = draw(st.sampled_from(("transaction", "batch", "message", "x")))
    return json.dumps({"resourceType": "Bundle", "type": kind, "entry": entries}).encode()


def _odd_value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=12),
                     st.lists(st.sampled_from(ODD_TEXT), max_size=5).map(",".join))


def _encode(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def _odd_url(draw: st.DrawFn) -> str:
    resource_type = draw(st.sampled_from((*RESOURCE_TYPES, "metadata", "$process-message",
                                          "Measure/ecan-kpi-cancer-cases/$evaluate-measure",
                                          "Measure/ecan-kpi-telemedicine-consultations/"
                                          "$evaluate-measure", "", "favicon.ico")))
    tail = draw(st.lists(st.one_of(st.sampled_from(("_history", "$validate", "1", "p1")),
                                   _odd_value()), max_size=3))
    path = "/" + "/".join(_encode(p) for p in [resource_type, *tail] if p)
    params = draw(st.lists(st.tuples(st.one_of(st.sampled_from(SEARCH_PARAMS),
                                               st.text(max_size=8)), _odd_value()),
                           max_size=5))
    if draw(st.integers(0, 20)) == 0:  # many values: repeated parameters or long lists
        params.append(("status", ",".join(["finished"] * draw(st.integers(50, 600)))))
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params)
    return f"{path}?{query}" if query else path


def _headers() -> st.SearchStrategy[tuple[tuple[str, bytes], ...]]:
    latin = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                           exclude_characters="\x7f"), max_size=40)
    value = st.one_of(st.sampled_from(HEADER_VALUES).map(str.encode),
                      latin.map(lambda t: t.encode("latin-1")),
                      st.sampled_from(ODD_TEXT).map(lambda t: t.encode("utf-8",
                                                                       "surrogatepass")))
    return st.lists(st.tuples(st.sampled_from(HEADER_NAMES), value), max_size=3,
                    unique_by=lambda h: h[0].lower()).map(tuple)


def _with_json_type(headers: tuple[tuple[str, bytes], ...], media: str = FHIR_JSON
                    ) -> tuple[tuple[str, bytes], ...]:
    if any(name.lower() == "content-type" for name, _ in headers):
        return headers
    return (("Content-Type", media.encode()), *headers)


@st.composite
def _xml_message(draw: st.DrawFn) -> bytes:
    """A message as FHIR XML: a mutated message where it has an XML form, else a valid one,
    then cut short, spliced or given odd markup."""
    mutated = json.loads(draw(_mutated_message()))
    try:
        xml = to_xml(mutated, pretty=False)
    except ValueError:
        xml = to_xml(draw(st.sampled_from(_messages())), pretty=False)
    at = draw(st.integers(0, len(xml)))
    action = draw(st.sampled_from(("keep", "cut", "insert", "drop")))
    if action == "cut":
        xml = xml[:at]
    elif action == "insert":
        xml = xml[:at] + draw(st.sampled_from((*XML_ODD, *ODD_TEXT))) + xml[at:]
    elif action == "drop":
        xml = xml[:at] + xml[draw(st.integers(at, min(len(xml), at + 200))):]
    return xml.encode("utf-8", "surrogatepass")


def fuzz_requests() -> st.SearchStrategy[FuzzRequest]:
    """One odd request: arbitrary JSON, a mutated message (in JSON or XML), a transaction or
    an odd URL."""
    arbitrary = st.builds(lambda path, body, h: FuzzRequest(
        "POST", path, _with_json_type(h), json.dumps(body).encode(), "arbitrary-json"),
        st.sampled_from(POST_PATHS), json_values, _headers())
    mutated = st.builds(lambda path, body, h: FuzzRequest(
        "POST", path, _with_json_type(h), body, "mutated-message"),
        st.sampled_from(("/$process-message", "/Bundle", "/$validate")), _mutated_message(),
        _headers())
    transaction = st.builds(lambda body, h: FuzzRequest(
        "POST", "/", _with_json_type(h), body, "transaction"), _transaction(), _headers())
    xml = st.builds(lambda path, body, h: FuzzRequest(
        "POST", path, _with_json_type(h, "application/fhir+xml"), body, "xml-message"),
        st.sampled_from(("/$process-message", "/$validate", "/Patient", "/")), _xml_message(),
        _headers())
    url = st.builds(lambda method, u, h: FuzzRequest(method, u, h, None, "odd-url"),
                    st.sampled_from(("GET", "GET", "GET", "DELETE", "PUT", "HEAD", "OPTIONS")),
                    _odd_url(), _headers())
    return st.one_of(arbitrary, mutated, transaction, url, xml)


def send(http: httpx.Client, request: FuzzRequest, tally: Tally, *,
         bearer: str | None = None) -> httpx.Response | None:
    """Send one request on ``http`` (one keep-alive connection) and tally the answer;
    ``bearer`` is the access token of a request that carries no Authorization of its own."""
    headers = [(k.encode(), v) for k, v in request.headers]
    if bearer is not None and not any(k.lower() == "authorization" for k, _ in request.headers):
        headers.append((b"Authorization", f"Bearer {bearer}".encode()))
    try:
        response = http.request(request.method, request.url, headers=headers,
                                content=request.content)
    except httpx.LocalProtocolError:  # a header h11 will not send: nothing reached the server
        return None
    tally.sent += 1
    tally.by_status[response.status_code] = tally.by_status.get(response.status_code, 0) + 1
    tally.by_kind[request.kind] = tally.by_kind.get(request.kind, 0) + 1
    problem = _problem(request, response) or _auth_problem(request, response, tally)
    if problem is not None:
        if response.status_code >= 500:
            tally.server_errors += 1
        else:
            tally.not_outcome += 1
        if len(tally.problems) < 20:
            tally.failed.append(request)
            tally.problems.append(f"{problem}: {request.method} {request.url[:200]} "
                                  f"{(request.content or b'')[:300]!r}")
    return response


def _problem(request: FuzzRequest, response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:200]}"
    if response.status_code < 400 or request.method == "HEAD":
        return None
    body = _fhir_body(response)
    if body is None:
        return f"{response.status_code} without a FHIR JSON or FHIR XML body"
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return f"{response.status_code} without an OperationOutcome"
    return None


def _auth_problem(request: FuzzRequest, response: httpx.Response, tally: Tally) -> str | None:
    status = response.status_code
    if request.refuse and status not in (400, 401, 403):
        return f"{status} to a request that must be refused (400, 401 or 403)"
    if status in (401, 403) and request.url != "/auth/token" and not response.headers.get(
            "www-authenticate", "").startswith("Bearer"):
        return f"{status} without WWW-Authenticate: Bearer"
    if request.kind == "jwt-replay" and status == 200:
        assertion = parse_qs((request.content or b"").decode())["client_assertion"][0].encode()
        if assertion in tally.granted:
            return "a replayed client assertion was granted a second token"
        tally.granted.add(assertion)
    return None


def _fhir_body(response: httpx.Response) -> Any:
    """The answer in the FHIR JSON form, read as its Content-Type says (None if unreadable)."""
    if "xml" in response.headers.get("content-type", ""):
        return parse_xml(response.content)[0]
    try:
        return response.json()
    except ValueError:
        return None
