"""A FHIR R4 client for the eCAN+ pilot: reliable MedCom messaging to the national centre, read,
search, transaction, ``$validate``, ``$evaluate-measure`` and ``metadata``; sync and async over
one sans-IO core; SMART Backend Services authorization.

>>> from ecanfhir.client import Client, RetryPolicy
>>> client = Client("http://127.0.0.1:8080", retry=RetryPolicy(max_retries=2))
>>> client.core.message_request({"resourceType": "Bundle"}).url
URL('http://127.0.0.1:8080/$process-message')
>>> client.close()
"""

from __future__ import annotations

from .._exceptions import ClientError, ServerError, TransportError
from ._ack import AckCode, Acknowledgement, parse_acknowledgement
from ._auth import SmartBackendAuth, load_private_key
from ._client import AsyncClient, Client
from ._core import ClientCore, MessageExchange, Transmit, read_response
from ._retry import RetryPolicy, parse_retry_after

__all__ = [
    "AckCode",
    "Acknowledgement",
    "AsyncClient",
    "Client",
    "ClientCore",
    "ClientError",
    "MessageExchange",
    "RetryPolicy",
    "ServerError",
    "SmartBackendAuth",
    "Transmit",
    "TransportError",
    "load_private_key",
    "parse_acknowledgement",
    "parse_retry_after",
    "read_response",
]
