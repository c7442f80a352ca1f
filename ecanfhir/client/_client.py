"""``Client`` (httpx.Client) and ``AsyncClient`` (httpx.AsyncClient): the I/O around
:class:`~ecanfhir.client._core.ClientCore`. Every decision — what to request, how to read the
answer, whether and when to resend a message — is the core's; these classes send, sleep and
wrap ``httpx`` transport failures in :class:`~ecanfhir.TransportError`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from ..builders import BuildContext
from ..formats._models import ResourceModel
from ._ack import Acknowledgement
from ._core import (
    ClientCore,
    Format,
    SearchParams,
    Transmit,
    read_response,
    transport_error,
)
from ._retry import RetryPolicy

__all__ = ["AsyncClient", "Client"]

DEFAULT_TIMEOUT = 30.0
Resource = Mapping[str, Any] | ResourceModel


def _entries(bundle: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in bundle.get("entry") or []:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            yield entry["resource"]


class Client:
    """A synchronous FHIR client for the pilot's national centre.

    Args:
        base_url: the FHIR base, e.g. ``http://127.0.0.1:8080``.
        auth: an ``httpx.Auth``, e.g. :class:`~ecanfhir.client.SmartBackendAuth`.
        retry: when to resend messages (default: MedCom's 2 resends, jittered backoff).
        timeout: seconds per request.
        sleep: how to wait between transmissions (fix it in tests).
        context: ids and clock for resent envelopes (default: random UUIDs, system clock).
        transport: an httpx transport (e.g. ``httpx.MockTransport``); default: the network.
        format: ``json`` (default) or ``xml``: how bodies are sent and answers asked for.
            Answers are read in either format and returned in the FHIR JSON form (dicts).

    Resources may be dicts in the FHIR JSON form or ``fhir.resources`` objects (serialised
    by their own JSON method).

    >>> with Client("http://127.0.0.1:8080") as client:
    ...     client.core.read_request("Patient", "p1").url
    URL('http://127.0.0.1:8080/Patient/p1')
    """

    def __init__(self, base_url: str, *, auth: httpx.Auth | None = None,
                 retry: RetryPolicy | None = None, timeout: float = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep,
                 context: BuildContext | None = None,
                 transport: httpx.BaseTransport | None = None, format: Format = "json") -> None:
        self.core = ClientCore(base_url, retry=retry, context=context, format=format)
        self._sleep = sleep
        self._http = httpx.Client(auth=auth, timeout=timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._http.send(request)
        except httpx.TransportError as exc:
            raise transport_error(request, exc) from exc

    def send_message(self, bundle: Resource, *, format: Format | None = None
                     ) -> Acknowledgement:
        """Send a message to ``$process-message`` reliably and return its acknowledgement.

        Resends (new Bundle.id, same MessageHeader.id) after ``transient-error``, timeouts,
        connection failures, 429 and 5xx, as ``retry`` allows. ``format`` (``json`` or
        ``xml``; default: the client's) is how every transmission is sent and the
        acknowledgement asked for: a message read from an XML file goes as XML.

        Returns:
            The ``ok`` or ``fatal-error`` acknowledgement (``.outcome`` says why, ``.attempts``
            how many transmissions it took).

        Raises:
            ServerError: an error answer, or still ``transient-error`` after the last resend.
            TransportError: still no answer after the last resend.
            ValueError: ``bundle`` is not a message Bundle with a MessageHeader.id, or has
                no XML form when sent as XML.
        """
        exchange = self.core.message_exchange(bundle, format=format)
        step: Transmit | Acknowledgement = exchange.start()
        while isinstance(step, Transmit):
            if step.delay > 0:
                self._sleep(step.delay)
            try:
                response = self._http.send(step.request)
            except httpx.TransportError as exc:
                step = exchange.failed(exc)
            else:
                step = exchange.received(response)
        return step

    def metadata(self) -> dict[str, Any]:
        """The server's CapabilityStatement."""
        return read_response(self._send(self.core.metadata_request()))

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """One resource; ServerError (404 and its OperationOutcome) when there is none."""
        return read_response(self._send(self.core.read_request(resource_type, resource_id)))

    def search(self, resource_type: str, params: SearchParams | None = None) -> dict[str, Any]:
        """The first page (a searchset Bundle) of a search."""
        return read_response(self._send(self.core.search_request(resource_type, params)))

    def next_page(self, bundle: Mapping[str, Any]) -> dict[str, Any] | None:
        """The page after ``bundle``, or None on the last page."""
        request = self.core.next_page_request(bundle)
        return None if request is None else read_response(self._send(request))

    def search_all(self, resource_type: str, params: SearchParams | None = None
                   ) -> Iterator[dict[str, Any]]:
        """Every resource matching a search, page after page."""
        page: dict[str, Any] | None = self.search(resource_type, params)
        while page is not None:
            yield from _entries(page)
            page = self.next_page(page)

    def transaction(self, bundle: Resource) -> dict[str, Any]:
        """POST a transaction Bundle; return the transaction-response Bundle."""
        return read_response(self._send(self.core.transaction_request(bundle)))

    def validate(self, resource: Resource, *, profile: str | None = None
                 ) -> dict[str, Any]:
        """The server's ``$validate`` verdict (an OperationOutcome)."""
        return read_response(self._send(self.core.validate_request(resource, profile=profile)))

    def evaluate_measure(self, measure_id: str, *, period_start: str, period_end: str,
                         params: SearchParams | None = None) -> dict[str, Any]:
        """A MeasureReport from ``Measure/[id]/$evaluate-measure``."""
        return read_response(self._send(self.core.evaluate_measure_request(
            measure_id, period_start=period_start, period_end=period_end, params=params)))


class AsyncClient:
    """The asynchronous twin of :class:`Client` (same arguments; ``sleep`` is awaited)."""

    def __init__(self, base_url: str, *, auth: httpx.Auth | None = None,
                 retry: RetryPolicy | None = None, timeout: float = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
                 context: BuildContext | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 format: Format = "json") -> None:
        self.core = ClientCore(base_url, retry=retry, context=context, format=format)
        self._sleep = sleep
        self._http = httpx.AsyncClient(auth=auth, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._http.send(request)
        except httpx.TransportError as exc:
            raise transport_error(request, exc) from exc

    async def send_message(self, bundle: Resource, *, format: Format | None = None
                           ) -> Acknowledgement:
        """See :meth:`Client.send_message`."""
        exchange = self.core.message_exchange(bundle, format=format)
        step: Transmit | Acknowledgement = exchange.start()
        while isinstance(step, Transmit):
            if step.delay > 0:
                await self._sleep(step.delay)
            try:
                response = await self._http.send(step.request)
            except httpx.TransportError as exc:
                step = exchange.failed(exc)
            else:
                step = exchange.received(response)
        return step

    async def metadata(self) -> dict[str, Any]:
        """See :meth:`Client.metadata`."""
        return read_response(await self._send(self.core.metadata_request()))

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """See :meth:`Client.read`."""
        return read_response(await self._send(self.core.read_request(resource_type,
                                                                     resource_id)))

    async def search(self, resource_type: str, params: SearchParams | None = None
                     ) -> dict[str, Any]:
        """See :meth:`Client.search`."""
        return read_response(await self._send(self.core.search_request(resource_type, params)))

    async def next_page(self, bundle: Mapping[str, Any]) -> dict[str, Any] | None:
        """See :meth:`Client.next_page`."""
        request = self.core.next_page_request(bundle)
        return None if request is None else read_response(await self._send(request))

    async def search_all(self, resource_type: str, params: SearchParams | None = None
                         ) -> AsyncIterator[dict[str, Any]]:
        """See :meth:`Client.search_all`."""
        page: dict[str, Any] | None = await self.search(resource_type, params)
        while page is not None:
            for resource in _entries(page):
                yield resource
            page = await self.next_page(page)

    async def transaction(self, bundle: Resource) -> dict[str, Any]:
        """See :meth:`Client.transaction`."""
        return read_response(await self._send(self.core.transaction_request(bundle)))

    async def validate(self, resource: Resource, *, profile: str | None = None
                       ) -> dict[str, Any]:
        """See :meth:`Client.validate`."""
        return read_response(await self._send(self.core.validate_request(resource,
                                                                         profile=profile)))

    async def evaluate_measure(self, measure_id: str, *, period_start: str, period_end: str,
                               params: SearchParams | None = None) -> dict[str, Any]:
        """See :meth:`Client.evaluate_measure`."""
        return read_response(await self._send(self.core.evaluate_measure_request(
            measure_id, period_start=period_start, period_end=period_end, params=params)))
