"""Exceptions for misuse and infrastructure problems.

Invalid FHIR data is never an exception: it is a :class:`~ecanfhir.ValidationResult`. The tree::

    EcanfhirError
    ├── PackageError          a package or conformance resource cannot be loaded
    │   ├── ProfileNotFound   a canonical URL names nothing that is loaded
    │   └── SnapshotMissing   a StructureDefinition has no snapshot and none can be generated
    ├── ValidationFailed      raised by ValidationResult.raise_for_errors() (opt-in; defined
    │                         beside ValidationResult in validation/_issue.py)
    ├── BuildError            a builder (ecanfhir.builders) was given impossible input
    ├── XmlWriteError         JSON with no FHIR XML form (ecanfhir.formats.to_xml; a ValueError)
    └── ClientError           ecanfhir.client could not get an answer it can use
        ├── TransportError    no HTTP response: connection refused, timeout, broken connection
        └── ServerError       the server answered with an error (``.outcome``: its OperationOutcome)
"""

from __future__ import annotations

from typing import Any

__all__ = ["BuildError", "ClientError", "EcanfhirError", "PackageError", "ProfileNotFound",
           "ServerError", "SnapshotMissing", "TransportError"]


class EcanfhirError(Exception):
    """The root of every exception ecanfhir raises."""


class PackageError(EcanfhirError):
    """A FHIR package, or a loose conformance resource, cannot be read."""


class ProfileNotFound(PackageError):
    """A canonical URL (or file) given as a profile resolves to no StructureDefinition."""


class SnapshotMissing(PackageError):
    """A StructureDefinition carries no snapshot (and none could be generated)."""


class BuildError(EcanfhirError, ValueError):
    """A builder was given input no valid resource can be made from; the message names the field.

    >>> raise BuildError("Ecog.score: must be 0-5, not 7")
    Traceback (most recent call last):
    ecanfhir._exceptions.BuildError: Ecog.score: must be 0-5, not 7
    """


class ClientError(EcanfhirError):
    """A FHIR server (ecanfhir.client) gave no usable answer, after any retries.

    ``attempts`` is how many requests were sent (1 when nothing was retried).
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class TransportError(ClientError):
    """No HTTP response: the connection was refused or broke, or the request timed out.

    >>> raise TransportError("http://127.0.0.1:9/$process-message: connection refused")
    Traceback (most recent call last):
    ecanfhir._exceptions.TransportError: http://127.0.0.1:9/$process-message: connection refused
    """


class ServerError(ClientError):
    """The server answered with an error status (or an unusable body, or a ``transient-error``
    acknowledgement past the last retry).

    Attributes:
        status_code: the HTTP status of the last response.
        outcome: the server's OperationOutcome (a FHIR JSON dict), or None when it sent none.
    """

    def __init__(self, message: str, *, status_code: int, outcome: dict[str, Any] | None = None,
                 attempts: int = 1) -> None:
        super().__init__(message, attempts=attempts)
        self.status_code = status_code
        self.outcome = outcome
