"""Runs one TestScript against an endpoint over HTTP (httpx), producing a ScriptResult.

Operations (``TestScript.*.action.operation``): ``type`` from
http://terminology.hl7.org/CodeSystem/testscript-operation-codes — ``read``, ``search``,
``create``, ``transaction``, ``batch``, ``process-message``, ``validate``, ``capabilities``,
``delete`` — or **raw HTTP** (no ``type``; ``method`` + ``url``, ``requestHeader`` and a
``sourceId`` naming a Binary fixture whose bytes are sent as they are, for bad-input cases).
``url`` (relative to the endpoint, or absolute) overrides the URL a type implies.

Origins: origin 1 is this runner. An operation with ``origin = 2`` is performed by the **sender
under test** (the site's system): the runner hands it the ``sourceId`` message and lets it send
(and resend) on its own; what it sent is asserted afterwards, e.g. through the mock centre's
request recorder.

Format: a run speaks FHIR JSON or FHIR XML (``EngineConfig.format``, ``ecanfhir conformance
--format xml``). In an XML run, resource fixtures are sent as FHIR XML and requests ask for
XML (``Accept``), unless the operation names its own ``accept`` or ``contentType``; an assert
that the answer is FHIR JSON (``contentType``) means "in the FHIR format asked for", so the
same suites check an XML exchange. Binary fixtures keep their own type (bad input is bad
input). Answers in either format are read into the FHIR JSON form for the asserts.

Asserts: see :mod:`ecanfhir.conformance._asserts`. ecanfhir extension
``ecan-testscript-precondition`` (valueBoolean true) on an assert: when it fails the test is
*skipped* with the assert's description as the reason (e.g. the endpoint is not configured to
fault a given sender), instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from .._frozen import frozen
from ..client._core import Format, decode_body, encode
from ..validation._validator import Validator
from ._asserts import compare, evaluate
from ._fixtures import (
    Renewal,
    StoredResponse,
    apply_patch,
    binary_text,
    json_path,
    substitute,
)
from ._model import ActionResult, Exchange, Outcome, ScriptResult, SuiteError, TestResult, redact
from ._schema import ASSERT_RESPONSES

__all__ = ["EngineConfig", "ExchangeSink", "SenderUnderTest", "capture_hook", "run_script"]

SenderUnderTest = Callable[[str, dict[str, Any]], object]
PATCH_EXTENSION = "/StructureDefinition/ecan-testscript-body-patch"
PRECONDITION_EXTENSION = "/StructureDefinition/ecan-testscript-precondition"
MAX_BODY_CHARS = 50_000
_MIME = {"json": "application/fhir+json", "xml": "application/fhir+xml",
         "ttl": "text/turtle", "none": ""}
_DEFAULT_METHOD = {"read": "get", "vread": "get", "search": "get", "capabilities": "get",
                   "history": "get", "delete": "delete", "create": "post", "update": "put",
                   "transaction": "post", "batch": "post", "process-message": "post",
                   "validate": "post"}


@dataclass(slots=True)
class ExchangeSink:
    """Where the HTTP client's response hook puts exchanges (those of the current action)."""

    items: list[Exchange] = field(default_factory=list)


@frozen
class EngineConfig:
    """What every script of a run shares."""

    endpoint: str
    http: httpx.Client
    validator: Validator
    sink: ExchangeSink
    sender: SenderUnderTest | None = None
    only: frozenset[str] | None = None      # test ids to run (None: all)
    format: Format = "json"                 # the FHIR format of requests and answers


