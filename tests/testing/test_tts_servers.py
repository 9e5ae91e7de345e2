"""The local TTS servers, driven by the real livekit plugin clients, and the offline voices."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import numpy as np
import pytest
from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, APIError, APIStatusError
from livekit.agents import tts as lk_tts
from livekit.plugins import elevenlabs, openai

from halfcascade.testing import voices
from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.openai_tts import OpenAITTSServer
from halfcascade.testing.voices import synthetic_voice

pytestmark = pytest.mark.contract

NO_RETRY = APIConnectOptions(max_retry=0, timeout=5)
RATE = 24000
VOICE = "halfcascade-test"  # one of the stand-in's voices


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def el_server() -> AsyncIterator[ElevenLabsServer]:
    async with ElevenLabsServer(ttfb=0.05, voice=synthetic_voice) as server:
        yield server


@pytest.fixture
async def oa_server() -> AsyncIterator[OpenAITTSServer]:
    async with OpenAITTSServer(ttfb=0.05, voice=synthetic_voice) as server:
        yield server


def el_tts(server: ElevenLabsServer, http: aiohttp.ClientSession, **kw: Any) -> elevenlabs.TTS:
    kw.setdefault("encoding", "pcm_24000")
    return elevenlabs.TTS(base_url=server.base_url, api_key="test", http_session=http, **kw)


def pcm_of(frames: list[rtc.AudioFrame]) -> np.ndarray:
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


async def collect(stream: lk_tts.ChunkedStream | lk_tts.SynthesizeStream) -> list[rtc.AudioFrame]:
    async with stream:
        return [ev.frame async for ev in stream]


def expected_seconds(chunks: tuple[str, ...], rate: int = RATE) -> float:
    return sum(len(synthetic_voice(c, rate)) for c in chunks) / rate


# --- voices -----------------------------------------------------------------------------------


def test_synthetic_voice_is_deterministic_speech_like_and_sized_by_text() -> None:
    a = synthetic_voice("Hello there, how are you today?")
    assert a.dtype == np.int16 and np.array_equal(
        a, synthetic_voice("Hello there, how are you today?")
    )
    assert np.abs(a).max() > 10000
    assert 1.5 < len(a) / RATE < 3.0  # ~60 ms a character plus pauses
    assert len(synthetic_voice("hi", 16000)) / 16000 == pytest.approx(0.12, abs=0.01)
    assert len(synthetic_voice("")) == 0 and not synthetic_voice("...").any()


def longest_silence(pcm: np.ndarray, rate: int = RATE) -> float:
    best = run = 0
    for quiet in np.abs(pcm) < 50:
        run = run + 1 if quiet else 0
        best = max(best, run)
    return best / rate


def test_synthetic_voice_pauses_at_punctuation() -> None:
    assert longest_silence(synthetic_voice("hello there how are you")) < 0.1
    assert longest_silence(synthetic_voice("hello there, how are you")) >= 0.2


@pytest.mark.speech
@pytest.mark.skipif(not voices.espeak_available(), reason="espeak-ng not installed")
async def test_espeak_speaks_at_the_requested_rate() -> None:
    pcm = voices.speak("What is the weather in Paris today?")
    assert pcm.dtype == np.int16 and np.abs(pcm).max() > 5000
    assert 1.2 < len(pcm) / RATE < 4.0
    low = await voices.aspeak("What is the weather in Paris today?", sample_rate=16000)
    assert len(low) / 16000 == pytest.approx(len(pcm) / RATE, abs=0.02)
    assert voices.default_voice()("Hi.", 16000).any()


def test_speak_names_the_package_when_espeak_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    assert not voices.espeak_available()
    with pytest.raises(voices.EspeakUnavailableError, match="apt-get install espeak-ng"):
        voices.speak("never cached before, surely")
    assert voices.default_voice() is synthetic_voice


# --- ElevenLabs websocket through the real plugin ---------------------------------------------


async def test_elevenlabs_stream_returns_the_voice_audio(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http)
    stream = tts.stream(conn_options=NO_RETRY)
    stream.push_text("Hello there, how are you doing today?")
    stream.end_input()
    frames = await collect(stream)
    await tts.aclose()

    assert {f.sample_rate for f in frames} == {RATE}
    pcm = pcm_of(frames)
    assert np.abs(pcm).max() > 10000
    (ctx,) = await el_server.wait_for_contexts(1)
    assert ctx.text == "Hello there, how are you doing today?"
    assert ctx.messages[0] == " " and ctx.end_of_input_at is not None and not ctx.cancelled
    assert len(pcm) / RATE == pytest.approx(expected_seconds(ctx.chunks), abs=0.01)
    assert ctx.audio_seconds == pytest.approx(len(pcm) / RATE, abs=0.01)


async def test_elevenlabs_auto_mode_sends_each_sentence_as_a_flushed_chunk(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http, auto_mode=True)
    stream = tts.stream(conn_options=NO_RETRY)
    for word in "Well, this is the first sentence here. And this one is the second.".split(" "):
        stream.push_text(word + " ")
    stream.end_input()
    frames = await collect(stream)
    await tts.aclose()

    (ctx,) = await el_server.wait_for_contexts(1)
    assert ctx.chunks == ("Well, this is the first sentence here. ", "And this one is the second. ")
    assert len(pcm_of(frames)) / RATE == pytest.approx(expected_seconds(ctx.chunks), abs=0.01)


@pytest.mark.parametrize("auto_mode", [True, False])
async def test_elevenlabs_plugin_flush_ends_the_segment_and_later_text_is_dropped(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession, auto_mode: bool
) -> None:
    # livekit 1.8.9: SynthesizeStream.flush() closes the segment; push_text afterwards is
    # dropped with a "multiple segments ... deprecated" warning and never reaches the wire
    tts = el_tts(el_server, http, auto_mode=auto_mode)
    stream = tts.stream(conn_options=NO_RETRY)
    stream.push_text("Oh,")
    stream.flush()
    stream.push_text(" hi there!")
    stream.flush()
    stream.end_input()
    await collect(stream)
    await tts.aclose()

    (ctx,) = await el_server.wait_for_contexts(1)
    cid = ctx.context_id
    oh = {"text": "Oh, ", "context_id": cid} | ({"flush": True} if auto_mode else {})
    assert list(ctx.wire) == [
        {"text": " ", "voice_settings": {}, "context_id": cid},
        oh,  # flushed on the wire only in auto_mode
        {"text": "", "context_id": cid, "flush": True},
        {"context_id": cid, "close_context": True},
    ]
    assert ctx.chunks == ("Oh, ",)
    assert ctx.end_of_input_at is not None
    assert (ctx.chunk_times[0] < ctx.end_of_input_at) is auto_mode


async def test_elevenlabs_contexts_share_one_pooled_connection(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http)

    async def say(text: str) -> list[rtc.AudioFrame]:
        stream = tts.stream(conn_options=NO_RETRY)
        stream.push_text(text)
        stream.end_input()
        return await collect(stream)

    first, second = await asyncio.gather(say("First one."), say("And the second."))
    await tts.aclose()
    assert first and second
    contexts = await el_server.wait_for_contexts(2)
    assert len(el_server.connections) == 1
    assert {c.connection_id for c in contexts} == {0}
    assert sorted(c.text for c in contexts) == ["And the second.", "First one."]
    assert el_server.connections[0].params["output_format"] == "pcm_24000"


async def test_elevenlabs_synthesize_uses_the_http_stream(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http, encoding="pcm_16000")
    frames = await collect(tts.synthesize("Good morning!", conn_options=NO_RETRY))
    await tts.aclose()
    (req,) = await el_server.wait_for_requests(1)
    assert req.path.endswith("/stream") and req.text == "Good morning!"
    assert {f.sample_rate for f in frames} == {16000}
    pcm = pcm_of(frames)
    assert np.abs(pcm).max() > 10000
    # the emitter pads its last frame, so compare durations, not sample counts
    assert len(pcm) / 16000 == pytest.approx(
        len(synthetic_voice("Good morning!", 16000)) / 16000, abs=0.02
    )
    assert not el_server.contexts


async def test_elevenlabs_prewarm_opens_the_websocket_before_first_use(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http)
    tts.prewarm()
    (conn,) = await el_server.wait_for_connections(1)
    assert conn.closed_at is None and not el_server.contexts
    stream = tts.stream(conn_options=NO_RETRY)
    stream.push_text("Warm already.")
    stream.end_input()
    await collect(stream)
    await tts.aclose()
    assert len(el_server.connections) == 1 and len(el_server.contexts) == 1


async def test_elevenlabs_first_audio_waits_for_ttfb_after_the_flush(
    http: aiohttp.ClientSession,
) -> None:
    async with ElevenLabsServer(ttfb=0.05, voice=synthetic_voice) as server:
        server.set_ttfb(0.3)
        tts = el_tts(server, http)
        stream = tts.stream(conn_options=NO_RETRY)
        pushed = time.perf_counter()
        stream.push_text("Take your time.")
        stream.end_input()
        async with stream:
            first = None
            async for _ in stream:
                first = first or time.perf_counter()
        await tts.aclose()
        (ctx,) = await server.wait_for_contexts(1)
    assert first is not None and first - pushed >= 0.3
    assert ctx.ttfb is not None and ctx.ttfb >= 0.3


@pytest.mark.parametrize(
    ("kind", "error"), [("error", APIError), ("close", APIError), ("http500", APIStatusError)]
)
async def test_elevenlabs_stream_fault_fails_fast_then_recovers(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession, kind: Any, error: type[Exception]
) -> None:
    tts = el_tts(el_server, http)
    el_server.fail_next(kind=kind)
    started = time.perf_counter()
    stream = tts.stream(conn_options=NO_RETRY)
    stream.push_text("This will fail.")
    stream.end_input()
    with pytest.raises(error):
        await collect(stream)
    assert time.perf_counter() - started < 2.0
    assert el_server.pending_faults == 0

    stream = tts.stream(conn_options=NO_RETRY)  # the next request works again
    stream.push_text("This will work.")
    stream.end_input()
    assert await collect(stream)
    await tts.aclose()


async def test_elevenlabs_hang_fault_times_out(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http)
    el_server.fail_next(kind="hang")
    stream = tts.stream(conn_options=APIConnectOptions(max_retry=0, timeout=0.5))
    stream.push_text("Anyone there?")
    stream.end_input()
    with pytest.raises(APIError):
        await collect(stream)
    await tts.aclose()
    assert el_server.contexts[0].fault == "hang"


async def test_elevenlabs_http_fault_fails_the_chunked_request(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http)
    el_server.fail_next(2, kind="http500")
    with pytest.raises(APIStatusError) as info:
        await collect(tts.synthesize("Nope.", conn_options=NO_RETRY))
    assert info.value.status_code == 500
    el_server.fail_next(kind="close")  # queued behind the second http500
    for _ in range(2):
        with pytest.raises(APIConnectionError if _ else APIStatusError):
            await collect(tts.synthesize("Nope.", conn_options=NO_RETRY))
    assert [r.fault for r in el_server.requests] == ["http500", "http500", "close"]
    await tts.aclose()


async def test_elevenlabs_rejects_mp3_with_a_message_that_says_what_to_pass(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    tts = el_tts(el_server, http, encoding="mp3_22050_32")
    stream = tts.stream(conn_options=NO_RETRY)
    stream.push_text("Compressed, please.")
    stream.end_input()
    with pytest.raises(APIError):
        await collect(stream)
    assert 'encoding="pcm_24000"' in (el_server.contexts[0].error or "")
    with pytest.raises(APIStatusError, match="pcm_24000"):
        await collect(tts.synthesize("Compressed, please.", conn_options=NO_RETRY))
    await tts.aclose()


async def test_elevenlabs_requires_an_api_key_and_lists_voices(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(el_server.base_url + "/voices") as resp:
        assert resp.status == 401
        assert (await resp.json())["detail"]["status"] == "needs_authorization"
    # the key may come in the first message, so the handshake succeeds without it
    ws = await http.ws_connect(f"{el_server.base_url}/text-to-speech/{VOICE}/multi-stream-input")
    await ws.send_json({"text": " ", "context_id": "c"})
    error = json.loads((await ws.receive(timeout=5)).data)
    assert error == {"message": error["message"], "error": "authentication_required", "code": 1008}
    assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1008
    voices_list = await el_tts(el_server, http).list_voices()
    assert voices_list and voices_list[0].id


# --- ElevenLabs wire protocol, driven by hand ------------------------------------------------


async def open_ws(
    server: ElevenLabsServer, http: aiohttp.ClientSession, query: str = ""
) -> aiohttp.ClientWebSocketResponse:
    url = f"{server.base_url}/text-to-speech/{VOICE}/multi-stream-input?output_format=pcm_24000"
    url += query
    return await http.ws_connect(url, headers={"xi-api-key": "test"})


async def read_context(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while not out or not out[-1].get("isFinal"):
        out.append(json.loads((await ws.receive(timeout=5)).data))
    return out


async def test_elevenlabs_streams_each_flush_as_soon_as_it_arrives(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    el_server.set_ttfb(0.1)
    ws = await open_ws(el_server, http)
    await ws.send_json({"text": " ", "voice_settings": {}, "context_id": "c1"})
    await ws.send_json({"text": "Oh, ", "context_id": "c1", "flush": True})
    first = json.loads((await ws.receive(timeout=5)).data)  # before any more text is sent
    assert first["contextId"] == "c1" and first["alignment"]["chars"][0] == "O"
    await ws.send_json({"text": "hi there! ", "context_id": "c1", "flush": True})
    await ws.send_json({"text": "", "context_id": "c1", "flush": True})
    await ws.send_json({"context_id": "c1", "close_context": True})
    messages = [first, *await read_context(ws)]
    await ws.close()

    (ctx,) = await el_server.wait_for_contexts(1)
    assert ctx.chunks == ("Oh, ", "hi there! ")
    assert ctx.first_audio_sent_at is not None and ctx.first_flush_at is not None
    assert ctx.first_audio_sent_at - ctx.first_flush_at >= 0.1
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))
    assert len(audio) // 2 == len(synthetic_voice("Oh, ")) + len(synthetic_voice("hi there! "))
    chars = [c for m in messages if m.get("alignment") for c in m["alignment"]["chars"]]
    starts = [t for m in messages if m.get("alignment") for t in m["alignment"]["charStartTimesMs"]]
    assert "".join(chars) == "Oh, hi there! " and starts == sorted(starts)


async def test_elevenlabs_buffers_unflushed_text_until_the_chunk_schedule_fills(
    el_server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await open_ws(el_server, http, "&auto_mode=false")
    init = {"text": " ", "context_id": "c", "generation_config": {"chunk_length_schedule": [50]}}
    await ws.send_json(init)
    for word in ("Short ", "words ", "arrive ", "one ", "at ", "a ", "time ", "here, ", "fine. "):
        await ws.send_json({"text": word, "context_id": "c"})
    await ws.send_json({"text": "", "context_id": "c", "flush": True})
    await ws.send_json({"context_id": "c", "close_context": True})
    await read_context(ws)
    await ws.close()
    (ctx,) = await el_server.wait_for_contexts(1)
    assert ctx.chunks == ("Short words arrive one at a time here, fine. ",)
    assert ctx.first_flush_at == ctx.end_of_input_at


async def test_elevenlabs_close_context_speaks_what_was_flushed_and_drops_the_rest(
    http: aiohttp.ClientSession,
) -> None:
    # API reference, CloseContext: "if it has already been set to flush it will continue
    # flushing"; text never flushed is not spoken. An interruption looks no cleaner here
    # than it does against the real service.
    flushed, unflushed = "A long answer that gets interrupted. ", "And this was never flushed "
    async with ElevenLabsServer(ttfb=0.05, voice=synthetic_voice, realtime_factor=1.0) as server:
        ws = await open_ws(server, http)
        await ws.send_json({"text": " ", "context_id": "x"})
        await ws.send_json({"text": flushed, "context_id": "x", "flush": True})
        await ws.send_json({"text": unflushed, "context_id": "x"})
        first = json.loads((await ws.receive(timeout=5)).data)  # audio has started
        await ws.send_json({"context_id": "x", "close_context": True})
        messages = [first, *await read_context(ws)]
        await ws.close()
        (ctx,) = await server.wait_for_contexts(1)
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))
    assert len(audio) // 2 == len(synthetic_voice(flushed))  # all of it, not cut
    assert messages[-1] == {"isFinal": True, "contextId": "x"}
    assert ctx.cancelled and ctx.discarded == unflushed.strip() and ctx.chunks == (flushed,)
    assert ctx.audio_seconds == pytest.approx(len(synthetic_voice(flushed)) / RATE, abs=0.01)


# --- OpenAI TTS through the real plugin --------------------------------------------------------


def oa_tts(server: OpenAITTSServer, **kw: Any) -> openai.TTS:
    kw.setdefault("response_format", "pcm")
    return openai.TTS(base_url=server.base_url, api_key="test", **kw)


@pytest.mark.parametrize(
    ("model", "stream_format"), [("gpt-4o-mini-tts", "sse"), ("tts-1", "audio")]
)
async def test_openai_synthesize_returns_the_voice_audio(
    oa_server: OpenAITTSServer, model: str, stream_format: str
) -> None:
    tts = oa_tts(oa_server, model=model)
    frames = await collect(tts.synthesize("Hello from the speaker!", conn_options=NO_RETRY))
    await tts.aclose()
    (req,) = await oa_server.wait_for_requests(1)
    assert req.params["stream_format"] == stream_format and req.params["model"] == model
    assert {f.sample_rate for f in frames} == {RATE}
    pcm = pcm_of(frames)
    assert np.abs(pcm).max() > 10000
    assert len(pcm) / RATE == pytest.approx(
        expected_seconds(("Hello from the speaker!",)), abs=0.02
    )


async def test_openai_first_byte_waits_for_ttfb() -> None:
    async with OpenAITTSServer(ttfb=0.3, voice=synthetic_voice) as server:
        tts = oa_tts(server)
        started = time.perf_counter()
        stream = tts.synthesize("Patience.", conn_options=NO_RETRY)
        async with stream:
            first = None
            async for _ in stream:
                first = first or time.perf_counter()
        await tts.aclose()
        (req,) = await server.wait_for_requests(1)
    assert first is not None and first - started >= 0.3
    assert req.ttfb is not None and req.ttfb >= 0.3


@pytest.mark.parametrize(
    ("kind", "error"),
    [("error", APIStatusError), ("http500", APIStatusError), ("close", APIConnectionError)],
)
async def test_openai_fault_fails_fast(
    oa_server: OpenAITTSServer, kind: Any, error: type[Exception]
) -> None:
    tts = oa_tts(oa_server)
    oa_server.fail_next(kind=kind)
    started = time.perf_counter()
    with pytest.raises(error):
        await collect(tts.synthesize("This will fail.", conn_options=NO_RETRY))
    assert time.perf_counter() - started < 2.0
    assert await collect(tts.synthesize("This works.", conn_options=NO_RETRY))
    await tts.aclose()
    assert [r.fault for r in oa_server.requests] == [kind, None]


async def test_openai_rejects_non_pcm_formats_with_a_fix(oa_server: OpenAITTSServer) -> None:
    tts = oa_tts(oa_server, response_format="mp3")
    with pytest.raises(APIStatusError, match="response_format"):
        await collect(tts.synthesize("Compressed.", conn_options=NO_RETRY))
    await tts.aclose()


async def test_openai_prewarm_gets_the_apis_invalid_url_answer(
    oa_server: OpenAITTSServer,
) -> None:
    tts = oa_tts(oa_server)
    tts.prewarm()
    assert tts._prewarm_task is not None
    await tts._prewarm_task  # the plugin ignores the answer; the connection is what it wants
    async with aiohttp.ClientSession() as http, http.get(oa_server.base_url + "/") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["message"] == "Invalid URL (GET /v1/)"
    await tts.aclose()


# --- robustness --------------------------------------------------------------------------------


def broken_voice(text: str, sample_rate: int) -> np.ndarray:
    raise RuntimeError("no voice today")


async def test_a_failing_voice_fails_the_request_not_the_server(
    http: aiohttp.ClientSession,
) -> None:
    async with ElevenLabsServer(ttfb=0.0, voice=broken_voice) as server:
        tts = el_tts(server, http)
        stream = tts.stream(conn_options=NO_RETRY)
        stream.push_text("Say something.")
        stream.end_input()
        with pytest.raises(APIError):
            await collect(stream)
        await tts.aclose()
        (ctx,) = await server.wait_for_contexts(1)
    assert ctx.error is not None and "no voice today" in ctx.error


async def test_aclose_releases_hanging_requests_promptly(http: aiohttp.ClientSession) -> None:
    server = await OpenAITTSServer(ttfb=0.0, voice=synthetic_voice).start()
    server.fail_next(kind="hang")
    body = {"model": "tts-1", "input": "Hello?", "voice": "ash", "response_format": "pcm"}
    headers = {"Authorization": "Bearer test"}
    request = asyncio.ensure_future(
        http.post(server.base_url + "/audio/speech", json=body, headers=headers)
    )
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    await server.aclose()
    assert time.perf_counter() - started < 2.0
    with pytest.raises(aiohttp.ClientError):
        async with await request as resp:  # the connection is gone or the answer is an error
            resp.raise_for_status()
