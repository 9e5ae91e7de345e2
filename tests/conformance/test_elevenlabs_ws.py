"""ElevenLabs' two text-to-speech websockets, driven by hand against :class:`ElevenLabsServer`:
authentication forms, the documented flush/close semantics, and the service's errors
(message shape, close code, socket kept open where the service keeps it open).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

VOICE = "21m00Tcm4TlvDq8ikWAM"
KEY = {"xi-api-key": "right"}


@pytest.fixture
async def server() -> AsyncIterator[ElevenLabsServer]:
    async with ElevenLabsServer(ttfb=0.02, voice=synthetic_voice, api_key="right") as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url(server: ElevenLabsServer, endpoint: str, query: str = "", voice: str = VOICE) -> str:
    return f"{server.base_url}/text-to-speech/{voice}/{endpoint}?output_format=pcm_24000{query}"


async def until_final(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while not out or not out[-1].get("isFinal"):
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, (msg.type, ws.close_code)
        out.append(msg.json())
    return out


async def closing_error(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The error message the server sends before it closes the socket with 1008."""
    error: dict[str, Any] = (await ws.receive(timeout=5)).json()
    assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 1008 == error["code"] and error["message"]
    return error


def pcm_bytes(messages: list[dict[str, Any]]) -> int:
    return sum(len(base64.b64decode(m["audio"])) for m in messages if m.get("audio"))


def samples(text: str) -> int:
    return len(synthetic_voice(text, 24000))


# --- authentication -----------------------------------------------------------------------

OPENERS = {
    "header": ({"xi-api-key": "right"}, {}),
    "xi_api_key in the first message": ({}, {"xi_api_key": "right"}),
    "xi-api-key in the first message": ({}, {"xi-api-key": "right"}),
}


@pytest.mark.parametrize(("headers", "extra"), OPENERS.values(), ids=OPENERS.keys())
@pytest.mark.parametrize("endpoint", ["stream-input", "multi-stream-input"])
async def test_both_key_forms_open_both_websockets(
    server: ElevenLabsServer,
    http: aiohttp.ClientSession,
    endpoint: str,
    headers: dict[str, str],
    extra: dict[str, str],
) -> None:
    ws = await http.ws_connect(url(server, endpoint), headers=headers)
    ctx = {"context_id": "c"} if endpoint == "multi-stream-input" else {}
    await ws.send_json({"text": " "} | ctx | extra)
    await ws.send_json({"text": "Hi there. ", "flush": True} | ctx)
    # the end: stream-input's empty text; a multi-stream context's close (its only final)
    await ws.send_json({"context_id": "c", "close_context": True} if ctx else {"text": ""})
    messages = await until_final(ws)
    assert pcm_bytes(messages) // 2 == samples("Hi there. ")
    if ctx:
        assert all(m["contextId"] == "c" for m in messages)
    else:  # stream-input: the stream is over, the server closes normally
        assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1000
    await ws.close()


BAD_KEYS = {
    "no key": ({}, {}, "authentication_required"),
    "wrong header": ({"xi-api-key": "wrong"}, {}, "invalid_api_key"),
    "wrong key in message": ({}, {"xi_api_key": "wrong"}, "invalid_api_key"),
    "unknown bearer": ({"Authorization": "Bearer sutkn_nope"}, {}, "invalid_api_key"),
}


