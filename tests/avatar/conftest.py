"""Fixtures for the avatar tests: a real livekit-server when one can be used here.

Where the server or a client cannot start, the room tests skip locally and FAIL in CI
(``CI=true``): a CI run must never pass by skipping them.
"""

from __future__ import annotations

import os
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


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where every room test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: room tests must run)", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "room: needs a real livekit-server (skipped locally, failing in CI, when absent)"
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
        unavailable("no livekit-server binary (set LIVEKIT_SERVER_BIN)")
    async with LiveKitServer() as server:
        if _usable is None:
            _usable = await client_can_connect(server)
        if not _usable:
            unavailable(f"rtc.Room clients cannot connect here: {server.log_tail(5)}")
        monkeypatch.setenv("LIVEKIT_URL", server.url)
        monkeypatch.setenv("LIVEKIT_API_KEY", API_KEY)
        monkeypatch.setenv("LIVEKIT_API_SECRET", API_SECRET)
        yield server
