"""The real livekit OpenAI realtime plugin against the local RealtimeServer."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import shutil
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc
from livekit.agents import llm
from livekit.plugins import openai
from openai.types import realtime

from halfcascade.testing.openai_realtime import (
    RealtimeServer,
    ReplyContext,
    ToolCall,
    TurnRecord,
    split_tokens,
)
from halfcascade.testing.openai_realtime._audio import InputAudio, TurnEnded
from halfcascade.testing.transcribe import ScriptedTranscriber, WhisperTranscriber
from halfcascade.testing.vad import (
    EnergyVad,
    SpeechStarted,
    SpeechStopped,
    VadConfig,
    rms_dbfs,
)
from halfcascade.testing.voices import default_voice

pytestmark = pytest.mark.contract

RATE = 24000
_WAIT = 10.0  # generous bound on any single wait; tests finish far sooner
TEXT_ORDER = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


# -- audio helpers ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _espeak(text: str) -> npt.NDArray[np.int16]:
    """espeak-ng speech at 24 kHz (it writes 22.05 kHz WAV)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "--stdout", text], capture_output=True, check=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        src = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    n = round(len(pcm) * RATE / src)
    resampled = np.interp(np.arange(n) * src / RATE, np.arange(len(pcm)), pcm)
    out: npt.NDArray[np.int16] = resampled.astype(np.int16)
    return out


def _tone(ms: int, dbfs: float = -20.0, rate: int = RATE) -> npt.NDArray[np.int16]:
    t = np.arange(rate * ms // 1000) / rate
    amp = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    out: npt.NDArray[np.int16] = (amp * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return out


def _silence(ms: int, rate: int = RATE) -> npt.NDArray[np.int16]:
    return np.zeros(rate * ms // 1000, dtype=np.int16)


async def _push(session: Any, pcm: npt.NDArray[np.int16], *, speed: float = 4.0) -> None:
    """Push 20 ms frames, ``speed`` times faster than real time."""
    spf = RATE // 50
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % spf, dtype=np.int16)])
    for i in range(0, len(pcm), spf):
        session.push_audio(rtc.AudioFrame(pcm[i : i + spf].tobytes(), RATE, 1, spf))
        if (i // spf) % 5 == 4:
            await asyncio.sleep(0.1 / speed)


async def _until(pred: Callable[[], bool]) -> None:
    """Poll a condition on the live records (they have no events to wait on)."""
    async with asyncio.timeout(_WAIT):
        while not pred():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _server_vad(silence_ms: int = 300) -> Any:
    return realtime.realtime_audio_input_turn_detection.ServerVad(
        type="server_vad",
        silence_duration_ms=silence_ms,
        create_response=True,
        interrupt_response=True,
    )


# -- a client on the real plugin -------------------------------------------------------------


@dataclass
class _Generation:
    user_initiated: bool
    text: str = ""
    calls: list[llm.FunctionCall] = field(default_factory=list)


class _Client:
    """A livekit ``RealtimeSession`` with its events recorded."""

    def __init__(self, server: RealtimeServer, **model_kwargs: Any) -> None:
        self.model = openai.realtime.RealtimeModel(
            modalities=["text"], base_url=server.base_url, api_key="test", **model_kwargs
        )
        self.session = self.model.session()
        self.events: list[str] = []
        self.transcripts: list[str] = []
        self.errors: list[llm.RealtimeModelError] = []
        self.generations: asyncio.Queue[_Generation] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        for name in ("input_speech_started", "input_speech_stopped", "session_reconnected"):
            self.session.on(name, functools.partial(self._note, name))
        self.session.on("input_audio_transcription_completed", self._on_transcript)
        self.session.on("generation_created", self._on_generation)
        self.session.on("error", self.errors.append)

    def _note(self, name: str, _ev: Any) -> None:
        self.events.append(name)

    def _on_transcript(self, ev: llm.InputTranscriptionCompleted) -> None:
        if ev.is_final:
            self.transcripts.append(ev.transcript)

    def _on_generation(self, ev: llm.GenerationCreatedEvent) -> None:
        task = asyncio.create_task(self._consume(ev))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, ev: llm.GenerationCreatedEvent) -> None:
        gen = _Generation(ev.user_initiated)

        async def messages() -> None:
            async for msg in ev.message_stream:
                async for delta in msg.text_stream:
                    gen.text += delta

        async def calls() -> None:
            async for call in ev.function_stream:
                gen.calls.append(call)

        await asyncio.gather(messages(), calls())
        await self.generations.put(gen)

    async def next_generation(self) -> _Generation:
        async with asyncio.timeout(_WAIT):
            return await self.generations.get()

    async def reply(self, **kwargs: Any) -> _Generation:
        await self.session.generate_reply(**kwargs)
        return await self.next_generation()

    async def __aenter__(self) -> _Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.aclose()
        await self.model.aclose()
        for task in list(self._tasks):
            task.cancel()


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    try:
        transcriber = WhisperTranscriber()
    except ValueError as exc:
        pytest.skip(str(exc))
    transcriber.load()
    return transcriber


