"""A voice request cut while its connection fails leaves no ``Task exception was never
retrieved``.

The soak met it three times: a reply was cut (or a hedge lost) while the ElevenLabs
plugin was connecting and the server dropped the connection at that moment. Python 3.11's
``asyncio.wait_for`` then raises the connection error over the cancellation, the plugin
wraps it in ``APIConnectionError`` and the request's task ends with it after livekit's
``SynthesizeStream.aclose()`` has cancelled it, and nobody reads it: asyncio logs it at
ERROR, with a traceback, when the stream is collected. The stand-in voice here ends its
request exactly that way, deterministically.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from livekit.agents import APIConnectionError, APIConnectOptions
from livekit.agents import tts as lk_tts

from halfcascade.speech import failover_lk
from halfcascade.speech.failover_stream import _Attempt

pytestmark = pytest.mark.contract


class _ConnectingVoice(lk_tts.TTS):
    """A streaming voice whose request is still connecting, and fails when cancelled."""

    def __init__(self) -> None:
        super().__init__(
            capabilities=lk_tts.TTSCapabilities(streaming=True), sample_rate=24000, num_channels=1
        )
        self.connecting = asyncio.Event()

    def synthesize(self, text: str, *, conn_options: Any = None) -> lk_tts.ChunkedStream:
        raise NotImplementedError

    def stream(self, *, conn_options: APIConnectOptions | None = None) -> lk_tts.SynthesizeStream:
        return _ConnectingStream(tts=self, conn_options=conn_options or APIConnectOptions())


class _ConnectingStream(lk_tts.SynthesizeStream):
    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        assert isinstance(self._tts, _ConnectingVoice)
        self._tts.connecting.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:  # as wait_for on 3.11 when the connect failed too
            raise APIConnectionError("could not connect", retryable=True) from None


async def _never_retrieved(run: Callable[[], Awaitable[None]]) -> list[str]:
    """The loop's 'never retrieved' reports while ``run`` ran and its objects were freed."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    loop.set_exception_handler(lambda _loop, ctx: seen.append(str(ctx.get("message"))))
    try:
        await run()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    return [m for m in seen if "never retrieved" in m]


async def _cut_while_connecting(
    close: Callable[[lk_tts.SynthesizeStream], Awaitable[None]],
) -> None:
    voice = _ConnectingVoice()
    stream = voice.stream(conn_options=APIConnectOptions(max_retry=0))
    stream.push_text("Hello there.")
    await voice.connecting.wait()
    await close(stream)
    del stream
    await voice.aclose()


async def test_livekits_aclose_leaves_the_error_of_a_request_cut_while_connecting() -> None:
    """The livekit behaviour worked around (fails when livekit reads the error itself)."""
    assert await _never_retrieved(lambda: _cut_while_connecting(lambda s: s.aclose())), (
        "SynthesizeStream.aclose() now reads the error: failover_lk.aclose_stream can go"
    )


async def test_aclose_stream_reads_it() -> None:
    assert await _never_retrieved(lambda: _cut_while_connecting(failover_lk.aclose_stream)) == []


async def test_a_phrase_cut_while_its_voice_connects_leaves_no_unread_error() -> None:
    async def run() -> None:
        voice = _ConnectingVoice()
        attempt = _Attempt(index=0, text="Hello there.")
        attempt.task = asyncio.create_task(attempt.produce(voice, limit=30.0))
        await voice.connecting.wait()
        await attempt.cancel()  # the reply was cut, or the hedge lost
        del attempt
        await voice.aclose()

    assert await _never_retrieved(run) == []
