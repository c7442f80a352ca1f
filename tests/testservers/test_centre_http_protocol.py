"""A request the HTTP parser cannot read gets an OperationOutcome too (http_protocol.py), over
real HTTP on 127.0.0.1, with each of the protocols the centre can be served with."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from testservers.national_centre import Settings, create_app, http_protocol
from testservers.national_centre.running import free_port, serve_in_thread

PROTOCOLS = [http_protocol.OutcomeH11Protocol,
             *([http_protocol._HTTPTOOLS] if http_protocol._HTTPTOOLS is not None else [])]
UNREADABLE = [
    b"NOT A REQUEST LINE\r\n\r\n",
    b"POST /$process-message HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]
# A DEL in a header value (a mutated bearer token): outside RFC 9110's field-vchar, refused by
# httptools, read by h11 (and then answered by the app).
DEL_IN_HEADER = (b"GET /metadata HTTP/1.1\r\nHost: x\r\nAccept: application/fhir+json\r\n"
                 b"X-Token: a\x7fb\r\nConnection: close\r\n\r\n")


@pytest.fixture(params=PROTOCOLS, ids=lambda p: p.__name__)
def served(request: pytest.FixtureRequest, database: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, FastAPI]]:
    monkeypatch.setattr(http_protocol, "protocol_class", lambda: request.param)
    port = free_port()
    app = create_app(Settings(database=database, base_url=f"http://127.0.0.1:{port}"))
    with serve_in_thread(app, port):
        yield port, app
    app.state.services.store.close()


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("raw", UNREADABLE, ids=["request-line", "chunk-size"])
def test_an_unreadable_request_gets_an_operation_outcome(served: tuple[int, FastAPI],
                                                         raw: bytes) -> None:
    port, _app = served
    _assert_outcome_400(_exchange(port, raw))


def test_a_header_byte_outside_field_vchar(served: tuple[int, FastAPI],
                                           request: pytest.FixtureRequest) -> None:
    port, _app = served
    answer = _exchange(port, DEL_IN_HEADER)
    if "OutcomeH11Protocol" in request.node.name:
        assert answer.startswith(b"HTTP/1.1 200 ") and b"CapabilityStatement" in answer
    else:
        _assert_outcome_400(answer)


def _assert_outcome_400(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 400 ")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"].startswith("application/fhir+json")
    assert headers["connection"] == "close" and int(headers["content-length"]) == len(body)
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert [(i["severity"], i["code"]) for i in outcome["issue"]] == [("error", "structure")]
    assert outcome["issue"][0]["diagnostics"].startswith("the HTTP request cannot be read")


def test_a_readable_request_on_the_same_protocol_is_served(served: tuple[int, FastAPI]) -> None:
    port, _app = served
    head, _, body = _exchange(port, b"GET /metadata HTTP/1.1\r\nHost: x\r\n"
                                    b"Accept: application/fhir+json\r\nConnection: close\r\n\r\n"
                              ).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"CapabilityStatement" in body


def test_httptools_is_preferred_when_installed() -> None:
    pytest.importorskip("httptools")
    assert http_protocol.protocol_class() is http_protocol._HTTPTOOLS