def _types(server: RealtimeServer, response_id: str) -> list[str]:
    """The event types of one response, consecutive duplicates (deltas) collapsed."""
    out: list[str] = []
    for ev in server.sent:
        rid = ev.get("response_id") or (ev.get("response") or {}).get("id")
        item_added = ev["type"] == "conversation.item.added" and out and out[-1].endswith("added")
        if (rid == response_id or item_added) and (not out or out[-1] != ev["type"]):
            out.append(ev["type"])
    return out


# -- unit: tokenizer and VAD -----------------------------------------------------------------


@pytest.mark.unit
def test_split_tokens_is_llm_like_and_lossless() -> None:
    assert split_tokens("Oh, hi there!") == ["Oh", ",", " hi", " there", "!"]
    for text in ["", "  spaced  out  ", "Line one.\nLine two?", "don't stop-me 42%"]:
        assert "".join(split_tokens(text)) == text


@pytest.mark.unit
def test_energy_vad_reports_start_and_stop_in_audio_time() -> None:
    cfg = VadConfig(silence_duration_ms=500, prefix_padding_ms=200, min_speech_ms=60)
    vad = EnergyVad(cfg)
    pcm = np.concatenate([_silence(400), _tone(600), _silence(800)])
    events = []
    for i in range(0, len(pcm), 173):  # odd chunk sizes: framing is internal
        events += vad.push(pcm[i : i + 173])
    assert events == [
        SpeechStarted(audio_start_ms=200, speech_start_ms=400),
        SpeechStopped(audio_start_ms=200, speech_end_ms=1000, audio_end_ms=1500),
    ]
    assert not vad.speaking and vad.position_ms == pytest.approx(1800)


@pytest.mark.unit
def test_energy_vad_ignores_blips_and_quiet_audio() -> None:
    vad = EnergyVad(VadConfig(min_speech_ms=60))
    assert vad.push(np.concatenate([_tone(40), _silence(300), _tone(500, dbfs=-60)])) == []
    assert rms_dbfs(_tone(100, dbfs=-20)) == pytest.approx(-20, abs=0.1)
    assert rms_dbfs(_silence(10)) == -120.0


@pytest.mark.unit
def test_vad_config_follows_turn_detection_and_validates() -> None:
    base = VadConfig()
    server = base.for_turn_detection(
        {
            "type": "server_vad",
            "silence_duration_ms": 200,
            "prefix_padding_ms": 100,
            "threshold": 0.6,
        }
    )
    assert (server.silence_duration_ms, server.prefix_padding_ms) == (200, 100)
    assert server.threshold_dbfs == pytest.approx(base.threshold_dbfs + 4)
    semantic = base.for_turn_detection({"type": "semantic_vad", "eagerness": "high"})
    assert semantic.silence_duration_ms == base.semantic_silence_duration_ms == 500
    with pytest.raises(ValueError, match="threshold_dbfs"):
        VadConfig(threshold_dbfs=3)


