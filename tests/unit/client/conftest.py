"""Every client test runs twice: with Client and with AsyncClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from _client_support import HarnessFactory, factory


@pytest.fixture(params=["sync", "async"])
def harness(request: pytest.FixtureRequest) -> HarnessFactory:
    return factory(request.param)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router
