"""Client and AsyncClient against the real mock national cancer centre over HTTP on 127.0.0.1
(uvicorn in a thread on a free port): ok, duplicate, transient-error then ok, fatal-error, and
503 with Retry-After. The client's injected ``sleep`` is where the centre "recovers": it clears
the injected fault, so the resend after the wait is processed normally."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey, RSAKey

from ecanfhir.builders import (
    BuildContext,
    CancerDiagnosis,
    Organization,
    Patient,
    Referral,
    build_referral_message,
    resend,
)
from ecanfhir.client import AsyncClient, Client, RetryPolicy, ServerError, SmartBackendAuth
from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread
from testservers.national_centre.settings import AuthSettings, FaultRule, RegisteredClient

AT = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
CENTRE_ORG = Organization("National cancer centre", sor="987654321098", gln="5790000000005")
HOSPITAL = Organization("Hospital A oncology", sor="123456789012", gln="5790000121526")


def referral(case_id: str, *, seed: int) -> dict[str, Any]:
    """A valid cancer-case-referral message."""
    return build_referral_message(
        Referral(case_id, "tumour-board-review", "National tumour board assessment", AT),
        sender=HOSPITAL, receiver=CENTRE_ORG,
        patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3"),
        context=BuildContext.seeded(seed, at=AT))


@contextmanager
def running_centre(tmp_path: Path, faults: tuple[FaultRule, ...] = (), *,
                   auth: AuthSettings | None = None) -> Iterator[tuple[str, FastAPI]]:
    """The mock centre with uvicorn on 127.0.0.1 on a free port, in a thread."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database=str(tmp_path / "centre.sqlite3"), base_url=base,
                              faults=faults, auth=auth))
    with serve_in_thread(app, port):
        yield base, app


def recover(app: FastAPI) -> None:
    """The centre's faults stop (as if the receiver came back)."""
    messages = app.state.services.messages
    messages.settings = dataclasses.replace(messages.settings, faults=())


def recovering_sleep(app: FastAPI, sleeps: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        recover(app)
    return sleep


def _header_id(bundle: dict[str, Any]) -> str:
    return str(bundle["entry"][0]["resource"]["id"])


def test_send_ok_and_rest(tmp_path: Path) -> None:
    """A valid message is acknowledged ok once; the stored message is readable and counted."""
    message = referral("CASE-1", seed=1)
    with running_centre(tmp_path) as (base, app), Client(base) as client:
        ack = client.send_message(message)
        assert (ack.code, ack.attempts, ack.message_id) == ("ok", 1, _header_id(message))
        assert ack.bundle["entry"][0]["resource"]["eventCoding"]["code"] == "acknowledgement"
        assert client.metadata()["resourceType"] == "CapabilityStatement"
        assert client.read("Bundle", message["id"])["id"] == message["id"]
        conditions = list(client.search_all("Condition", {"_count": "1"}))
        assert len(conditions) == 1
        verdict = client.validate({"resourceType": "Patient", "gender": "nonsense"})
        assert verdict["resourceType"] == "OperationOutcome"
        with pytest.raises(ServerError) as info:
            client.read("Patient", "does-not-exist")
        assert info.value.status_code == 404 and info.value.outcome is not None
        report = client.evaluate_measure("ecan-kpi-cancer-cases", period_start="2026",
                                         period_end="2026")
        assert report["resourceType"] == "MeasureReport"
        assert len(app.state.services.store.messages()) == 1


def test_transaction(tmp_path: Path) -> None:
    """A transaction Bundle is POSTed to [base]; the created resource reads back."""
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:7f4c1f52-8c1e-4c39-9a5e-3c8a5d1e0b11",
        "resource": {"resourceType": "Organization", "name": "Hospital A oncology"},
        "request": {"method": "POST", "url": "Organization"}}]}
    with running_centre(tmp_path) as (base, _app), Client(base) as client:
        answer = client.transaction(bundle)
        assert answer["type"] == "transaction-response"
        response = answer["entry"][0]["response"]
        assert response["status"].startswith("201")
        created_id = response["location"].split("/Organization/")[1].split("/")[0]
        assert client.read("Organization", created_id)["name"] == "Hospital A oncology"


def test_duplicate_gets_the_same_acknowledgement(tmp_path: Path) -> None:
    """The same letter in a new envelope (MedCom duplicate) gets the first ack again."""
    message = referral("CASE-1", seed=1)
    with running_centre(tmp_path) as (base, app), Client(base) as client:
        first = client.send_message(message)
        again = client.send_message(resend(message))
        assert again.code == "ok" and again.message_id == first.message_id
        assert again.bundle == first.bundle
        assert len(app.state.services.store.messages()) == 1