class _Stop(Exception):
    """Ends a test early: a failed assert, an operation that could not be performed."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Context:
    """The state of one script run: fixtures, responses, variables, captured exchanges."""

    def __init__(self, script: Mapping[str, Any], config: EngineConfig) -> None:
        self.script = script
        self.config = config
        contained = {f"#{r['id']}": r for r in script.get("contained", ())}
        self.fixtures: dict[str, Any] = {f["id"]: contained[f["resource"]["reference"]]
                                         for f in script.get("fixture", ())}
        self.profiles = {p["id"]: p["reference"] for p in script.get("profile", ())}
        self.variables = {v["name"]: v for v in script.get("variable", ())}
        self.responses: dict[str, StoredResponse] = {}
        self.last: StoredResponse | None = None
        self.renewal = Renewal()

    @property
    def captured(self) -> list[Exchange]:
        return self.config.sink.items

    @captured.setter
    def captured(self, items: list[Exchange]) -> None:
        self.config.sink.items = items

    # -- fixtures and variables -------------------------------------------------------------
    def source(self, source_id: str | None) -> StoredResponse | None:
        if source_id is None:
            return self.last
        if source_id in self.responses:
            return self.responses[source_id]
        if source_id in self.fixtures:
            fixture = self.fixture(source_id)
            return StoredResponse(None, {}, fixture)
        raise _Stop("error", f"sourceId {source_id}: no fixture or response has this id")

    def fixture(self, fixture_id: str) -> Any:
        resource = self.fixtures.get(fixture_id)
        if resource is None:
            raise _Stop("error", f"no fixture {fixture_id}")
        return self.renewal.resource(resource)

    def variable(self, name: str) -> str:
        spec = self.variables.get(name)
        if spec is None:
            raise _Stop("error", f"${{{name}}}: no TestScript.variable has this name")
        found: list[Any] = []
        stored = self.source(spec.get("sourceId"))
        if stored is not None:
            if "expression" in spec:
                found = evaluate(stored.body, self.text(spec["expression"]))
            elif "path" in spec:
                found = json_path(stored.body, self.text(spec["path"]))
            elif "headerField" in spec:
                value = _header(stored.headers, spec["headerField"])
                found = [value] if value is not None else []
        if found:
            return str(found[0]).lower() if isinstance(found[0], bool) else str(found[0])
        if "defaultValue" in spec:
            return self.renewal.text(spec["defaultValue"])
        raise _Stop("error", f"${{{name}}}: the variable has no value (its source has none)")

    def text(self, value: str) -> str:
        return substitute(value, self.variable)


def run_script(script: Mapping[str, Any], suite: str, config: EngineConfig) -> ScriptResult:
    """Run setup, each selected test, and teardown of ``script``."""
    ctx = _Context(script, config)
    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.monotonic()
    setup, setup_problem = _run_actions(ctx, script.get("setup", {}).get("action", ()))
    tests: list[TestResult] = []
    for number, test in enumerate(script["test"]):
        test_id = str(test.get("id") or f"test-{number + 1}")
        if config.only is not None and test_id not in config.only:
            continue
        if setup_problem is not None:
            status, message = setup_problem
            tests.append(_result(test, test_id, "skip" if status == "skip" else "error",
                                 f"setup: {message}", (), 0.0))
            continue
        ctx.renewal = Renewal()
        begun = time.monotonic()
        actions, problem = _run_actions(ctx, test["action"])
        status, message = problem if problem is not None else ("pass", "")
        tests.append(_result(test, test_id, status, message, actions,
                             (time.monotonic() - begun) * 1000))
    ctx.renewal = Renewal()
    teardown, _ = _run_actions(ctx, script.get("teardown", {}).get("action", ()))
    return ScriptResult(suite, str(script["url"]), str(script["name"]),
                        str(script.get("title") or script["name"]), tuple(setup), tuple(tests),
                        tuple(teardown), started, (time.monotonic() - clock) * 1000)


def _result(test: Mapping[str, Any], test_id: str, status: str, message: str,
            actions: Sequence[ActionResult], duration: float) -> TestResult:
    from ._requirements import requirements_of

    return TestResult(test_id, str(test.get("name") or test_id),
                      str(test.get("description", "")), requirements_of(test),
                      status, message, tuple(actions), duration)  # type: ignore[arg-type]


def _run_actions(ctx: _Context, actions: Sequence[Mapping[str, Any]]
                 ) -> tuple[list[ActionResult], tuple[str, str] | None]:
    done: list[ActionResult] = []
    for number, action in enumerate(actions):
        try:
            if "operation" in action:
                done.append(_operation(ctx, action["operation"]))
            else:
                done.append(_assert(ctx, action["assert"]))
        except _Stop as stop:
            kind: Literal["operation", "assert"] = (
                "operation" if "operation" in action else "assert")
            label = _label(action.get(kind, {}), kind)
            exchanges, ctx.captured = tuple(ctx.captured), []
            outcome: Outcome = "skip" if stop.status == "skip" else (
                "fail" if stop.status == "fail" else "error")
            done.append(ActionResult(kind, label, outcome, stop.message, exchanges))
            done += [ActionResult("operation" if "operation" in a else "assert",
                                  _label(a.get("operation") or a.get("assert") or {}, "action"),
                                  "skip", "not run") for a in actions[number + 1:]]
            return done, (stop.status, f"{label}: {stop.message}")
        except SuiteError as exc:
            done.append(ActionResult("assert", "action", "error", str(exc)))
            return done, ("error", str(exc))
    return done, None


def _label(element: Mapping[str, Any], kind: str) -> str:
    if element.get("label"):
        return str(element["label"])
    if element.get("description"):
        return str(element["description"])[:120]
    if kind == "operation" or "method" in element or "type" in element:
        code = element.get("type", {}).get("code") or element.get("method", "")
        return f"{code} {element.get('url') or element.get('resource') or ''}".strip()
    return kind


# -- operations ------------------------------------------------------------------------------

def _operation(ctx: _Context, op: Mapping[str, Any]) -> ActionResult:
    label = _label(op, "operation")
    if op.get("origin", 1) != 1:
        return _sender_operation(ctx, op, label)
    method, url, headers, body = _request(ctx, op)
    ctx.captured = []
    exchange = _send(ctx, method, url, headers, body)
    if exchange.error is not None:
        raise _Stop("error", f"{method.upper()} {url}: {exchange.error}")
    stored = ctx.last
    assert stored is not None
    if op.get("responseId"):
        ctx.responses[op["responseId"]] = stored
    if op.get("requestId"):
        ctx.responses[op["requestId"]] = StoredResponse(
            None, stored.request_headers, stored.request_body)
    exchanges, ctx.captured = tuple(ctx.captured), []
    return ActionResult("operation", label, "pass", f"{method.upper()} {url} → {exchange.status}",
                        exchanges)


def _sender_operation(ctx: _Context, op: Mapping[str, Any], label: str) -> ActionResult:
    sender = ctx.config.sender
    if sender is None:
        raise _Stop("skip", "no sender under test is configured for this run")
    if not op.get("sourceId"):
        raise SuiteError(f"operation {label}: the sender under test needs a sourceId message")
    message = _body_resource(ctx, op)
    ctx.captured = []
    try:
        sender(ctx.config.endpoint, message)
    except Exception as exc:  # the sender under test is foreign code: report, do not crash
        raise _Stop("error", f"the sender under test raised {type(exc).__name__}: {exc}"
                    ) from exc
    exchanges = tuple(_by_sender(e) for e in ctx.captured)
    ctx.captured = []
    return ActionResult("operation", label, "pass",
                        f"the sender under test sent {message.get('resourceType')}/"
                        f"{message.get('id')}", exchanges)


def _by_sender(exchange: Exchange) -> Exchange:
    return Exchange(exchange.method, exchange.url, exchange.request_headers,
                    exchange.request_body, exchange.status, exchange.response_headers,
                    exchange.response_body, exchange.elapsed_ms, exchange.error,
                    "sender-under-test")


def _request(ctx: _Context, op: Mapping[str, Any]
             ) -> tuple[str, str, dict[str, str], bytes | None]:
    code = op.get("type", {}).get("code")
    method = str(op.get("method") or _DEFAULT_METHOD.get(code or "", "get"))
    url = ctx.text(op["url"]) if op.get("url") else _implied_url(ctx, op, code)
    if not url.startswith(("http://", "https://")):
        url = ctx.config.endpoint.rstrip("/") + "/" + url.lstrip("/")
    headers: dict[str, str] = {}
    if op.get("accept"):
        headers["Accept"] = _MIME.get(op["accept"], op["accept"])
    elif ctx.config.format != "json":
        headers["Accept"] = _MIME[ctx.config.format]
    body: bytes | None = None
    if op.get("sourceId") and method in ("post", "put", "patch"):
        fixture = ctx.source(op["sourceId"])
        raw = fixture.body if fixture is not None else None
        if isinstance(raw, dict) and raw.get("resourceType") == "Binary":
            body = ctx.text(binary_text(raw)).encode()
            headers["Content-Type"] = str(raw.get("contentType") or "application/fhir+json")
        else:
            named = _MIME.get(op.get("contentType") or "", op.get("contentType"))
            fmt: Format = ("xml" if named == _MIME["xml"] else "json" if named == _MIME["json"]
                           else ctx.config.format)
            body, headers["Content-Type"] = _encoded(_body_resource(ctx, op), fmt)
    if op.get("contentType"):
        headers["Content-Type"] = _MIME.get(op["contentType"], op["contentType"])
    for header in op.get("requestHeader", ()):
        headers[header["field"]] = ctx.text(header["value"])
    return method, url, headers, body


def _implied_url(ctx: _Context, op: Mapping[str, Any], code: str | None) -> str:
    resource = str(op.get("resource", ""))
    params = ctx.text(str(op.get("params", "")))
    if code in ("read", "vread", "delete", "update") and op.get("targetId") and not params:
        target = ctx.source(op["targetId"])
        body = target.body if target is not None else None
        if not isinstance(body, dict) or "id" not in body:
            raise _Stop("error", f"targetId {op['targetId']}: holds no resource with an id")
        resource = resource or str(body.get("resourceType"))
        params = f"/{body['id']}"
    if code == "capabilities":
        return "metadata"
    if code in ("transaction", "batch"):
        return ""
    if code == "process-message":
        return "$process-message"
    if code == "validate":
        return f"{resource}/$validate{params}" if resource else f"$validate{params}"
    if code is None:
        raise SuiteError("a raw HTTP operation needs a url")
    return f"{resource}{params}"


def _body_resource(ctx: _Context, op: Mapping[str, Any]) -> dict[str, Any]:
    stored = ctx.source(op["sourceId"])
    body = stored.body if stored is not None else None
    if not isinstance(body, dict):
        raise _Stop("error", f"sourceId {op['sourceId']}: holds no resource to send")
    for extension in op.get("extension", ()):
        if str(extension.get("url", "")).endswith(PATCH_EXTENSION):
            patch = ctx.text(ctx.renewal.text(str(extension.get("valueString", ""))))
            body = apply_patch(body, patch)
    return body


def _encoded(resource: dict[str, Any], fmt: Format) -> tuple[bytes, str]:
    try:
        return encode(resource, fmt)
    except ValueError as exc:  # no XML form (an unknown property in the fixture)
        raise _Stop("error", f"the fixture cannot be sent as FHIR {fmt.upper()}: {exc}"
                    ) from exc


def _send(ctx: _Context, method: str, url: str, headers: dict[str, str],
          body: bytes | None) -> Exchange:
    request_body: Any = None
    if body:
        request_body = decode_body(body, headers.get("Content-Type", ""))[0]
    try:
        response = ctx.config.http.request(method.upper(), url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        exchange = Exchange(method.upper(), url, redact(headers), _clip(body or b""),
                            error=f"{type(exc).__name__}: {exc}")
        ctx.captured.append(exchange)
        return exchange
    parsed: Any = None
    if response.content:
        parsed = decode_body(response.content, response.headers.get("content-type", ""))[0]
    ctx.last = StoredResponse(response.status_code, dict(response.headers), parsed,
                              response.text, headers, request_body)
    return ctx.captured[-1] if ctx.captured else Exchange(
        method.upper(), url, redact(headers), _clip(body or b""), response.status_code)


def capture_hook(sink: ExchangeSink) -> Callable[[httpx.Response], None]:
    """An httpx response hook appending each exchange to the current action's list."""
    def hook(response: httpx.Response) -> None:
        captured = sink.items
        response.read()
        request = response.request
        captured.append(Exchange(
            request.method, str(request.url), redact(dict(request.headers)),
            _clip(request.content), response.status_code, redact(dict(response.headers)),
            _clip(response.content), response.elapsed.total_seconds() * 1000
            if _has_elapsed(response) else 0.0))
    return hook


