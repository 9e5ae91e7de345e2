"""Room tests: a real livekit-server, real worker processes, users that speak and listen.

Missing tools (livekit-server, espeak-ng, faster-whisper) skip locally and FAIL in CI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from _harness import unavailable

from halfcascade.testing import ElevenLabsServer, RealtimeServer
from halfcascade.testing.livekit_server import LiveKitServer, client_can_connect, find_server_binary

pytestmark = pytest.mark.room


@pytest.fixture
async def lk() -> AsyncIterator[LiveKitServer]:
    """A livekit-server on loopback that rtc clients here can reach."""
    if find_server_binary() is None:
        unavailable("no livekit-server binary (set LIVEKIT_SERVER_BIN)")
    async with LiveKitServer() as server:
        if not await client_can_connect(server):
            unavailable(f"rtc.Room clients cannot connect here: {server.log_tail(5)}")
        yield server


@pytest.fixture
def worker_env(tmp_path: Path) -> Callable[[RealtimeServer, ElevenLabsServer], dict[str, str]]:
    """The environment a worker process needs to reach the stand-ins."""

    def env(realtime: RealtimeServer, tts: ElevenLabsServer) -> dict[str, str]:
        return {
            "OPENAI_BASE_URL": realtime.base_url,
            "OPENAI_API_KEY": "local-test-key",
            "ELEVEN_BASE_URL": tts.base_url,
            "ELEVEN_API_KEY": "local-test-key",
            "HC_TEST_REPORT": str(tmp_path / "jobs.jsonl"),
        }

    return env