@pytest.mark.parametrize(("headers", "extra", "error"), BAD_KEYS.values(), ids=BAD_KEYS.keys())
async def test_bad_credentials_close_with_1008(
    server: ElevenLabsServer,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    extra: dict[str, str],
    error: str,
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input"), headers=headers)
    await ws.send_json({"text": " ", "context_id": "c"} | extra)
    assert (await closing_error(ws))["error"] == error
    assert not server.contexts


async def test_an_unknown_voice_closes_with_voice_not_found(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input", voice="nobody"), headers=KEY)
    error = await closing_error(ws)  # at once: the key came with the handshake
    assert error["error"] == "voice_not_found" and "nobody" in error["message"]


async def test_query_validation_refuses_the_handshake(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(url(server, "stream-input", "&inactivity_timeout=999"), headers=KEY)
    assert info.value.status == 422


# --- flush and close semantics ------------------------------------------------------------


async def test_flushed_text_is_spoken_before_is_final(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input"), headers=KEY)
    text = "Everything flushed is spoken. "
    await ws.send_json({"text": " ", "context_id": "a"})
    await ws.send_json({"text": text, "context_id": "a", "flush": True})
    await ws.send_json({"context_id": "a", "close_context": True})  # before any audio
    messages = await until_final(ws)
    assert pcm_bytes(messages) // 2 == samples(text)
    assert messages[-1] == {"isFinal": True, "contextId": "a"}
    (ctx,) = await server.wait_for_contexts(1)
    assert ctx.cancelled and ctx.discarded == "" and ctx.chunks == (text,)
    await ws.close()


async def test_a_context_closed_mid_audio_plays_its_flushed_text_to_the_end(
    http: aiohttp.ClientSession,
) -> None:
    flushed, pending = "First sentence, all of it. ", "Second sentence, never flushed "
    async with ElevenLabsServer(ttfb=0.02, voice=synthetic_voice, realtime_factor=2.0) as srv:
        ws = await http.ws_connect(url(srv, "multi-stream-input", "&auto_mode=false"), headers=KEY)
        await ws.send_json({"text": " ", "context_id": "a"})
        await ws.send_json({"text": flushed, "context_id": "a", "flush": True})
        await ws.send_json({"text": pending, "context_id": "a"})
        first = (await ws.receive(timeout=5)).json()
        await ws.send_json({"context_id": "a", "close_context": True})
        messages = [first, *await until_final(ws)]
        await ws.close()
        (ctx,) = await srv.wait_for_contexts(1)
    assert pcm_bytes(messages) // 2 == samples(flushed)
    assert ctx.discarded == pending.strip() and ctx.chunks == (flushed,)


async def test_close_socket_after_a_flush_delivers_the_audio_first(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input"), headers=KEY)
    for cid, text in (("a", "One for a. "), ("b", "And one for b. ")):
        await ws.send_json({"text": " ", "context_id": cid})
        await ws.send_json({"text": text, "context_id": cid, "flush": True})
    await ws.send_json({"close_socket": True})
    got: list[dict[str, Any]] = []
    while (msg := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:
        got.append(msg.json())
    assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1000
    for cid, text in (("a", "One for a. "), ("b", "And one for b. ")):
        mine = [m for m in got if m["contextId"] == cid]
        assert pcm_bytes(mine) // 2 == samples(text) and mine[-1].get("isFinal")


async def test_a_closed_context_id_can_be_reused_for_a_new_context(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input"), headers=KEY)
    for text in ("First. ", "Second. "):
        await ws.send_json({"text": " ", "context_id": "same"})
        await ws.send_json({"text": text, "context_id": "same", "flush": True})
        await ws.send_json({"text": "", "context_id": "same"})  # keep-alive: nothing happens
        await ws.send_json({"context_id": "same", "close_context": True})
        assert pcm_bytes(await until_final(ws)) // 2 == samples(text)
    first, second = await server.wait_for_contexts(2)
    assert first.chunks == ("First. ",) and second.chunks == ("Second. ",)
    await ws.close()


async def test_a_sixth_simultaneous_context_is_refused(
    http: aiohttp.ClientSession,
) -> None:
    async with ElevenLabsServer(ttfb=5.0, voice=synthetic_voice) as srv:  # nothing finishes
        ws = await http.ws_connect(url(srv, "multi-stream-input"), headers={"xi-api-key": "k"})
        for i in range(6):
            await ws.send_json({"text": " ", "context_id": f"c{i}"})
            await ws.send_json({"text": "Busy. ", "context_id": f"c{i}", "flush": True})
        assert (await closing_error(ws))["error"] == "max_active_conversations"
        assert len(srv.contexts) == 5


# --- errors ---------------------------------------------------------------------------------

BAD_MESSAGES = {
    "malformed JSON": "{not json",
    "not an object": "[1, 2]",
    "unknown key": '{"text": " ", "context_id": "c", "bogus": 1}',
    "stability > 1": '{"text": " ", "context_id": "c", "voice_settings": {"stability": 3}}',
    "speed < 0.7": '{"text": " ", "context_id": "c", "voice_settings": {"speed": 0.1}}',
    "schedule item < 50": '{"text": " ", "generation_config": {"chunk_length_schedule": [10]}}',
    "text not a string": '{"text": 5, "context_id": "c"}',
}


@pytest.mark.parametrize("frame", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
@pytest.mark.parametrize("endpoint", ["stream-input", "multi-stream-input"])
async def test_a_bad_message_is_an_error_and_a_1008_close_not_a_crash(
    server: ElevenLabsServer, http: aiohttp.ClientSession, endpoint: str, frame: str
) -> None:
    ws = await http.ws_connect(url(server, endpoint), headers=KEY)
    await ws.send_str(frame)
    error = await closing_error(ws)
    assert error["error"] == "invalid_request"
    assert set(error) <= {"message", "error", "code", "param"}


async def test_stream_input_must_open_with_a_blank(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "stream-input"), headers=KEY)
    await ws.send_json({"text": "Hello "})
    error = await closing_error(ws)
    assert error["param"] == "text"


async def test_a_context_error_leaves_the_socket_and_other_contexts_alone(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(url(server, "multi-stream-input"), headers=KEY)
    server.fail_next(kind="error")
    await ws.send_json({"text": " ", "context_id": "bad"})
    error = (await ws.receive(timeout=5)).json()
    assert error["contextId"] == "bad" and error["error"] == "injected_fault"
    await ws.send_json({"text": " ", "context_id": "good"})
    await ws.send_json({"text": "Still here. ", "context_id": "good", "flush": True})
    await ws.send_json({"context_id": "good", "close_context": True})
    assert pcm_bytes(await until_final(ws)) // 2 == samples("Still here. ")
    await ws.close()


@pytest.mark.parametrize(("kind", "code"), [("error", 1011), ("close", 1011)])
async def test_stream_input_faults_close_the_stream(
    server: ElevenLabsServer, http: aiohttp.ClientSession, kind: Any, code: int
) -> None:
    server.fail_next(kind=kind)
    ws = await http.ws_connect(url(server, "stream-input"), headers=KEY)
    await ws.send_json({"text": " "})
    while (msg := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:
        assert msg.json()["error"] == "injected_fault"
    assert ws.close_code == code
    assert server.contexts[0].fault == kind


async def test_a_http500_fault_refuses_the_handshake_with_json(
    server: ElevenLabsServer, http: aiohttp.ClientSession
) -> None:
    server.fail_next(kind="http500")
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(url(server, "stream-input"), headers=KEY)
    assert info.value.status == 500
