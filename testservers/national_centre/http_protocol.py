"""The HTTP/1.1 protocol the centre is served with: uvicorn's, with an OperationOutcome for a
request that cannot be parsed.

uvicorn answers a request its parser cannot read (a malformed request line, a header byte
outside RFC 9110's field-vchar, a bad chunk size) itself, before any app sees it, with a
plain-text ``400 Invalid HTTP request received.``. The centre answers every client error with
an OperationOutcome (R4 http.html#2.21.0.16: the body of an error response SHOULD be one), so
its protocols answer those too: a ``structure`` error, ``Connection: close``.

:func:`protocol_class` prefers uvicorn's httptools protocol (llhttp, in C) and falls back to
its h11 one (pure Python) when httptools is not installed: measured on the pilot's referral
messages (``benchmarks/server.py`` setup, validation off, two runs each), the serving process
took 4.17 and 4.19 ms of CPU per message with it against 4.37 and 4.59 with h11. uvicorn takes
the class itself as ``http=``; its worker processes import it by name, so the classes live at
module level.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol

from ._fhirio import operation_outcome

__all__ = ["OutcomeH11Protocol", "protocol_class"]

_MEDIA_TYPE = b"application/fhir+json; charset=utf-8"


def _outcome_400(transport: asyncio.Transport, default_headers: list[tuple[bytes, bytes]],
                 msg: str) -> None:
    """Write a 400 with an OperationOutcome and close the connection (the request was never
    read, so nothing after it on the connection can be either)."""
    body = json.dumps(operation_outcome(
        "error", "structure", f"the HTTP request cannot be read: {msg}")).encode()
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [b"content-type: ", _MEDIA_TYPE, b"\r\n",
             b"content-length: ", str(len(body)).encode("ascii"), b"\r\n",
             b"connection: close\r\n\r\n"]
    transport.write(b"".join(head) + body)
    transport.close()


class OutcomeH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering an unreadable request with an OperationOutcome."""

    def send_400_response(self, msg: str) -> None:
        _outcome_400(self.transport, self.server_state.default_headers, msg)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: h11
    _HTTPTOOLS: type[asyncio.Protocol] | None = None
else:
    class OutcomeHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, answering an unreadable request with an
        OperationOutcome."""

        def send_400_response(self, msg: str) -> None:
            _outcome_400(self.transport, self.server_state.default_headers, msg)

    _HTTPTOOLS = OutcomeHttpToolsProtocol


def protocol_class() -> type[asyncio.Protocol]:
    """The protocol to serve with: httptools' when installed, else h11's."""
    return _HTTPTOOLS if _HTTPTOOLS is not None else OutcomeH11Protocol
