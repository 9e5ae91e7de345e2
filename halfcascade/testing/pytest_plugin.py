"""pytest fixtures for your own suite: the provider stand-ins, started and closed for you.

Installed with halfcascade (the ``pytest11`` entry point ``halfcascade``), so a test file
only asks for them::

    async def test_biscuit_answers(realtime_server, elevenlabs_server):
        ...  # point OpenAIBrain / ElevenLabsVoice at their base_url

- ``realtime_server``: a :class:`~halfcascade.testing.RealtimeServer` answering
  ``"Woof! Hi!"`` with small delays (first text after 50 ms).
- ``elevenlabs_server``, ``openai_tts_server``: the TTS stand-ins (first audio after 50 ms).
- ``halfcascade_server``: starts any stand-in you configure yourself and closes it after
  the test: ``server = await halfcascade_server(RealtimeServer(reply=my_rules))``.

The fixtures are async (pytest-asyncio). Nothing heavy is imported until a test asks for
one, so the plugin costs nothing in suites that do not use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from .elevenlabs import ElevenLabsServer
    from .openai_realtime import RealtimeServer
    from .openai_tts import OpenAITTSServer

__all__ = [
    "Startable",
    "elevenlabs_server",
    "halfcascade_server",
    "openai_tts_server",
    "realtime_server",
]


class Startable(Protocol):
    """Anything with ``start()`` and ``aclose()``: every stand-in in halfcascade.testing."""

    async def start(self) -> Any: ...

    async def aclose(self) -> None: ...


_S = TypeVar("_S", bound=Startable)
_F = TypeVar("_F", bound=Callable[..., Any])


def _fixture(fn: _F) -> _F:
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - the fixture then says what is missing
        return cast(_F, _missing(fn))
    return cast(_F, pytest_asyncio.fixture(fn))


def _missing(fn: Callable[..., Any]) -> Any:
    @pytest.fixture(name=fn.__name__)
    def missing() -> None:
        pytest.fail("halfcascade's fixtures are async: pip install pytest-asyncio")

    return missing


@_fixture
async def halfcascade_server() -> AsyncIterator[Callable[[Any], Awaitable[Any]]]:
    """Start a stand-in you built; it is closed after the test (last started, first closed)."""
    started: list[Startable] = []

    async def start(server: _S) -> _S:
        await server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            await server.aclose()


@_fixture
async def realtime_server() -> AsyncIterator[RealtimeServer]:
    """A local OpenAI Realtime server that answers every turn with ``"Woof! Hi!"``."""
    from .openai_realtime import RealtimeServer

    async with RealtimeServer(reply="Woof! Hi!", ttft=0.05, token_interval=0.005) as server:
        yield server


@_fixture
async def elevenlabs_server() -> AsyncIterator[ElevenLabsServer]:
    """A local ElevenLabs (websockets and HTTP) speaking with the offline voice."""
    from .elevenlabs import ElevenLabsServer

    async with ElevenLabsServer(ttfb=0.05) as server:
        yield server


@_fixture
async def openai_tts_server() -> AsyncIterator[OpenAITTSServer]:
    """A local OpenAI TTS (``POST /v1/audio/speech``)."""
    from .openai_tts import OpenAITTSServer

    async with OpenAITTSServer(ttfb=0.05) as server:
        yield server
