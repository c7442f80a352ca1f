"""The sans-IO core of the FHIR client: it builds ``httpx.Request`` s and reads
``httpx.Response`` s, and never sends anything itself (like httpx's ``Auth.auth_flow``), so
:class:`~ecanfhir.client.Client` and :class:`~ecanfhir.client.AsyncClient` share every decision
and only do the I/O.

The FHIR R4 interactions the pilot needs (RESTful API, http.html): ``read``, ``search-type`` with
paging through ``Bundle.link[next]``, ``transaction`` (``POST [base]``), ``capabilities``
(``GET [base]/metadata``), and the operations ``$process-message`` (messaging.html),
``$validate`` and ``Measure/$evaluate-measure``. Errors come back as an OperationOutcome, which
:func:`read_response` turns into :class:`~ecanfhir.ServerError`.

Both FHIR formats go over the wire (R4 http.html §3.1.0.1.10): ``format="xml"`` sends bodies as
``application/fhir+xml`` and asks for XML answers; whatever format an answer comes in (by its
Content-Type, else by its content), it is read back into the FHIR JSON form, so callers always
get dicts. Bodies may also be ``fhir.resources`` objects, serialised by their own JSON method.

Reliable sending of one message (DOMAIN.md §2(c)) is the state machine :class:`MessageExchange`:
each step tells the client what to send next and after how long, or ends with an
:class:`~ecanfhir.client.Acknowledgement` (``ok`` or ``fatal-error``) or a typed error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .. import formats
from .._exceptions import ServerError, TransportError
from ..builders import BuildContext, resend
from ..formats._models import resource_json
from ._ack import Acknowledgement, parse_acknowledgement
from ._retry import RetryPolicy

__all__ = ["FHIR_JSON", "FHIR_XML", "ClientCore", "Format", "MessageExchange", "Transmit",
           "decode_body", "encode", "read_response", "server_error"]

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
Format = Literal["json", "xml"]
_MEDIA = {"json": FHIR_JSON, "xml": FHIR_XML}
SearchParams = Mapping[str, str | Sequence[str]]
_Query = list[tuple[str, str | int | float | bool | None]]


@dataclass(frozen=True, slots=True)
class Transmit:
    """What to do next: wait ``delay`` seconds, then send ``request`` (transmission ``attempt``)."""

    request: httpx.Request
    delay: float
    attempt: int


def server_error(response: httpx.Response, *, attempts: int = 1,
                 reason: str | None = None) -> ServerError:
    """A :class:`ServerError` for ``response``, carrying its OperationOutcome when it has one."""
    outcome = _operation_outcome(response)
    text = reason or _outcome_text(outcome) or response.reason_phrase or "error"
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    return ServerError(f"{response.request.method} {response.request.url}: HTTP "
                       f"{response.status_code}: {text}{tries}", status_code=response.status_code,
                       outcome=outcome, attempts=attempts)


def read_response(response: httpx.Response) -> dict[str, Any]:
    """Return the FHIR body, or raise ServerError carrying the server's OperationOutcome.

    >>> request = httpx.Request("GET", "http://centre.test/Patient/1")
    >>> read_response(httpx.Response(200, json={"resourceType": "Patient"}, request=request))
    {'resourceType': 'Patient'}
    >>> read_response(httpx.Response(404, request=request, json={
    ...     "resourceType": "OperationOutcome",
    ...     "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no Patient/1"}]}))
    Traceback (most recent call last):
    ecanfhir._exceptions.ServerError: GET http://centre.test/Patient/1: HTTP 404: no Patient/1
    """
    if not response.is_success:
        raise server_error(response)
    if not response.content:
        return {}
    body = _body(response)
    if not isinstance(body, dict):
        raise server_error(response, reason="the answer is not a FHIR resource")
    return body


def encode(resource: Any, fmt: Format) -> tuple[bytes, str]:
    """A request body and its Content-Type: ``resource`` (a dict in the FHIR JSON form, or a
    ``fhir.resources`` object) in FHIR JSON or FHIR XML.

    >>> encode({"resourceType": "Patient", "active": True}, "json")
    (b'{"resourceType": "Patient", "active": true}', 'application/fhir+json')
    >>> encode({"resourceType": "Patient", "active": True}, "xml")[0].decode().partition(">")[2]
    '<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>'

    Raises:
        ValueError: ``format`` is neither json nor xml, or the resource has no XML form
            (an unknown property; the message names where).
    """
    data = resource_json(resource)
    if fmt == "xml":
        return str(formats.to_xml(data, pretty=False)).encode(), FHIR_XML
    if fmt != "json":
        raise ValueError(f"format {fmt!r}: FHIR bodies are sent as 'json' or 'xml'")
    return json.dumps(data, ensure_ascii=False).encode(), FHIR_JSON


def transport_error(request: httpx.Request, error: Exception, *, attempts: int = 1
                    ) -> TransportError:
    """A :class:`TransportError` naming the request and what went wrong, in plain words."""
    if isinstance(error, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(error, httpx.ConnectError):
        what = f"cannot connect ({str(error) or 'connection refused'})"
    else:
        what = str(error) or type(error).__name__
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    return TransportError(f"{request.method} {request.url}: {what}{tries}", attempts=attempts)


class ClientCore:
    """Builds the requests of the FHIR interactions against one base URL.

    >>> core = ClientCore("http://centre.test/fhir/")
    >>> request = core.read_request("Patient", "p1")
    >>> request.method, str(request.url)
    ('GET', 'http://centre.test/fhir/Patient/p1')
    >>> str(core.search_request("Encounter", {"class": "VR", "_count": "10"}).url)
    'http://centre.test/fhir/Encounter?class=VR&_count=10'
    >>> ClientCore("http://centre.test", format="xml").read_request("Patient", "p1").headers[
    ...     "Accept"]
    'application/fhir+xml'

    ``format`` is the wire format of bodies and answers (``json`` or ``xml``); a message can
    be sent in the other one (``message_request(bundle, format=...)``).
    """

    def __init__(self, base_url: str, *, retry: RetryPolicy | None = None,
                 context: BuildContext | None = None, format: Format = "json") -> None:
        if format not in _MEDIA:
            raise ValueError(f"format {format!r}: FHIR bodies are sent as 'json' or 'xml'")
        self.base_url = str(base_url).rstrip("/")
        self.retry = retry or RetryPolicy()
        self.context = context
        self.format: Format = format

    def url(self, path: str) -> str:
        """``[base]/path``."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def _get(self, path: str, params: SearchParams | None = None) -> httpx.Request:
        return httpx.Request("GET", self.url(path), params=_params(params),
                             headers={"Accept": _MEDIA[self.format]})

    def _post(self, path: str, body: Any, params: SearchParams | None = None, *,
              format: Format | None = None) -> httpx.Request:
        """POST ``body`` in ``format`` (default: the client's), asking for the same back."""
        content, content_type = encode(body, format or self.format)
        return httpx.Request("POST", self.url(path) if path else self.base_url,
                             params=_params(params), content=content,
                             headers={"Accept": content_type, "Content-Type": content_type})

    def metadata_request(self) -> httpx.Request:
        """``GET [base]/metadata``: the CapabilityStatement."""
        return self._get("metadata")

    def read_request(self, resource_type: str, resource_id: str) -> httpx.Request:
        """``GET [base]/[type]/[id]``."""
        return self._get(f"{resource_type}/{resource_id}")

    def search_request(self, resource_type: str, params: SearchParams | None = None
                       ) -> httpx.Request:
        """``GET [base]/[type]?params`` (a list value repeats the parameter: AND)."""
        return self._get(resource_type, params)

    def next_page_request(self, bundle: Mapping[str, Any]) -> httpx.Request | None:
        """The request for the page after searchset ``bundle``, or None on the last page."""
        for link in bundle.get("link") or []:
            if isinstance(link, dict) and link.get("relation") == "next" and isinstance(
                    link.get("url"), str):
                url = link["url"]
                absolute = url if "://" in url else self.url(url)
                return httpx.Request("GET", absolute, headers={"Accept": _MEDIA[self.format]})
        return None

    def transaction_request(self, bundle: Any) -> httpx.Request:
        """``POST [base]`` with a transaction (or batch) Bundle."""
        return self._post("", bundle)  # [base] itself

    def validate_request(self, resource: Any, *, profile: str | None = None
                         ) -> httpx.Request:
        """``POST [base]/[type]/$validate`` (``?profile=`` when given)."""
        resource = resource_json(resource)
        rtype = resource.get("resourceType") if isinstance(resource, Mapping) else None
        path = f"{rtype}/$validate" if isinstance(rtype, str) and rtype.isalpha() else "$validate"
        return self._post(path, resource, {"profile": profile} if profile else None)

    def evaluate_measure_request(self, measure_id: str, *, period_start: str, period_end: str,
                                 params: SearchParams | None = None) -> httpx.Request:
        """``GET [base]/Measure/[id]/$evaluate-measure?periodStart=&periodEnd=``."""
        query = {"periodStart": period_start, "periodEnd": period_end, **(params or {})}
        return self._get(f"Measure/{measure_id}/$evaluate-measure", query)

    def message_request(self, bundle: Any, *, format: Format | None = None) -> httpx.Request:
        """``POST [base]/$process-message`` with a message Bundle (in ``format``, default the
        client's; the acknowledgement is asked for in the same format)."""
        return self._post("$process-message", bundle, format=format)

    def message_exchange(self, bundle: Any, *, format: Format | None = None
                         ) -> MessageExchange:
        """The reliable-sending state machine for one message (see :class:`MessageExchange`);
        every transmission in ``format`` (default: the client's)."""
        return MessageExchange(self, resource_json(bundle), format=format)


