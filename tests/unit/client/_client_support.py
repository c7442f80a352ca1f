"""Shared by the client unit tests: a pilot message, its acknowledgements, and one harness that
drives Client or AsyncClient with the same calls (sleeps recorded, never slept)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

import anyio
import httpx

from ecanfhir.builders import (
    AckIssue,
    BuildContext,
    CancerDiagnosis,
    Organization,
    Patient,
    Referral,
    build_acknowledgement,
    build_referral_message,
)
from ecanfhir.client import AsyncClient, Client

BASE = "http://centre.test/fhir"
PROCESS = f"{BASE}/$process-message"
AT = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
CENTRE = Organization("National cancer centre", sor="987654321098", gln="5790000000005")
HOSPITAL = Organization("Hospital A oncology", sor="123456789012", gln="5790000121526")
Mode = Literal["sync", "async"]


def referral(case_id: str = "CASE-1", *, seed: int = 1) -> dict[str, Any]:
    """A valid cancer-case-referral message."""
    return build_referral_message(
        Referral(case_id, "tumour-board-review", "National tumour board assessment", AT),
        sender=HOSPITAL, receiver=CENTRE,
        patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3"),
        context=BuildContext.seeded(seed, at=AT))


def ack(message: dict[str, Any], code: str = "ok", text: str = "why") -> dict[str, Any]:
    """The acknowledgement of ``message`` with ``code`` (one issue unless ok)."""
    issues = () if code == "ok" else (AckIssue("MSG_Mailbox_Out_Of_Operation", text),)
    return build_acknowledgement(message, code, issues=issues,  # type: ignore[arg-type]
                                 context=BuildContext.seeded(99, at=AT))


def fhir(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"Content-Type": "application/fhir+json", **(headers or {})})


def outcome(text: str, code: str = "processing") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


def sent_bundle(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


class Harness:
    """Client or AsyncClient behind one synchronous call interface."""

    def __init__(self, mode: Mode, **kwargs: Any) -> None:
        self.mode = mode
        self.kwargs = kwargs
        self.sleeps: list[float] = []

    async def _async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            with Client(BASE, sleep=self.sleeps.append, **self.kwargs) as client:
                result = getattr(client, method)(*args, **kwargs)
                return list(result) if isinstance(result, Iterator) else result

        async def run() -> Any:
            async with AsyncClient(BASE, sleep=self._async_sleep, **self.kwargs) as client:
                result = getattr(client, method)(*args, **kwargs)
                if hasattr(result, "__aiter__"):
                    return [item async for item in result]
                return await result

        return anyio.run(run)

    def send_message(self, bundle: dict[str, Any]) -> Any:
        return self.call("send_message", bundle)


HarnessFactory = Callable[..., Harness]


def factory(mode: Mode) -> HarnessFactory:
    return partial(Harness, mode)
