"""The official ``google-genai`` client against :class:`GeminiLiveServer`: every supported
flow, the service's refusals (close code and reason), and the schema that checks every
message the stand-in sends. Raw frames the SDK would never send go through ``websockets``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
import websockets
from google import genai
from google.genai import errors, types

from halfcascade.testing.gemini_live import GeminiLiveServer, ReplyContext, ToolCall
from halfcascade.testing.gemini_live.schema import validate
from halfcascade.testing.transcribe import ScriptedTranscriber
from halfcascade.testing.vad import VadConfig
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

MODEL = "gemini-live-2.5-flash-preview"
TEXT = types.LiveConnectConfig(response_modalities=[types.Modality.TEXT])
PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
_WAIT = 5.0


@asynccontextmanager
async def serve(reply: Any = "Woof! Hello.", **kwargs: Any) -> AsyncIterator[GeminiLiveServer]:
    kwargs.setdefault("ttft", 0.02)
    kwargs.setdefault("token_interval", 0.005)
    kwargs.setdefault("vad", VadConfig(silence_duration_ms=300))
    async with GeminiLiveServer(reply=reply, **kwargs) as server:
        yield server


def client(server: GeminiLiveServer) -> genai.Client:
    return genai.Client(api_key="test", http_options=server.http_options())


async def turn(session: Any) -> list[types.LiveServerMessage]:
    """Every message up to and including ``turnComplete`` (or a ``toolCall``)."""
    out: list[types.LiveServerMessage] = []
    async with asyncio.timeout(_WAIT):
        async for msg in session.receive():
            out.append(msg)
            if msg.tool_call is not None:
                break
    return out


def text_of(msgs: list[types.LiveServerMessage]) -> str:
    return "".join(
        p.text or ""
        for m in msgs
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts or []
    )


def user(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


def speech(text: str) -> list[bytes]:
    """``text`` spoken at 16 kHz then 0.6 s of silence, in 50 ms chunks (as livekit sends)."""
    pcm = np.concatenate([synthetic_voice(text, 16000), np.zeros(9600, np.int16)])
    return [pcm[i : i + 800].astype("<i2").tobytes() for i in range(0, len(pcm), 800)]


async def say(session: Any, text: str) -> None:
    for chunk in speech(text):
        blob = types.Blob(data=chunk, mime_type="audio/pcm;rate=16000")
        await session.send_realtime_input(audio=blob)
        await asyncio.sleep(0.002)


# -- supported flows -------------------------------------------------------------------


async def test_text_turn() -> None:
    seen: list[ReplyContext] = []
    async with serve(lambda ctx: seen.append(ctx) or "Woof! Hello.") as server:
        async with client(server).aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("hi"), turn_complete=True)
            msgs = await turn(session)
    assert text_of(msgs) == "Woof! Hello."
    contents = [m.server_content for m in msgs if m.server_content]
    assert any(c.generation_complete for c in contents)
    assert msgs[-1].server_content is not None and msgs[-1].server_content.turn_complete
    usage = msgs[-1].usage_metadata
    assert usage is not None and usage.response_token_count == 4
    assert seen[0].transcript == "hi" and seen[0].source == "client"


async def test_tool_call_round_trip() -> None:
    def reply(ctx: ReplyContext) -> str | ToolCall:
        if ctx.tool_output is None:
            return ToolCall("fetch_ball", {"color": "red"})
        return f"Got it: {ctx.tool_output}"

    fn = types.FunctionDeclaration(name="fetch_ball", description="Fetch a ball.")
    config = TEXT.model_copy(update={"tools": [types.Tool(function_declarations=[fn])]})
    async with serve(reply) as server:
        async with client(server).aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user("fetch"), turn_complete=True)
            (call_msg,) = await turn(session)
            assert call_msg.tool_call is not None and call_msg.tool_call.function_calls
            call = call_msg.tool_call.function_calls[0]
            assert call.name == "fetch_ball" and call.args == {"color": "red"}
            response = types.FunctionResponse(id=call.id, name=call.name, response={"output": "ok"})
            await session.send_tool_response(function_responses=[response])
            msgs = await turn(session)
    assert text_of(msgs) == "Got it: ok"


async def test_spoken_turn_with_input_transcription() -> None:
    config = TEXT.model_copy(update={"input_audio_transcription": types.AudioTranscriptionConfig()})
    transcriber = ScriptedTranscriber(["fetch the ball"])
    async with serve(lambda ctx: f"You said {ctx.transcript}", transcriber=transcriber) as server:
        async with client(server).aio.live.connect(model=MODEL, config=config) as session:
            await say(session, "fetch the ball")
            msgs = await turn(session)
    heard = [
        m.server_content.input_transcription.text
        for m in msgs
        if m.server_content and m.server_content.input_transcription
    ]
    assert heard == [" fetch the ball"]
    assert text_of(msgs) == "You said fetch the ball"
    assert server.turns[0].source == "vad" and server.turns[0].speech_end_at is not None


async def test_audio_output_with_output_transcription() -> None:
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    async with serve("Woof woof.", voice=synthetic_voice) as server:
        async with client(server).aio.live.connect(
            model="gemini-2.5-flash-native-audio-preview-12-2025", config=config
        ) as session:
            await session.send_client_content(turns=user("bark"), turn_complete=True)
            msgs = await turn(session)
    audio = b"".join(
        p.inline_data.data or b""
        for m in msgs
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts or []
        if p.inline_data
    )
    spoken = "".join(
        m.server_content.output_transcription.text or ""
        for m in msgs
        if m.server_content and m.server_content.output_transcription
    )
    assert len(audio) > 24000 and spoken == "Woof woof."


async def test_client_content_interrupts_the_generation() -> None:
    long_reply = " ".join(["woof"] * 200)
    async with serve(long_reply, token_interval=0.02) as server:
        async with client(server).aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("talk"), turn_complete=True)
            async with asyncio.timeout(_WAIT):
                async for msg in session.receive():
                    if msg.server_content and msg.server_content.model_turn:
                        break
            await session.send_client_content(turns=user("stop"), turn_complete=False)
            msgs = await turn(session)
    contents = [m.server_content for m in msgs if m.server_content]
    assert any(c.interrupted for c in contents) and contents[-1].turn_complete
    assert server.turns[0].cancelled and server.turns[0].text != long_reply


async def test_speech_cancels_a_pending_tool_call() -> None:
    fn = types.FunctionDeclaration(name="fetch_ball", description="Fetch a ball.")
    config = TEXT.model_copy(update={"tools": [types.Tool(function_declarations=[fn])]})
    async with serve(lambda ctx: ToolCall("fetch_ball")) as server:
        async with client(server).aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user("fetch"), turn_complete=True)
            (call_msg,) = await turn(session)
            await say(session, "never mind")
            async with asyncio.timeout(_WAIT):
                async for msg in session.receive():
                    if msg.tool_call_cancellation is not None:
                        break
    assert call_msg.tool_call is not None and call_msg.tool_call.function_calls
    assert msg.tool_call_cancellation.ids == [call_msg.tool_call.function_calls[0].id]


async def test_manual_activity_detection() -> None:
    config = TEXT.model_copy(
        update={
            "realtime_input_config": types.RealtimeInputConfig(
                automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
            )
        }
    )
    transcriber = ScriptedTranscriber(["hello"])
    async with serve(lambda ctx: f"Heard {ctx.transcript}", transcriber=transcriber) as server:
        async with client(server).aio.live.connect(model=MODEL, config=config) as session:
            await session.send_realtime_input(activity_start=types.ActivityStart())
            await say(session, "hello")
            await session.send_realtime_input(activity_end=types.ActivityEnd())
            msgs = await turn(session)
    assert text_of(msgs) == "Heard hello"
    assert server.setups[0]["realtimeInputConfig"]["automaticActivityDetection"]["disabled"]


async def test_go_away_then_resume_with_the_handle() -> None:
    seen: list[ReplyContext] = []
    config = TEXT.model_copy(update={"session_resumption": types.SessionResumptionConfig()})
    async with serve(lambda ctx: seen.append(ctx) or "Woof.") as server:
        sdk = client(server)
        async with sdk.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user("first"), turn_complete=True)
            await turn(session)
            async with asyncio.timeout(_WAIT):
                update = (await session._receive()).session_resumption_update
            assert await server.send_go_away(time_left=0.2) == 1
            async with asyncio.timeout(_WAIT):
                go_away = (await session._receive()).go_away
            with pytest.raises(errors.APIError) as closed:  # the service closes at the deadline
                async with asyncio.timeout(_WAIT):
                    await session._receive()
        assert go_away is not None and go_away.time_left == "0.2s"
        assert closed.value.code == 1000
        assert update is not None and update.resumable and update.new_handle
        resumed = config.model_copy(
            update={"session_resumption": types.SessionResumptionConfig(handle=update.new_handle)}
        )
        async with sdk.aio.live.connect(model=MODEL, config=resumed) as session:
            await session.send_client_content(turns=user("second"), turn_complete=True)
            await turn(session)
    assert [(i["role"], i["text"]) for i in seen[1].items] == [
        ("user", "first"),
        ("assistant", "Woof."),
        ("user", "second"),
    ]


# -- refusals through the SDK ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "code", "reason"),
    [
        (
            "gemini-2.5-flash-native-audio-preview-12-2025",
            1007,
            "Cannot extract voices from a non-audio request.",
        ),
        ("gemini-3.1-flash-live-preview", 1011, "Internal error encountered."),
        ("gemini-nonexistent", 1008, "models/gemini-nonexistent is not found for API version"),
    ],
)
async def test_setup_refusals(model: str, code: int, reason: str) -> None:
    async with serve() as server:
        with pytest.raises(errors.APIError) as refused:
            async with client(server).aio.live.connect(model=model, config=TEXT):
                pass
    assert refused.value.code == code and reason in str(refused.value)
    assert server.closes[0][0] == code and server.closes[0][1].startswith(reason)


# -- raw frames the SDK would not send ---------------------------------------------------


async def raw_close(server: GeminiLiveServer, *frames: dict[str, Any], key: bool = True) -> Any:
    url = f"wss://127.0.0.1:{server.port}{PATH}"
    headers = {"x-goog-api-key": "test"} if key else {}
    async with websockets.connect(url, ssl=server.ssl_context(), additional_headers=headers) as ws:
        try:
            for frame in frames:
                await ws.send(json.dumps(frame))
        except websockets.ConnectionClosed as closed:  # refused before the frames went out
            return closed.rcvd
        async with asyncio.timeout(_WAIT):
            while True:
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd


SETUP = {
    "setup": {"model": f"models/{MODEL}", "generationConfig": {"responseModalities": ["TEXT"]}}
}


@pytest.mark.parametrize(
    ("frames", "code", "reason"),
    [
        ([{"clientContent": {"turnComplete": True}}], 1007, "Request contains an invalid"),
        (
            [{"setup": {"model": f"models/{MODEL}", "bogus": 1}}],
            1007,
            "Invalid JSON payload received. Unknown name \"bogus\" at 'setup'",
        ),
        ([SETUP, SETUP], 1007, "Request contains an invalid argument."),
        (
            [SETUP, {"clientContent": {"turns": [{"role": "system", "parts": [{"text": "x"}]}]}}],
            1007,
            "Request contains an invalid argument.",
        ),
        ([SETUP, {"realtimeInput": {"activityStart": {}}}], 1007, "Request contains an invalid"),
        (
            [SETUP, {"toolResponse": {"functionResponses": [{"id": "nope", "name": "f"}]}}],
            1007,
            "Request contains an invalid argument.",
        ),
        ([SETUP, {"clientContent": {}, "toolResponse": {}}], 1007, "Request contains an invalid"),
    ],
)
async def test_bad_frames_close_with_the_services_code(
    frames: list[dict[str, Any]], code: int, reason: str
) -> None:
    async with serve() as server:
        closed = await raw_close(server, *frames)
    assert closed.code == code and closed.reason.startswith(reason)


async def test_no_key_is_refused() -> None:
    async with serve() as server:
        closed = await raw_close(server, SETUP, key=False)
    assert closed.code == 1008 and "API Key" in closed.reason


async def test_refused_handshake_has_googles_error_body() -> None:
    async with serve() as server:
        server.reject_connections(1)
        with pytest.raises(websockets.InvalidStatus) as refused:
            await raw_close(server, SETUP)
    response = refused.value.response
    assert response.status_code == 503
    assert json.loads(response.body)["error"]["status"] == "UNAVAILABLE"


# -- the schema itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("server_message", {"server_content": {"turn_complete": True}}),  # not canonical
        ("server_message", {"serverContent": {"turnComplete": True, "bogus": 1}}),
        ("server_message", {}),
        ("close", {"code": 4000, "reason": "x"}),
        ("close", {"code": 1007, "reason": "x" * 200}),
        ("http_error", {"error": {"code": 503, "message": "m", "status": "INTERNAL"}}),
        ("nope", {}),
    ],
)
def test_schema_rejects(kind: str, payload: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 (pydantic or ValueError)
        validate(kind, payload)