class MessageExchange:
    """Sends one message until it is acknowledged, per MedCom reliable messaging.

    Drive it like this (the clients do)::

        step = exchange.start()
        while isinstance(step, Transmit):
            sleep(step.delay)
            try:
                response = send(step.request)
            except httpx.TransportError as exc:
                step = exchange.failed(exc)
            else:
                step = exchange.received(response)
        acknowledgement = step

    A resend is the same letter in a new envelope: a new Bundle.id and timestamp, the same
    MessageHeader.id (:func:`ecanfhir.builders.resend`). ``bundles`` holds every transmission.

    Raises (from ``received``/``failed``):
        ServerError: an error status not worth a resend, or the last resend failed too; a
            ``transient-error`` acknowledgement after the last resend (``status_code`` 200,
            ``outcome`` from the acknowledgement); an answer that is no acknowledgement of this
            message.
        TransportError: no answer to the last transmission.
    """

    def __init__(self, core: ClientCore, bundle: Mapping[str, Any], *,
                 format: Format | None = None) -> None:
        self.core = core
        self.format: Format = format or core.format
        self.message_id = _message_id(bundle)
        self.bundles: list[dict[str, Any]] = [dict(bundle)]

    @property
    def attempts(self) -> int:
        """Transmissions so far."""
        return len(self.bundles)

    def start(self) -> Transmit:
        """The first transmission, at once."""
        return Transmit(self._request(self.bundles[0]), 0.0, 1)

    def received(self, response: httpx.Response) -> Transmit | Acknowledgement:
        """The next step after an HTTP answer."""
        if not response.is_success:
            delay = self.core.retry.delay(self.attempts, response=response)
            if delay is None:
                raise server_error(response, attempts=self.attempts)
            return self._resend(delay)
        try:
            ack = parse_acknowledgement(_body(response))
        except ValueError as exc:
            raise server_error(response, attempts=self.attempts, reason=str(exc)) from None
        if ack.message_id != self.message_id:
            raise server_error(response, attempts=self.attempts, reason=(
                f"the acknowledgement is for MessageHeader {ack.message_id}, "
                f"not {self.message_id}"))
        if ack.code != "transient-error":
            return ack.with_attempts(self.attempts)
        delay = self.core.retry.delay(self.attempts, response=response, ack=ack)
        if delay is None:
            text = _outcome_text(ack.outcome) or "the receiver had a technical error"
            raise ServerError(f"MessageHeader {self.message_id}: transient-error: {text} "
                              f"(after {self.attempts} attempts)", status_code=200,
                              outcome=ack.outcome, attempts=self.attempts)
        return self._resend(delay)

    def failed(self, error: Exception) -> Transmit:
        """The next step after a transmission got no answer (an ``httpx.TransportError``)."""
        try:
            request = error.request if isinstance(error, httpx.RequestError) else None
        except RuntimeError:  # an httpx error raised without its request
            request = None
        request = request or self._request(self.bundles[-1])
        delay = self.core.retry.delay(self.attempts, error=error)
        if delay is None:
            raise transport_error(request, error, attempts=self.attempts) from error
        return self._resend(delay)

    def _resend(self, delay: float) -> Transmit:
        self.bundles.append(resend(self.bundles[-1], context=self.core.context))
        return Transmit(self._request(self.bundles[-1]), delay, self.attempts)

    def _request(self, bundle: Mapping[str, Any]) -> httpx.Request:
        return self.core.message_request(bundle, format=self.format)


