"""Validation in child processes (``Settings.validation_processes``): the same issues as the
server's own validator, children that end with the pool, and no message left unchecked when a
child dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from _centre_assertions import ack_header, ack_outcome
from _centre_messages import referral

from ecanfhir import ValidationResult, Validator
from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread
from testservers.national_centre.validation_pool import ValidationPool

BAD_PATIENT = {"resourceType": "Patient", "gender": "mal", "birthDate": "1970-13-01"}


def _found(result: object) -> list[tuple[str, str, str]]:
    return [(i.code, i.expression, i.rule) for i in result]  # type: ignore[attr-defined]


@pytest.fixture
def pool() -> Iterator[ValidationPool]:
    started = ValidationPool(Validator(), processes=2)
    started.start()
    yield started
    started.close()


def test_a_child_finds_what_the_validator_finds(pool: ValidationPool) -> None:
    assert pool.running and len(pool._children) == 2
    expected = _found(pool.validator.validate(BAD_PATIENT))
    assert ("code-invalid", "Patient.gender", "binding-required") in expected
    assert any(e[1] == "Patient.birthDate" for e in expected)
    for _ in range(3):   # each child in turn
        assert _found(pool.validate(BAD_PATIENT)) == expected


def test_the_children_end_with_the_pool() -> None:
    pool = ValidationPool(Validator(), processes=2)
    pool.start()
    children = list(pool._children)
    assert all(child.is_alive() for child in children)
    pool.close()
    assert not any(child.is_alive() for child in children)
    assert all(child.exitcode == 0 for child in children)   # ended by end-of-file, not killed
    assert not pool.running


def test_before_start_and_after_a_child_died_the_server_validates_itself() -> None:
    pool = ValidationPool(Validator(), processes=1)
    expected = _found(pool.validator.validate(BAD_PATIENT))
    assert not pool.running
    assert _found(pool.validate(BAD_PATIENT)) == expected
    pool.start()
    try:
        (child,) = pool._children
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=10)
        assert _found(pool.validate(BAD_PATIENT)) == expected   # not an empty result
        assert not pool.running
    finally:
        pool.close()


class _RaisesInAChild(Validator):
    """Raises in any process but the one that made it (a validator bug met in a child)."""

    def __init__(self) -> None:
        super().__init__()
        self.home = os.getpid()

    def validate(self, resource: Any, **kwargs: Any) -> ValidationResult:
        if os.getpid() != self.home:
            raise RuntimeError("a bug in a child")
        return super().validate(resource, **kwargs)


def test_a_validation_that_raises_in_a_child_is_done_again_by_the_server() -> None:
    pool = ValidationPool(_RaisesInAChild(), processes=1)
    pool.start()
    try:
        expected = _found(pool.validator.validate(BAD_PATIENT))
        assert _found(pool.validate(BAD_PATIENT)) == expected
        assert pool.running and pool._children[0].is_alive()   # the child lives on
    finally:
        pool.close()


def test_threads_waiting_for_a_child_that_died_validate_themselves() -> None:
    pool = ValidationPool(Validator(), processes=1)
    expected = _found(pool.validator.validate(BAD_PATIENT))
    pool.start()
    try:
        (child,) = pool._children
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=10)
        with ThreadPoolExecutor(4) as threads:
            found = list(threads.map(lambda _: _found(pool.validate(BAD_PATIENT)), range(8),
                                     timeout=60))
        assert found == [expected] * 8
    finally:
        pool.close()


def test_no_processes_means_no_children() -> None:
    pool = ValidationPool(Validator(), processes=0)
    pool.start()
    assert pool._children == [] and not pool.running


def test_the_centre_validates_messages_in_its_children(tmp_path: Path) -> None:
    """A served app with validation_processes forks them at start-up; an invalid message gets
    its fatal-error acknowledgement with the location, a valid one ``ok``."""
    port = free_port()
    app = create_app(Settings(database=str(tmp_path / "centre.sqlite3"),
                              base_url=f"http://127.0.0.1:{port}", validation_processes=2))
    pool = app.state.services.messages.validator
    assert isinstance(pool, ValidationPool) and not pool.running
    bad = referral("CASE-1", seed=1)
    focus = next(e["resource"] for e in bad["entry"]
                 if e["resource"]["resourceType"] == "ServiceRequest")
    focus["status"] = "bogus"
    index = next(n for n, e in enumerate(bad["entry"]) if e["resource"] is focus)
    headers = {"Content-Type": "application/fhir+json"}
    try:
        with serve_in_thread(app, port) as base:
            assert pool.running
            response = httpx.post(f"{base}/$process-message", json=bad, headers=headers,
                                  timeout=60)
            assert ack_header(response)["response"]["code"] == "fatal-error"
            issues = ack_outcome(response)["issue"]
            assert any(i["code"] == "code-invalid" and i.get("expression") ==
                       [f"Bundle.entry[{index}].resource.status"] for i in issues)
            good = httpx.post(f"{base}/$process-message", json=referral("CASE-2", seed=2),
                              headers=headers, timeout=60)
            assert ack_header(good)["response"]["code"] == "ok"
        assert not pool.running   # closed at shutdown
    finally:
        app.state.services.store.close()


def test_errors_only_in_a_child_and_in_the_server() -> None:
    """``errors_only`` (the server's pool: a message receiver reads the errors alone): a
    child's result and the server's own, before the children start, hold the errors and
    nothing else."""
    pool = ValidationPool(Validator(), processes=1, errors_only=True)
    everything = pool.validator.validate(BAD_PATIENT).issues
    errors = [i for i in everything if i.is_error]
    assert errors and len(errors) < len(everything)
    assert list(pool.validate(BAD_PATIENT).issues) == errors   # not started: the server's
    pool.start()
    try:
        for _ in range(2):
            assert list(pool.validate(BAD_PATIENT).issues) == errors
    finally:
        pool.close()
