"""A warm start (``Settings.warm``, which ``ecanfhir serve`` sets): the pilot's profiles are
compiled before the first request, and the definitions are frozen out of the collector's way."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ecanfhir import pilot_url
from testservers.national_centre import Settings, create_app
from testservers.national_centre.running import free_port, serve_in_thread

MESSAGE = pilot_url("StructureDefinition", "ecan-message")


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as before


@pytest.mark.parametrize("warm", [True, False])
def test_a_warm_start_compiles_the_pilot_before_the_first_request(
        tmp_path: Path, unfrozen: None, warm: bool) -> None:
    """With warm, starting the app has compiled the pilot's message profile and frozen what
    was built; without it, starting compiles nothing."""
    gc.unfreeze()
    port = free_port()
    app = create_app(Settings(database=str(tmp_path / "centre.sqlite3"),
                              base_url=f"http://127.0.0.1:{port}", warm=warm))
    schema = app.state.services.validator.schema
    assert MESSAGE not in schema._compiled
    try:
        with serve_in_thread(app, port) as base:
            assert httpx.get(f"{base}/metadata", timeout=30).status_code == 200
            assert (MESSAGE in schema._compiled) is warm
            assert (gc.get_freeze_count() > 0) is warm
    finally:
        app.state.services.store.close()


def test_serve_starts_warm() -> None:
    """``ecanfhir serve`` asks for a warm start."""
    import argparse

    from ecanfhir.commands.serve import settings_from_args

    args = argparse.Namespace(host="127.0.0.1", port=8080, base_url=None, db="x.sqlite3",
                              auth=False, client_jwks=None, client_id=None, faults=None,
                              harness=False)
    assert settings_from_args(args).warm is True


def test_serve_validates_in_child_processes_when_asked() -> None:
    """``--validation-processes N`` reaches the settings; without it messages are validated
    in the request threads; a negative count is refused."""
    import argparse

    from ecanfhir.commands import UsageError
    from ecanfhir.commands.serve import settings_from_args

    def args(**more: object) -> argparse.Namespace:
        return argparse.Namespace(host="127.0.0.1", port=8080, base_url=None, db="x.sqlite3",
                                  auth=False, client_jwks=None, client_id=None, faults=None,
                                  harness=False, **more)

    assert settings_from_args(args()).validation_processes == 0
    assert settings_from_args(args(validation_processes=2)).validation_processes == 2
    with pytest.raises(UsageError, match="--validation-processes -1"):
        settings_from_args(args(validation_processes=-1))
