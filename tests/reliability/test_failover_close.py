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


@pytest.mark.parametrize("close", ["aclose", "shutdown"])
async def test_a_closed_session_stops_its_failover_and_closes_only_the_voices_it_built(
    close: str,
) -> None:
    """The failover's keep-warm loop and a down voice's probe outlived the session (found
    by listing the tasks left after the soak): every closed session left them re-opening
    provider connections for good. A livekit TTS the caller passed in may serve other
    sessions: it stays open."""
    from contextlib import AsyncExitStack

    from livekit.agents.utils import http_context
    from livekit.plugins import openai

    from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, Session
    from halfcascade.speech.failover import FailoverPolicy, FailoverTTS
    from halfcascade.testing import OpenAITTSServer, RealtimeServer
    from halfcascade.testing.elevenlabs import ElevenLabsServer

    async with AsyncExitStack() as stack:
        await stack.enter_async_context(http_context.open())
        rt = await stack.enter_async_context(RealtimeServer(reply="Woof!"))
        el = await stack.enter_async_context(ElevenLabsServer())
        backup = await stack.enter_async_context(OpenAITTSServer())
        shared = openai.TTS(base_url=backup.base_url, api_key="test", response_format="pcm")
        session = Session(
            brain=OpenAIBrain(base_url=rt.base_url, api_key="test"),
            voice=ElevenLabsVoice(base_url=el.base_url, api_key="test"),
            fallback_voices=[shared],
            failover=FailoverPolicy(keep_warm_interval=1.0),
        )
        await session.start(Agent(instructions="You are a dog.", style=None))
        tts = session.tts
        assert isinstance(tts, FailoverTTS)
        closed: list[int] = []
        for i, voice in enumerate(tts.voices):
            orig = voice.aclose

            async def spy(orig: Any = orig, i: int = i) -> None:
                closed.append(i)
                await orig()

            voice.aclose = spy  # type: ignore[method-assign]
        tts.prewarm()  # starts the keep-warm loop, as a session's first reply does
        tts.voice_failed(1, "test")  # and a probe of the fallback
        assert _failover_tasks()
        if close == "aclose":
            await session.aclose()
        else:  # livekit closes it itself (as at job shutdown or on an error)
            closed_ev = asyncio.Event()
            session.on("close", lambda _ev: closed_ev.set())
            session.shutdown(drain=False)
            await asyncio.wait_for(closed_ev.wait(), 10)
            for _ in range(100):  # the release runs after the close event
                if closed and not _failover_tasks():
                    break
                await asyncio.sleep(0.05)
        assert _failover_tasks() == []
        # the ElevenLabs voice it built and the StreamAdapter it put around the caller's
        # OpenAI TTS (closing the adapter unhooks it); the caller's TTS itself stays open
        assert closed == [0, 1]
        with pytest.raises(RuntimeError, match="cannot be restarted"):
            await session.start(Agent(instructions="You are a dog.", style=None))
        async with shared.synthesize("Still open.") as stream:  # the caller's still works
            assert [ev async for ev in stream]
        await shared.aclose()


def _failover_tasks() -> list[str]:
    names = ("FailoverTTS._keep_warm", "FailoverTTS._probe")
    return [
        qual
        for t in asyncio.all_tasks()
        if not t.done() and (qual := getattr(t.get_coro(), "__qualname__", "")) in names
    ]


def test_failover_owned_flags_match_the_voices() -> None:
    from halfcascade.errors import ConfigError
    from halfcascade.speech.failover import FailoverTTS

    voice = _ConnectingVoice()
    with pytest.raises(ConfigError, match="one flag per voice"):
        FailoverTTS([voice], owned=[True, False])
