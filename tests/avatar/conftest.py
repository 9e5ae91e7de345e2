"""Fixtures for the avatar tests: a real livekit-server when one can be used here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from livekit.agents.utils import http_context

from halfcascade.testing.livekit_server import (
    API_KEY,
    API_SECRET,
    LiveKitServer,
    client_can_connect,
    find_server_binary,
)

_usable: bool | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "room: needs a real livekit-server (skipped when it cannot be used here)"
    )


@pytest.fixture
async def http() -> AsyncIterator[None]:
    """An aiohttp session for livekit plugins used outside a worker."""
    async with http_context.open():
        yield


@pytest.fixture
async def lk(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LiveKitServer]:
    """A livekit-server on loopback, with ``LIVEKIT_*`` pointing at it."""
    global _usable
    if find_server_binary() is None:
        pytest.skip("no livekit-server binary (set LIVEKIT_SERVER_BIN)")
    async with LiveKitServer() as server:
        if _usable is None:
            _usable = await client_can_connect(server)
        if not _usable:
            pytest.skip("rtc.Room clients cannot connect here (no non-loopback interface?)")
        monkeypatch.setenv("LIVEKIT_URL", server.url)
        monkeypatch.setenv("LIVEKIT_API_KEY", API_KEY)
        monkeypatch.setenv("LIVEKIT_API_SECRET", API_SECRET)
        yield server