def _message_id(bundle: Mapping[str, Any]) -> str:
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle" or bundle.get(
            "type") != "message":
        raise ValueError("send_message needs a Bundle of type 'message'")
    entries = bundle.get("entry")
    header = entries[0].get("resource") if isinstance(entries, list) and entries and isinstance(
        entries[0], dict) else None
    if not isinstance(header, dict) or header.get("resourceType") != "MessageHeader":
        raise ValueError("a message Bundle's first entry must be its MessageHeader")
    if not isinstance(header.get("id"), str) or not header["id"]:
        raise ValueError("MessageHeader.id is required: it identifies the message on resends")
    return str(header["id"])


def _params(params: SearchParams | None) -> _Query | None:
    if not params:
        return None
    return [(k, v) for k, vs in params.items()
            for v in ([vs] if isinstance(vs, str) else vs)]


def _body(response: httpx.Response) -> Any:
    """The answer in the FHIR JSON form; ServerError when it is neither JSON nor FHIR XML."""
    body, problem = _decode(response)
    if problem is not None:
        raise server_error(response, reason=problem)
    return body


def _decode(response: httpx.Response) -> tuple[Any, str | None]:
    return decode_body(response.content, response.headers.get("content-type", ""))


def decode_body(content: bytes, content_type: str) -> tuple[Any, str | None]:
    """(a body in the FHIR JSON form, None) or (None, why it cannot be read). XML by the
    Content-Type, or by the content when the type is neither JSON nor XML.

    >>> decode_body(b'<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>',
    ...             "application/fhir+xml; charset=utf-8")
    ({'resourceType': 'Patient', 'active': True}, None)
    >>> decode_body(b"{", "application/fhir+json")
    (None, 'the answer is not JSON')
    """
    media = content_type.split(";", 1)[0].strip().lower()
    declared_xml = media.endswith(("xml", "xml+fhir"))
    if declared_xml or (not media.endswith(("json", "json+fhir"))
                        and formats.looks_like_xml(content)):
        try:
            parsed, issues = formats.parse_xml(content)
        except RecursionError:  # the reader descends element by element
            return None, "the answer's XML is nested too deeply to read"
        if parsed is None:
            why = issues[0].message if issues else "no FHIR resource"
            return None, (f"the answer is not FHIR XML: {why}" if declared_xml else
                          f"the answer is not JSON, nor FHIR XML: {why}")
        return parsed, None
    try:
        return json.loads(content), None
    except ValueError:
        return None, "the answer is not JSON"


def _operation_outcome(response: httpx.Response) -> dict[str, Any] | None:
    body, _ = _decode(response)
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return body
    return None


def _outcome_text(outcome: Mapping[str, Any] | None) -> str | None:
    """The first issue's words: diagnostics, else details.text."""
    for issue in (outcome or {}).get("issue") or []:
        if isinstance(issue, dict):
            details = issue.get("details")
            text = issue.get("diagnostics") or (
                details.get("text") if isinstance(details, dict) else None)
            if text:
                return str(text)
    return None