def test_forced_transient_error_then_ok(tmp_path: Path) -> None:
    """transient-error → the client waits, resends in a new envelope, and gets ok."""
    message = referral("CASE-1", seed=1)
    sleeps: list[float] = []
    with running_centre(tmp_path, (FaultRule("transient-error"),)) as (base, app), Client(
            base, retry=RetryPolicy(random=lambda: 0.5), sleep=recovering_sleep(app, sleeps)
    ) as client:
        ack = client.send_message(message)
        assert (ack.code, ack.attempts, sleeps) == ("ok", 2, [0.5])
        stored = app.state.services.store.messages()
        assert len(stored) == 1 and app.state.services.store.transmission_count() == 1


def test_transient_error_until_retries_run_out(tmp_path: Path) -> None:
    """A receiver that stays down: three transmissions, then ServerError with its outcome."""
    with running_centre(tmp_path, (FaultRule("transient-error"),)) as (base, _app), Client(
            base, sleep=lambda _s: None) as client:
        with pytest.raises(ServerError, match="transient-error") as info:
            client.send_message(referral("CASE-1", seed=1))
        assert info.value.attempts == 3 and info.value.outcome is not None


def test_forced_fatal_error_stops(tmp_path: Path) -> None:
    """fatal-error: returned with the OperationOutcome, never resent."""
    sleeps: list[float] = []
    with running_centre(tmp_path, (FaultRule("fatal-error"),)) as (base, _app), Client(
            base, sleep=sleeps.append) as client:
        ack = client.send_message(referral("CASE-1", seed=1))
        assert (ack.code, ack.attempts, sleeps) == ("fatal-error", 1, [])
        assert ack.issues and ack.issues[0]["diagnostics"] == "fatal-error forced by fault " \
            "injection"


def test_invalid_message_is_fatal_error(tmp_path: Path) -> None:
    """A message failing the pilot profiles gets fatal-error with the validation issues."""
    message = referral("CASE-1", seed=1)
    message["timestamp"] = "2026-11-27T09:15:00"          # no time zone
    with running_centre(tmp_path) as (base, _app), Client(base) as client:
        ack = client.send_message(message)
        assert ack.code == "fatal-error" and ack.attempts == 1 and ack.issues


def test_503_with_retry_after(tmp_path: Path) -> None:
    """503 + Retry-After: the client waits exactly that long, then the resend is ok."""
    sleeps: list[float] = []
    faults = (FaultRule("http-503", retry_after=3),)
    with running_centre(tmp_path, faults) as (base, app), Client(
            base, sleep=recovering_sleep(app, sleeps)) as client:
        ack = client.send_message(referral("CASE-1", seed=1))
        assert (ack.code, ack.attempts, sleeps) == ("ok", 2, [3.0])


def test_async_client_transient_then_ok(tmp_path: Path) -> None:
    """The AsyncClient does the same over real HTTP."""
    message = referral("CASE-2", seed=2)
    sleeps: list[float] = []
    with running_centre(tmp_path, (FaultRule("transient-error"),)) as (base, app):
        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            recover(app)

        async def run() -> Any:
            async with AsyncClient(base, retry=RetryPolicy(random=lambda: 0.5),
                                   sleep=sleep) as client:
                return await client.send_message(message), await client.metadata()

        ack, metadata = anyio.run(run)
    assert (ack.code, ack.attempts, sleeps) == ("ok", 2, [0.5])
    assert metadata["resourceType"] == "CapabilityStatement"


@pytest.mark.parametrize("kind", ["ES384", "RS384"])
def test_smart_backend_services(tmp_path: Path, kind: str) -> None:
    """With --auth on, the client gets a token with its signed assertion and sends; one token
    serves several requests; without auth the centre answers 401 with an OperationOutcome."""
    key = (ECKey.generate_key("P-384", parameters={"kid": "site-a-1"}, private=True)
           if kind == "ES384" else
           RSAKey.generate_key(2048, parameters={"kid": "site-a-1"}, private=True))
    jwks = {"keys": [key.as_dict(private=False)]}
    auth = AuthSettings(clients=(RegisteredClient("site-a", jwks),))
    message = referral("CASE-1", seed=1)
    with running_centre(tmp_path, auth=auth) as (base, _app):
        smart = SmartBackendAuth("site-a", key, f"{base}/auth/token")
        with Client(base, auth=smart) as client:
            assert client.send_message(message).code == "ok"
            token = smart.cached_token()
            assert token is not None
            assert client.read("Bundle", message["id"])["id"] == message["id"]
            assert smart.cached_token() == token
        with Client(base) as anonymous, pytest.raises(ServerError) as info:
            anonymous.send_message(referral("CASE-2", seed=2))
        assert info.value.status_code == 401 and info.value.outcome is not None
        wrong = SmartBackendAuth("site-b", key, f"{base}/auth/token")
        with Client(base, auth=wrong) as stranger, pytest.raises(ServerError, match="token"):
            stranger.read("Bundle", message["id"])