@pytest.mark.unit
def test_input_audio_cuts_vad_turns_on_the_connection_clock() -> None:
    audio = InputAudio(VadConfig(silence_duration_ms=300), sample_rate=RATE)
    tone = _tone(400)
    # speech from the very first sample: the turn still opens with its 300 ms of padding
    started, ended = audio.append(np.concatenate([tone, _silence(400)]), 0.0)
    assert isinstance(started, SpeechStarted) and isinstance(ended, TurnEnded)
    assert started.audio_start_ms == 0 and ended.segment.audio_end_ms == 700
    assert np.array_equal(ended.segment.pcm, np.concatenate([_silence(300), tone, _silence(300)]))
    # audio received while turn detection is off still moves the VAD's clock
    audio.configure(None)
    assert audio.append(_tone(500), 1.0) == []
    audio.commit_all()
    audio.configure({"type": "server_vad"})
    started, ended = audio.append(np.concatenate([_silence(500), tone, _silence(400)]), 2.0)
    assert isinstance(started, SpeechStarted) and isinstance(ended, TurnEnded)
    assert started.audio_start_ms == 800 + 500 + 500 - 300
    assert (ended.segment.audio_start_ms, ended.segment.audio_end_ms) == (1500, 2500)
    assert np.array_equal(ended.segment.pcm, np.concatenate([_silence(300), tone, _silence(300)]))


@pytest.mark.unit
def test_scripted_transcriber_pops_then_goes_quiet() -> None:
    scripted = ScriptedTranscriber(["one"])
    scripted.push("two")
    heard = [scripted.transcribe(_silence(100), RATE) for _ in range(3)]
    assert heard == ["one", "two", ""] and scripted.calls == 3


# -- contract: the real plugin ---------------------------------------------------------------


@pytest.mark.speech
@needs_espeak
async def test_spoken_turn_is_heard_transcribed_and_answered(whisper: WhisperTranscriber) -> None:
    reply = "Sunny, twenty degrees."
    async with (
        RealtimeServer(reply=reply, transcriber=whisper, ttft=0.3) as server,
        _Client(server, turn_detection=_server_vad(300)) as client,
    ):
        speech = _espeak("What is the weather in Paris today?")
        await _push(client.session, np.concatenate([_silence(300), speech, _silence(700)]))
        gen = await client.next_generation()
        [turn] = await server.wait_for_turns(1)
        await _until(lambda: bool(client.transcripts))

    assert client.events[:2] == ["input_speech_started", "input_speech_stopped"]
    heard = client.transcripts[0].lower()
    assert "weather" in heard and "paris" in heard
    assert turn.transcript == client.transcripts[0]
    assert not gen.user_initiated and gen.text == reply == turn.text
    assert turn.source == "vad" and turn.status == "completed"
    assert turn.speech_end_at is not None and turn.speech_stopped_at is not None
    assert turn.first_delta_at is not None
    assert turn.speech_end_at <= turn.speech_stopped_at <= turn.response_created_at
    assert turn.response_created_at <= turn.first_delta_at <= turn.done_at
    assert turn.first_delta_at >= turn.speech_end_at + 0.3  # the ttft floor
    assert _types(server, turn.response_id) == TEXT_ORDER
    deltas = [e["delta"] for e in server.sent if e["type"] == "response.output_text.delta"]
    assert deltas == split_tokens(reply)
    vad_order = [
        e["type"] for e in server.sent if e["type"].startswith(("input_audio_buffer", "response.c"))
    ]
    assert vad_order[:4] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "response.created",
    ]
    assert all(
        e["type"] != "input_audio_buffer.append" or "<" in e["audio"] for e in server.received
    )


class _RecordingTranscriber:
    """Keeps every segment the server hands its transcriber."""

    def __init__(self) -> None:
        self.segments: list[npt.NDArray[np.int16]] = []

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> str:
        self.segments.append(pcm.copy())
        return ""


def _voiced(pcm: npt.NDArray[np.int16], threshold: int = 300) -> npt.NDArray[np.int16]:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    return pcm[loud[0] : loud[-1] + 1]