def _has_elapsed(response: httpx.Response) -> bool:
    try:
        response.elapsed  # noqa: B018 - httpx raises until the response is closed
    except RuntimeError:
        return False
    return True


def _clip(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + " […]"


# -- asserts ---------------------------------------------------------------------------------

def _assert(ctx: _Context, check: Mapping[str, Any]) -> ActionResult:
    label = _label(check, "assert")
    exchanges, ctx.captured = tuple(ctx.captured), []
    failures = _failures(ctx, check)
    if not failures:
        return ActionResult("assert", label, "pass", "", exchanges)
    message = "; ".join(failures)
    if any(str(e.get("url", "")).endswith(PRECONDITION_EXTENSION) and e.get("valueBoolean")
           for e in check.get("extension", ())):
        raise _Stop("skip", f"precondition not met ({message})")
    if check.get("warningOnly"):
        return ActionResult("assert", label, "warning", message, exchanges)
    raise _Stop("fail", message)


def _failures(ctx: _Context, check: Mapping[str, Any]) -> list[str]:
    stored = ctx.source(check.get("sourceId"))
    if stored is None:
        raise _Stop("error", "no response to assert on yet")
    request = check.get("direction") == "request"
    headers = stored.request_headers if request else stored.headers
    body = stored.request_body if request else stored.body
    value = ctx.text(check["value"]) if "value" in check else None
    out: list[str] = []
    if "response" in check:
        want = ASSERT_RESPONSES[check["response"]]
        if stored.status != want:
            out.append(f"status {stored.status}, expected {want} ({check['response']})")
    if "responseCode" in check:
        ok, seen = compare([stored.status], check.get("operator", "equals"),
                           ctx.text(check["responseCode"]))
        if not ok:
            out.append(f"status {seen}, expected {check.get('operator', 'equals')} "
                       f"{check['responseCode']}")
    if "contentType" in check:
        media = _MIME.get(check["contentType"], check["contentType"])
        if media == _MIME["json"] and not request and _header(
                stored.request_headers, "accept") == _MIME["xml"]:
            media = _MIME["xml"]   # FHIR JSON asserted, FHIR XML asked for: the format asked
        got = (_header(headers, "content-type") or "").split(";")[0].strip()
        if got != media:
            out.append(f"Content-Type {got or '(none)'}, expected {media}")
    if "headerField" in check:
        field_value = _header(headers, check["headerField"])
        operator = check.get("operator", "equals" if value is not None else "notEmpty")
        ok, seen = compare([field_value] if field_value is not None else [], operator, value)
        if not ok:
            out.append(f"header {check['headerField']}: {seen or '(absent)'}, expected "
                       f"{operator} {value or ''}".rstrip())
    if "resource" in check:
        found = body.get("resourceType") if isinstance(body, dict) else None
        if found != check["resource"]:
            out.append(f"resource type {found}, expected {check['resource']}")
    if "expression" in check or "compareToSourceId" in check:
        out += _expression_failures(ctx, check, body, value)
    if "validateProfileId" in check:
        out += _profile_failures(ctx, check["validateProfileId"], body)
    return out


def _expression_failures(ctx: _Context, check: Mapping[str, Any], body: Any,
                         value: str | None) -> list[str]:
    expression = ctx.text(check.get("expression", check.get("compareToSourceExpression", "")))
    actual = evaluate(body, expression)
    if "compareToSourceId" in check:
        source = ctx.source(check["compareToSourceId"])
        other = ctx.text(check.get("compareToSourceExpression", expression))
        from ._asserts import as_text

        value = as_text(evaluate(source.body if source else None, other))
    operator = check.get("operator") or ("equals" if value is not None else "eval")
    ok, seen = compare(actual, operator, value)
    if ok:
        return []
    return [f"{expression} is {seen!r}, expected {operator}"
            + (f" {value!r}" if value is not None and operator != "eval" else "")]


def _profile_failures(ctx: _Context, profile_id: str, body: Any) -> list[str]:
    url = ctx.profiles.get(profile_id)
    if url is None:
        raise SuiteError(f"validateProfileId {profile_id}: no TestScript.profile has this id")
    if not isinstance(body, dict):
        return [f"nothing to validate against {url}: the body is not a resource"]
    result = ctx.config.validator.validate(body, profiles=[url])
    return [f"{i.expression or i.message}: {i.message}"[:300] for i in result.errors[:5]]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)
