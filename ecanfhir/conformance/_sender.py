"""The "site's system" of the ``ecan-sender-behaviour`` suite: who sends the test messages.

By default it is ecanfhir's own reliable client (:class:`ecanfhir.client.Client`, MedCom's
resend rules, DOMAIN.md §2(c).6), so the suite shows what a correct sender does. A site tests
its own system with :func:`command_sender`: the runner writes each message to a file and runs
the site's command, which must send it to the endpoint; the mock centre's request recorder then
shows what the site really sent.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .._exceptions import ClientError
from ..client._core import Format

__all__ = ["ClientSender", "command_sender"]


class ClientSender:
    """Send with :class:`ecanfhir.client.Client`; return the final acknowledgement code."""

    def __init__(self, *, max_resends: int = 2, backoff: float = 0.05,
                 timeout: float = 30.0, format: Format = "json") -> None:
        self.max_resends = max_resends
        self.backoff = backoff
        self.timeout = timeout
        self.format: Format = format   # FHIR JSON or FHIR XML on the wire

    def __call__(self, endpoint: str, bundle: dict[str, Any]) -> str:
        """``ok`` / ``fatal-error``; ``transient-error`` or ``no-answer`` when retries ran out."""
        from ..client import Client, RetryPolicy, ServerError

        retry = RetryPolicy(max_retries=self.max_resends, backoff_base=self.backoff,
                            backoff_max=self.backoff * 4, retry_after_max=self.backoff * 4)
        with Client(endpoint, retry=retry, timeout=self.timeout, format=self.format) as client:
            try:
                return client.send_message(bundle).code
            except ServerError as exc:
                return "transient-error" if exc.status_code == 200 else "no-answer"
            except (ClientError, ValueError):
                return "no-answer"


def command_sender(template: str, *, timeout: float = 120.0) -> Any:
    """A sender that runs ``template`` with ``{file}`` (the message, written as JSON) and
    ``{endpoint}`` filled in, e.g. ``"site-send --to {endpoint} {file}"``.

    Returns ``sent`` when the command exits 0, else ``exit N`` (the suite's asserts look at
    what reached the endpoint, not at this value).
    """
    if "{file}" not in template:
        raise ValueError("the sender command must contain {file}")

    def send(endpoint: str, bundle: dict[str, Any]) -> str:
        with tempfile.TemporaryDirectory(prefix="ecanfhir-sender-") as folder:
            path = Path(folder) / "message.json"
            path.write_text(json.dumps(bundle), encoding="utf-8")
            argv = [part.format(file=str(path), endpoint=endpoint)
                    for part in shlex.split(template)]
            try:
                done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"not run ({type(exc).__name__})"
            return "sent" if done.returncode == 0 else f"exit {done.returncode}"

    return send