async def test_every_vad_turn_is_committed_with_its_prefix_padding() -> None:
    # regression: from the second turn on, idle trimming ran between the VAD's stop and
    # the commit and cut the turn's start (and its padding) off
    lines = ["Hi Biscuit, how are you today?", "Do you want to go for a walk?", "Good dog."]
    utterances = [_voiced(default_voice()(line, RATE)) for line in lines]
    recorder = _RecordingTranscriber()
    async with (
        RealtimeServer(reply="Okay.", transcriber=recorder, ttft=0.0, token_interval=0.0) as server,
        _Client(server, turn_detection=_server_vad(300)) as client,
    ):
        for utterance in utterances:
            await _push(client.session, np.concatenate([_silence(1500), utterance]), speed=20)
        await _push(client.session, _silence(700), speed=20)
        await _until(lambda: len(recorder.segments) == len(utterances))

    started = [e for e in server.sent if e["type"] == "input_audio_buffer.speech_started"]
    fed = 0  # samples pushed before this utterance (_push pads each call to 20 ms frames)
    for utterance, segment, event in zip(utterances, recorder.segments, started, strict=True):
        onset = fed + RATE * 1500 // 1000  # the utterance's first loud sample on the stream
        fed = onset + len(utterance) + (-(onset + len(utterance) - fed) % (RATE // 50))
        lead = int(np.flatnonzero(np.abs(segment.astype(np.int32)) > 300)[0])
        # ~300 ms of padding (the VAD's 20 ms frames may find the onset a frame or two late),
        # then the whole utterance exactly as fed, then ~the silence window (less a quiet tail)
        assert 300 <= lead * 1000 / RATE <= 340
        assert np.array_equal(segment[lead : lead + len(utterance)], utterance)
        assert len(segment) - lead - len(utterance) >= RATE * 250 // 1000
        # speech_started reports that padded start on the connection's clock
        assert event["audio_start_ms"] == (onset - lead) * 1000 // RATE


async def test_generate_reply_streams_tokens_after_ttft() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx)
        return "Oh, hi there!"

    async with (
        RealtimeServer(reply=reply, ttft=0.2, token_interval=0.01) as server,
        _Client(server) as client,
    ):
        await client.session.update_instructions("You are a dog.")
        gen = await client.reply()
        server.set_latency(ttft=0.3)  # mid-test: applies to the next response
        await client.reply()
        turn, slower = await server.wait_for_turns(2)

    assert slower.ttft is not None and slower.ttft >= 0.3 and server.ttft == 0.3
    assert gen.user_initiated and gen.text == "Oh, hi there!"
    assert seen[0].instructions == "You are a dog." and seen[0].source == "client"
    create = next(e for e in server.received if e["type"] == "response.create")
    created = next(e for e in server.sent if e["type"] == "response.created")
    assert created["response"]["metadata"] == create["response"]["metadata"]
    assert turn.requested_at is not None and turn.first_delta_at is not None
    assert turn.first_delta_at >= turn.requested_at + 0.2
    assert turn.ttft is not None and turn.ttft >= 0.2
    done = next(e for e in server.sent if e["type"] == "response.done")
    assert (
        done["response"]["status"] == "completed"
        and done["response"]["usage"]["output_tokens"] == 5
    )


async def test_function_call_round_trip() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str | ToolCall:
        seen.append(ctx)
        if ctx.tool_output is None:
            return ToolCall("get_weather", {"city": "Paris"})
        return f"It is {ctx.tool_output} in Paris."

    @llm.function_tool
    async def get_weather(city: str) -> str:
        """Look up the weather in a city."""
        return "sunny"

    async with (
        RealtimeServer(reply=reply, ttft=0.05, token_interval=0.0) as server,
        _Client(server) as client,
    ):
        await client.session.update_tools([get_weather])
        first = await client.reply()
        [call] = first.calls
        assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
        chat_ctx = client.session.chat_ctx.copy()
        chat_ctx.items.append(
            llm.FunctionCallOutput(
                call_id=call.call_id, name=call.name, output="sunny", is_error=False
            )
        )
        await client.session.update_chat_ctx(chat_ctx)
        second = await client.reply()
        turns = await server.wait_for_turns(2)

    assert first.text == "" and second.text == "It is sunny in Paris."
    assert seen[0].tools == ("get_weather",) and seen[0].tool_output is None
    assert seen[1].tool_output == "sunny" and seen[1].transcript == "sunny"
    assert [it["type"] for it in seen[1].items] == ["function_call", "function_call_output"]
    assert turns[0].tool_call == ToolCall("get_weather", {"city": "Paris"})
    done = next(e for e in server.sent if e["type"] == "response.output_item.done")
    assert done["item"]["call_id"] == call.call_id and done["item"]["type"] == "function_call"


async def test_speech_barges_in_and_cancels_the_response() -> None:
    long_reply = " ".join(["word"] * 60)
    transcriber = ScriptedTranscriber(["stop please"])
    replies = iter([long_reply, "Okay."])
    async with (
        RealtimeServer(
            reply=lambda ctx: next(replies), ttft=0.05, token_interval=0.05, transcriber=transcriber
        ) as server,
        _Client(server, turn_detection=_server_vad(300)) as client,
    ):
        await client.session.generate_reply()
        await _until(lambda: any(e["type"] == "response.output_text.delta" for e in server.sent))
        await _push(client.session, np.concatenate([_tone(400), _silence(600)]))
        cancelled_gen, answer = await client.next_generation(), await client.next_generation()
        cancelled, answered = await server.wait_for_turns(2)

    assert cancelled.cancelled and 0 < len(cancelled.text) < len(long_reply)
    assert cancelled_gen.text == cancelled.text  # the client got exactly what was streamed
    assert answered.source == "vad" and answered.transcript == "stop please"
    assert answer.text == "Okay." and not answer.user_initiated
    done = next(e for e in server.sent if e["type"] == "response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    item_done = next(e for e in server.sent if e["type"] == "response.output_item.done")
    assert item_done["item"]["status"] == "incomplete"


async def test_client_cancel_and_concurrent_response_create() -> None:
    async with (
        RealtimeServer(reply="one two three four five six", token_interval=0.2) as server,
        _Client(server) as client,
    ):
        await client.session.generate_reply()
        with pytest.raises(llm.RealtimeError):
            await client.session.generate_reply()  # rejected: a response is active
        await _until(lambda: any(e["type"] == "response.output_text.delta" for e in server.sent))
        client.session.interrupt()
        gen = await client.next_generation()
        [turn] = await server.wait_for_turns(1)

    assert turn.cancelled and gen.text == turn.text == "one"
    codes = [e["error"]["code"] for e in server.sent if e["type"] == "error"]
    assert codes == ["conversation_already_has_active_response"]
    done = next(e for e in server.sent if e["type"] == "response.done")
    assert done["response"]["status_details"]["reason"] == "client_cancelled"


@pytest.mark.parametrize("abort", [True, False])
async def test_dropped_connection_reconnects_and_keeps_working(abort: bool) -> None:
    async with (
        RealtimeServer(reply="Still here.", ttft=0.05, token_interval=0.0) as server,
        _Client(server) as client,
    ):
        assert (await client.reply()).text == "Still here."
        assert await server.drop_connections(abort=abort) == 1
        await _until(lambda: "session_reconnected" in client.events)
        again = await client.reply()

    assert again.text == "Still here." and server.connections == 2
    replayed = [e for e in server.received if e["type"] == "conversation.item.create"]
    assert [e["item"]["role"] for e in replayed] == ["assistant"]  # the chat context came back


async def test_refused_handshake_is_retried() -> None:
    async with RealtimeServer(reply="Hello.", ttft=0.0, token_interval=0.0) as server:
        server.reject_connections(1)
        async with _Client(server) as client:
            gen = await client.reply()

    assert gen.text == "Hello." and server.rejected == 1 and server.connections == 1
    assert client.errors and all(e.recoverable for e in client.errors)


async def test_injected_failures_surface_then_recover() -> None:
    async with (
        RealtimeServer(reply="Fine.", ttft=0.0, token_interval=0.0) as server,
        _Client(server) as client,
    ):
        server.fail_next_response(code="server_error")
        failed = await client.reply()
        assert failed.text == "" and client.errors[-1].recoverable

        server.fail_next_response(code="rate_limit_exceeded", as_error_event=True)
        with pytest.raises(llm.RealtimeError, match="error"):
            await client.session.generate_reply()
        ok = await client.reply()
        turns = await server.wait_for_turns(2)

    assert [t.status for t in turns] == ["failed", "completed"] and ok.text == "Fine."
    failed_done = next(e for e in server.sent if e["type"] == "response.done")
    assert failed_done["response"]["status_details"]["error"]["code"] == "server_error"


async def test_client_side_turns_commit_then_reply() -> None:
    transcriber = ScriptedTranscriber(["what time is it"])
    seen: list[str] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx.transcript)
        return "Noon."

    async with (
        RealtimeServer(reply=reply, transcriber=transcriber, ttft=0.0) as server,
        _Client(server, turn_detection=None) as client,
    ):
        await _push(client.session, np.concatenate([_tone(500), _silence(200)]), speed=20)
        client.session.commit_audio()
        gen = await client.reply()

    assert gen.text == "Noon." and seen == ["what time is it"]
    types = [e["type"] for e in server.sent]
    assert "input_audio_buffer.speech_started" not in types
    assert types.index("input_audio_buffer.committed") < types.index("response.created")
    assert server.session is not None
    assert server.session["audio"]["input"]["turn_detection"] is None


async def test_semantic_vad_uses_its_window_and_async_reply() -> None:
    async def reply(ctx: ReplyContext) -> str:
        await asyncio.sleep(0)
        return "Yes?"

    # no turn_detection given: the plugin's default, semantic_vad
    async with RealtimeServer(reply=reply, ttft=0.1) as server, _Client(server) as client:
        await _push(client.session, np.concatenate([_silence(200), _tone(500), _silence(800)]))
        gen = await client.next_generation()
        [turn] = await server.wait_for_turns(1)

    stopped = next(e for e in server.sent if e["type"] == "input_audio_buffer.speech_stopped")
    assert stopped["audio_end_ms"] == 700 + 500
    assert gen.text == "Yes?" and isinstance(turn, TurnRecord) and turn.transcript == ""


async def test_handshake_requires_a_bearer_token() -> None:
    async with RealtimeServer(reply="hi") as server, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(server.ws_url)
        assert info.value.status == 401
        async with http.ws_connect(
            server.ws_url + "?model=gpt-realtime", headers={"Authorization": "Bearer x"}
        ) as ws:
            first = await ws.receive_json()
            await ws.send_json({"type": "conversation.item.delete", "item_id": "nope"})
            error = await ws.receive_json()
    assert first["type"] == "session.created" and first["session"]["model"] == "gpt-realtime"
    assert error["type"] == "error" and error["error"]["param"] == "item_id"


class _BrokenTranscriber:
    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> str:
        raise RuntimeError("no ears today")


async def test_transcriber_and_reply_errors_become_protocol_failures() -> None:
    def reply(ctx: ReplyContext) -> str:
        raise ValueError(f"cannot answer {ctx.transcript!r}")

    async with (
        RealtimeServer(reply=reply, ttft=0.0, transcriber=_BrokenTranscriber()) as server,
        _Client(server, turn_detection=_server_vad(300)) as client,
    ):
        await _push(client.session, np.concatenate([_tone(400), _silence(500)]), speed=20)
        gen = await client.next_generation()
        [turn] = await server.wait_for_turns(1)

    types = [e["type"] for e in server.sent]
    assert "conversation.item.input_audio_transcription.failed" in types
    assert turn.status == "failed" and turn.transcript == "" and gen.text == ""
    assert client.errors and client.errors[-1].recoverable


@pytest.mark.unit
def test_whisper_transcriber_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from halfcascade.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "faster_whisper" else real(name),
    )
    with pytest.raises(ConfigError, match=r"halfcascade\[whisper\]"):
        WhisperTranscriber()
